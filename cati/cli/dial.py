"""`cati dial`: call the due members of a round."""

from __future__ import annotations

import time
from datetime import timedelta

import click
from sqlalchemy import func, select

from cati.cli.common import echo_json, get_runtime
from cati.config import SettingsError
from cati.domain.calling import idle_reasons
from cati.jobs.dialing import DialerError, RoundFlowError, check_round_flow, dial_pass
from cati.jobs.sms import send_invitations
from cati.models import Attempt, Member, Round
from cati.services.dialer import get_round_queue
from cati.telephony import make_provider


@click.command()
@click.option("--round", "round_id", required=True, type=int, help="The round to dial.")
@click.option("--once", is_flag=True, help="One pass: place every call due now, then exit.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as one JSON object.")
def dial(round_id: int, once: bool, as_json: bool) -> None:
    """Place the calls that are due, within calling hours and the provider's limits.

    Without --once the command keeps dialing (waiting while the concurrency limit is reached)
    until no member is due. When no call is placed, one line per reason says why: outside
    calling hours or a holiday (and when the next window opens), the round's calling period
    over, the concurrency limit, nobody due (and when the next member is).

    With CATI_TELEPHONY=simulated, simulated citizens answer each call through the real
    webhooks, served on loopback for the while (`cati simulate` plays a whole round out).
    For a web round with CATI_SMS=1, each member still on the web who has not had one gets
    the invitation SMS with their link first (in calling hours; `sms_sent` says how many).
    Exits 1 when the provider refuses the calls or the round's questionnaire is missing.
    """
    runtime = get_runtime()
    settings = runtime.settings
    with runtime.transaction() as session:
        round_ = session.get(Round, round_id)
        if round_ is None:
            raise click.BadParameter(f"no round with id {round_id}", param_hint="--round")
        web_round = round_.mode == "web"
    try:
        check_round_flow(runtime, round_id)
        provider = make_provider(settings)
    except RoundFlowError as exc:
        click.echo(f"error: {exc}", err=True)
        raise SystemExit(1) from None
    except SettingsError as exc:
        raise click.UsageError(str(exc)) from None
    answered = None
    # The invitation SMS first, with the runtime's own public URL (the simulated citizens
    # below are served on loopback: their links would be no use to a citizen).
    sms_sent = send_invitations(runtime, provider, round_id).sent
    messages = getattr(provider, "messages", None)  # the simulated provider keeps them
    example_sms = messages[-1].body if sms_sent and messages else None
    try:
        if settings.telephony == "simulated":
            from cati.simulator import answering_on_loopback

            with answering_on_loopback(runtime) as (dial_runtime, citizens):
                totals, at_capacity = _dial_round(dial_runtime, citizens, round_id, once)
            answered = dict(citizens.answered.most_common())
        else:
            totals, at_capacity = _dial_round(runtime, provider, round_id, once)
    except DialerError as exc:
        click.echo(f"error: the provider refuses our calls: {exc}", err=True)
        raise SystemExit(1) from None
    except RoundFlowError as exc:
        click.echo(f"error: {exc}", err=True)
        raise SystemExit(1) from None
    totals["sms_sent"] += sms_sent
    reasons = []
    if not totals["placed"] or at_capacity:
        with runtime.transaction() as session:
            now = runtime.clock()
            queue = get_round_queue(
                session,
                session.get(Round, round_id),
                settings.calling_policy,
                now,
                settings.max_concurrent_calls,
            )
        reasons = idle_reasons(settings.calling_policy, queue, now)
    if as_json:
        data = {"round": round_id, **totals, "reasons": [r.as_dict() for r in reasons]}
        if answered is not None:
            data["simulated_citizens"] = answered
        echo_json(data)
        return
    click.echo(
        f"round {round_id}: {totals['placed']} calls placed, "
        f"{totals['invalid_numbers']} invalid numbers, {totals['deferred']} deferred"
        + (f", {totals['sms_sent']} invitation SMS sent" if web_round else "")
    )
    if answered:
        click.echo(
            "simulated citizens answered through the webhooks: "
            + ", ".join(f"{k} {v}" for k, v in answered.items())
        )
    if example_sms:
        click.echo(f"simulated SMS, the last one sent: {example_sms}")
    for reason in reasons:
        click.echo(f"  - {reason.message}")


def _dial_round(runtime, provider, round_id: int, once: bool) -> tuple[dict[str, int], bool]:
    """Dialing passes until nothing is due (or one, with --once): the totals, and whether the
    last pass stopped at the concurrency limit."""
    totals = {"placed": 0, "invalid_numbers": 0, "deferred": 0, "sms_sent": 0}
    while True:
        report = dial_pass(runtime, provider, round_id)
        for key in totals:
            totals[key] += getattr(report, key)
        if once or not report.at_capacity:
            return totals, report.at_capacity
        time.sleep(1.0)


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
    try:
        check_round_flow(runtime, round_id)
    except RoundFlowError as exc:
        click.echo(f"error: {exc}", err=True)
        raise SystemExit(1) from None
    with runtime.transaction() as session:
        round_ = session.get(Round, round_id)
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
