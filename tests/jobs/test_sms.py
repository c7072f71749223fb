"""Web rounds' invitation SMS (CATI_SMS=1): one per member, inside calling hours, claimed and
committed before the provider is asked, given back when it fails for now, kept with why when it
refuses for good; sent by the dialing pass (`cati dial`) and the scheduler's dialing job."""

from __future__ import annotations

import dataclasses
import json
from datetime import timedelta
from urllib.parse import parse_qs

import pytest
import responses
from sqlalchemy import select

from cati.domain.web_links import derive_token
from cati.jobs.dialing import dial_pass
from cati.jobs.sms import send_invitations
from cati.jobs.tasks import dial_due
from cati.models import Member, OptOut, WebLink
from cati.telephony.base import ErrorKind, ProviderError
from cati.telephony.simulated import SimulatedProvider
from tests.conftest import NOW
from tests.factories import create_round, create_web_member

KEY = "test-secret-key-for-hashes"
MESSAGES_URL = "https://api.twilio.com/2010-04-01/Accounts/AC123/Messages.json"


def with_sms(runtime, **changes):
    changes = {"sms": True, "sms_sender": "SONOIVU", "hotline": "1900 1234", **changes}
    settings = dataclasses.replace(runtime.settings, **changes)
    return dataclasses.replace(runtime, settings=settings)


@pytest.fixture
def sms_runtime(runtime):
    return with_sms(runtime, public_url="https://ks.example.vn")


@pytest.fixture
def web_round(session):
    round_ = create_round(session)
    round_.mode, round_.then_mode = "web", "ivr"
    members = [create_web_member(session, KEY, round_) for _ in range(3)]
    return round_, members


def links(session):
    session.expire_all()
    return {link.member_id: link for link in session.scalars(select(WebLink))}


def test_each_web_member_gets_one_sms_with_their_link(sms_runtime, session, web_round):
    _, members = web_round
    provider = SimulatedProvider()
    assert send_invitations(sms_runtime, provider).sent == 3
    assert send_invitations(sms_runtime, provider).sent == 0  # at most once
    by_phone = {m.to: m for m in provider.messages}
    assert len(provider.messages) == 3 and len(by_phone) == 3
    for member, token in members:
        sms = by_phone[member.phone]
        assert sms.sender == "SONOIVU"
        assert f" https://ks.example.vn/s/{token} " in sms.body
        assert sms.body.startswith("So Noi vu ") and sms.body.endswith("1900 1234")
        assert len(sms.body) <= 160 and sms.body.isascii()
    assert {link.sms_sent_at for link in links(session).values()} == {NOW}


@pytest.mark.parametrize(
    "moment",
    [
        NOW.replace(hour=15),  # 22:00 in Vietnam
        NOW.replace(hour=0),  # 07:00 in Vietnam, before the calling hours
        NOW - timedelta(days=1),  # a Sunday
    ],
)
def test_no_sms_outside_calling_hours(sms_runtime, session, web_round, moment):
    outside = dataclasses.replace(sms_runtime, clock=lambda: moment)
    assert not outside.settings.calling_policy.is_callable_at(moment)
    provider = SimulatedProvider()
    assert send_invitations(outside, provider).sent == 0 and provider.messages == []
    assert {link.sms_sent_at for link in links(session).values()} == {None}


def test_no_sms_without_cati_sms(runtime, session, web_round):
    provider = SimulatedProvider()
    assert send_invitations(runtime, provider).sent == 0 and provider.messages == []


def test_only_members_still_waiting_on_the_web(sms_runtime, session, web_round):
    round_, members = web_round
    (done, _), (handed, _), (opted, _) = members
    done.status, done.disposition = "final", "1.1"
    handed.mode = "ivr"  # CATI_WEB_DAYS past: the phone has it
    session.add(OptOut(phone=opted.phone, reason="test", created_at=NOW))
    waiting, _ = create_web_member(session, KEY, round_)
    other_round = create_round(session, week="2026-W46")  # not a web round
    other_round.mode = "ivr"
    session.flush()
    provider = SimulatedProvider()
    assert send_invitations(sms_runtime, provider).sent == 1
    assert [m.to for m in provider.messages] == [waiting.phone]


class Refusing(SimulatedProvider):
    """Refuses some numbers, with a kind of error; checks the claim is committed first."""

    def __init__(self, runtime, refusals):
        super().__init__()
        self.runtime, self.refusals, self.seen_claimed = runtime, refusals, []

    def send_sms(self, to, body, sender):
        with self.runtime.transaction() as session:
            claimed = session.scalar(
                select(WebLink.sms_sent_at).join(Member).where(Member.phone == to)
            )
        self.seen_claimed.append(claimed)
        if to in self.refusals:
            raise ProviderError("no", self.refusals[to], 21614)
        return super().send_sms(to, body, sender)


def test_claimed_before_sending_given_back_on_a_temporary_failure(sms_runtime, session, web_round):
    _, [(first, _), (second, _), (third, _)] = web_round
    provider = Refusing(
        sms_runtime, {first.phone: ErrorKind.TEMPORARY, second.phone: ErrorKind.INVALID_NUMBER}
    )
    report = send_invitations(sms_runtime, provider)
    assert (report.sent, report.refused, report.deferred) == (1, 1, 1)
    assert provider.seen_claimed == [NOW, NOW, NOW]  # the intent was committed first
    state = links(session)
    assert state[first.id].sms_sent_at is None  # given back: tried again later
    assert (state[second.id].sms_sent_at, state[second.id].sms_error) == (
        NOW,
        "invalid_number 21614",
    )
    assert state[third.id].sms_sent_at == NOW and state[third.id].sms_error is None
    provider.refusals = {}
    again = send_invitations(sms_runtime, provider)
    assert (again.sent, again.refused) == (1, 0)  # the first only: the invalid one is not retried
    assert [m.to for m in provider.messages] == [third.phone, first.phone]


def test_a_fatal_refusal_gives_every_claim_back(sms_runtime, session, web_round):
    _, [(first, _), *_] = web_round
    provider = Refusing(sms_runtime, {first.phone: ErrorKind.FATAL})
    report = send_invitations(sms_runtime, provider)
    assert (report.sent, report.deferred) == (0, 3)
    assert {link.sms_sent_at for link in links(session).values()} == {None}


def test_a_text_that_cannot_fit_is_not_sent(sms_runtime, session, web_round):
    too_long = with_sms(sms_runtime, public_url="https://" + "k" * 140 + ".vn")
    provider = SimulatedProvider()
    report = send_invitations(too_long, provider)
    assert (report.sent, report.deferred) == (0, 3) and provider.messages == []
    assert {link.sms_sent_at for link in links(session).values()} == {None}


def test_no_sms_without_a_hotline_to_name(sms_runtime, session, web_round):
    without = with_sms(sms_runtime, hotline=None, caller_id=None)
    provider = SimulatedProvider()
    assert send_invitations(without, provider).deferred == 3 and provider.messages == []
    assert {link.sms_sent_at for link in links(session).values()} == {None}


def test_another_key_sends_no_dead_link(sms_runtime, session, web_round):
    other = with_sms(sms_runtime, secret_key="another-key-of-16-chars")
    provider = SimulatedProvider()
    assert send_invitations(other, provider).sent == 0 and provider.messages == []
    assert {link.sms_sent_at for link in links(session).values()} == {None}


def test_the_dialing_pass_sends_a_web_rounds_sms(sms_runtime, session, web_round):
    round_, _ = web_round
    provider = SimulatedProvider()
    report = dial_pass(sms_runtime, provider, round_.id, sleep=lambda s: None)
    assert (report.sms_sent, report.placed) == (3, 0)
    assert dial_pass(sms_runtime, provider, round_.id, sleep=lambda s: None).sms_sent == 0


@responses.activate
def test_the_scheduler_sends_them_through_twilio(twilio_runtime, session, web_round):
    _, members = web_round
    runtime = with_sms(twilio_runtime)
    for i in range(3):
        responses.add(
            responses.POST,
            MESSAGES_URL,
            status=201,
            json={"sid": f"SM{i:032d}", "status": "queued"},
        )
    from cati.telephony import make_provider

    result = dial_due(runtime, make_provider(runtime.settings), lambda: False)
    assert result.params["sms_sent"] == 3 and "3 invitation SMS sent" in result
    sent = [parse_qs(call.request.body) for call in responses.calls]
    assert {s["To"][0] for s in sent} == {m.phone for m, _ in members}
    assert {s["From"][0] for s in sent} == {"SONOIVU"}
    tokens = {derive_token(KEY, m.id, links(session)[m.id].nonce) for m, _ in members}
    assert {s["Body"][0].split(" https://cati.example.vn/s/")[1][:23] for s in sent} == tokens
    assert (
        dial_due(runtime, make_provider(runtime.settings), lambda: False).params.get("sms_sent")
        is None
    )


def test_cati_dial_says_how_many_sms(sms_runtime, session, web_round, monkeypatch):
    from click.testing import CliRunner

    from cati.cli import main

    round_, _ = web_round
    runner = CliRunner()
    result = runner.invoke(
        main, ["dial", "--round", str(round_.id), "--once", "--json"], obj=sms_runtime
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["sms_sent"] == 3
    result = runner.invoke(main, ["dial", "--round", str(round_.id), "--once"], obj=sms_runtime)
    assert ", 0 invitation SMS sent" in result.output


def test_cati_dial_simulated_shows_an_sms_with_the_public_link(sms_runtime, session, web_round):
    from click.testing import CliRunner

    from cati.cli import main

    round_, _ = web_round
    result = CliRunner().invoke(
        main, ["dial", "--round", str(round_.id), "--once"], obj=sms_runtime
    )
    assert result.exit_code == 0, result.output
    assert ", 3 invitation SMS sent" in result.output
    line = next(x for x in result.output.splitlines() if x.startswith("simulated SMS"))
    assert " https://ks.example.vn/s/" in line  # not the loopback server's address
