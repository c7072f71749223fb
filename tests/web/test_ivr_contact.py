"""The contact question through the IVR webhooks: asked last when the answers raise a
follow-up, recorded on the follow-up, and a hang-up there leaves the interview complete."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from cati.models import Attempt, FollowUp, Member
from tests.factories import create_attempt
from tests.web.test_ivr import Call, answers, reload
from tests.web.test_ivr import call as call
from tests.web.test_ivr import member as member

LOW_SCORE = ["1", "9", "8", "1", "2", "2", "2"]  # overall 2: a low score


def follow_up(session, member):
    session.expire_all()
    return session.scalar(select(FollowUp).where(FollowUp.member_id == member.id))


@pytest.mark.parametrize(("key", "allowed"), [("1", True), ("2", False), ("", False)])
def test_a_member_with_a_reason_is_asked_last(call, session, member, key, allowed):
    call.answer()
    for pressed in LOW_SCORE:
        call.press(pressed)
    twiml = call.press("3")  # no voice comment
    assert not twiml.hangup and "q=contact_consent" in twiml.gather
    assert "Sở Nội vụ liên hệ lại" in twiml.says[-1]
    assert reload(session, Member, member.id).status == "in_progress"  # not final yet
    twiml = call.press(key) if key else call.silence()
    assert twiml.hangup and "Cảm ơn" in twiml.says[-1]
    assert answers(session, member)["contact_consent"] == ("1" if allowed else "2")
    assert follow_up(session, member).contact_allowed is allowed
    attempt = reload(session, Attempt, call.attempt.id)
    assert attempt.outcome == "complete"
    assert reload(session, Member, member.id).disposition == "1.1"


def test_a_hang_up_at_the_contact_question_leaves_a_complete(call, session, member):
    call.answer()
    for pressed in [*LOW_SCORE, "3"]:
        call.press(pressed)
    call.status("completed", 5, CallDuration="90")
    attempt = reload(session, Attempt, call.attempt.id)
    assert attempt.outcome == "complete"
    assert reload(session, Member, member.id).disposition == "1.1"
    assert "contact_consent" not in answers(session, member)
    assert follow_up(session, member).contact_allowed is None


def test_the_contact_question_follows_a_recorded_comment(call, session, member):
    call.answer()
    for pressed in ["1", "9", "8", "1", "2", "2", "9"]:
        call.press(pressed)
    twiml = call.press("1")  # leaves a comment: a reason
    twiml = call._turn(call.post(twiml.record, RecordingUrl="https://rec/1",
                                 CallStatus="in-progress"))  # fmt: skip
    assert "q=contact_consent" in twiml.gather
    assert not any("quay lại" in said for said in twiml.says)  # no "welcome back"
    call.press("1")
    assert follow_up(session, member).contact_allowed is True


def test_a_member_without_a_reason_is_not_asked(call, session, member):
    call.answer()
    for pressed in ["1", "9", "8", "1", "2", "2", "9"]:
        call.press(pressed)
    twiml = call.press("3")
    assert twiml.hangup
    assert "contact_consent" not in answers(session, member)


def test_a_replayed_contact_answer_changes_nothing(client, settings, session, member):
    call = Call(client, settings, create_attempt(session, member))
    call.answer()
    for pressed in [*LOW_SCORE, "3", "2"]:
        call.press(pressed)
    call.replay()  # Twilio delivering "2" again after the end
    assert follow_up(session, member).contact_allowed is False
    assert answers(session, member)["contact_consent"] == "2"
