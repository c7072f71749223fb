"""The reaper settles calls whose status callbacks were lost."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from sqlalchemy import select

from cati.jobs.reaping import reap
from cati.models import Attempt, Member
from cati.telephony.base import CallState
from cati.telephony.simulated import SimulatedProvider
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
