"""`cati rounds`: weekly survey rounds."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from cati.cli.common import echo_json, get_runtime
from cati.domain.flow import FlowError
from cati.domain.weeks import IsoWeek
from cati.models import Round
from cati.services.flows import find_flow, flow_files
from cati.services.rounds import (
    MAX_SEED,
    RoundInUse,
    SamplingError,
    SamplingOptions,
    delete_round,
    get_round,
    list_rounds,
    round_as_dict,
    sample_round,
)
from cati.spreadsheets import write_csv


@click.group()
def rounds() -> None:
    """Weekly survey rounds."""


def _week(_ctx, _param, value: str) -> IsoWeek:
    try:
        return IsoWeek.parse(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


@rounds.command("sample")
@click.option("--week", required=True, callback=_week, help="ISO week, e.g. 2026-W47.")
@click.option("--flow", default="mscore", show_default=True, help="Questionnaire of the round.")
@click.option(
    "--mode",
    type=click.Choice(["ivr", "interviewer", "web"]),
    default=None,
    help="Who calls: the IVR robot or interviewers at the console; or web: each member gets "
    "a personal link (cati rounds links), then the phone  [default: CATI_SAMPLING_MODE, ivr]",
)
@click.option(
    "--then",
    "then_mode",
    type=click.Choice(["ivr", "interviewer"]),
    default=None,
    help="Web rounds: who calls the members not done on the web after CATI_WEB_DAYS  "
    "[default: CATI_WEB_THEN, ivr]",
)
@click.option(
    "--rate",
    type=click.FloatRange(0, 1, min_open=True),
    help="Share of the eligible citizens to sample  [default: 0.2]",
)
@click.option("--size", type=click.IntRange(0), help="Sample size (instead of --rate).")
@click.option(
    "--min-per-office",
    default=5,
    show_default=True,
    type=click.IntRange(0),
    help="At least this many per office (capped by what the office has).",
)
@click.option(
    "--seed",
    type=click.IntRange(0, MAX_SEED),
    help="Random seed; the same data and seed give the same members.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the round as JSON.")
def rounds_sample(
    week: IsoWeek,
    flow: str,
    mode: str | None,
    then_mode: str | None,
    rate: float | None,
    size: int | None,
    min_per_office: int,
    seed: int | None,
    as_json: bool,
) -> None:
    """Create the round of an ISO week: a stratified sample of eligible citizens.

    Sampling a week that already has a round for this flow creates nothing and shows it; a
    week that has not ended yet, or a flow that is not in CATI_FLOWS_DIR, is refused.
    """
    if rate is not None and size is not None:
        raise click.UsageError("give --rate or --size, not both")
    runtime = get_runtime()
    mode = mode or runtime.settings.sampling_mode
    options = SamplingOptions(
        flow=flow,
        mode=mode,
        then_mode=then_mode or runtime.settings.web_then,
        rate=rate,
        size=size,
        min_per_office=min_per_office,
        seed=seed,
        calling_days=runtime.settings.round_calling_days,
    )
    try:
        with runtime.transaction() as session:
            if get_round(session, week, flow) is None:
                _check_flow(flow, runtime.settings.flows_dir)
            round_, created = sample_round(
                session,
                week,
                options,
                tz=runtime.settings.timezone,
                resurvey_days=runtime.settings.resurvey_days,
                now=runtime.clock(),
                hash_key=runtime.settings.opt_out_key,
                link_key=runtime.settings.resolve_secret_key() if mode == "web" else None,
            )
            data = round_as_dict(session, round_, runtime.settings.timezone)
    except SamplingError as exc:
        raise click.UsageError(str(exc)) from None
    if as_json:
        echo_json(data)
    else:
        if not created:
            click.echo(f"round {round_.id} already exists for {week} ({flow}); nothing sampled")
        _print_round(data)


@rounds.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list.")
def rounds_list(as_json: bool) -> None:
    """List the rounds, newest week first."""
    runtime = get_runtime()
    with runtime.transaction() as session:
        items = [_summary(r) for r in list_rounds(session)]
    if as_json:
        echo_json(items)
        return
    if not items:
        click.echo("no rounds yet")
    for item in items:
        click.echo(
            "{id:>4}  {week}  {flow:<10} {status:<7} frame {frame_size:>6}  "
            "eligible {eligible:>6}  sampled {sampled:>5}".format(**item)
        )


@rounds.command("show")
@click.argument("round_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="Print the round as JSON.")
def rounds_show(round_id: int, as_json: bool) -> None:
    """Show a round, its per-office counts and its members."""
    runtime = get_runtime()
    with runtime.transaction() as session:
        round_ = session.get(Round, round_id)
        if round_ is None:
            raise click.BadParameter(f"no round with id {round_id}", param_hint="ROUND_ID")
        data = round_as_dict(session, round_, runtime.settings.timezone)
    if as_json:
        echo_json(data)
    else:
        _print_round(data)
        click.echo("members: " + ", ".join(data["members"]))


@rounds.command("links")
@click.argument("round_id", type=int)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "json", "pdf"]),
    default="csv",
    show_default=True,
    help="csv or json: dossier_code, office_code and url per member; pdf: one slip each.",
)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to this file (required for pdf unless standard output is redirected).",
)
def rounds_links(round_id: int, fmt: str, output: Path | None) -> None:
    """List the personal links of a web round's members ({CATI_PUBLIC_URL}/s/<token>).

    Only a hash of each link is stored; the links are derived again from CATI_SECRET_KEY, so
    it must be the key the round was sampled with (otherwise exit 2, nothing printed). The
    pdf has one slip per member to hand out with the result: the office, what the survey is,
    that it is voluntary, the link as a QR code and in letters, and the hotline
    (CATI_HOTLINE); no phone number, and no name beyond the addressee line.
    """
    from cati.cli.output import (
        check_output,
        echo_or_write,
        fail,
        stdout_is_terminal,
        written_atomically,
    )
    from cati.services.web_links import LinkKeyError, list_links

    if fmt == "pdf" and output is None and stdout_is_terminal():
        fail("a PDF cannot be shown in a terminal; give --output FILE or redirect standard output")
    check_output(output)
    runtime = get_runtime()
    settings = runtime.settings
    with runtime.transaction() as session:
        round_ = session.get(Round, round_id)
        if round_ is None:
            raise click.BadParameter(f"no round with id {round_id}", param_hint="ROUND_ID")
        if round_.mode != "web":
            fail(f"round {round_id} is a {round_.mode} round: only web rounds have links")
        try:
            links = list_links(session, round_, settings.resolve_secret_key(), settings.public_url)
        except LinkKeyError as exc:
            fail(str(exc))
        ended = round_.status != "open" or runtime.clock() >= round_.calling_ends_at
        ends = round_.calling_ends_at.astimezone(settings.timezone)
    if ended:
        click.echo(f"warning: round {round_id} has ended: these links no longer work", err=True)
    if fmt == "pdf":
        from cati.services.slips import slips_pdf

        data = slips_pdf(links, settings, valid_until=ends)
        if output is None:
            sys.stdout.buffer.write(data)
        else:
            with written_atomically(output) as handle:
                handle.write(data)
        return
    rows = [{"dossier_code": x.dossier_code, "office_code": x.office_code, "url": x.url}
            for x in links]  # fmt: skip
    if fmt == "json":
        text = json.dumps(rows, ensure_ascii=False, indent=2) + "\n"
        echo_or_write(text, output)
        return
    columns = ["dossier_code", "office_code", "url"]
    values = [[row[c] for c in columns] for row in rows]
    if output is None:
        write_csv(sys.stdout, columns, values)
    else:
        with written_atomically(output, encoding="utf-8-sig") as handle:
            write_csv(handle, columns, values)


@rounds.command("delete")
@click.argument("round_id", type=int)
def rounds_delete(round_id: int) -> None:
    """Delete a round sampled by mistake, with its members.

    Only a round nobody has called yet: once a member has a call attempt (or an interviewer
    has opened a case), the round is kept and the command exits 2 saying why.
    """
    from cati.jobs.tasks import week_due

    runtime = get_runtime()
    settings = runtime.settings
    with runtime.transaction() as session:
        round_ = session.get(Round, round_id)
        if round_ is None:
            raise click.BadParameter(f"no round with id {round_id}", param_hint="ROUND_ID")
        week, flow = round_.week, round_.flow
        try:
            removed = delete_round(session, round_, runtime.clock())
        except RoundInUse as exc:
            raise click.UsageError(str(exc)) from None
    click.echo(f"round {round_id} ({week}, {flow}) deleted with its {removed} members")
    due = week_due(settings.sampling_cron, runtime.clock(), settings.timezone)
    if str(due) == week and flow in settings.sampling_flows:
        click.echo(
            f"note: a running scheduler samples {week} for {flow} again within the hour "
            "(CATI_SAMPLING_CRON, CATI_SAMPLING_FLOWS)"
        )


def _check_flow(name: str, folder) -> None:
    """Exit 2 unless `name` is a valid flow of the flows folder, naming the known ones."""
    known = sorted({path.stem for path in flow_files(folder)}) if folder.is_dir() else []
    if name not in known:
        raise click.BadParameter(
            f"no flow named {name!r} in {folder} (known: {', '.join(known) or 'none'})",
            param_hint="--flow",
        )
    try:
        find_flow(name, folder)
    except FlowError as exc:
        raise click.BadParameter(f"flow {name!r} is invalid: {exc}", param_hint="--flow") from None


def _summary(round_: Round) -> dict:
    return {
        key: getattr(round_, key)
        for key in ("id", "week", "flow", "status", "seed", "frame_size", "eligible", "sampled")
    }


def _print_round(data: dict) -> None:
    click.echo(
        f"round {data['id']}  week {data['week']}  flow {data['flow']}  "
        f"status {data['status']}  seed {data['seed']}"
    )
    click.echo(f"  {data['week_start'][:16]} → {data['week_end'][:16]} (local time)")
    click.echo(f"  calling period ends {data['calling_ends_at'][:16]} (local time)")
    click.echo(f"  {'office':<14} {'frame':>7} {'eligible':>9} {'sampled':>8}  name")
    for office in data["offices"]:
        click.echo(
            f"  {office['office_code']:<14} {office['frame']:>7} {office['eligible']:>9} "
            f"{office['sampled']:>8}  {office['office_name'] or ''}"
        )
    click.echo(
        f"  {'total':<14} {data['frame_size']:>7} {data['eligible']:>9} {data['sampled']:>8}"
    )
