"""The scheduler's jobs as plain functions: each runs its own short transactions, is safe to
run twice (or on two machines at once) and returns a one-line summary of what it did, as a
`JobResult` (English, with the figures to say it in Vietnamese)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from apscheduler.triggers.cron import CronTrigger
from sqlalchemy.exc import IntegrityError

from cati.domain.job_results import JobResult
from cati.domain.weeks import IsoWeek
from cati.jobs.dialing import RoundFlowError, dial_pass, hand_over_from_web
from cati.jobs.reaping import close_rounds, reap
from cati.jobs.sms import send_invitations
from cati.runtime import Runtime
from cati.services.dialer import list_rounds_to_dial
from cati.services.rounds import SamplingOptions, get_round, sample_round
from cati.telephony.base import Provider

log = logging.getLogger(__name__)


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


def sample_due_week(runtime: Runtime) -> JobResult:
    """Sample last week's round of every flow in CATI_SAMPLING_FLOWS (once per week and flow:
    a round that exists is left as it is)."""
    settings = runtime.settings
    week = week_due(settings.sampling_cron, runtime.clock(), settings.timezone)
    if week is None:
        return JobResult("nothing_due")
    done = []
    for flow in settings.sampling_flows:
        options = SamplingOptions(
            flow=flow,
            mode=settings.sampling_mode,
            then_mode=settings.web_then,
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
                    link_key=settings.resolve_secret_key()
                    if settings.sampling_mode == "web"
                    else None,
                )
                members = round_.sampled if created else None
                done.append({"flow": flow, "id": round_.id, "members": members})
        except IntegrityError:
            # Another scheduler sampled the same week and flow a moment ago.
            with runtime.transaction() as session:
                done.append(
                    {"flow": flow, "id": get_round(session, week, flow).id, "members": None}
                )
    return JobResult("sampled", week=str(week), rounds=done)


def dial_due(runtime: Runtime, provider: Provider, should_stop: Callable[[], bool]) -> JobResult:
    """Send the web rounds' invitation SMS due and place the due calls of every open round,
    inside calling hours only."""
    now = runtime.clock()
    policy = runtime.settings.calling_policy
    if not policy.is_callable_at(now):
        nxt = policy.next_window_start(now)
        return JobResult(
            "outside_hours", next_at=None if nxt is None else nxt.astimezone(policy.tz).isoformat()
        )
    hand_over_from_web(runtime)
    # Web rounds' invitation SMS (CATI_SMS=1) first: a round with only web members has no
    # call due, so it is not among the rounds dialed below.
    sms_sent = send_invitations(runtime, provider, should_stop=should_stop).sent
    with runtime.transaction() as session:
        round_ids = list_rounds_to_dial(session, now)
    totals = {"placed": 0, "invalid_numbers": 0, "deferred": 0}
    skipped = 0
    for round_id in round_ids:
        if should_stop():
            break
        try:
            report = dial_pass(runtime, provider, round_id, should_stop=should_stop)
        except RoundFlowError as exc:
            # One line, and the other rounds are dialed: a person restores the file.
            log.warning("dial: %s", exc, extra={"round_id": round_id})
            skipped += 1
            continue
        for key in totals:
            totals[key] += getattr(report, key)
        sms_sent += report.sms_sent
        if report.at_capacity:
            break
    extra = {"skipped": skipped} if skipped else {}
    if sms_sent:
        extra["sms_sent"] = sms_sent
    return JobResult("dialed", rounds=len(round_ids), **totals, **extra)


def reap_calls(runtime: Runtime, provider: Provider) -> JobResult:
    return reap(runtime, provider).result()


def close_due_rounds(runtime: Runtime) -> JobResult:
    return JobResult("closed", rounds=close_rounds(runtime))


def erase_expired_data(runtime: Runtime, provider: Provider) -> JobResult:
    from cati.jobs.retention import erase_personal_data

    return erase_personal_data(runtime, provider).result()


def mail_follow_up_digests(runtime: Runtime) -> JobResult:
    from cati.jobs.digest import send_digests

    return send_digests(runtime)
