"""The scheduler's jobs, run directly on a controlled clock: which week is due, sampling once,
dialing only in calling hours across midnight, a week boundary and a holiday."""

from __future__ import annotations

import dataclasses
from datetime import UTC, timedelta

import pytest
from sqlalchemy import func, select

from cati.domain.calling import parse_holidays
from cati.jobs import tasks
from cati.models import Attempt, Member, Round
from cati.services.dialer import schedule_next_call
from cati.telephony.simulated import SimulatedProvider
from tests.conftest import TZ
from tests.factories import create_attempt, create_case, create_member, create_round, local

CRON = "0 7 * * mon"


@pytest.mark.parametrize(
    ("moment", "week"),
    [
        (local(2026, 11, 23, 7, 0), "2026-W47"),  # the Monday firing itself
        (local(2026, 11, 23, 6, 59), "2026-W46"),  # not yet: last Monday's firing is the latest
        (local(2026, 11, 29, 23, 59), "2026-W47"),  # all week long the same week is due
        (local(2026, 11, 30, 0, 1), "2026-W47"),  # midnight into a new ISO week changes nothing
        (local(2026, 11, 30, 7, 0), "2026-W48"),
        (local(2027, 1, 4, 7, 30), "2026-W53"),  # 2026 has 53 ISO weeks
    ],
)
def test_the_week_due_is_the_one_before_the_latest_firing(moment, week):
    assert str(tasks.week_due(CRON, moment, TZ)) == week


def test_no_week_is_due_before_the_schedule_ever_fired():
    # A schedule firing only on 1 January has not fired in the last eight days in November.
    assert tasks.week_due("0 7 1 1 *", local(2026, 11, 23, 8), TZ) is None


@pytest.fixture
def week47_cases(session):
    for office in ("DH", "QT", "HL"):
        for _ in range(6):
            create_case(session, office_code=office)


def at(runtime, moment, **settings):
    """The runtime seen at `moment` (UTC), with some settings replaced."""
    return dataclasses.replace(
        runtime,
        clock=lambda: moment.astimezone(UTC),
        settings=dataclasses.replace(runtime.settings, **settings),
    )


def test_sampling_creates_last_weeks_round_of_each_flow_once(runtime, session, week47_cases):
    monday = at(runtime, local(2026, 11, 23, 7, 5), sampling_flows=("mscore", "sipas"))
    first = tasks.sample_due_week(monday)
    assert first.startswith("2026-W47: mscore round ")
    assert "sampled, 15 members" in first  # 20 % of 18, at least 5 per office
    again = tasks.sample_due_week(monday)
    assert again.count("already sampled") == 2
    rounds = session.scalars(select(Round).order_by(Round.flow)).all()
    assert [(r.week, r.flow, r.sampled) for r in rounds] == [
        ("2026-W47", "mscore", 15),
        ("2026-W47", "sipas", 3),  # the others were just sampled for mscore
    ]


def test_sampling_uses_the_configured_size_and_mode(runtime, session, week47_cases):
    monday = at(
        runtime,
        local(2026, 11, 23, 8),
        sampling_rate=None,
        sampling_size=6,
        sampling_min_per_office=1,
        sampling_mode="interviewer",
    )
    tasks.sample_due_week(monday)
    round_ = session.scalar(select(Round))
    assert (round_.sampled, round_.mode) == (6, "interviewer")


def _attempts(session) -> int:
    return session.scalar(select(func.count()).select_from(Attempt))


def test_dialing_runs_only_inside_calling_hours_across_midnight_and_a_holiday(runtime, session):
    round_ = create_round(session, "2026-W47")
    members = [create_member(session, round_) for _ in range(3)]
    provider = SimulatedProvider()
    holidays = parse_holidays("2026-11-24")  # Tuesday
    policy = dataclasses.replace(runtime.settings.calling_policy, holidays=holidays)

    def dial(moment):
        view = at(runtime, moment, calling_policy=policy, max_cps=1000.0)
        return tasks.dial_due(view, provider, lambda: False)

    # Sunday night, past midnight into Monday (a new ISO week), before the first window.
    for moment in (local(2026, 11, 29, 23, 59), local(2026, 11, 30, 0, 1)):
        assert dial(moment).startswith("outside calling hours (next from Mon 30/11 08:00)")
    # Monday 23 November is calling time, Tuesday a holiday, Wednesday calling time again.
    assert dial(local(2026, 11, 24, 9)).startswith("outside calling hours (next from Wed 25/11")
    assert _attempts(session) == 0
    assert (
        dial(local(2026, 11, 23, 9))
        == "1 rounds due: 3 calls placed, 0 invalid numbers, 0 deferred"
    )
    assert _attempts(session) == 3
    assert {p[1].to for p in provider.placed} == {m.phone for m in members}
    # The calls are live: a second pass the same minute places nothing more.
    assert dial(local(2026, 11, 23, 9)).startswith("0 rounds due")


def test_dialing_stops_between_calls_when_asked(runtime, session):
    round_ = create_round(session, "2026-W47")
    for _ in range(4):
        create_member(session, round_)
    provider = SimulatedProvider()
    asked = iter([False, False, True])
    view = at(runtime, local(2026, 11, 23, 9), max_cps=1000.0)
    tasks.dial_due(view, provider, lambda: next(asked, True))
    assert len(provider.placed) == 1


def test_closing_job_reports_the_rounds_it_closed(runtime, session):
    round_ = create_round(session, "2026-W40")
    create_member(session, round_)
    assert tasks.close_due_rounds(runtime) == "1 rounds closed"
    session.expire_all()
    assert session.get(Round, round_.id).status == "closed"
    assert session.scalar(select(Member.disposition)) == "3.11"
    assert tasks.close_due_rounds(runtime) == "0 rounds closed"


def test_a_round_past_its_calling_period_is_not_dialed(runtime, session):
    round_ = create_round(session, "2026-W40")
    create_member(session, round_)
    view = at(runtime, local(2026, 11, 23, 9) + timedelta(minutes=1))
    assert tasks.dial_due(view, SimulatedProvider(), lambda: False).startswith("0 rounds due")


def test_a_retry_due_after_hours_waits_over_midnight_a_holiday_and_a_week_boundary(
    runtime, session
):
    """No answer on Friday 16:50: Saturday is a holiday, Sunday no calling day, so the retry
    is placed on Monday morning, in the next ISO week, and not a minute before."""
    round_ = create_round(session, "2026-W47")
    member = create_member(session, round_)
    friday = local(2026, 11, 27, 16, 50)
    create_attempt(session, member, "CA-1", status="no-answer", outcome="no_answer",
                   started_at=friday, ended_at=friday)  # fmt: skip
    member.attempt_count = 1
    policy = dataclasses.replace(
        runtime.settings.calling_policy, holidays=parse_holidays("2026-11-28")
    )
    schedule_next_call(session, member, policy, friday)
    session.flush()
    assert member.next_call_at.astimezone(TZ) == local(2026, 11, 30, 8, 0)
    provider = SimulatedProvider()

    def dial(moment):
        view = at(runtime, moment, calling_policy=policy, max_cps=1000.0)
        return tasks.dial_due(view, provider, lambda: False)

    for moment in (
        local(2026, 11, 27, 23, 59),  # Friday night
        local(2026, 11, 28, 0, 0),  # midnight: the holiday begins
        local(2026, 11, 28, 9, 0),  # the holiday, in calling hours
        local(2026, 11, 29, 10, 0),  # Sunday
        local(2026, 11, 30, 0, 0),  # Monday 00:00, a new ISO week
        local(2026, 11, 30, 7, 59),
    ):
        assert dial(moment).startswith("outside calling hours"), moment
    assert dial(local(2026, 11, 30, 8, 0)).startswith("1 rounds due: 1 calls placed")
    assert [call.to for _sid, call in provider.placed] == [member.phone]


def test_the_calling_period_of_new_rounds_is_a_setting(runtime, session, week47_cases):
    """CATI_ROUND_CALLING_DAYS=7: the round of 2026-W47 (16-22/11), sampled on Monday 23/11
    at 07:05, is called until Monday 30/11 07:05 local time (seven days after it was sampled,
    later than after its week), then closed with final dispositions."""
    tasks.sample_due_week(at(runtime, local(2026, 11, 23, 7, 5), round_calling_days=7))
    round_ = session.scalar(select(Round))
    assert round_.calling_ends_at.astimezone(TZ) == local(2026, 11, 30, 7, 5)
    assert tasks.close_due_rounds(at(runtime, local(2026, 11, 30, 7, 4))) == "0 rounds closed"
    monday = at(runtime, local(2026, 11, 30, 9))  # calling hours, but the round has ended
    assert tasks.dial_due(monday, SimulatedProvider(), lambda: False).startswith("0 rounds due")
    assert tasks.close_due_rounds(at(runtime, local(2026, 11, 30, 7, 5))) == "1 rounds closed"


def test_sampling_made_up_late_calls_for_the_whole_calling_period(runtime, session, week47_cases):
    """The scheduler was down all week: the round sampled on Sunday evening is still called
    for CATI_ROUND_CALLING_DAYS from then, not just one week."""
    sunday = at(runtime, local(2026, 11, 29, 22, 0))
    assert "sampled, 15 members" in tasks.sample_due_week(sunday)
    round_ = session.scalar(select(Round))
    assert round_.calling_ends_at == local(2026, 12, 13, 22, 0)


def test_dialing_skips_a_round_whose_questionnaire_is_gone(runtime, session, caplog):
    """One warning line for that round, and the other rounds are dialed all the same."""
    gone = create_round(session, week="2026-W46", flow="removed")
    create_member(session, gone)
    kept = create_round(session)
    create_member(session, kept)
    provider = SimulatedProvider()
    view = at(runtime, local(2026, 11, 24, 9), max_cps=1000.0)
    result = tasks.dial_due(view, provider, lambda: False)
    assert result == (
        "2 rounds due: 1 calls placed, 0 invalid numbers, 0 deferred, "
        "1 skipped (questionnaire missing or invalid)"
    )
    assert result.params["skipped"] == 1
    [line] = [r for r in caplog.records if r.name == "cati.jobs.tasks"]
    assert line.levelname == "WARNING" and f"round {gone.id}: no call placed" in line.message
    assert line.exc_info is None
    assert [call.to for _, call in provider.placed] == [
        session.scalar(select(Member.phone).where(Member.round_id == kept.id))
    ]
