"""`cati flows`: questionnaires kept as data in the flows folder."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from cati.cli.common import get_runtime
from cati.domain.flow import (
    Finished,
    FlowError,
    FlowRun,
    classify_interview,
    describe,
    missing_scripts,
)
from cati.services.flows import find_flow, flow_files, read_flow_file


@click.group()
def flows() -> None:
    """Questionnaires (call flows)."""


@flows.command("check")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path))
def flows_check(paths: tuple[Path, ...]) -> None:
    """Validate flow files (default: every flow in CATI_FLOWS_DIR). Exit 1 if one is invalid.

    A valid flow without interviewer scripts (the console's words) gets a warning only."""
    if not paths:
        folder = get_runtime(database=False).settings.flows_dir
        paths = tuple(flow_files(folder)) if folder.is_dir() else ()
        if not paths:
            raise click.UsageError(f"no flow files in {folder}")
    failed = 0
    for path in paths:
        try:
            flow = read_flow_file(path)
        except FlowError as exc:
            failed += 1
            click.echo(f"invalid: {exc}", err=True)
        else:
            click.echo(f"ok: {path} ({flow.id}, {len(flow.questions)} questions, "
                       f"languages {', '.join(flow.languages)})")  # fmt: skip
            missing = missing_scripts(flow)
            if missing:
                click.echo(f"warning: {path}: no interviewer script at {', '.join(missing)} "
                           "(the console reads out the IVR prompt instead)", err=True)  # fmt: skip
    sys.exit(1 if failed else 0)


@flows.command("try")
@click.argument("name")
@click.option("--language", default="vi", show_default=True, help="Language of the prompts.")
@click.option("--office", default="Bộ phận một cửa thành phố Đông Hà", show_default=True)
@click.option("--procedure", default="Đăng ký khai sinh", show_default=True)
@click.option("--returned-date", default="18/11/2026", show_default=True)
def flows_try(name: str, language: str, office: str, procedure: str, returned_date: str) -> None:
    """Run a flow in the terminal: prompts are printed and keys read from the keyboard.

    Type a key and Enter (an empty line is silence, 'r' ends a recording, 'q' hangs up).
    Nothing is called and nothing is written to the database.
    """
    try:
        flow = find_flow(name, get_runtime(database=False).settings.flows_dir)
    except FlowError as exc:
        raise click.BadParameter(str(exc), param_hint="NAME") from None
    if language not in flow.languages:
        raise click.BadParameter(
            f"{flow.id} speaks {', '.join(flow.languages)}", param_hint="--language"
        )
    case = {"office": office, "procedure": procedure, "returned_date": returned_date}
    run = FlowRun(flow, case, language)
    events = run.start()
    while True:
        for event in events:
            click.echo(describe(event))
        if run.outcome is not None and any(isinstance(e, Finished) for e in events):
            break
        try:
            line = click.prompt(">", default="", show_default=False, prompt_suffix=" ")
        except click.Abort:  # end of input (Ctrl-D, a finished pipe): the citizen hung up
            line = "q"
        if line.strip().lower() == "q":
            click.echo("# hung up")
            break
        events = run.recorded() if run.recording and line.strip() == "r" else run.press(line)
    result = classify_interview(flow, run.answered, run.outcome)
    click.echo(f"answers: {run.answered or '{}'}; interview: {result}")
