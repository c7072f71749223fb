"""A round dialled and completed end to end: Twilio's REST API mocked by `responses`, the
webhooks driven the way Twilio drives them (signed, repeated, out of order, silent, invalid
keys, dropped mid-call, resumed on the next call)."""

from __future__ import annotations

import dataclasses
import re
from datetime import timedelta
from urllib.parse import parse_qs

import responses
from sqlalchemy import select

from cati.jobs.dialing import dial_pass
from cati.models import Member
from cati.telephony.twilio import TwilioProvider
from tests.conftest import NOW
from tests.factories import create_member, create_round
from tests.web.test_ivr import Call

CALLS_URL = "https://api.twilio.com/2010-04-01/Accounts/AC123/Calls.json"
HANG_UP_URL = re.compile(r"https://api\.twilio\.com/2010-04-01/Accounts/AC123/Calls/CA\w+\.json")

# What each citizen does on each call they get, in order.
SCRIPTS = {
    "complete": [["1", "9", "8", "1", "2", "2", "9", "2"]],
    "fumbles": [["*", "1", "x", "7", None, "0", "5", None, None, "2", "2", "8", "2"]],
    "drops-then-resumes": [["1", "6", "6", "drop"], ["1", "2", "2", "7", "2"]],
    "busy-then-completes": [["busy"], ["1", "9", "9", "1", "2", "2", "9", "2"]],
    "refuses": [["2"]],
    "machine-then-not-eligible": [["machine"], ["3"]],
}
EXPECTED = {
    "complete": "1.1", "fumbles": "1.1", "drops-then-resumes": "1.1",
    "busy-then-completes": "1.1", "refuses": "2.11", "machine-then-not-eligible": "4.70",
}  # fmt: skip


@responses.activate
def test_a_round_is_dialled_and_completed(runtime, client, session):
    clock = {"now": NOW}
    runtime.clock = lambda: clock["now"]
    runtime.settings = dataclasses.replace(
        runtime.settings, telephony="twilio", twilio_account_sid="AC123",
        twilio_auth_token="secret", caller_id="+842333852123", max_cps=100.0,
    )  # fmt: skip
    round_ = create_round(session)
    people = {name: create_member(session, round_) for name in SCRIPTS}
    by_phone = {member.phone: name for name, member in people.items()}
    issued: list[tuple[dict, str]] = []  # (parameters sent, call id) of each call created

    def create_call(request):
        sid = f"CA{len(issued) + 1:032d}"
        issued.append(({k: v[0] for k, v in parse_qs(request.body).items()}, sid))
        return 201, {}, f'{{"sid": "{sid}", "status": "queued"}}'

    hang_ups = responses.add(responses.POST, HANG_UP_URL, json={"status": "completed"})
    responses.add_callback(responses.POST, CALLS_URL, callback=create_call)
    provider = TwilioProvider("AC123", "secret")
    calls_made = {name: 0 for name in SCRIPTS}
    for _ in range(6):
        before = len(issued)
        dial_pass(runtime, provider, round_.id, sleep=lambda _s: None)
        for sent, sid in issued[before:]:
            name = by_phone[sent["To"]]
            script = SCRIPTS[name][calls_made[name]]
            calls_made[name] += 1
            live(client, runtime.settings, sent, sid, script)
        clock["now"] += timedelta(hours=3)
        session.expire_all()
        if all(m.status == "final" for m in session.scalars(select(Member))):
            break
    session.expire_all()
    got = {name: session.get(Member, m.id).disposition for name, m in people.items()}
    assert got == EXPECTED
    assert calls_made == {name: len(script) for name, script in SCRIPTS.items()}
    assert hang_ups.call_count == 1  # the answering machine was hung up on, not surveyed


def live(client, settings, sent, sid, script) -> None:
    """One call as Twilio reports it: callbacks out of order and twice, then the keys."""
    attempt_id = int(parse_qs(sent["Url"].split("?", 1)[1])["attempt"][0])
    call = Call(client, settings, type("A", (), {"id": attempt_id, "provider_call_id": sid})())
    call.status("ringing", 2)
    call.status("initiated", 1)  # late
    if script[0] in ("busy", "machine"):
        if script[0] == "busy":
            call.status("busy", 3)
        else:
            call.status("in-progress", 3)
            call.answer()
            assert call.post("/ivr/amd", AnsweredBy="machine_start").status_code == 204
            call.status("completed", 4, CallDuration="6", AnsweredBy="machine_start")
        return
    call.status("in-progress", 3)
    call.answer()
    call.replay()  # Twilio fetched the first TwiML twice
    for key in script:
        if key == "drop":
            break
        twiml = call.silence() if key is None else call.press(key)
        if twiml.hangup:
            break
    call.status("completed", 4, CallDuration="80", AnsweredBy="human")
    call.status("completed", 4, CallDuration="80", AnsweredBy="human")  # delivered twice
