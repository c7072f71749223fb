"""The scheduler's jobs as plain functions: each runs its own short transactions, is safe to
run twice (or on two machines at once) and returns a one-line summary of what it did."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from apscheduler.triggers.cron import CronTrigger
from sqlalchemy.exc import IntegrityError

from cati.domain.weeks import IsoWeek
from cati.jobs.dialing import dial_pass
from cati.jobs.reaping import close_rounds, reap
from cati.runtime import Runtime
from cati.services.dialer import list_rounds_to_dial
from cati.services.rounds import SamplingOptions, get_round, sample_round
from cati.telephony.base import Provider


def week_due(cron: str, now: datetime, tz) -> IsoWeek | None:
    """The week the sampling schedule last asked for: the ISO week before the one of its
    latest firing at or before `now` (looking back eight days), or None if it never fired."""
    trigger = CronTrigger.from_crontab(cron, timezone=tz)
    fired = None
    moment = trigger.get_next_fire_time(None, now - timedelta(days=8))
    while moment is not None and moment <= now:
        fired = moment
        moment = trigger.get_next_fire_time(moment, moment + timedelta(seconds=1))
    if fired is None:
        return None
    return IsoWeek.containing(fired, tz).shifted(-1)


def sample_due_week(runtime: Runtime) -> str:
    """Sample last week's round of every flow in CATI_SAMPLING_FLOWS (once per week and flow:
    a round that exists is left as it is)."""
    settings = runtime.settings
    week = week_due(settings.sampling_cron, runtime.clock(), settings.timezone)
    if week is None:
        return "nothing due"
    done = []
    for flow in settings.sampling_flows:
        options = SamplingOptions(
            flow=flow,
            mode=settings.sampling_mode,
            rate=settings.sampling_rate,
            size=settings.sampling_size,
            min_per_office=settings.sampling_min_per_office,
            calling_days=settings.round_calling_days,
        )
        try:
            with runtime.transaction() as session:
                round_, created = sample_round(
                    session,
                    week,
                    options,
                    tz=settings.timezone,
                    resurvey_days=settings.resurvey_days,
                    now=runtime.clock(),
                    hash_key=settings.opt_out_key,
                )
                state = f"sampled, {round_.sampled} members" if created else "already sampled"
                done.append(f"{flow} round {round_.id} {state}")
        except IntegrityError:
            # Another scheduler sampled the same week and flow a moment ago.
            with runtime.transaction() as session:
                done.append(f"{flow} round {get_round(session, week, flow).id} already sampled")
    return f"{week}: " + "; ".join(done)


def dial_due(runtime: Runtime, provider: Provider, should_stop: Callable[[], bool]) -> str:
    """Place the due calls of every open round, inside calling hours only."""
    now = runtime.clock()
    policy = runtime.settings.calling_policy
    if not policy.is_callable_at(now):
        nxt = policy.next_window_start(now)
        when = "" if nxt is None else f" (next from {nxt.astimezone(policy.tz):%a %d/%m %H:%M})"
        return "outside calling hours" + when
    with runtime.transaction() as session:
        round_ids = list_rounds_to_dial(session, now)
    totals = {"placed": 0, "invalid_numbers": 0, "deferred": 0}
    for round_id in round_ids:
        if should_stop():
            break
        report = dial_pass(runtime, provider, round_id, should_stop=should_stop)
        for key in totals:
            totals[key] += getattr(report, key)
        if report.at_capacity:
            break
    return (
        f"{len(round_ids)} rounds due: {totals['placed']} calls placed, "
        f"{totals['invalid_numbers']} invalid numbers, {totals['deferred']} deferred"
    )


def reap_calls(runtime: Runtime, provider: Provider) -> str:
    return str(reap(runtime, provider))


def close_due_rounds(runtime: Runtime) -> str:
    return f"{close_rounds(runtime)} rounds closed"


def erase_expired_data(runtime: Runtime, provider: Provider) -> str:
    from cati.jobs.retention import erase_personal_data

    return str(erase_personal_data(runtime, provider))
