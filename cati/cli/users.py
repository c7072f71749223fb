"""`cati users`: the accounts of interviewers, managers and administrators."""

from __future__ import annotations

import sys

import click

from cati.cli.common import echo_json, get_runtime
from cati.services.users import (
    MIN_PASSWORD_LENGTH,
    ROLES,
    UserInputError,
    check_new_username,
    check_office,
    check_password,
    create_user,
    disable_user,
    is_locked,
    list_users,
)


@click.group()
def users() -> None:
    """People who sign in to the web application."""


@users.command("add")
@click.argument("username")
@click.option(
    "--role",
    required=True,
    type=click.Choice(ROLES, case_sensitive=False),
    help="What the person may do.",
)
@click.option(
    "--office",
    "office_code",
    metavar="OFFICE_CODE",
    help="The office of an office user (required with --role office).",
)
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the password from the first line of standard input instead of prompting.",
)
def users_add(username: str, role: str, office_code: str | None, password_stdin: bool) -> None:
    """Create the account USERNAME (letters a-z, digits, '.', '_', '-'; stored in lower case).

    An office user (--role office --office OFFICE_CODE) sees and handles only its office's
    follow-ups.

    The password (at least 10 characters) is asked twice without echo, or read from standard
    input with --password-stdin.
    """
    runtime = get_runtime()
    try:
        with runtime.transaction() as session:  # fail before asking for a password
            username = check_new_username(session, username)
            check_office(session, role.lower(), office_code)
    except UserInputError as exc:
        hint = "USERNAME" if "username" in str(exc) else "--office"
        raise click.BadParameter(str(exc), param_hint=hint) from None
    if password_stdin:
        lines = sys.stdin.read().splitlines()
        password = lines[0] if lines else ""
    else:
        password = click.prompt(
            f"Password for {username} (at least {MIN_PASSWORD_LENGTH} characters)",
            hide_input=True,
            confirmation_prompt="Repeat the password",
        )
    try:
        check_password(password)
    except UserInputError as exc:
        raise click.UsageError(str(exc)) from None
    try:
        with runtime.transaction() as session:
            create_user(
                session, username, password, role, now=runtime.clock(), office_code=office_code
            )
    except UserInputError as exc:
        raise click.BadParameter(str(exc), param_hint="USERNAME") from None
    click.echo(f"added {username} ({role}{f', office {office_code}' if office_code else ''})")


@users.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list of accounts.")
def users_list(as_json: bool) -> None:
    """Print every account: username, role, active, locked (until when, local time)."""
    runtime = get_runtime()
    now = runtime.clock()
    tz = runtime.settings.timezone
    with runtime.transaction() as session:
        rows = [
            {
                "username": user.username,
                "role": user.role,
                "active": user.active,
                "locked_until": user.locked_until.astimezone(tz).isoformat(timespec="minutes")
                if is_locked(user, now)
                else None,
            }
            for user in list_users(session)
        ]
    if as_json:
        echo_json(rows)
        return
    table = [("username", "role", "active", "locked")] + [
        (
            row["username"],
            row["role"],
            "yes" if row["active"] else "no",
            f"until {row['locked_until'][:16].replace('T', ' ')}" if row["locked_until"] else "no",
        )
        for row in rows
    ]
    widths = [max(len(line[column]) for line in table) for column in range(3)]
    for line in table:
        cells = [cell.ljust(width) for cell, width in zip(line, widths, strict=False)]
        click.echo("  ".join([*cells, line[3]]))


@users.command("disable")
@click.argument("username")
def users_disable(username: str) -> None:
    """Stop USERNAME from signing in (the account and its audit trail are kept)."""
    runtime = get_runtime()
    try:
        with runtime.transaction() as session:
            disabled = disable_user(session, username, now=runtime.clock())
    except UserInputError as exc:
        raise click.BadParameter(str(exc), param_hint="USERNAME") from None
    click.echo("disabled" if disabled else "already disabled")
