"""The console's use cases: claims and leases, the script through the flow engine, outcomes."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from cati.db import make_engine, make_session_factory
from cati.migrate import upgrade
from cati.models import Answer, Attempt, AuditEvent, Member
from cati.services.console import (
    LEASE,
    ConsoleError,
    claim_next_case,
    get_case,
    interviewer_stats,
    queue_counts,
    record_outcome,
    release_case,
    reveal_phone,
    save_answers,
)
from cati.services.flows import load_flows
from cati.services.users import LOGIN, record_audit
from tests.conftest import NOW, TZ, fresh_database
from tests.factories import create_member, create_round, create_user, local

COMPLETE = {
    "consent": "1", "staff_attitude": "9", "guidance_quality": "8", "on_time": "1",
    "asked_to_return": "2", "paid_without_receipt": "2", "overall": "9", "comment": "",
}  # fmt: skip


@pytest.fixture
def flows(settings):
    return load_flows(settings.flows_dir)


@pytest.fixture
def queue(session):
    round_ = create_round(session)
    round_.mode = "interviewer"
    return [create_member(session, round_) for _ in range(3)]


@pytest.fixture
def lan(session):
    return create_user(session, "lan")


def outcome(session, member, user, flows, settings, what, now=NOW, **kwargs):
    kwargs.setdefault("appointment_at", None)
    kwargs.setdefault("notes", None)
    return record_outcome(session, member.id, user.id, what, flows=flows, tz=TZ, now=now,
                          policy=settings.calling_policy, **kwargs)  # fmt: skip


def test_claim_gives_one_case_with_a_lease_and_counts_follow(session, queue, lan):
    assert queue_counts(session, lan.id, NOW, TZ) == {
        "due": 3, "appointments_today": 0, "in_progress": 0}  # fmt: skip
    member_id = claim_next_case(session, lan.id, NOW)
    assert member_id == queue[0].id
    member = session.get(Member, member_id)
    assert (member.status, member.claimed_by, member.lease_expires_at) == (
        "in_progress", lan.id, NOW + LEASE)  # fmt: skip
    assert claim_next_case(session, lan.id, NOW) == member_id  # finish yours first
    assert queue_counts(session, lan.id, NOW, TZ) == {
        "due": 2, "appointments_today": 0, "in_progress": 1}  # fmt: skip


def test_an_ivr_round_is_not_in_the_console_queue(session, lan):
    create_member(session)  # round mode ivr
    assert claim_next_case(session, lan.id, NOW) is None


def test_another_interviewers_case_is_invisible(session, queue, lan, flows):
    minh = create_user(session, "minh")
    member_id = claim_next_case(session, lan.id, NOW)
    with pytest.raises(ConsoleError):
        get_case(session, member_id, minh.id, flows, TZ, NOW)
    assert claim_next_case(session, minh.id, NOW) == queue[1].id


def test_an_abandoned_lease_returns_the_case(session, queue, lan, flows):
    minh = create_user(session, "minh")
    member_id = claim_next_case(session, lan.id, NOW)
    later = NOW + LEASE + timedelta(seconds=1)
    assert claim_next_case(session, minh.id, later) == member_id
    assert session.scalar(select(Attempt).where(Attempt.user_id == lan.id)) is None


def test_the_script_saves_answers_through_the_flow_engine(session, queue, lan, flows):
    member_id = claim_next_case(session, lan.id, NOW)
    assert save_answers(session, member_id, lan.id, {"consent": "1", "staff_attitude": "7"},
                        flows, TZ, NOW) == ["consent", "staff_attitude"]  # fmt: skip
    view = get_case(session, member_id, lan.id, flows, TZ, NOW)
    assert view.next_question == "guidance_quality"
    assert view.answers == {"consent": "1", "staff_attitude": "7"}
    for bad, message in [
        ({"guidance_quality": "x"}, "guidance_quality: 'x' is not an answer"),
        ({"nonsense": "1"}, "nonsense: no such question"),
        ({"on_time": "3", "guidance_quality": "5"}, "on_time: '3' is not an answer"),
    ]:
        with pytest.raises(ConsoleError, match=message):
            save_answers(session, member_id, lan.id, bad, flows, TZ, NOW)
    assert len(session.scalars(select(Answer)).all()) == 2  # nothing half-written


def test_complete_needs_the_end_and_closes_the_case(session, queue, lan, flows, settings):
    member_id = claim_next_case(session, lan.id, NOW)
    member = session.get(Member, member_id)
    save_answers(session, member_id, lan.id, {"consent": "1"}, flows, TZ, NOW)
    with pytest.raises(ConsoleError, match="not finished"):
        outcome(session, member, lan, flows, settings, "complete")
    save_answers(session, member_id, lan.id, COMPLETE, flows, TZ, NOW)
    assert outcome(session, member, lan, flows, settings, "complete",
                   now=NOW + timedelta(minutes=4)) == "complete"  # fmt: skip
    member = session.get(Member, member_id)
    assert (member.status, member.disposition, member.claimed_by) == ("final", "1.1", None)
    [stats] = interviewer_stats(session, TZ)
    assert (stats.username, stats.calls, stats.contacts, stats.completes) == ("lan", 1, 1, 1)
    # per hour signed in (not per hour on the phone: 1 complete in 4 minutes is not 15/h)
    assert stats.average_interview_s == 240 and stats.completes_per_hour is None
    record_audit(session, lan.id, LOGIN, now=NOW - timedelta(minutes=56))
    [stats] = interviewer_stats(session, TZ, now=NOW + timedelta(minutes=4))
    assert (stats.signed_in_s, stats.completes_per_hour) == (3600, 1.0)


def test_an_appointment_is_called_back_first(session, queue, lan, flows, settings):
    member_id = claim_next_case(session, lan.id, NOW)
    member = session.get(Member, member_id)
    at = local(2026, 11, 24, 14, 0)
    for bad in (local(2026, 11, 24, 12, 0), NOW - timedelta(hours=1), None):
        with pytest.raises(ConsoleError):
            outcome(session, member, lan, flows, settings, "appointment", appointment_at=bad)
    outcome(session, member, lan, flows, settings, "appointment", appointment_at=at,
            notes="gọi lại sau 14 giờ")  # fmt: skip
    member = session.get(Member, member_id)
    assert (member.status, member.next_call_at, member.notes) == (
        "pending",
        at,
        "gọi lại sau 14 giờ",
    )
    minh = create_user(session, "minh")
    assert claim_next_case(session, minh.id, at) == member_id  # ahead of the others


@pytest.mark.parametrize(
    ("what", "status", "disposition"),
    [("refused", "final", "2.11"), ("not_eligible", "final", "4.70"),
     ("no_answer", "pending", None), ("invalid_number", "final", "2.20"),
     ("interrupted", "pending", None)],
)  # fmt: skip
def test_outcomes_map_to_dispositions(session, queue, lan, flows, settings, what, status,
                                      disposition):  # fmt: skip
    member_id = claim_next_case(session, lan.id, NOW)
    member = session.get(Member, member_id)
    outcome(session, member, lan, flows, settings, what)
    member = session.get(Member, member_id)
    assert (member.status, member.disposition) == (status, disposition)


def test_showing_the_number_and_saving_are_audited(session, queue, lan, flows):
    member_id = claim_next_case(session, lan.id, NOW)
    assert reveal_phone(session, member_id, lan.id, NOW) == queue[0].phone
    save_answers(session, member_id, lan.id, {"consent": "1"}, flows, TZ, NOW)
    release_case(session, member_id, lan.id, NOW)
    actions = session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions[-3:] == ["show_number", "save_answers", "release_case"]
    assert session.get(Member, member_id).status == "pending"


def test_two_interviewers_clicking_at_once_get_different_cases(tmp_path):
    with fresh_database(tmp_path) as url:
        upgrade(url)
        engine = make_engine(url)
        factory = make_session_factory(engine)
        with factory.begin() as session:
            round_ = create_round(session)
            round_.mode = "interviewer"
            for _ in range(2):
                create_member(session, round_)
            users = [create_user(session, name).id for name in ("lan", "minh")]
        barrier = threading.Barrier(2)
        got = []

        def click(user_id):
            with factory() as session:
                barrier.wait()
                got.append(claim_next_case(session, user_id, NOW))
                session.commit()

        threads = [threading.Thread(target=click, args=(u,)) for u in users]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        engine.dispose()
    assert None not in got and len(set(got)) == 2
