"""The IVR webhooks, driven the way Twilio drives them: signed, repeated, out of order, silent."""

from __future__ import annotations

import itertools
import logging
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import event, func, select

from cati.models import Answer, Attempt, CallEvent, Member, OptOut
from cati.telephony.signatures import sign
from tests.conftest import NOW
from tests.factories import create_attempt, create_member

_sids = itertools.count(1)


@dataclass
class Twiml:
    says: list[str]
    gather: str | None
    redirect: str | None
    record: str | None
    hangup: bool

    @classmethod
    def parse(cls, body: bytes) -> Twiml:
        root = ET.fromstring(body)
        gather = root.find("Gather")
        return cls(
            says=[e.text or "" for e in root.iter("Say")],
            gather=gather.get("action") if gather is not None else None,
            redirect=root.findtext("Redirect"),
            record=root.find("Record").get("action") if root.find("Record") is not None else None,
            hangup=root.find("Hangup") is not None,
        )


class Call:
    """One call of the citizen, as Twilio would report it to the webhooks."""

    def __init__(self, client, settings, attempt):
        self.client, self.settings, self.attempt = client, settings, attempt
        self.sid = attempt.provider_call_id or f"CA{next(_sids):032d}"
        self.twiml: Twiml | None = None
        self.last: tuple[str, dict] | None = None

    def post(self, url: str, **params: str):
        base = self.settings.public_url
        path = url[len(base) :] if url.startswith(base) else url
        params = {"CallSid": self.sid, "AccountSid": "AC1", "From": "+842333852123",
                  "To": "+84912000001", "Direction": "outbound-api", **params}  # fmt: skip
        signature = sign(self.settings.webhook_token, base + path, params)
        self.last = (path, params)
        return self.client.post(path, data=params, headers={"X-Twilio-Signature": signature})

    def answer(self) -> Twiml:
        return self._turn(
            self.post(f"/ivr/voice?attempt={self.attempt.id}", CallStatus="in-progress")
        )

    def press(self, digits: str) -> Twiml:
        return self._turn(self.post(self.twiml.gather, Digits=digits, CallStatus="in-progress"))

    def silence(self) -> Twiml:
        return self._turn(self.post(self.twiml.redirect, CallStatus="in-progress"))

    def replay(self):
        """Twilio delivering the last request again."""
        path, params = self.last
        signature = sign(self.settings.webhook_token, self.settings.public_url + path, params)
        return self._turn(self.client.post(path, data=params,
                                           headers={"X-Twilio-Signature": signature}))  # fmt: skip

    def status(self, status: str, sequence: int, **extra: str):
        return self.post("/ivr/status", CallStatus=status, SequenceNumber=str(sequence), **extra)

    def _turn(self, response) -> Twiml:
        assert response.status_code == 200, response.data
        assert response.mimetype == "text/xml"
        self.twiml = Twiml.parse(response.data)
        return self.twiml


def reload(session, model, ident):
    """The row as the webhooks left it (they commit through their own session)."""
    session.expire_all()
    return session.get(model, ident)


def answers(session, member) -> dict[str, str | None]:
    session.expire_all()
    return dict(session.execute(select(Answer.question_id, Answer.value)
                                .where(Answer.member_id == member.id)).all())  # fmt: skip


@pytest.fixture
def member(session):
    return create_member(session, procedure_name="Đăng ký khai sinh", office_code="QT-DONGHA")


@pytest.fixture
def call(client, settings, session, member):
    return Call(client, settings, create_attempt(session, member))


def test_a_complete_interview(call, session, member):
    twiml = call.answer()
    assert "Đăng ký khai sinh" in twiml.says[0] and "Sở Nội vụ" in twiml.says[0]
    assert twiml.gather == twiml.redirect and "q=consent" in twiml.gather
    for key in ["1", "9", "8", "1", "2", "2", "9"]:
        call.press(key)
    twiml = call.press("3")  # no voice comment
    assert twiml.hangup and "Cảm ơn" in twiml.says[-1]
    assert answers(session, member) == {
        "consent": "1", "staff_attitude": "9", "guidance_quality": "8", "on_time": "1",
        "asked_to_return": "2", "paid_without_receipt": "2", "overall": "9",
    }  # fmt: skip
    attempt = reload(session, Attempt, call.attempt.id)
    member = reload(session, Member, member.id)
    assert (attempt.outcome, member.status, member.disposition) == ("complete", "final", "1.1")
    assert call.status("completed", 5, CallDuration="95").status_code == 204
    attempt = reload(session, Attempt, call.attempt.id)
    assert (attempt.status, attempt.duration_s, attempt.outcome) == ("completed", 95, "complete")


def test_each_answer_is_saved_as_it_arrives_and_a_repeat_stores_it_once(call, session, member):
    call.answer()
    call.press("1")
    call.press("7")
    assert answers(session, member) == {"consent": "1", "staff_attitude": "7"}
    twiml = call.replay()  # Twilio retried the request for staff_attitude
    assert "q=guidance_quality" in twiml.gather
    assert answers(session, member) == {"consent": "1", "staff_attitude": "7"}


def test_a_key_costs_three_statements(call, connection):
    """The call with its member, round, case and saved answers in one query, the answer,
    where the interview now stands: the floor's three statements (issue 17); nothing is
    read twice (a regression once cost three queries more per key)."""
    call.answer()
    statements: list[str] = []

    def record(conn, cursor, statement, *args) -> None:
        verb = statement.split(None, 1)[0].upper()
        if verb not in ("SAVEPOINT", "RELEASE", "ROLLBACK"):  # the tests' own transactions
            statements.append(verb)

    event.listen(connection, "before_cursor_execute", record)
    try:
        call.press("1")
    finally:
        event.remove(connection, "before_cursor_execute", record)
    assert statements == ["SELECT", "INSERT", "UPDATE"]


@pytest.mark.parametrize(
    ("keys", "saved", "hint"),
    [
        (["5"], None, "Phím chưa đúng"),
        ([None], None, "chưa nhận được phím"),
        (["5", None, "x"], "no answer", None),
        (["#", "0"], "0", None),
    ],
    ids=["invalid-key", "silence", "three-tries-no-answer", "dont-know-after-invalid"],
)  # fmt: skip
def test_invalid_keys_and_silence_on_a_yes_no_question(call, session, member, keys, saved, hint):
    call.answer()
    for key in ["1", "9", "9"]:
        call.press(key)
    for key in keys:
        twiml = call.silence() if key is None else call.press(key)
    on_time = answers(session, member).get("on_time", "absent")
    if saved is None:
        assert on_time == "absent" and hint in twiml.says[0] and "q=on_time" in twiml.gather
    else:
        assert on_time == (None if saved == "no answer" else saved)
        assert "q=asked_to_return" in twiml.gather


def test_star_repeats_the_question(call):
    call.answer()
    twiml = call.press("*")
    assert "q=consent" in twiml.gather and "Xin chào" in twiml.says[0]


def test_refusal_ends_the_call_and_opts_the_number_out(call, session, member):
    call.answer()
    twiml = call.press("2")
    assert twiml.hangup
    assert reload(session, Attempt, call.attempt.id).outcome == "refused"
    member = reload(session, Member, member.id)
    assert (member.status, member.disposition) == ("final", "2.11")
    assert session.scalar(select(OptOut.phone)) == member.phone


def test_not_my_procedure_is_not_eligible(call, session, member):
    call.answer()
    assert call.press("3").hangup
    assert reload(session, Attempt, call.attempt.id).outcome == "not_eligible"
    assert reload(session, Member, member.id).disposition == "4.70"
    assert session.scalar(select(OptOut.phone)) is None


def test_silence_is_not_consent(call, session, member):
    call.answer()
    call.silence()
    call.silence()
    twiml = call.silence()
    assert twiml.hangup
    assert answers(session, member) == {"consent": None}
    assert reload(session, Attempt, call.attempt.id).outcome == "break_off"


def test_a_dropped_call_is_partial_and_the_next_call_resumes(client, settings, session, member):
    first = Call(client, settings, create_attempt(session, member))
    first.answer()
    for key in ["1", "9", "8", "1"]:
        first.press(key)
    first.status("completed", 4, CallDuration="50")
    assert reload(session, Attempt, first.attempt.id).outcome == "partial"  # 3 of 6 core answered
    assert reload(session, Member, member.id).status == "pending"
    second = Call(client, settings, create_attempt(session, member))
    twiml = second.answer()
    assert "quay lại" in twiml.says[0] and "q=asked_to_return" in twiml.gather
    for key in ["2", "2", "9", "3"]:
        second.press(key)
    assert reload(session, Attempt, second.attempt.id).outcome == "complete"
    assert len(answers(session, member)) == 7


def test_an_early_hang_up_is_a_break_off(call, session):
    call.answer()
    call.press("1")
    call.press("9")
    call.status("completed", 3, CallDuration="20")
    assert reload(session, Attempt, call.attempt.id).outcome == "break_off"


@pytest.mark.parametrize(
    ("params", "outcome"),
    [
        ({"CallStatus": "busy"}, "busy"),
        ({"CallStatus": "no-answer"}, "no_answer"),
        ({"CallStatus": "failed", "SipResponseCode": "404"}, "invalid_number"),
        ({"CallStatus": "failed", "SipResponseCode": "480"}, "unreachable"),
        ({"CallStatus": "completed", "AnsweredBy": "machine_end_beep"}, "machine"),
        ({"CallStatus": "completed", "AnsweredBy": "fax"}, "fax"),
    ],
    ids=["busy", "no-answer", "invalid-number", "unreachable", "machine", "fax"],
)
def test_call_statuses_become_outcomes(call, session, member, params, outcome):
    call.attempt.provider_call_id = call.sid
    session.flush()
    assert call.post("/ivr/status", SequenceNumber="2", **params).status_code == 204
    attempt = reload(session, Attempt, call.attempt.id)
    assert attempt.outcome == outcome
    # An invalid number can never be reached: final at once; the others may be retried.
    member = reload(session, Member, member.id)
    if outcome == "invalid_number":
        assert (member.status, member.disposition) == ("final", "2.20")
    else:  # tried again later, inside calling hours, at least two hours on
        assert (member.status, member.disposition) == ("pending", None)
        assert member.next_call_at >= NOW + timedelta(hours=2)


def test_status_callbacks_out_of_order_and_twice(call, session):
    call.answer()
    call.status("ringing", 1)
    call.status("completed", 3, CallDuration="12")
    call.status("in-progress", 2)  # late
    call.status("completed", 3, CallDuration="99")  # repeated delivery
    attempt = reload(session, Attempt, call.attempt.id)
    assert (attempt.status, attempt.duration_s) == ("completed", 12)
    assert session.scalar(select(CallEvent.id).where(CallEvent.sequence == 2)) is not None
    assert len(session.scalars(select(CallEvent)).all()) == 3


def test_bad_signature_is_refused_and_changes_nothing(client, session, call, member):
    response = client.post(
        f"/ivr/voice?attempt={call.attempt.id}",
        data={"CallSid": call.sid},
        headers={"X-Twilio-Signature": "bad"},
    )
    assert response.status_code == 403
    assert reload(session, Attempt, call.attempt.id).provider_call_id is None
    call.answer()
    call.press("1")
    path, params = call.last
    tampered = {**params, "Digits": "2"}  # signed for '1', sent with '2'
    signature = sign(call.settings.webhook_token, call.settings.public_url + path, params)
    response = client.post(path, data=tampered, headers={"X-Twilio-Signature": signature})
    assert response.status_code == 403
    assert answers(session, member) == {"consent": "1"}


def test_unknown_call_gets_a_polite_goodbye(call, session):
    call.attempt = type("Missing", (), {"id": 999999, "provider_call_id": None})()
    twiml = call.answer()
    assert twiml.hangup and "Xin lỗi" in twiml.says[0]
    assert call.status("completed", 1).status_code == 204  # unknown CallSid: nothing to do


def test_a_signed_url_cannot_be_reused_for_another_call(client, settings, session, member):
    attempt = create_attempt(session, member, call_sid="CA-original")
    intruder = Call(client, settings, attempt)
    intruder.sid = "CA-other"
    assert intruder.answer().hangup
    assert reload(session, Attempt, attempt.id).status == "queued"


def test_members_show_follows_the_interview(client, settings, session, member, cli):
    import json

    code = member.case.dossier_code
    first = Call(client, settings, create_attempt(session, member))
    first.answer()
    for key in ["1", "9", "0", "1", "5", "", ""]:  # asked_to_return: invalid, silence x2
        first.press(key) if key else first.silence()
    first.status("completed", 4, CallDuration="70", AnsweredBy="human")
    shown = json.loads(cli("members", "show", code, "--json").stdout)
    assert {k: shown[k] for k in ("dossier_code", "round_id", "status", "disposition")} == {
        "dossier_code": code, "round_id": member.round_id, "status": "pending",
        "disposition": None,
    }  # fmt: skip
    assert shown["answers"] == {
        "consent": "1", "staff_attitude": "9", "guidance_quality": "0", "on_time": "1",
    }  # fmt: skip
    [attempt] = shown["attempts"]
    assert attempt | {"started_at": None} == {
        "started_at": None, "mode": "ivr", "outcome": "partial",
        "provider_status": "completed", "answered_by": "human", "duration_s": 70,
    }  # fmt: skip
    assert shown["phone"].startswith("091") and "*" in shown["phone"]
    second = Call(client, settings, create_attempt(session, member))
    second.answer()
    for key in ["2", "8", "3"]:
        second.press(key)
    shown = json.loads(cli("members", "show", code, "--json").stdout)
    assert (shown["status"], shown["disposition"], len(shown["attempts"])) == ("final", "1.1", 2)
    assert "asked_to_return" not in shown["answers"] and shown["answers"]["overall"] == "8"
    text = cli("members", "show", code)
    assert text.exit_code == 0 and "1.1" in text.stdout and member.phone not in text.stdout
    missing = cli("members", "show", "NO-SUCH-DOSSIER")
    assert missing.exit_code == 2 and "NO-SUCH-DOSSIER" in missing.output


def test_hotline_resumes_the_callers_open_survey(client, settings, session, member):
    first = Call(client, settings, create_attempt(session, member))
    first.answer()
    for key in ["1", "9", "8", "1"]:
        first.press(key)
    first.status("completed", 4, CallDuration="40")
    hotline = Call(client, settings, type("Inbound", (), {"id": None, "provider_call_id": None})())
    response = hotline.post(
        "/ivr/inbound", From=member.phone.replace("+84", "0"), CallStatus="ringing"
    )
    twiml = hotline._turn(response)
    assert "quay lại" in twiml.says[0] and "q=asked_to_return" in twiml.gather
    for key in ["2", "2", "9", "3"]:
        hotline.press(key)
    shown = reload(session, Member, member.id)
    assert (shown.status, shown.disposition, shown.attempt_count) == ("final", "1.1", 2)
    inbound = session.scalar(select(Attempt).where(Attempt.provider_call_id == hotline.sid))
    assert inbound.outcome == "complete"


def test_hotline_takes_a_message_from_an_unknown_caller(client, settings, session):
    from cati.models import HotlineMessage

    caller = Call(client, settings, type("Inbound", (), {"id": None, "provider_call_id": None})())
    response = caller.post("/ivr/inbound", From="+84987654321", CallStatus="ringing")
    root = ET.fromstring(response.data)
    assert "chưa tìm thấy" in root.findtext("Say") and root.find("Record") is not None
    action = root.find("Record").get("action")
    for _ in range(2):  # delivered twice, stored once
        reply = caller.post(action, From="+84987654321", RecordingDuration="12",
                            RecordingUrl="https://api.twilio.com/rec/RE1")  # fmt: skip
        assert reply.status_code == 200
    session.expire_all()
    [message] = session.scalars(select(HotlineMessage)).all()
    assert (message.caller, message.duration_s) == ("+84987654321", 12)


def test_a_member_the_robot_never_reaches_goes_to_the_interviewers(
    client, settings, session, member
):
    from cati.services.console import claim_next_case
    from tests.factories import create_user

    for call_number in range(3):
        call = Call(client, settings, create_attempt(session, member, f"CA-miss-{call_number}"))
        call.status("no-answer", 2)
        assert reload(session, Member, member.id).mode == (
            "ivr" if call_number < 2 else "interviewer"
        )
    member = reload(session, Member, member.id)
    assert (member.status, member.mode) == ("pending", "interviewer")
    interviewer = create_user(session, "lan")
    assert claim_next_case(session, interviewer.id, member.next_call_at) == member.id


def test_asking_for_a_person_hands_the_member_to_the_interviewers(call, session, member):
    from cati.services.console import claim_next_case
    from tests.factories import create_user

    call.answer()
    assert call.press("9").hangup
    call.status("completed", 3, CallDuration="15", AnsweredBy="human")
    member = reload(session, Member, member.id)
    assert reload(session, Attempt, call.attempt.id).outcome == "appointment"
    assert (member.status, member.mode, member.disposition) == ("pending", "interviewer", None)
    assert claim_next_case(session, create_user(session, "lan").id, NOW) == member.id


# --- A replayed or late webhook never reopens a finished call or member ------------------------


def snapshot(session, member, attempt) -> dict:
    """Everything a webhook could change: the member, the attempt, the answers."""
    session.expire_all()
    m, a = session.get(Member, member.id), session.get(Attempt, attempt.id)
    rows = session.execute(
        select(Answer.question_id, Answer.value, Answer.attempt_id, Answer.recording_url)
        .where(Answer.member_id == member.id)
        .order_by(Answer.question_id)
    ).all()
    return {
        "member": (m.status, m.disposition, m.attempt_count, m.next_call_at, m.mode),
        "attempt": (a.status, a.outcome, a.question_id, a.tries, a.provider_call_id, a.ended_at),
        "answers": [tuple(row) for row in rows],
        "attempts": session.scalar(select(func.count()).select_from(Attempt)),
    }


def failed_invalid_number(call):
    call.status("failed", 2, SipResponseCode="404")  # final at once: 2.20


def no_answer(call):
    call.status("no-answer", 2)  # the member goes back to the queue, pending


def completed_interview(call):
    call.answer()
    for key in ["1", "9", "8", "1", "2", "2", "9", "3"]:
        call.press(key)
    call.status("completed", 5, CallDuration="95")


def dropped_partial(call):
    call.answer()
    for key in ["1", "9", "8", "1"]:
        call.press(key)
    call.status("completed", 4, CallDuration="50")  # partial: pending, to be called again


def refused_before_the_callback(call):
    call.answer()
    call.press("2")  # the member is final (2.11); the call's 'completed' is still on its way


ENDINGS = {
    "failed-404": (failed_invalid_number, ("final", "2.20")),
    "no-answer": (no_answer, ("pending", None)),
    "completed": (completed_interview, ("final", "1.1")),
    "partial": (dropped_partial, ("pending", None)),
    "refused-call-live": (refused_before_the_callback, ("final", "2.11")),
}
REPLAYS = {
    "voice": lambda a: (f"/ivr/voice?attempt={a}", {"CallStatus": "in-progress"}),
    "gather-consent": lambda a: (
        f"/ivr/gather?attempt={a}&q=consent&t=0",
        {"CallStatus": "in-progress", "Digits": "1"},
    ),
    "gather-next": lambda a: (
        f"/ivr/gather?attempt={a}&q=asked_to_return&t=0",
        {"CallStatus": "in-progress", "Digits": "1"},
    ),
    "gather-silence": lambda a: (
        f"/ivr/gather?attempt={a}&q=consent&t=0",
        {"CallStatus": "in-progress"},
    ),
    "recording": lambda a: (
        f"/ivr/recording?attempt={a}&q=comment",
        {"CallStatus": "completed", "RecordingUrl": "https://api.twilio.com/rec/RE-late"},
    ),
}


@pytest.mark.parametrize("replay", list(REPLAYS))
@pytest.mark.parametrize("ending", list(ENDINGS))
def test_a_webhook_after_the_end_changes_nothing(client, settings, session, member, ending, replay):
    end, (status, disposition) = ENDINGS[ending]
    call = Call(client, settings, create_attempt(session, member))
    call.attempt.provider_call_id = call.sid  # placed: the dialer recorded its call id
    session.flush()
    end(call)
    before = snapshot(session, member, call.attempt)
    assert before["member"][:2] == (status, disposition)
    path, params = REPLAYS[replay](call.attempt.id)
    for _ in range(2):  # replayed twice: still nothing
        twiml = call._turn(call.post(path, **params))
        assert twiml.hangup and twiml.gather is None and twiml.record is None
        assert "kết thúc" in twiml.says[0]
    assert snapshot(session, member, call.attempt) == before


def test_a_member_whose_ended_call_was_replayed_is_dialled_again(client, settings, session, member):
    """The replayed /ivr/voice used to leave the member in_progress, out of every queue."""
    from cati.services.dialer import claim_next_member

    call = Call(client, settings, create_attempt(session, member, call_sid="CA-noanswer"))
    call.status("no-answer", 2)
    call.post(f"/ivr/voice?attempt={call.attempt.id}", CallStatus="in-progress")
    member = reload(session, Member, member.id)
    assert member.status == "pending"
    claimed = claim_next_member(
        session, member.round_id, settings.calling_policy, member.next_call_at
    )
    assert claimed is not None and claimed.member_id == member.id


@pytest.mark.parametrize("live", ["queued", "ringing", "in-progress"])
def test_a_call_still_live_is_served(client, settings, session, member, live):
    call = Call(client, settings, create_attempt(session, member))
    if live != "queued":
        call.attempt.provider_call_id = call.sid
        session.flush()
        call.status(live, 1)
    twiml = call.answer()
    assert "q=consent" in twiml.gather
    call.press("1")
    assert answers(session, member) == {"consent": "1"}
    assert reload(session, Member, member.id).status == "in_progress"


def test_the_recording_of_a_call_hung_up_while_recording_is_kept(call, session, member):
    """The citizen hangs up instead of pressing '#': 'completed' comes before the recording."""
    call.answer()
    for key in ["1", "9", "8", "1", "2", "2", "9"]:
        call.press(key)
    twiml = call.press("1")  # leave a comment
    assert twiml.record and "q=comment" in twiml.record
    record = twiml.record
    call.status("completed", 5, CallDuration="120")
    assert reload(session, Member, member.id).disposition == "1.1"
    before = snapshot(session, member, call.attempt)
    url = "https://api.twilio.com/rec/RE1"
    assert call._turn(call.post(record, RecordingUrl=url, CallStatus="completed")).hangup
    after = snapshot(session, member, call.attempt)
    assert (after["member"], after["attempt"]) == (before["member"], before["attempt"])
    assert ("comment", "1", call.attempt.id, url) in after["answers"]
    # A replay with another URL (or after erasure) cannot replace or bring it back.
    call.post(record, RecordingUrl="https://api.twilio.com/rec/RE2", CallStatus="completed")
    assert snapshot(session, member, call.attempt) == after


def test_a_late_recording_is_not_kept_once_the_round_is_erased(call, session, member):
    from cati.models import Round

    call.answer()
    for key in ["1", "9", "8", "1", "2", "2", "9", "1"]:
        call.press(key)
    record = call.twiml.record
    call.status("completed", 5, CallDuration="120")
    round_ = session.get(Round, member.round_id)
    round_.erased_at = NOW
    session.flush()
    before = snapshot(session, member, call.attempt)
    assert call._turn(call.post(record, RecordingUrl="https://rec/RE1", CallStatus="completed"))
    assert snapshot(session, member, call.attempt) == before


# --- A round whose questionnaire has disappeared ------------------------------------------------


@pytest.mark.parametrize("replay", ["voice", "gather-consent", "recording"])
def test_a_round_whose_flow_is_gone_gets_a_goodbye_and_nothing_changes(
    client, settings, session, caplog, replay
):
    from tests.factories import create_round

    member = create_member(session, create_round(session, flow="gone"))
    call = Call(client, settings, create_attempt(session, member))
    before = snapshot(session, member, call.attempt)
    path, params = REPLAYS[replay](call.attempt.id)
    response = call.post(path, **params)
    twiml = call._turn(response)
    assert twiml.hangup and twiml.gather is None and "Xin lỗi" in twiml.says[0]
    assert snapshot(session, member, call.attempt) == before
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]


def test_a_call_answered_on_a_round_whose_flow_is_gone_ends_as_failed(
    client, settings, session, caplog
):
    from tests.factories import create_round

    member = create_member(session, create_round(session, flow="gone"))
    call = Call(client, settings, create_attempt(session, member, "CAGONE0001"))
    call.status("in-progress", 1, AnsweredBy="human")
    call.answer()  # the apology: nothing asked
    response = call.status("completed", 2, CallDuration="9", AnsweredBy="human")
    assert response.status_code in (200, 204)
    attempt = reload(session, Attempt, call.attempt.id)
    assert (attempt.status, attempt.outcome) == ("completed", "failed")
    member = reload(session, Member, member.id)
    assert member.status == "pending" and member.next_call_at is not None  # called again later
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]


def test_the_hotline_does_not_open_a_call_for_a_round_whose_flow_is_gone(
    client, settings, session, caplog
):
    from tests.factories import create_round

    member = create_member(session, create_round(session, flow="gone"))
    caller = Call(client, settings, type("Inbound", (), {"id": None, "provider_call_id": None})())
    response = caller.post("/ivr/inbound", From=member.phone, CallStatus="ringing")
    assert response.status_code == 200
    assert "chưa tìm thấy" in ET.fromstring(response.data).findtext("Say")
    assert reload(session, Member, member.id).attempt_count == 0
    assert session.scalar(select(func.count()).select_from(Attempt)) == 0
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]


# --- Oversize bodies ----------------------------------------------------------------------------

OVERSIZE = b"Digits=1&CallSid=" + b"x" * (32 * 1024 * 1024)


@pytest.mark.parametrize(
    "path",
    ["/ivr/voice?attempt=1", "/ivr/gather?attempt=1&q=consent&t=0", "/ivr/recording?attempt=1",
     "/ivr/status", "/ivr/inbound", "/ivr/hotline-message", "/ivr/amd"],
)  # fmt: skip
def test_an_oversize_body_is_413_without_a_traceback(app, path, caplog):
    app.config["PROPAGATE_EXCEPTIONS"] = False  # as in production: a fault would be a 500
    response = app.test_client().post(
        path,
        data=OVERSIZE,
        content_type="application/x-www-form-urlencoded",
        headers={"X-Twilio-Signature": "whatever"},
    )
    assert response.status_code == 413
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]


# --- The turn's cost: Core on the session's connection, no hooks made for people -------------


def test_a_turn_loads_no_orm_object_and_flushes_nothing(call, session, member):
    """Voice, gather and the statuses of a live call read and write plain rows
    (scripts/bench_ivr_cpu.py: the ORM's loads and flushes were most of a turn's CPU); only
    an ending goes through the ORM."""
    from sqlalchemy.orm import Session

    call.attempt.provider_call_id = call.sid  # placed: the dialer recorded its call id
    session.flush()

    orm: list[str] = []

    def on_execute(state):
        orm.append(str(state.statement)[:60])

    def on_flush(flushed, *_):
        orm.append(f"flush of {[type(o).__name__ for o in (*flushed.new, *flushed.dirty)]}")

    event.listen(Session, "do_orm_execute", on_execute)
    event.listen(Session, "before_flush", on_flush)
    try:
        assert call.status("ringing", 1).status_code == 204
        call.answer()
        assert call.status("in-progress", 2).status_code == 204
        call.press("1")  # consent
        call.press("9")  # a score that raises no follow-up
        call.press("*")  # the question again
    finally:
        event.remove(Session, "do_orm_execute", on_execute)
        event.remove(Session, "before_flush", on_flush)
    assert orm == []
    assert answers(session, member) == {"consent": "1", "staff_attitude": "9"}
    assert reload(session, Attempt, call.attempt.id).status == "in-progress"
    assert [e.status for e in session.scalars(select(CallEvent))] == ["ringing", "in-progress"]


def test_a_low_score_raises_its_follow_up_without_reading_the_office_again(call, connection):
    """The turn already read the member's office with the call: the follow-up is raised with
    it (insert, audit, reason) and the turn's own three statements."""
    call.answer()
    call.press("1")
    statements: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        if not statement.startswith(("BEGIN", "SAVEPOINT", "RELEASE")):
            statements.append(" ".join(statement.split()))

    event.listen(connection, "before_cursor_execute", record)
    try:
        call.press("2")  # staff attitude 2: a follow-up
    finally:
        event.remove(connection, "before_cursor_execute", record)
    assert not [s for s in statements if s.startswith("SELECT members.office_id")]
    assert [s for s in statements if s.startswith("SELECT")] == statements[:1]
    writes = [s.split()[2] if s.startswith("INSERT") else s.split()[1] for s in statements[1:]]
    assert writes == ["answers", "follow_ups", "follow_up_changes", "follow_up_reasons",
                      "attempts"]  # fmt: skip


def test_ivr_requests_skip_the_hooks_made_for_people(call, app):
    """No session cookie is read or set, and CSRF, the sign-in rate limiter, Flask-Login's
    cookie and the browsers' security headers do not run, on the provider's webhooks; they
    still run on the pages."""
    import cProfile
    import pstats

    def called(request) -> set[str]:
        profiler = cProfile.Profile()
        profiler.enable()
        response = request()
        profiler.disable()
        names = {name for (_file, _line, name) in pstats.Stats(profiler).stats}
        return response, names & {
            "csrf_protect", "_check_request_limit", "_update_remember_cookie",
            "security_headers", "get_signing_serializer", "__inject_headers",
        }  # fmt: skip

    response, hooks = called(
        lambda: call.post(f"/ivr/voice?attempt={call.attempt.id}", CallStatus="in-progress")
    )
    assert response.status_code == 200 and "Set-Cookie" not in response.headers
    assert hooks == set()
    page, hooks = called(lambda: app.test_client().get("/login"))
    assert page.status_code == 200 and "Content-Security-Policy" in page.headers
    assert {"csrf_protect", "_check_request_limit", "security_headers"} <= hooks
