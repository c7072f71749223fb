"""`cati dial`: call the due members of a round."""

from __future__ import annotations

import time
from datetime import timedelta

import click
from sqlalchemy import func, select

from cati.cli.common import get_runtime
from cati.config import SettingsError
from cati.jobs.dialing import DialerError, dial_pass
from cati.models import Attempt, Member, Round
from cati.telephony import make_provider


@click.command()
@click.option("--round", "round_id", required=True, type=int, help="The round to dial.")
@click.option("--once", is_flag=True, help="One pass: place every call due now, then exit.")
def dial(round_id: int, once: bool) -> None:
    """Place the calls that are due, within calling hours and the provider's limits.

    Without --once the command keeps dialing (waiting while the concurrency limit is reached)
    until no member is due.
    """
    runtime = get_runtime()
    with runtime.transaction() as session:
        if session.get(Round, round_id) is None:
            raise click.BadParameter(f"no round with id {round_id}", param_hint="--round")
    try:
        provider = make_provider(runtime.settings)
    except SettingsError as exc:
        raise click.UsageError(str(exc)) from None
    totals = {"placed": 0, "invalid_numbers": 0, "deferred": 0}
    try:
        while True:
            report = dial_pass(runtime, provider, round_id)
            for key in totals:
                totals[key] += getattr(report, key)
            if once or not report.at_capacity:
                break
            time.sleep(1.0)
    except DialerError as exc:
        click.echo(f"error: the provider refuses our calls: {exc}", err=True)
        raise SystemExit(1) from None
    click.echo(
        f"round {round_id}: {totals['placed']} calls placed, "
        f"{totals['invalid_numbers']} invalid numbers, {totals['deferred']} deferred"
    )


@click.command()
@click.option("--round", "round_id", required=True, type=int, help="The round to run.")
@click.option("--seed", default=0, show_default=True, type=int, help="Seed of the citizens.")
@click.option(
    "--concurrency",
    default=8,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Calls answered at the same time.",
)
def simulate(round_id: int, seed: int, concurrency: int) -> None:
    """Dial a round to its end with simulated citizens (for the demo and trials).

    The web application is served on loopback and the citizens answer through its signed
    webhooks; the dialing passes run on a simulated clock from the Monday after the round's
    week (or on from the round's latest call), so retries and spacing play out in seconds.
    Nothing leaves this machine.
    """
    from cati.services.dialer import round_ends_at
    from cati.simulator import run_simulation

    runtime = get_runtime()
    tz = runtime.settings.timezone
    with runtime.transaction() as session:
        round_ = session.get(Round, round_id)
        if round_ is None:
            raise click.BadParameter(f"no round with id {round_id}", param_hint="--round")
        # From the Monday after the week, or on from the round's latest call if it has any.
        latest = session.scalar(
            select(func.max(Attempt.started_at))
            .join(Member, Member.id == Attempt.member_id)
            .where(Member.round_id == round_id)
        )
        begin = round_.week_end_at
        if latest is not None:
            begin = max(begin, latest + timedelta(minutes=1))
        start = runtime.settings.calling_policy.next_window_start(begin)
        deadline = round_ends_at(round_)

    def progress(number, moment, statuses):
        click.echo(
            f"  pass {number:>2}  {moment.astimezone(tz):%a %d/%m %H:%M}  "
            + "  ".join(f"{k} {v}" for k, v in sorted(statuses.items()))
        )

    click.echo(
        f"simulating round {round_id} from {start.astimezone(tz):%a %d/%m/%Y %H:%M} "
        f"(calling period ends {deadline.astimezone(tz):%d/%m/%Y})"
    )
    report = run_simulation(
        runtime, round_id, start, seed=seed, concurrency=concurrency, on_pass=progress
    )
    click.echo(f"{report.calls} calls, {report.requests} webhook requests, {report.passes} passes")
    click.echo("citizens: " + ", ".join(f"{k} {v}" for k, v in report.behaviours.most_common()))
    click.echo(
        "attempt outcomes: " + ", ".join(f"{k} {v}" for k, v in report.statuses.most_common())
    )
    click.echo(
        "dispositions: "
        + ", ".join(
            f"{k or 'not final yet'} {v}"
            for k, v in sorted(report.dispositions.items(), key=lambda kv: kv[0] or "")
        )
    )


@click.command()
def reap() -> None:
    """Close rounds past their calling period, settle calls whose status callbacks never
    arrived (asks the provider), requeue attempts never placed and return expired console
    leases to the queue."""
    from cati.jobs.reaping import close_rounds
    from cati.jobs.reaping import reap as reap_job

    runtime = get_runtime()
    try:
        provider = make_provider(runtime.settings)
    except SettingsError as exc:
        raise click.UsageError(str(exc)) from None
    closed = close_rounds(runtime)
    click.echo(f"{reap_job(runtime, provider)}, {closed} ended rounds closed")
