"""`cati dial`: why nothing was placed, simulated citizens who answer, a missing questionnaire."""

from __future__ import annotations

import dataclasses
import json
from datetime import timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from cati.cli import main
from cati.db import make_engine, make_session_factory
from cati.domain.calling import parse_holidays
from cati.migrate import upgrade
from cati.models import Attempt, Member, Round
from cati.runtime import Runtime
from tests.conftest import NOW, fresh_database
from tests.factories import create_attempt, create_member, create_round, local


@pytest.fixture
def dial(twilio_runtime):
    """`cati dial …` against the test transaction; Twilio is the provider (nothing is due in
    these tests, so nothing is sent)."""

    def invoke(*args: str, runtime=twilio_runtime):
        return CliRunner().invoke(main, ["dial", *args], obj=runtime, catch_exceptions=False)

    return invoke


def at(runtime, moment, **settings):
    return dataclasses.replace(
        runtime,
        clock=lambda: moment,
        settings=dataclasses.replace(runtime.settings, **settings),
    )


def test_outside_calling_hours_it_says_when_the_next_window_opens(dial, twilio_runtime, session):
    round_ = create_round(session)
    create_member(session, round_)
    lunch = at(twilio_runtime, local(2026, 11, 24, 12, 0))
    result = dial("--round", str(round_.id), runtime=lunch)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == f"round {round_.id}: 0 calls placed, 0 invalid numbers, 0 deferred"
    assert lines[1].startswith("  - outside calling hours (08:00-11:30, 13:30-17:00 on ")
    assert lines[1].endswith("the next window opens Tue 24/11/2026 13:30 (local time)")
    assert len(lines) == 2
    data = json.loads(dial("--round", str(round_.id), "--json", runtime=lunch).stdout)
    assert (data["round"], data["placed"], data["invalid_numbers"], data["deferred"]) == (
        round_.id, 0, 0, 0)  # fmt: skip
    [reason] = data["reasons"]
    assert reason["code"] == "outside_hours"
    assert reason["next_window_at"] == "2026-11-24T13:30:00+07:00"


def test_a_holiday_and_nobody_due(dial, twilio_runtime, session):
    round_ = create_round(session)
    member = create_member(session, round_)
    member.next_call_at = local(2026, 11, 26, 14, 0)
    session.flush()
    policy = dataclasses.replace(
        twilio_runtime.settings.calling_policy, holidays=parse_holidays("2026-11-25")
    )
    holiday = at(twilio_runtime, local(2026, 11, 25, 9, 0), calling_policy=policy)
    data = json.loads(dial("--round", str(round_.id), "--json", runtime=holiday).stdout)
    assert [r["code"] for r in data["reasons"]] == ["holiday", "nobody_due"]
    assert data["reasons"][1]["next_due_at"] == "2026-11-26T14:00:00+07:00"


def test_a_round_past_its_calling_period(dial, twilio_runtime, session):
    round_ = create_round(session)
    create_member(session, round_)
    late = at(twilio_runtime, round_.calling_ends_at + timedelta(days=1))
    result = dial("--round", str(round_.id), runtime=late)
    assert "  - the round's calling period ended Mon 07/12/2026 00:00 (local time)" in (
        result.stdout.splitlines())  # fmt: skip


def test_the_concurrency_cap(dial, twilio_runtime, session):
    round_ = create_round(session)
    busy = create_member(session, round_)
    create_member(session, round_)
    create_attempt(session, busy, "CA-live", status="in-progress")
    busy.status = "in_progress"
    session.flush()
    capped = at(twilio_runtime, NOW, max_concurrent_calls=1)
    data = json.loads(dial("--round", str(round_.id), "--once", "--json", runtime=capped).stdout)
    assert [r["code"] for r in data["reasons"]] == ["at_capacity"]
    assert (data["reasons"][0]["live_calls"], data["reasons"][0]["limit"]) == (1, 1)


def test_a_round_whose_questionnaire_is_gone_fails_in_one_line(dial, session):
    round_ = create_round(session, flow="removed")
    create_member(session, round_)
    result = dial("--round", str(round_.id))
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith(f"error: round {round_.id}: no call placed, its questionnaire")
    assert "'removed'" in result.stderr
    assert session.scalar(select(func.count()).select_from(Attempt)) == 0


@pytest.mark.loopback
def test_simulated_calls_are_answered_through_the_webhooks(tmp_path, settings):
    """CATI_TELEPHONY=simulated: every call `cati dial` places is answered by a simulated
    citizen through the signed webhooks; no member is left in progress for the reaper."""
    with fresh_database(tmp_path) as url:
        upgrade(url)
        engine = make_engine(url)
        factory = make_session_factory(engine)
        with factory.begin() as session:
            round_ = create_round(session)
            for _ in range(4):
                create_member(session, round_)
            round_id = round_.id
        fast = dataclasses.replace(settings, telephony="simulated", max_cps=1000.0)
        runtime = Runtime(fast, factory, clock=lambda: NOW)
        result = CliRunner().invoke(main, ["dial", "--round", str(round_id), "--json"],
                                    obj=runtime, catch_exceptions=False)  # fmt: skip
        with factory() as session:
            members = session.scalars(select(Member).where(Member.round_id == round_id)).all()
            attempts = session.scalars(select(Attempt)).all()
            closed = session.get(Round, round_id).status
        engine.dispose()
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["placed"] == 4 and sum(data["simulated_citizens"].values()) == 4
    assert len(attempts) == 4 and all(a.outcome and a.status != "queued" for a in attempts)
    assert not [m for m in members if m.status == "in_progress"]
    assert closed == "open"
