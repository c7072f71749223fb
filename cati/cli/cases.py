"""`cati cases`: completed dossiers coming in."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from cati.cli.common import echo_json, get_runtime
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

    Rows are upserted by dossier code. Exit status: 0 every row stored, 3 some rows rejected
    (the others stored), 2 unreadable file, bad usage or a --strict abort.
    """
    runtime = get_runtime()
    try:
        case_file = read_case_file(path)
        with runtime.transaction() as session:
            progress = _progress_bar(case_file.total_lines)
            with progress as bar:
                summary = import_case_file(
                    session,
                    case_file,
                    tz=runtime.settings.timezone,
                    now=runtime.clock(),
                    strict=strict,
                    on_progress=bar.update,
                )
    except CaseFileError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_USAGE)
    except StrictImportAborted as exc:
        _report(exc.summary, as_json, path)
        click.echo(f"nothing stored (--strict): {exc}", err=True)
        sys.exit(EXIT_USAGE)
    _report(summary, as_json, path)
    sys.exit(EXIT_REJECTED if summary.rejected else EXIT_OK)


def _progress_bar(total: int | None):
    # Shown only on a terminal: pipes and CI logs get the summary alone.
    return click.progressbar(
        length=max(total or 0, 1),
        label="importing",
        file=sys.stderr,
        hidden=not sys.stderr.isatty(),
    )


def _report(summary, as_json: bool, path: Path) -> None:
    if as_json:
        echo_json(summary.as_dict())
        return
    click.echo(
        f"{path}: {summary.imported} imported, {summary.updated} updated, "
        f"{summary.unchanged} unchanged, {len(summary.rejected)} rejected, "
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
    written = write_cases_csv(output, generate_cases(week, count, seed))
    click.echo(f"{output}: {written} dossiers returned in {week}")
