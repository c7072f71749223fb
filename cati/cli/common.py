"""Shared helpers of the CLI commands."""

from __future__ import annotations

import json
from typing import Any

import click

from cati.config import Settings, SettingsError
from cati.migrate import SchemaNotCurrent, require_current_schema
from cati.runtime import Runtime


class DatabaseNotReady(click.ClickException):
    """The database is missing or behind the migrations: one line on standard error, exit 2."""

    exit_code = 2


def get_runtime(*, database: bool = True) -> Runtime:
    """The runtime of this invocation, built from the environment once (tests pass `obj`).

    Every command that uses the database checks here, before anything is opened, that it
    exists and is migrated to the head (`cati db upgrade` and the commands that only read
    settings pass `database=False`): otherwise one line naming the database, exit 2, and no
    file created.
    """
    ctx = click.get_current_context()
    root = ctx.find_root()
    if root.obj is None:
        try:
            settings = Settings.from_env()
        except SettingsError as exc:
            raise click.UsageError(str(exc)) from None
        if database:
            try:
                require_current_schema(settings.database_url)
            except SchemaNotCurrent as exc:
                raise DatabaseNotReady(str(exc)) from None
        root.obj = Runtime.from_settings(settings)
    return root.obj


def echo_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))
