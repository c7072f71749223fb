"""`cati members`: look up sampled citizens."""

from __future__ import annotations

import click

from cati.cli.common import echo_json, get_runtime
from cati.services.members import member_report


@click.group()
def members() -> None:
    """Sampled citizens (round members)."""


@members.command("show")
@click.argument("dossier_code")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def members_show(dossier_code: str, as_json: bool) -> None:
    """Show a dossier's round membership: every attempt, the answers so far, the disposition."""
    runtime = get_runtime()
    with runtime.transaction() as session:
        report = member_report(session, dossier_code.strip(), runtime.settings.timezone)
    if report is None:
        raise click.BadParameter(
            f"dossier {dossier_code!r} is not in any round", param_hint="DOSSIER_CODE"
        )
    if as_json:
        echo_json(report)
        return
    click.echo(
        f"dossier {report['dossier_code']}  round {report['round_id']}  phone {report['phone']}"
    )
    click.echo(
        f"  status {report['status']}  disposition {report['disposition'] or '-'}"
        f"  next call {report['next_call_at'] or '-'}"
    )
    for a in report["attempts"]:
        click.echo(
            f"  {a['started_at'][:16]}  {a['mode']:<11} {a['outcome'] or '-':<15} "
            f"{a['provider_status']:<12} {a['answered_by'] or '':<18} "
            f"{a['duration_s'] if a['duration_s'] is not None else '-'} s"
        )
    for question, value in report["answers"].items():
        click.echo(f"  {question}: {value}")
