"""Shared helpers of the CLI commands."""

from __future__ import annotations

import json
from typing import Any

import click

from cati.config import Settings, SettingsError
from cati.runtime import Runtime


def get_runtime() -> Runtime:
    """The runtime of this invocation, built from the environment once (tests pass `obj`)."""
    ctx = click.get_current_context()
    root = ctx.find_root()
    if root.obj is None:
        try:
            root.obj = Runtime.from_settings(Settings.from_env())
        except SettingsError as exc:
            raise click.UsageError(str(exc)) from None
    return root.obj


def echo_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))
