"""`POST /sms/inbound`: a signed reply `TC`, `TU CHOI` or `STOP` opts the sender's number out
and, where the flow's refusal opts out, makes its waiting member a refusal as declining on the
web page does; anything else is ignored; always an empty TwiML answer."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from cati.domain.calling import CallingPolicy
from cati.models import Answer, Attempt, Member, OptOut, Round
from cati.services.dialer import claim_next_member
from cati.services.web_links import hand_over_web_members
from cati.telephony.signatures import sign
from tests.conftest import NOW, TZ
from tests.factories import create_web_member
from tests.web.test_survey import post

EMPTY = '<?xml version="1.0" encoding="UTF-8"?><Response/>'


@pytest.fixture
def web(session, runtime):
    return create_web_member(session, runtime.settings.secret_key)


def reply(client, settings, body, sender, signature=None):
    params = {"MessageSid": "SM" + "1" * 32, "AccountSid": "AC1", "From": sender,
              "To": "SONOIVU", "Body": body}  # fmt: skip
    if signature is None:
        signature = sign(settings.webhook_token, settings.public_url + "/sms/inbound", params)
    return client.post("/sms/inbound", data=params, headers={"X-Twilio-Signature": signature})


def opted_out(session, phone):
    return session.scalar(select(OptOut).where(OptOut.phone == phone)) is not None


@pytest.mark.parametrize("body", ["TC", "tc.", " Từ chối ", "TU CHOI", "Stop!"])
def test_a_declining_reply_is_a_refusal_and_an_opt_out(client, runtime, session, web, body):
    member, _ = web
    response = reply(client, runtime.settings, body, member.phone)
    assert response.status_code == 200
    assert response.get_data(as_text=True) == EMPTY
    assert response.mimetype == "text/xml"
    assert "Set-Cookie" not in response.headers
    session.expire_all()
    assert opted_out(session, member.phone)
    member = session.get(Member, member.id)
    assert (member.status, member.disposition) == ("final", "2.11")
    attempt = session.scalar(select(Attempt).where(Attempt.member_id == member.id))
    assert (attempt.mode, attempt.outcome) == ("sms", "refused")
    answers = session.execute(
        select(Answer.question_id, Answer.value).where(Answer.member_id == member.id)
    ).all()
    assert answers == [("consent", "2")]  # as the web's "Tôi không muốn tham gia"


def test_the_same_as_declining_on_the_web(client, runtime, session):
    on_web, token = create_web_member(session, runtime.settings.secret_key)
    by_sms, _ = create_web_member(
        session, runtime.settings.secret_key, round_=session.get(Round, on_web.round_id)
    )
    assert post(client, token, "consent", "2").status_code == 303
    reply(client, runtime.settings, "TC", by_sms.phone)
    session.expire_all()
    for member in (on_web, by_sms):
        member = session.get(Member, member.id)
        assert (member.status, member.disposition) == ("final", "2.11")
        assert opted_out(session, member.phone)


def test_a_member_who_consented_is_only_opted_out_and_never_called(client, runtime, session, web):
    member, token = web
    assert post(client, token, "consent", "1").status_code == 303
    reply(client, runtime.settings, "STOP", member.phone)
    session.expire_all()
    assert opted_out(session, member.phone)
    assert session.get(Member, member.id).status == "pending"
    later = NOW + timedelta(days=4)
    assert hand_over_web_members(session, later, 3) == 1  # the phone's turn…
    assert claim_next_member(session, member.round_id, CallingPolicy(tz=TZ), later) is None


@pytest.mark.parametrize("body", ["OK", "", "TCC", "toi dong y", "tu choi tra loi sau"])
def test_anything_else_is_ignored(client, runtime, session, web, body):
    member, _ = web
    response = reply(client, runtime.settings, body, member.phone)
    assert (response.status_code, response.get_data(as_text=True)) == (200, EMPTY)
    session.expire_all()
    assert not opted_out(session, member.phone)
    assert session.get(Member, member.id).status == "pending"


def test_a_stranger_or_a_national_number_is_opted_out(client, runtime, session, web):
    member, _ = web
    national = "0" + member.phone[3:]
    assert reply(client, runtime.settings, "TC", national).status_code == 200
    assert reply(client, runtime.settings, "TC", "+84987654321").status_code == 200
    assert reply(client, runtime.settings, "TC", "not a number").status_code == 200
    session.expire_all()
    assert opted_out(session, member.phone) and opted_out(session, "+84987654321")
    assert session.get(Member, member.id).disposition == "2.11"


@pytest.mark.parametrize("signature", ["", "bad-signature"])
def test_a_bad_signature_is_refused_and_changes_nothing(client, runtime, session, web, signature):
    member, _ = web
    response = reply(client, runtime.settings, "TC", member.phone, signature=signature)
    assert response.status_code == 403
    session.expire_all()
    assert not opted_out(session, member.phone)
    assert session.get(Member, member.id).status == "pending"


def test_a_get_is_not_allowed(client):
    assert client.get("/sms/inbound").status_code == 405
