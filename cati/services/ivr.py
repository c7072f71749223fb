"""The IVR interview: one call's turns, each answer saved as it arrives, and status callbacks.

The webhooks call these use cases with what the provider sent; the flow engine decides what to
say next. Every turn rebuilds the interview from the database (saved answers, the question
being asked and its tries), so any web worker can serve any request and a repeated delivery
finds the work already done.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, load_only

from cati.domain.calling import CallingPolicy
from cati.domain.dispositions import AttemptOutcome
from cati.domain.flow import (
    Answered,
    Event,
    Finished,
    Flow,
    FlowRun,
    NoAnswer,
    classify_interview,
)
from cati.models import (
    Answer,
    Attempt,
    CallEvent,
    Case,
    HotlineMessage,
    Member,
    MemberStatus,
    Round,
    RoundStatus,
)
from cati.phone import normalize_phone
from cati.services.dialer import round_ends_at, schedule_next_call
from cati.services.follow_ups import raise_for_answer, raise_for_hotline_message
from cati.services.interviews import finish_interview as _finish
from cati.services.interviews import record_opt_out_choice  # noqa: F401 - the console imports it here

FINAL_STATUSES = frozenset({"completed", "busy", "failed", "no-answer", "canceled"})
_STATUS_ORDER = {"queued": 0, "initiated": 1, "ringing": 2, "in-progress": 3, "answered": 3}
MACHINE = ("machine_start", "machine_end_beep", "machine_end_silence", "machine_end_other")

log = logging.getLogger(__name__)


# The webhooks' statements, built once: building a statement and its cache key again at
# every request cost more CPU than running it (scripts/bench_ivr_cpu.py).
_CALL = (
    select(Attempt, Member, Round, Case)
    .join(Member, Member.id == Attempt.member_id)
    .join(Round, Round.id == Member.round_id)
    .join(Case, Case.id == Member.case_id)
    .where(Attempt.id == bindparam("attempt_id"))
    .options(
        load_only(Round.flow, Round.status, Round.calling_ends_at),
        load_only(Case.office_id, Case.procedure_code, Case.procedure_name, Case.returned_at),
    )
)
_ANSWERS = select(Answer.question_id, Answer.value).where(
    Answer.member_id == bindparam("member_id")
)
_BY_CALL_ID = select(Attempt).where(Attempt.provider_call_id == bindparam("call_sid"))


@dataclass
class _Call:
    """An attempt with its member, round and case, loaded together. Holding them here also
    keeps them in the session's identity map (which holds objects weakly), so that later
    lookups by primary key cost no query."""

    attempt: Attempt
    member: Member
    round: Round
    case: Case


@dataclass
class Turn:
    """What to play next, and where the interview stands (for the action URLs)."""

    events: list[Event]
    attempt: Attempt | None
    language: str = "vi"
    question_id: str | None = None
    tries: int = 0
    # Why a known call was refused, changing nothing (see `_refusal`); None when served.
    refused: str | None = None


CALL_ENDED = "call ended"
MEMBER_FINAL = "member final"
UNKNOWN_FLOW = "unknown questionnaire"


def _refusal(call: _Call, flows: Mapping[str, Flow]) -> str | None:
    """Why this call must not be served, or None.

    Twilio's signatures carry no timestamp, so a request for a call that has ended (a final
    status) or for a member already final is a replay or a late delivery: serving it would
    reopen the member and store answers on a dead call. A `/ivr/voice` while the attempt is
    still queued, ringing or in progress is the normal case and is served. A round whose
    questionnaire has gone from the flows folder cannot be served either.
    """
    if call.attempt.status in FINAL_STATUSES:
        return CALL_ENDED
    if call.member.status == MemberStatus.FINAL or call.member.disposition is not None:
        return MEMBER_FINAL
    if call.round.flow not in flows:
        return UNKNOWN_FLOW
    return None


def start_turn(
    session: Session,
    flows: Mapping[str, Flow],
    attempt_id: int,
    call_sid: str,
    *,
    tz,
    now: datetime,
) -> Turn:
    """The call was answered: greet (or welcome back) and ask the first open question."""
    call = _attempt_for(session, attempt_id, call_sid)
    if call is None:
        return Turn([], None)
    if refused := _refusal(call, flows):
        return Turn([], None, refused=refused)
    run, member, saved = _run(session, flows, call, tz)
    attempt = call.attempt
    attempt.provider_call_id = call_sid
    if attempt.status not in FINAL_STATUSES:
        attempt.status = "in-progress"
    member.status = MemberStatus.IN_PROGRESS if run.outcome is None else member.status
    return _record(session, attempt, member, run, saved, run.start(), now)


def key_turn(
    session: Session,
    flows: Mapping[str, Flow],
    attempt_id: int,
    call_sid: str,
    question_id: str,
    tries: int,
    digits: str | None,
    *,
    tz,
    now: datetime,
) -> Turn:
    """A key (or silence) for `question_id` asked for the `tries`-th time.

    A request for another question or try than the one being asked is a repeated delivery or
    a late one: it changes nothing and the current question is asked again. One for a call
    that has ended or a member already final changes nothing either (see `_refusal`).
    """
    call = _attempt_for(session, attempt_id, call_sid)
    if call is None:
        return Turn([], None)
    if refused := _refusal(call, flows):
        return Turn([], None, refused=refused)
    attempt = call.attempt
    run, member, saved = _run(session, flows, call, tz)
    if run.current is None:
        return _record(session, attempt, member, run, saved, run.start(), now)
    if run.current.id != question_id or attempt.tries != tries:
        return _record(session, attempt, member, run, saved, run.press("*"), now)
    return _record(session, attempt, member, run, saved, run.press(digits), now)


def recording_turn(
    session: Session,
    flows: Mapping[str, Flow],
    attempt_id: int,
    call_sid: str,
    question_id: str,
    recording_url: str | None,
    *,
    tz,
    now: datetime,
) -> Turn:
    """A voice comment has been recorded: keep its URL and close the interview.

    A citizen often hangs up instead of pressing '#': the call then ends (and the member is
    closed by the status callback) before this request arrives. Such a late request is
    refused like any other, but the recording it brings is still kept on the answer this
    same call saved, when that answer has none yet and the round's personal data has not
    been erased (a replay brings the same URL, so it cannot change one already kept).
    """
    call = _attempt_for(session, attempt_id, call_sid)
    if call is None:
        return Turn([], None)
    attempt = call.attempt
    refused = _refusal(call, flows)
    answer = session.scalar(
        select(Answer).where(
            Answer.member_id == attempt.member_id, Answer.question_id == question_id
        )
    )
    late_but_ours = answer is not None and (
        answer.attempt_id == attempt.id and call.round.erased_at is None
    )
    if (
        answer is not None
        and recording_url
        and not answer.recording_url
        and (refused is None or late_but_ours)
    ):
        answer.recording_url = recording_url
    if refused:
        session.flush()
        return Turn([], None, refused=refused)
    run, member, saved = _run(session, flows, call, tz)
    return _record(session, attempt, member, run, saved, run.start(), now)


def apply_call_status(
    session: Session,
    flows: Mapping[str, Flow],
    params: Mapping[str, str],
    *,
    policy: CallingPolicy,
    now: datetime,
    ivr_attempts: int | None = None,
    attempt_id: int | None = None,
) -> bool:
    """Apply one status callback; return False when it changed nothing (unknown or repeated).

    1. The callback is stored once per (call, SequenceNumber); a repeat is ignored.
    2. A status never moves backwards, and nothing overwrites a final status.
    3. On the final status the attempt gets its outcome: the interview's own ending if it
       reached one, else what the call status says (busy, no answer, machine, …); then the
       member is given its next call, or closed with its disposition.
    """
    call_sid = params.get("CallSid", "")
    attempt = session.scalar(_BY_CALL_ID, {"call_sid": call_sid})
    if attempt is None and attempt_id is not None and call_sid:
        # The callback can beat the dialer's commit of the call id: bind it by the attempt
        # named in the (signed) callback URL.
        call = _attempt_for(session, attempt_id, call_sid)
        attempt = call.attempt if call is not None else None
        if attempt is not None:
            attempt.provider_call_id = call_sid
    if attempt is None:
        return False
    status = params.get("CallStatus", "")
    sequence = _int(params.get("SequenceNumber"))
    if sequence is not None:
        dialect = session.get_bind().dialect.name
        insert_ = postgresql_insert if dialect == "postgresql" else sqlite_insert
        stored = session.execute(
            insert_(CallEvent)
            .values(attempt_id=attempt.id, sequence=sequence, status=status, received_at=now)
            .on_conflict_do_nothing(index_elements=["attempt_id", "sequence"])
        ).rowcount
        if not stored:
            return False  # delivered before
    if attempt.status in FINAL_STATUSES:
        return False
    if status not in FINAL_STATUSES:
        if _STATUS_ORDER.get(status, -1) > _STATUS_ORDER.get(attempt.status, -1):
            attempt.status = status
        return True
    attempt.status = status
    attempt.ended_at = now
    attempt.duration_s = _int(params.get("CallDuration"))
    attempt.sip_response_code = _int(params.get("SipResponseCode"))
    attempt.answered_by = params.get("AnsweredBy") or attempt.answered_by
    member = session.get(Member, attempt.member_id)
    if attempt.outcome is None:
        attempt.outcome = _call_outcome(session, flows, attempt, member)
    attempt.question_id = None
    if member.status != MemberStatus.FINAL:
        schedule_next_call(session, member, policy, now, ivr_attempts=ivr_attempts)
    return True


def apply_machine_detection(session: Session, params: Mapping[str, str]) -> bool:
    """Answering-machine detection finished; return True when a machine answered, so that
    the caller hangs up: the survey is never played to a machine (the call is retried later)."""
    attempt = session.scalar(
        select(Attempt).where(Attempt.provider_call_id == params.get("CallSid", ""))
    )
    answered_by = params.get("AnsweredBy", "")
    if attempt is None or not answered_by:
        return False
    answered = session.scalar(select(Answer.id).where(Answer.attempt_id == attempt.id).limit(1))
    if answered is not None:
        return False  # a person is already answering: a late "machine" verdict is wrong
    attempt.answered_by = answered_by
    if answered_by in MACHINE or answered_by == "fax":
        if attempt.outcome is None:
            attempt.outcome = AttemptOutcome.FAX if answered_by == "fax" else AttemptOutcome.MACHINE
        return True
    return False


def _call_outcome(
    session: Session, flows: Mapping[str, Flow], attempt: Attempt, member: Member
) -> AttemptOutcome:
    status = attempt.status
    if status == "busy":
        return AttemptOutcome.BUSY
    if status in ("no-answer", "canceled"):
        return AttemptOutcome.NO_ANSWER
    if status == "failed":
        code = attempt.sip_response_code
        if code in (404, 484, 604):
            return AttemptOutcome.INVALID_NUMBER
        return AttemptOutcome.UNREACHABLE if code in (408, 480, 503) else AttemptOutcome.FAILED
    if attempt.answered_by in MACHINE:
        return AttemptOutcome.MACHINE
    if attempt.answered_by == "fax":
        return AttemptOutcome.FAX
    # A person answered. The questionnaire may have reached its end (a hang-up while the
    # comment was being recorded, its callback still on the way) or not.
    flow = flows.get(session.get(Round, member.round_id).flow)
    if flow is None:
        # The round's questionnaire has gone: the citizen heard an apology and nothing was
        # asked, a failure on our side that leaves the member to be called again.
        log.warning("attempt %s: its round's flow is gone; outcome failed", attempt.id)
        return AttemptOutcome.FAILED
    saved = _answers(session, member.id)
    answers = {q: v for q, v in saved.items() if v is not None}
    run = FlowRun.resume(
        flow, {}, attempt.language, answers, {q for q, v in saved.items() if v is None}
    )
    return AttemptOutcome(classify_interview(flow, answers, run.outcome))


def _attempt_for(session: Session, attempt_id: int, call_sid: str) -> _Call | None:
    """The attempt, with its member, round and case loaded in the same query (one round trip
    per webhook instead of four). Of the round and the case, only what a call needs: the rest
    loads on first use."""
    row = session.execute(_CALL, {"attempt_id": attempt_id}).first()
    if row is None or not call_sid:
        return None
    call = _Call(*row)
    if call.attempt.provider_call_id not in (None, call_sid):
        return None  # a signed URL replayed for another call
    return call


def _answers(session: Session, member_id: int) -> dict[str, str | None]:
    return dict(session.execute(_ANSWERS, {"member_id": member_id}).all())


def _run(
    session: Session, flows: Mapping[str, Flow], call: _Call, tz
) -> tuple[FlowRun, Member, set[str]]:
    attempt, member = call.attempt, call.member
    saved = _answers(session, member.id)
    run = FlowRun.resume(
        flows[call.round.flow],
        case_context(call.case, tz),
        attempt.language,
        {q: v for q, v in saved.items() if v is not None},
        {q for q, v in saved.items() if v is None},
    )
    if run.current is not None and run.current.id == attempt.question_id:
        run.tries = attempt.tries
    return run, member, set(saved)


def case_context(case: Case, tz) -> dict[str, str]:
    """What prompts may name: the office, the procedure and the local return date."""
    returned = case.returned_at.astimezone(tz).strftime("%d/%m/%Y") if case.returned_at else ""
    return {
        "office": case.office.name or case.office.code,
        "procedure": case.procedure_name or case.procedure_code or "",
        "returned_date": returned,
    }


def _record(
    session: Session,
    attempt: Attempt,
    member: Member,
    run: FlowRun,
    saved: set[str],
    events: list[Event],
    now: datetime,
) -> Turn:
    """Save what the events say (answers, the ending) and where the interview now stands.

    `saved` names the questions that already have a row, so that no query is needed to
    choose between inserting and updating an answer."""
    for event in events:
        if isinstance(event, Answered | NoAnswer):
            value = event.value if isinstance(event, Answered) else None
            save_answer(
                session,
                member.id,
                attempt.id,
                event.question_id,
                value,
                now,
                exists=event.question_id in saved,
                flow=run.flow,
            )
        elif isinstance(event, Finished):
            _finish(session, attempt, member, run, event.outcome, now)
    current = run.current
    attempt.question_id = current.id if current is not None else None
    attempt.tries = run.tries
    session.flush()
    return Turn(events, attempt, attempt.language, attempt.question_id, attempt.tries)


def save_answer(
    session: Session,
    member_id: int,
    attempt_id: int,
    question_id: str,
    value: str | None,
    now: datetime,
    *,
    exists: bool,
    flow: Flow | None = None,
    text: str | None = None,
) -> None:
    """Save an answer ('0' don't know; None, no answer), or change it when `exists` says the
    member already has a row for the question. Shared by the IVR, the console and the web.
    With the `flow`, an answer it declares a follow-up for raises the member's follow-up;
    `text` is a comment typed for a `record` question (the web), kept with its answer."""
    typed = {} if text is None else {"text": text}
    if exists:
        if value is not None:  # an answer replaces a "no answer", never the other way round
            session.execute(
                update(Answer)
                .where(Answer.member_id == member_id, Answer.question_id == question_id)
                .values(value=value, attempt_id=attempt_id, answered_at=now, **typed)
                .execution_options(synchronize_session=False)
            )
    else:
        session.add(
            Answer(
                member_id=member_id,
                question_id=question_id,
                value=value,
                attempt_id=attempt_id,
                answered_at=now,
                **typed,
            )
        )
    if flow is not None:
        raise_for_answer(session, flow, member_id, question_id, value, now)


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def inbound_turn(
    session: Session,
    flows: Mapping[str, Flow],
    call_sid: str,
    caller: str,
    provider: str,
    *,
    tz,
    now: datetime,
) -> Turn:
    """A citizen calls the survey number: match the caller to an open membership.

    A match takes (or finishes) the survey as an attempt of its own. No match returns a turn
    without an attempt: the caller hears a short message and may leave a recorded comment.
    """
    attempt = session.scalar(select(Attempt).where(Attempt.provider_call_id == call_sid))
    if attempt is None:
        member = _open_membership(session, normalize_phone(caller).e164, now)
        if member is None or session.get(Round, member.round_id).flow not in flows:
            return Turn([], None)
        attempt = Attempt(
            member_id=member.id,
            mode="ivr",
            provider=provider,
            provider_call_id=call_sid,
            status="in-progress",
            language="vi",
            tries=0,
            started_at=now,
        )
        member.attempt_count += 1
        session.add(attempt)
        session.flush()
    return start_turn(session, flows, attempt.id, call_sid, tz=tz, now=now)


def _open_membership(session: Session, phone: str | None, now: datetime) -> Member | None:
    if phone is None:
        return None
    candidates = session.scalars(
        select(Member)
        .join(Round, Round.id == Member.round_id)
        .where(
            Member.phone == phone,
            Member.status.in_([MemberStatus.PENDING.value, MemberStatus.IN_PROGRESS.value]),
            Round.status == RoundStatus.OPEN.value,
        )
        .order_by(Round.week_start_at.desc())
    ).all()
    return next(
        (m for m in candidates if now < round_ends_at(session.get(Round, m.round_id))), None
    )


def save_hotline_message(
    session: Session,
    call_sid: str,
    caller: str,
    recording_url: str | None,
    duration: str | None,
    *,
    now: datetime,
) -> None:
    """Keep a message left on the hotline (once, however often the callback comes)."""
    if session.scalar(select(HotlineMessage.id).where(HotlineMessage.provider_call_id == call_sid)):
        return
    message = HotlineMessage(
        provider_call_id=call_sid,
        caller=normalize_phone(caller).e164,
        recording_url=recording_url,
        duration_s=_int(duration),
        received_at=now,
    )
    session.add(message)
    session.flush()
    raise_for_hotline_message(session, message.id, now)
