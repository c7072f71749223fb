"""`cati cases`: completed dossiers coming in."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import click

from cati.cli.common import echo_json, get_runtime
from cati.cli.output import check_output, replaced_on_success
from cati.services.intake import (
    CaseFileError,
    StrictImportAborted,
    import_case_file,
    read_case_file,
)

EXIT_OK, EXIT_USAGE, EXIT_REJECTED = 0, 2, 3


@click.group()
def cases() -> None:
    """Completed dossiers (cases)."""


@cases.command("import")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--strict", is_flag=True, help="Store nothing if any row is rejected.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as one JSON object.")
def cases_import(path: Path, strict: bool, as_json: bool) -> None:
    """Import dossiers from a CSV (UTF-8, comma or semicolon) or .xlsx file.

    Rows are upserted by dossier code; a result returned after the time of the import is
    rejected. An .xlsx file beyond CATI_IMPORT_MAX_XLSX_MB uncompressed or CATI_IMPORT_MAX_ROWS
    rows is refused. Exit status: 0 every row stored, 3 some rows rejected (the others
    stored), 2 unreadable or refused file, bad usage or a --strict abort.
    """
    runtime = get_runtime()
    settings = runtime.settings
    try:
        case_file = read_case_file(
            path, max_xlsx_mb=settings.import_max_xlsx_mb, max_rows=settings.import_max_rows
        )
        with (
            runtime.transaction() as session,
            _progress(case_file.total_lines, _progress_stream()) as update,
        ):
            summary = import_case_file(
                session,
                case_file,
                tz=settings.timezone,
                now=runtime.clock(),
                strict=strict,
                on_progress=update,
            )
    except CaseFileError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_USAGE)
    except StrictImportAborted as exc:
        _report(exc.summary, as_json, path)
        click.echo(f"nothing stored (--strict): {_rejected_text(exc.summary)}", err=True)
        sys.exit(EXIT_USAGE)
    _report(summary, as_json, path)
    sys.exit(EXIT_REJECTED if summary.rejected else EXIT_OK)


def _progress_stream() -> IO[str]:
    return sys.stderr


@contextmanager
def _progress(total: int | None, stream: IO[str]) -> Iterator:
    """A progress bar on `stream` when it is a terminal (pipes and CI logs get the summary
    alone); yields its update function. The rows' count is an estimate (blank lines, a
    header further down), so a finished import shows 100 %, and a failed one clears the bar
    before its error is printed."""
    visible = stream.isatty()
    bar = click.progressbar(
        length=max(total or 0, 1), label="importing", file=stream, hidden=not visible
    )
    try:
        with bar:
            yield bar.update
            bar.update(max(bar.length - bar.pos, 0))
    except BaseException:
        if visible:
            stream.write("\r\x1b[2K")  # back to the start of the line, erased
            stream.flush()
        raise


def _rejected_text(summary) -> str:
    rows = len({rejection.line for rejection in summary.rejected})
    problems = len(summary.rejected)
    text = f"{rows} row{'' if rows == 1 else 's'} rejected"
    if problems != rows:
        text += f" ({problems} problems)"
    return text


def _report(summary, as_json: bool, path: Path) -> None:
    if as_json:
        echo_json(summary.as_dict())
        return
    click.echo(
        f"{path}: {summary.imported} imported, {summary.updated} updated, "
        f"{summary.unchanged} unchanged, {_rejected_text(summary)}, "
        f"{summary.no_phone} without a callable phone"
    )
    for rejection in summary.rejected:
        click.echo(f"  line {rejection.line}, {rejection.column}: {rejection.reason}", err=True)


@cases.command("generate")
@click.option("--week", required=True, help="ISO week of the returns, e.g. 2026-W47.")
@click.option("--count", default=2000, show_default=True, type=click.IntRange(1, 10_000_000))
@click.option("--seed", default=0, show_default=True, type=int)
@click.option("--output", "-o", required=True, type=click.Path(dir_okay=False, path_type=Path))
def cases_generate(week: str, count: int, seed: int, output: Path) -> None:
    """Write a CSV of realistic synthetic dossiers (for demos, tests and benchmarks)."""
    from cati.domain.weeks import IsoWeek
    from cati.synthetic import generate_cases, write_cases_csv

    try:
        IsoWeek.parse(week)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--week") from None
    check_output(output)
    with replaced_on_success(output) as temporary:
        written = write_cases_csv(temporary, generate_cases(week, count, seed))
    click.echo(f"{output}: {written} dossiers returned in {week}")
