"""`cati report`: a round's figures."""

from __future__ import annotations

import json
from pathlib import Path

import click

from cati.cli.common import get_runtime
from cati.services.flows import load_flows
from cati.services.reports import ReportError, round_report


@click.command()
@click.argument("round_id", type=int)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["json"]),
    default="json",
    show_default=True,
    help="Output format (CSV and xlsx are planned).",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write here instead of standard output.",
)
def report(round_id: int, fmt: str, output: Path | None) -> None:
    """Counts, AAPOR rates and question scores of a round, overall and per office, receiving
    officer, mode and interviewer. Rates whose denominator is 0 are null."""
    runtime = get_runtime()
    settings = runtime.settings
    with runtime.transaction() as session:
        try:
            data = round_report(
                session, round_id, load_flows(settings.flows_dir), settings.timezone
            )
        except ReportError as exc:
            raise click.BadParameter(str(exc), param_hint="ROUND_ID") from None
    text = json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
