"""`cati report`: a round's figures."""

from __future__ import annotations

import json
from pathlib import Path

import click

from cati.cli.common import get_runtime
from cati.domain.weeks import IsoWeek
from cati.services.flows import load_flows
from cati.services.reports import ReportError, round_report, rounds_trend, trend_table


@click.command()
@click.argument("round_id", type=int, required=False)
@click.option("--weeks", help="Compare the rounds of a range of ISO weeks: 2026-W40..2026-W47.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["json", "csv", "xlsx"]),
    default="json",
    show_default=True,
    help="JSON (every figure), or a spreadsheet with one row per round, office, officer, "
    "mode and interviewer (CSV or xlsx).",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write here instead of standard output.",
)
def report(round_id: int | None, weeks: str | None, fmt: str, output: Path | None) -> None:
    """Counts, AAPOR rates and question scores of a round, overall and per office, receiving
    officer, mode and interviewer. Rates whose denominator is 0 are null.

    With --weeks instead of ROUND_ID: the rounds of those weeks side by side (a trend)."""
    if (round_id is None) == (weeks is None):
        raise click.UsageError("give ROUND_ID or --weeks, not both")
    runtime = get_runtime()
    settings = runtime.settings
    with runtime.transaction() as session:
        flows = load_flows(settings.flows_dir)
        if weeks is not None:
            first, last = _week_range(weeks)
            data = rounds_trend(session, first, last, flows, settings.timezone)
        else:
            try:
                data = round_report(
                    session, round_id, flows, settings.timezone, now=runtime.clock()
                )
            except ReportError as exc:
                raise click.BadParameter(str(exc), param_hint="ROUND_ID") from None
    if weeks is not None and fmt != "json":
        columns, rows = trend_table(data)
        _write_table(fmt, columns, rows, output, sheet_name="trend")
        return
    if fmt == "json":
        text = json.dumps(data, ensure_ascii=False, indent=2) + "\n"
        if output is None:
            click.echo(text, nl=False)
        else:
            output.write_text(text, encoding="utf-8")
        return
    from cati.services.reports import report_table

    columns, rows = report_table(data)
    _write_table(fmt, columns, rows, output, sheet_name=f"report {round_id}")


@click.command()
@click.argument("round_id", type=int)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "xlsx"]),
    default="csv",
    show_default=True,
    help="CSV (UTF-8 with BOM, for Excel) or an xlsx workbook.",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write here instead of standard output.",
)
def export(round_id: int, fmt: str, output: Path | None) -> None:
    """One row per sampled member: dossier, office, procedure, mode, attempts, disposition,
    completion time and the key pressed for each question ('0' don't know, empty when not
    asked). No names or phone numbers: `phone_hash` (a keyed hash) links a citizen's rows.
    Rows are streamed, so a round of any size exports in bounded memory."""
    from cati.models import Round
    from cati.services.exports import export_columns, export_rows

    runtime = get_runtime()
    settings = runtime.settings
    hash_key = settings.resolve_secret_key()
    with runtime.transaction() as session:
        round_ = session.get(Round, round_id)
        if round_ is None:
            raise click.BadParameter(f"no round with id {round_id}", param_hint="ROUND_ID")
        flows = load_flows(settings.flows_dir)
        columns = export_columns(flows[round_.flow])
        rows = export_rows(session, round_id, flows, settings.timezone, hash_key)
        _write_table(fmt, columns, rows, output, sheet_name=f"round {round_id}")


def _write_csv(handle, columns, rows) -> None:
    import csv

    writer = csv.writer(handle)
    writer.writerow(columns)
    writer.writerows(rows)


def _write_table(fmt: str, columns, rows, output: Path | None, *, sheet_name: str) -> None:
    """CSV (UTF-8 with BOM in a file, for Excel) or xlsx, to a file or standard output."""
    import sys

    if fmt == "csv" and output:
        with output.open("w", encoding="utf-8-sig", newline="") as handle:
            _write_csv(handle, columns, rows)
    elif fmt == "csv":
        _write_csv(sys.stdout, columns, rows)
    else:
        import openpyxl

        book = openpyxl.Workbook(write_only=True)
        sheet = book.create_sheet(sheet_name)
        sheet.append(list(columns))
        for row in rows:
            sheet.append(list(row))
        book.save(output if output else sys.stdout.buffer)


def _week_range(text: str) -> tuple[IsoWeek, IsoWeek]:
    first, sep, last = text.partition("..")
    try:
        start, end = IsoWeek.parse(first), IsoWeek.parse(last if sep else first)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--weeks") from None
    if end < start:
        raise click.BadParameter(f"{text!r}: the range ends before it starts", param_hint="--weeks")
    return start, end
