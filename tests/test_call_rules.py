"""Rules that span the IVR, the dialer and the console (found in review, kept as tests)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from cati.jobs.reaping import close_rounds
from cati.models import Answer, Attempt, Member, OptOut, Round
from cati.services.console import claim_next_case, record_outcome, save_answers
from cati.services.dialer import claim_next_member, round_ends_at
from cati.services.flows import load_flows
from tests.conftest import NOW, TZ
from tests.factories import create_attempt, create_member, create_round, create_user, local
from tests.web.test_console_pages import post, signed_in
from tests.web.test_console_pages import web as web
from tests.web.test_ivr import Call, reload


def console_round(session, week="2026-W47"):
    round_ = create_round(session, week)
    round_.mode = "interviewer"
    return round_


def test_an_old_handover_does_not_override_the_spacing(client, settings, session):
    member = create_member(session)
    call = Call(client, settings, create_attempt(session, member))
    call.answer()
    call.press("9")  # asks for a person
    call.status("completed", 3, CallDuration="15", AnsweredBy="human")
    lan = create_user(session, "lan")
    later = NOW + timedelta(minutes=5)
    policy = settings.calling_policy
    assert claim_next_case(session, lan.id, later, policy) == member.id
    record_outcome(
        session,
        member.id,
        lan.id,
        "no_answer",
        appointment_at=None,
        notes=None,
        flows=load_flows(settings.flows_dir),
        policy=policy,
        tz=TZ,
        now=later,
    )
    assert reload(session, Member, member.id).next_call_at >= later + timedelta(hours=2)
    assert claim_next_case(session, lan.id, later + timedelta(minutes=1), policy) is None


def test_the_console_hands_out_nothing_outside_calling_hours(session, settings):
    create_member(session, console_round(session))
    lan = create_user(session, "lan")
    evening = local(2026, 11, 23, 20, 30)
    assert claim_next_case(session, lan.id, evening, settings.calling_policy) is None


def test_ended_rounds_do_not_block_the_console_queue(session):
    old = console_round(session, "2026-W40")
    for _ in range(20):
        create_member(session, old, returned_at=local(2026, 10, 1, 9))
    fresh = create_member(session, console_round(session))
    assert claim_next_case(session, create_user(session, "lan").id, NOW) == fresh.id


def test_an_opted_out_number_is_not_called_again(session, settings):
    member = create_member(session)
    session.add(OptOut(phone=member.phone, reason="asked on the hotline", created_at=NOW))
    session.flush()
    assert claim_next_member(session, member.round_id, settings.calling_policy, NOW) is None
    other = create_member(session, console_round(session, "2026-W46"), phone=member.phone)
    assert claim_next_case(session, create_user(session, "lan").id, NOW) != other.id


def test_declining_with_an_interviewer_opts_the_number_out(session, settings):
    member = create_member(session, console_round(session))
    lan = create_user(session, "lan")
    flows = load_flows(settings.flows_dir)
    claim_next_case(session, lan.id, NOW)
    save_answers(session, member.id, lan.id, {"consent": "2"}, flows, TZ, NOW)
    record_outcome(
        session,
        member.id,
        lan.id,
        "complete",
        appointment_at=None,
        notes=None,
        flows=flows,
        policy=settings.calling_policy,
        tz=TZ,
        now=NOW,
    )
    assert session.get(Member, member.id).disposition == "2.11"
    assert session.scalar(select(OptOut.id).where(OptOut.phone == member.phone)) is not None


def test_a_hang_up_while_recording_the_comment_is_still_a_complete(client, settings, session):
    member = create_member(session)
    call = Call(client, settings, create_attempt(session, member))
    call.answer()
    for key in ["1", "9", "8", "1", "2", "2", "9"]:
        call.press(key)
    twiml = call.press("1")
    assert twiml.record
    call.status("completed", 3, CallDuration="80", AnsweredBy="human")  # before the recording
    call.post(twiml.record, RecordingUrl="https://api.twilio.com/rec/RE1")
    attempt = reload(session, Attempt, call.attempt.id)
    member = session.get(Member, member.id)
    assert (attempt.outcome, member.status, member.disposition) == ("complete", "final", "1.1")


def test_answers_survive_a_refused_outcome(web, session):
    member = create_member(session, console_round(session))
    client = signed_in(web, session)
    url = post(client, "/console", "/console/next").headers["Location"]
    response = post(
        client,
        url,
        url + "/save",
        outcome="complete",
        **{"answer-consent": "1", "answer-staff_attitude": "7"},
    )
    assert response.status_code == 422  # not finished: the outcome is refused...
    session.expire_all()
    saved = dict(
        session.execute(
            select(Answer.question_id, Answer.value).where(Answer.member_id == member.id)
        ).all()
    )
    assert saved == {"consent": "1", "staff_attitude": "7"}  # ...the answers are kept


def test_a_lapsed_lease_nobody_took_still_saves(session, settings):
    member = create_member(session, console_round(session))
    lan = create_user(session, "lan")
    claim_next_case(session, lan.id, NOW)
    late = NOW + timedelta(minutes=21)
    assert save_answers(
        session, member.id, lan.id, {"consent": "1"}, load_flows(settings.flows_dir), TZ, late
    ) == ["consent"]


def test_a_status_callback_that_beats_the_dialer_is_kept(client, settings, session):
    member = create_member(session)
    attempt = create_attempt(session, member)  # the call id is not stored yet
    call = Call(client, settings, attempt)
    call.post(
        f"/ivr/status?attempt={attempt.id}",
        CallStatus="failed",
        SequenceNumber="1",
        SipResponseCode="404",
    )
    attempt = reload(session, Attempt, attempt.id)
    assert (attempt.status, attempt.outcome, attempt.provider_call_id) == (
        "failed",
        "invalid_number",
        call.sid,
    )


def test_a_late_machine_verdict_does_not_end_an_interview(client, settings, session):
    member = create_member(session)
    call = Call(client, settings, create_attempt(session, member))
    call.answer()
    call.press("1")
    call.press("9")
    assert call.post("/ivr/amd", AnsweredBy="machine_start").status_code == 204
    assert reload(session, Attempt, call.attempt.id).outcome is None  # still interviewing


def test_closing_an_ended_round_rolls_up_every_member(runtime, session):
    member = create_member(session)
    create_attempt(session, member, "CA-x", status="no-answer", outcome="no_answer", ended_at=NOW)
    never = create_member(session, session.get(Round, member.round_id))
    member.status, member.next_call_at = "pending", NOW + timedelta(hours=3)
    session.flush()
    after = round_ends_at(session.get(Round, member.round_id)) + timedelta(days=1)
    runtime.clock = lambda: after
    assert close_rounds(runtime) == 1
    session.expire_all()
    assert (session.get(Member, member.id).status, session.get(Member, member.id).disposition) == (
        "final",
        "2.20",
    )
    assert session.get(Member, never.id).disposition == "3.11"  # never called
    assert session.get(Round, member.round_id).status == "closed"
    assert session.get(Round, member.round_id).closed_at == after
