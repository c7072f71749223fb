"""`cati followups` and `cati offices`: the follow-ups offices handle, and where their
daily digest goes."""

from __future__ import annotations

import click

from cati.cli.common import echo_json, get_runtime
from cati.domain.follow_ups import TransitionError
from cati.services.follow_ups import (
    STATUS_FILTERS,
    FollowUpError,
    get_follow_up,
    list_follow_ups,
    set_office_email,
    update_status,
)


@click.group()
def followups() -> None:
    """Answers that need an office's action, tracked to closure."""


@followups.command("list")
@click.option("--office", "office_code", metavar="CODE", help="Only this office's.")
@click.option(
    "--status",
    type=click.Choice(STATUS_FILTERS, case_sensitive=False),
    help="Only these (open = new or in_progress).",
)
@click.option("--overdue", is_flag=True, help="Only the open ones past their deadline.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list.")
def followups_list(office_code: str | None, status: str | None, overdue: bool, as_json: bool):
    """List follow-ups, the earliest deadline first (times local)."""
    runtime = get_runtime()
    tz = runtime.settings.timezone
    try:
        with runtime.transaction() as session:
            views = list_follow_ups(
                session,
                now=runtime.clock(),
                office_code=office_code.strip() if office_code else None,
                status=status.lower() if status else None,
                overdue=overdue,
            )
    except FollowUpError as exc:
        raise click.BadParameter(str(exc), param_hint="--office") from None
    if as_json:
        echo_json([view.to_json(tz) for view in views])
        return
    for view in views:
        due = view.due_at.astimezone(tz).strftime("%Y-%m-%d")
        click.echo(
            f"{view.id:>6}  {view.office_code or '-':<10} {view.status:<15} due {due}"
            f"{' OVERDUE' if view.overdue else '        '}  {view.dossier_code or '-':<16} "
            f"{', '.join(view.reasons)}"
        )
    if not views:
        click.echo("no follow-ups")


@followups.command("show")
@click.argument("follow_up_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def followups_show(follow_up_id: int, as_json: bool) -> None:
    """Show a follow-up: the citizen, the reasons, the deadline and every change."""
    runtime = get_runtime()
    tz = runtime.settings.timezone
    try:
        with runtime.transaction() as session:
            view = get_follow_up(session, follow_up_id, now=runtime.clock())
    except FollowUpError as exc:
        raise click.BadParameter(str(exc), param_hint="ID") from None

    def when(moment) -> str | None:
        return moment.astimezone(tz).isoformat() if moment else None

    data = {
        **view.to_json(tz),
        "office_name": view.office_name,
        "kind": view.kind,
        "round_week": view.round_week,
        "procedure": view.procedure,
        "officer": view.officer,
        "citizen_name": view.citizen_name,
        "phone": view.phone,
        "recordings": view.recordings,
        "changes": [{**c, "at": when(c["at"])} for c in view.changes],
    }
    if as_json:
        echo_json(data)
        return
    click.echo(f"follow-up {view.id}  {view.status}{'  OVERDUE' if view.overdue else ''}")
    shown = ("office_code", "dossier_code", "citizen_name", "phone", "round_week", "procedure",
             "officer", "raised_at", "due_at", "contact_allowed", "note")  # fmt: skip
    for key in shown:
        if data[key] is not None:
            click.echo(f"  {key}: {data[key]}")
    click.echo(f"  reasons: {', '.join(view.reasons)}")
    for url in view.recordings:
        click.echo(f"  recording: {url}")
    for change in data["changes"]:
        note = f"  {change['note']}" if change["note"] else ""
        click.echo(
            f"  {change['at'][:16]}  {change['user'] or '-'}: "
            f"{change['from'] or '-'} -> {change['to']}{note}"
        )


@followups.command("update")
@click.argument("follow_up_id", type=int)
@click.option("--status", required=True, help="new, in_progress, resolved, not_responsible, …")
@click.option("--note", help="What was done (required to close or reopen).")
def followups_update(follow_up_id: int, status: str, note: str | None) -> None:
    """Change a follow-up's status (closing it needs --note); the change is audited."""
    runtime = get_runtime()
    try:
        with runtime.transaction() as session:
            row = update_status(
                session, follow_up_id, status, note, user_id=None, now=runtime.clock()
            )
            result = f"follow-up {row.id}: {row.status}"
    except FollowUpError as exc:
        raise click.BadParameter(str(exc), param_hint="ID") from None
    except TransitionError as exc:
        raise click.UsageError(f"follow-up {follow_up_id}: {exc}") from None
    click.echo(result)


@click.group()
def offices() -> None:
    """The one-stop offices."""


@offices.command("set-email")
@click.argument("code")
@click.argument("address")
def offices_set_email(code: str, address: str) -> None:
    """Send office CODE's daily digest of follow-ups to ADDRESS ('' stops it)."""
    runtime = get_runtime()
    try:
        with runtime.transaction() as session:
            office = set_office_email(session, code, address)
            result = f"office {office.code}: digest to {office.email or 'nobody'}"
    except FollowUpError as exc:
        raise click.BadParameter(str(exc)) from None
    click.echo(result)
