"""`cati optout`: numbers never sampled or called again."""

from __future__ import annotations

import click

from cati.cli.common import echo_json, get_runtime
from cati.services.optout import (
    AddOutcome,
    PhoneInputError,
    add_opt_out,
    count_hashed_opt_outs,
    list_opt_outs,
    remove_opt_out,
)

ADD_MESSAGES = {
    AddOutcome.ADDED: "added",
    AddOutcome.LISTED: "already on the list",
    AddOutcome.HASHED: "already blocked (kept only as a keyed hash since retention erased it)",
}


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
            outcome = add_opt_out(
                session,
                phone,
                reason=reason,
                now=runtime.clock(),
                hash_key=runtime.settings.opt_out_key,
            )
    except PhoneInputError as exc:
        raise click.BadParameter(str(exc), param_hint="PHONE") from None
    click.echo(ADD_MESSAGES[outcome])


@optout.command("remove")
@click.argument("phone")
def optout_remove(phone: str) -> None:
    """Unblock PHONE."""
    runtime = get_runtime()
    try:
        with runtime.transaction() as session:
            removed = remove_opt_out(session, phone, hash_key=runtime.settings.opt_out_key)
    except PhoneInputError as exc:
        raise click.BadParameter(str(exc), param_hint="PHONE") from None
    click.echo("removed" if removed else "not on the list")


@optout.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list of numbers.")
def optout_list(as_json: bool) -> None:
    """Print the blocked numbers (E.164), one per line.

    Numbers retention kept only as a keyed hash cannot be printed: their count goes to
    standard error, so the output stays a plain list of numbers.
    """
    with get_runtime().transaction() as session:
        phones = [entry.phone for entry in list_opt_outs(session)]
        hashed = count_hashed_opt_outs(session)
    if as_json:
        echo_json(phones)
    else:
        for phone in phones:
            click.echo(phone)
    if hashed:
        kept = (
            "number kept only as a keyed hash"
            if hashed == 1
            else "numbers kept only as keyed hashes"
        )
        click.echo(f"and {hashed} {kept} (erased by retention)", err=True)
