"""The reaper settles calls whose status callbacks were lost."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import responses
from sqlalchemy import func, select

from cati.jobs.reaping import reap
from cati.models import Answer, Attempt, CallEvent, Member
from cati.telephony.base import CallState
from cati.telephony.simulated import SimulatedProvider
from cati.telephony.twilio import TwilioProvider
from tests.conftest import NOW
from tests.factories import create_attempt, create_member, create_round


def test_reaper_applies_the_providers_final_status_and_requeues_unplaced(runtime, session):
    round_ = create_round(session)
    members = [create_member(session, round_) for _ in range(4)]
    old = NOW - timedelta(minutes=30)
    busy = create_attempt(session, members[0], "SIM-busy", started_at=old)
    live = create_attempt(session, members[1], "SIM-live", started_at=old)
    recent = create_attempt(session, members[2], "SIM-recent", started_at=NOW)
    unplaced = create_attempt(session, members[3], None, started_at=old)
    for attempt in (busy, live, recent):
        attempt.status = "ringing"
    for member in members:
        member.status = "in_progress"
    session.flush()
    unplaced_id = unplaced.id
    provider = SimulatedProvider()
    provider.states["SIM-busy"] = CallState("SIM-busy", "busy", 0)
    provider.states["SIM-live"] = CallState("SIM-live", "in-progress")
    report = reap(runtime, provider)
    assert dataclasses.astuple(report) == (1, 1, 1, 0, 0)  # no round has ended yet
    session.expire_all()
    assert (session.get(Attempt, busy.id).status, session.get(Attempt, busy.id).outcome) == (
        "busy", "busy")  # fmt: skip
    assert session.get(Member, members[0].id).status == "pending"
    assert session.get(Attempt, live.id).status == "ringing"
    assert session.get(Attempt, recent.id).status == "ringing"  # not stuck yet
    assert session.scalar(select(Attempt).where(Attempt.id == unplaced_id)) is None
    requeued = session.get(Member, members[3].id)
    assert (requeued.status, requeued.attempt_count) == ("pending", 0)


def stuck(session, member, sid, status="queued", **values):
    """A call placed half an hour ago whose status callbacks never came."""
    attempt = create_attempt(session, member, sid, started_at=NOW - timedelta(minutes=30),
                             status=status, **values)  # fmt: skip
    member.status = "in_progress"
    session.flush()
    return attempt.id


def test_a_call_the_simulated_provider_never_had_costs_no_attempt(runtime, session):
    """`cati dial` with a simulated provider, then `cati reap` in another process: that
    provider never heard of the calls. Requeued, not failed: no attempt spent."""
    round_ = create_round(session)
    queued, ringing = create_member(session, round_), create_member(session, round_)
    ids = [stuck(session, queued, "SIM-gone-1"), stuck(session, ringing, "SIM-gone-2", "ringing")]
    session.add(CallEvent(attempt_id=ids[1], sequence=2, status="ringing", received_at=NOW))
    session.flush()
    report = reap(runtime, SimulatedProvider())  # knows no call
    assert (report.reconciled, report.released, report.errors) == (0, 2, 0)
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(Attempt)) == 0
    assert session.scalar(select(func.count()).select_from(CallEvent)) == 0
    for member in (queued, ringing):
        member = session.get(Member, member.id)
        assert (member.status, member.attempt_count, member.disposition) == ("pending", 0, None)
        assert member.next_call_at == NOW + timedelta(minutes=10)


@responses.activate
def test_a_call_twilio_does_not_know_costs_no_attempt(twilio_runtime, session):
    member = create_member(session)
    sid = "CA" + "0" * 32
    stuck(session, member, sid, "initiated")
    url = f"https://api.twilio.com/2010-04-01/Accounts/AC123/Calls/{sid}.json"
    responses.add(responses.GET, url, status=404,
                  json={"code": 20404, "message": "not found", "status": 404})  # fmt: skip
    report = reap(twilio_runtime, TwilioProvider("AC123", "secret"))
    assert (report.reconciled, report.released, report.errors) == (0, 1, 0)
    session.expire_all()
    member = session.get(Member, member.id)
    assert (member.status, member.attempt_count) == ("pending", 0)


def test_a_forgotten_call_that_was_answered_is_settled_with_its_answers(runtime, session):
    """Our webhooks saw the citizen answer: the call happened, and is over by now."""
    member = create_member(session)
    attempt_id = stuck(session, member, "SIM-answered", "in-progress", answered_by="human")
    session.add(Answer(member_id=member.id, question_id="consent", value="1",
                       attempt_id=attempt_id, answered_at=NOW))  # fmt: skip
    session.flush()
    report = reap(runtime, SimulatedProvider())
    assert (report.reconciled, report.released) == (1, 0)
    session.expire_all()
    attempt = session.get(Attempt, attempt_id)
    assert (attempt.status, attempt.outcome) == ("completed", "break_off")
    assert session.get(Member, member.id).attempt_count == 1
