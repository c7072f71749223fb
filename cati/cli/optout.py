"""`cati optout`: numbers never sampled or called again."""

from __future__ import annotations

import click

from cati.cli.common import echo_json, get_runtime
from cati.services.optout import PhoneInputError, add_opt_out, list_opt_outs, remove_opt_out


@click.group()
def optout() -> None:
    """The opt-out list."""


@optout.command("add")
@click.argument("phone")
@click.option("--reason", help="Why the citizen asked not to be called.")
def optout_add(phone: str, reason: str | None) -> None:
    """Block PHONE (any common format) from sampling and calls."""
    runtime = get_runtime()
    try:
        with runtime.transaction() as session:
            added = add_opt_out(session, phone, reason=reason, now=runtime.clock())
    except PhoneInputError as exc:
        raise click.BadParameter(str(exc), param_hint="PHONE") from None
    click.echo("added" if added else "already on the list")


@optout.command("remove")
@click.argument("phone")
def optout_remove(phone: str) -> None:
    """Unblock PHONE."""
    runtime = get_runtime()
    try:
        with runtime.transaction() as session:
            removed = remove_opt_out(session, phone)
    except PhoneInputError as exc:
        raise click.BadParameter(str(exc), param_hint="PHONE") from None
    click.echo("removed" if removed else "not on the list")


@optout.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list of numbers.")
def optout_list(as_json: bool) -> None:
    """Print the blocked numbers (E.164), one per line."""
    with get_runtime().transaction() as session:
        phones = [entry.phone for entry in list_opt_outs(session)]
    if as_json:
        echo_json(phones)
    else:
        for phone in phones:
            click.echo(phone)
