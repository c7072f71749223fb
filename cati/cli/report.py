"""`cati report`: a round's figures."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path

import click

from cati.cli.common import get_runtime
from cati.cli.output import check_output, echo_or_write, fail, written_atomically
from cati.domain.flow import Flow, FlowError
from cati.domain.weeks import IsoWeek
from cati.services.counter import self_selected
from cati.services.flows import load_flows
from cati.services.reports import ReportError, round_report, rounds_trend, trend_table
from cati.spreadsheets import write_csv, write_xlsx


@click.command()
@click.argument("round_id", type=int, required=False)
@click.option("--weeks", help="Compare the rounds of a range of ISO weeks: 2026-W40..2026-W47.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["json", "csv", "xlsx", "text", "pdf"]),
    default="json",
    show_default=True,
    help="JSON (every figure); a spreadsheet with one row per round, office, officer, "
    "mode and interviewer (CSV or xlsx); a summary to read in a terminal (text); or an A4 "
    "document to send upward (pdf, needs --output).",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write here instead of standard output.",
)
@click.option(
    "--language",
    type=click.Choice(["vi", "en"]),
    default="vi",
    show_default=True,
    help="Language of the text and pdf formats (numbers and dates follow it: 94,3 %, "
    "07/12/2026 in Vietnamese).",
)
def report(
    round_id: int | None, weeks: str | None, fmt: str, output: Path | None, language: str
) -> None:
    """Counts, AAPOR rates and question scores of a round, overall and per office, receiving
    officer, mode and interviewer. Rates whose denominator is 0 are null. Call figures
    (attempted, contacted, attempts, call success rate) count telephone calls only; in JSON
    `modes_response` gives each mode used (web, ivr, interviewer) apart: members invited or
    dialled, attempts, completes, partials, refusals, not eligible and RR1.

    With --weeks instead of ROUND_ID: the rounds of those weeks side by side (a trend), and
    in JSON the follow-ups raised in those weeks (`follow_ups`, per office) and the counter
    ratings of those weeks (`self_selected`, per office and mode: kiosk or qr; flagged ones
    left out unless accepted), which are self-selected and never in the AAPOR rates.
    In CSV and xlsx, text that a spreadsheet would run as a formula is written as text.
    text and pdf rank the offices, grey figures from fewer than CATI_REPORT_MIN_N answers
    and flag the offices past the CATI_WARN_* thresholds; they show each mode's response,
    each question per mode side by side when a round was answered by more than one mode, and
    the counter ratings (of the weeks, or of the round's week) in their own section."""
    if round_id is None and weeks is None:
        raise click.UsageError("give ROUND_ID or --weeks: one of them is needed")
    if round_id is not None and weeks is not None:
        raise click.UsageError("give ROUND_ID or --weeks, not both")
    if fmt == "pdf" and output is None:
        fail("a PDF is written to a file: give --output FILE.pdf")
    check_output(output, binary=fmt == "xlsx")
    runtime = get_runtime()
    settings = runtime.settings
    with runtime.transaction() as session:
        flows = _flows(settings.flows_dir)
        counter_flow = flows.get(settings.counter_flow)
        week_ratings = None
        if weeks is not None:
            first, last = _week_range(weeks)
            data = rounds_trend(session, first, last, flows, settings.timezone, now=runtime.clock())
            if fmt in ("json", "text", "pdf"):  # counter ratings: apart from the rounds' rates
                tz = settings.timezone
                period = first.bounds_utc(tz)[0], last.bounds_utc(tz)[1]
                data["self_selected"] = self_selected(session, counter_flow, *period)
            _check_flows(
                ((r["round"]["id"], r["round"]["flow"]) for r in data["rounds"]),
                flows,
                settings.flows_dir,
            )
        else:
            try:
                data = round_report(
                    session, round_id, flows, settings.timezone, now=runtime.clock()
                )
            except ReportError as exc:
                raise click.BadParameter(str(exc), param_hint="ROUND_ID") from None
            _check_flows([(round_id, data["round"]["flow"])], flows, settings.flows_dir)
            calling_ends = _calling_ends(session, round_id, settings.timezone)
            if fmt in ("text", "pdf"):  # the counter ratings of the round's week, apart
                week = IsoWeek.parse(data["round"]["week"]).bounds_utc(settings.timezone)
                week_ratings = self_selected(session, counter_flow, *week)
    if fmt in ("text", "pdf"):
        from cati.documents import model

        options = model.Options.of(settings, language, runtime.clock())
        if weeks is not None:
            doc = model.trend_document(data, flows, options, counter_flow=counter_flow)
        else:
            doc = model.round_document(
                data,
                flows.get(data["round"]["flow"]),
                options,
                calling_ends=calling_ends,
                self_selected=week_ratings,
                counter_flow=counter_flow,
            )
        _write_document(fmt, doc, output)
        return
    if weeks is not None and fmt != "json":
        columns, rows = trend_table(data)
        _write_table(fmt, columns, rows, output, sheet_name="trend")
        return
    if fmt == "json":
        text = json.dumps(data, ensure_ascii=False, indent=2) + "\n"
        echo_or_write(text, output)
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
    Rows are streamed, so a round of any size exports in bounded memory. Text that a
    spreadsheet would run as a formula is written as text."""
    from cati.models import Round
    from cati.services.exports import export_columns, export_rows

    check_output(output, binary=fmt == "xlsx")
    runtime = get_runtime()
    settings = runtime.settings
    hash_key = settings.resolve_secret_key()
    with runtime.transaction() as session:
        round_ = session.get(Round, round_id)
        if round_ is None:
            raise click.BadParameter(f"no round with id {round_id}", param_hint="ROUND_ID")
        flows = _flows(settings.flows_dir)
        _check_flows([(round_id, round_.flow)], flows, settings.flows_dir)
        columns = export_columns(flows[round_.flow])
        rows = export_rows(session, round_id, flows, settings.timezone, hash_key)
        _write_table(fmt, columns, rows, output, sheet_name=f"round {round_id}")


def _calling_ends(session, round_id: int, tz):
    from cati.documents.model import last_calling_day
    from cati.models import Round

    return last_calling_day(session.get(Round, round_id).calling_ends_at, tz)


def _write_document(fmt: str, doc, output: Path | None) -> None:
    """The text summary (standard output or a UTF-8 file) or the PDF (a file)."""
    if fmt == "text":
        from cati.documents.text import render

        text = render(doc)
        echo_or_write(text, output)
        return
    from cati.documents.pdf import render

    content = render(doc)
    with written_atomically(output) as handle:
        handle.write(content)


def _flows(folder: Path) -> dict[str, Flow]:
    """The questionnaires, or one line and exit 2 when the folder cannot be read."""
    try:
        return load_flows(folder)
    except FlowError as exc:
        fail(" ".join(f"{exc} (CATI_FLOWS_DIR)".split()))  # a YAML error spans lines
    except OSError as exc:
        fail(f"cannot read the questionnaires in {folder} (CATI_FLOWS_DIR): {exc.strerror}")


def _check_flows(
    rounds: Iterable[tuple[int, str]], flows: Mapping[str, Flow], folder: Path
) -> None:
    """A round's questionnaire must still be there: its questions are the report's columns."""
    for round_id, flow in rounds:
        if flow not in flows:
            fail(
                f"round {round_id}: its questionnaire {flow!r} is no longer in {folder} "
                "(CATI_FLOWS_DIR); put the flow file back to report on the round"
            )


def _write_table(fmt: str, columns, rows, output: Path | None, *, sheet_name: str) -> None:
    """CSV (UTF-8 with BOM in a file, for Excel) or xlsx, to a file or standard output."""
    if fmt == "csv" and output:
        with written_atomically(output, encoding="utf-8-sig") as handle:
            write_csv(handle, columns, rows)
    elif fmt == "csv":
        write_csv(sys.stdout, columns, rows)
    elif output:
        with written_atomically(output) as handle:
            write_xlsx(handle, columns, rows, sheet_name=sheet_name)
    else:
        write_xlsx(sys.stdout.buffer, columns, rows, sheet_name=sheet_name)


def _week_range(text: str) -> tuple[IsoWeek, IsoWeek]:
    first, sep, last = text.partition("..")
    try:
        start, end = IsoWeek.parse(first), IsoWeek.parse(last if sep else first)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--weeks") from None
    if end < start:
        raise click.BadParameter(f"{text!r}: the range ends before it starts", param_hint="--weeks")
    return start, end
