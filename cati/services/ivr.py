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
from functools import lru_cache
from operator import attrgetter
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from cati.db import Prepared
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
from cati.domain.follow_ups import DeadlinePolicy
from cati.models import (
    Answer,
    Attempt,
    CallEvent,
    Case,
    HotlineMessage,
    Member,
    MemberStatus,
    Office,
    OptOut,
    Round,
    RoundStatus,
)
from cati.phone import normalize_phone
from cati.services.dialer import plan_next_call, round_ends_at
from cati.services.follow_ups import answer_follow_up, raise_for_hotline_message
from cati.services.follow_ups import deadlines as deadlines_of
from cati.services.interviews import OPT_OUT_REASON, interview_ending

FINAL_STATUSES = frozenset({"completed", "busy", "failed", "no-answer", "canceled"})
_STATUS_ORDER = {"queued": 0, "initiated": 1, "ringing": 2, "in-progress": 3, "answered": 3}
MACHINE = ("machine_start", "machine_end_beep", "machine_end_silence", "machine_end_other")

log = logging.getLogger(__name__)


# A webhook turn (voice, gather, recording, status) reads and writes plain rows on a Core
# connection, without an ORM session, with statements built and compiled once (`Prepared`):
# no identity map, no unit-of-work flush and no per-statement execution machinery
# (scripts/bench_ivr_cpu.py: the ORM's load and flush, then the session's bookkeeping and
# SQLAlchemy's execution of each statement, were most of a turn's CPU), the interview's
# ending and the call's last status included.
_ATTEMPTS, _MEMBERS, _ANSWER_ROWS = Attempt.__table__, Member.__table__, Answer.__table__
_ROUNDS, _CASES, _OFFICES = Round.__table__, Case.__table__, Office.__table__
# What a turn may change of the attempt and of the member, in the order of `_CALL`'s columns.
_ATTEMPT_FIELDS = (
    "provider_call_id",
    "status",
    "outcome",
    "answered_by",
    "duration_s",
    "sip_response_code",
    "ended_at",
    "question_id",
    "tries",
)
_MEMBER_FIELDS = ("status", "disposition", "next_call_at", "mode", "appointment_at")
_CALL_FROM = select(
    _ATTEMPTS.c.id,
    _ATTEMPTS.c.language,
    *(_ATTEMPTS.c[name] for name in _ATTEMPT_FIELDS),
    _MEMBERS.c.id,
    _MEMBERS.c.round_id,
    _MEMBERS.c.office_id,
    _MEMBERS.c.phone,
    *(_MEMBERS.c[name] for name in _MEMBER_FIELDS),
    _ROUNDS.c.flow,
    _ROUNDS.c.erased_at,
    _ROUNDS.c.calling_ends_at,
    _OFFICES.c.code,
    _OFFICES.c.name,
    _CASES.c.procedure_code,
    _CASES.c.procedure_name,
    _CASES.c.returned_at,
    _ANSWER_ROWS.c.question_id,
    _ANSWER_ROWS.c.value,
).select_from(
    _ATTEMPTS.join(_MEMBERS, _MEMBERS.c.id == _ATTEMPTS.c.member_id)
    .join(_ROUNDS, _ROUNDS.c.id == _MEMBERS.c.round_id)
    .join(_CASES, _CASES.c.id == _MEMBERS.c.case_id)
    .join(_OFFICES, _OFFICES.c.id == _CASES.c.office_id)
    .outerjoin(_ANSWER_ROWS, _ANSWER_ROWS.c.member_id == _MEMBERS.c.id)
)
_CALL = Prepared(_CALL_FROM.where(_ATTEMPTS.c.id == bindparam("attempt_id")))
_CALL_BY_SID = Prepared(_CALL_FROM.where(_ATTEMPTS.c.provider_call_id == bindparam("call_sid")))
_ANSWER_OF = Prepared(
    select(_ANSWER_ROWS.c.id, _ANSWER_ROWS.c.attempt_id, _ANSWER_ROWS.c.recording_url).where(
        _ANSWER_ROWS.c.member_id == bindparam("member_id"),
        _ANSWER_ROWS.c.question_id == bindparam("question_id"),
    )
)
_KEEP_RECORDING = Prepared(
    update(_ANSWER_ROWS)
    .where(_ANSWER_ROWS.c.id == bindparam("answer_id"))
    .values(recording_url=bindparam("url"))
)
_INSERT_ANSWER = Prepared(
    insert(_ANSWER_ROWS).values(
        member_id=bindparam("m"),
        question_id=bindparam("q"),
        value=bindparam("v"),
        attempt_id=bindparam("a"),
        answered_at=bindparam("at"),
        text=bindparam("text"),
    )
)
_CHANGE_ANSWER_ONLY = (
    update(_ANSWER_ROWS)
    .where(_ANSWER_ROWS.c.member_id == bindparam("m"), _ANSWER_ROWS.c.question_id == bindparam("q"))
    .values(value=bindparam("v"), attempt_id=bindparam("a"), answered_at=bindparam("at"))
)
_CHANGE_ANSWER = Prepared(_CHANGE_ANSWER_ONLY)
_CHANGE_ANSWER_AND_TEXT = Prepared(_CHANGE_ANSWER_ONLY.values(text=bindparam("text")))
_STATUS_BY_CALL_ID = Prepared(
    select(_ATTEMPTS.c.id, _ATTEMPTS.c.status).where(
        _ATTEMPTS.c.provider_call_id == bindparam("call_sid")
    )
)
# A status callback that beats the dialer's commit of the call id binds it to the attempt.
_BIND_CALL = Prepared(
    update(_ATTEMPTS)
    .where(_ATTEMPTS.c.id == bindparam("aid"), _ATTEMPTS.c.provider_call_id.is_(None))
    .values(provider_call_id=bindparam("sid"))
)


@lru_cache(maxsize=64)
def _update(table: str, columns: tuple[str, ...]):
    """UPDATE of these columns of one attempt or member (by `row_id`)."""
    rows = _ATTEMPTS if table == "attempts" else _MEMBERS
    return Prepared(
        update(rows)
        .where(rows.c.id == bindparam("row_id"))
        .values({name: bindparam(f"new_{name}") for name in columns})
    )


@lru_cache(maxsize=4)
def _call_event_insert(dialect: str):
    """A status callback, stored once per (attempt, SequenceNumber)."""
    insert_ = postgresql_insert if dialect == "postgresql" else sqlite_insert
    return Prepared(
        insert_(CallEvent.__table__)
        .values(
            attempt_id=bindparam("aid"),
            sequence=bindparam("seq"),
            status=bindparam("st"),
            received_at=bindparam("at"),
        )
        .on_conflict_do_nothing(index_elements=["attempt_id", "sequence"])
    )


@lru_cache(maxsize=4)
def _opt_out_insert(dialect: str):
    """The number on the opt-out list (nothing when it is already there)."""
    insert_ = postgresql_insert if dialect == "postgresql" else sqlite_insert
    return Prepared(
        insert_(OptOut.__table__)
        .values(phone=bindparam("phone"), reason=OPT_OUT_REASON, created_at=bindparam("at"))
        .on_conflict_do_nothing(index_elements=["phone"])
    )


@dataclass(slots=True)
class CallAttempt:
    """What a turn reads and writes of its attempt: a plain row, not an ORM object."""

    id: int
    language: str
    provider_call_id: str | None
    status: str
    outcome: str | None
    answered_by: str | None
    duration_s: int | None
    sip_response_code: int | None
    ended_at: datetime | None
    question_id: str | None
    tries: int


@dataclass(slots=True)
class CallMember:
    """What a turn reads and writes of the member."""

    id: int
    round_id: int
    office_id: int
    phone: str | None
    status: str
    disposition: str | None
    next_call_at: datetime | None
    mode: str
    appointment_at: datetime | None


_attempt_state = attrgetter(*_ATTEMPT_FIELDS)
_member_state = attrgetter(*_MEMBER_FIELDS)


@dataclass(slots=True)
class _Call:
    """An attempt with what a turn needs of its member, round and case, read in one query;
    `stored` is what the database holds of the attempt and the member, so that only what a
    turn changed is written back (`_write`)."""

    attempt: CallAttempt
    member: CallMember
    flow: str
    erased_at: datetime | None
    calling_ends_at: datetime
    office: tuple[str, str | None]  # code, name
    procedure: tuple[str | None, str | None]  # code, name
    returned_at: datetime | None
    answers: dict[str, str | None]  # the member's saved answers (None: no answer)
    stored: tuple = ()

    def __post_init__(self) -> None:
        self.stored = (_attempt_state(self.attempt), _member_state(self.member))


@dataclass
class Turn:
    """What to play next, and where the interview stands (for the action URLs)."""

    events: list[Event]
    attempt: CallAttempt | None
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
    if call.flow not in flows:
        return UNKNOWN_FLOW
    return None


def start_turn(
    connection: Connection,
    flows: Mapping[str, Flow],
    attempt_id: int,
    call_sid: str,
    *,
    tz,
    now: datetime,
    deadlines: DeadlinePolicy,
) -> Turn:
    """The call was answered: greet (or welcome back) and ask the first open question."""
    call = _attempt_for(connection, attempt_id, call_sid)
    if call is None:
        return Turn([], None)
    if refused := _refusal(call, flows):
        return Turn([], None, refused=refused)
    run, saved = _run(flows, call, tz)
    attempt, member = call.attempt, call.member
    attempt.provider_call_id = call_sid
    if attempt.status not in FINAL_STATUSES:
        attempt.status = "in-progress"
    member.status = MemberStatus.IN_PROGRESS.value if run.outcome is None else member.status
    return _record(connection, deadlines, call, run, saved, run.start(), now)


def key_turn(
    connection: Connection,
    flows: Mapping[str, Flow],
    attempt_id: int,
    call_sid: str,
    question_id: str,
    tries: int,
    digits: str | None,
    *,
    tz,
    now: datetime,
    deadlines: DeadlinePolicy,
) -> Turn:
    """A key (or silence) for `question_id` asked for the `tries`-th time.

    A request for another question or try than the one being asked is a repeated delivery or
    a late one: it changes nothing and the current question is asked again. One for a call
    that has ended or a member already final changes nothing either (see `_refusal`).
    """
    call = _attempt_for(connection, attempt_id, call_sid)
    if call is None:
        return Turn([], None)
    if refused := _refusal(call, flows):
        return Turn([], None, refused=refused)
    attempt = call.attempt
    run, saved = _run(flows, call, tz)
    if run.current is None:
        return _record(connection, deadlines, call, run, saved, run.start(), now)
    if run.current.id != question_id or attempt.tries != tries:
        return _record(connection, deadlines, call, run, saved, run.press("*"), now)
    return _record(connection, deadlines, call, run, saved, run.press(digits), now)


def recording_turn(
    connection: Connection,
    flows: Mapping[str, Flow],
    attempt_id: int,
    call_sid: str,
    question_id: str,
    recording_url: str | None,
    *,
    tz,
    now: datetime,
    deadlines: DeadlinePolicy,
) -> Turn:
    """A voice comment has been recorded: keep its URL and close the interview.

    A citizen often hangs up instead of pressing '#': the call then ends (and the member is
    closed by the status callback) before this request arrives. Such a late request is
    refused like any other, but the recording it brings is still kept on the answer this
    same call saved, when that answer has none yet and the round's personal data has not
    been erased (a replay brings the same URL, so it cannot change one already kept).
    """
    call = _attempt_for(connection, attempt_id, call_sid)
    if call is None:
        return Turn([], None)
    attempt = call.attempt
    refused = _refusal(call, flows)
    for answer_id, answered_on, kept_url in _ANSWER_OF.rows(
        connection, {"member_id": call.member.id, "question_id": question_id}
    ):
        late_but_ours = answered_on == attempt.id and call.erased_at is None
        if recording_url and not kept_url and (refused is None or late_but_ours):
            _KEEP_RECORDING.run(connection, {"answer_id": answer_id, "url": recording_url})
    if refused:
        return Turn([], None, refused=refused)
    run, saved = _run(flows, call, tz)
    return _record(connection, deadlines, call, run, saved, run.start(), now)


def apply_call_status(
    connection: Connection,
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
    status = params.get("CallStatus", "")
    if not call_sid:
        return False
    final = status in FINAL_STATUSES
    found = _status_of(connection, call_sid, final)
    # The callback can beat the dialer's commit of the call id: bind it by the attempt named
    # in the (signed) callback URL.
    if (
        found is None
        and attempt_id is not None
        and _BIND_CALL.run(connection, {"aid": attempt_id, "sid": call_sid})
    ):
        found = _status_of(connection, call_sid, final)
    if found is None:
        return False
    call = found if final else None
    attempt_id, current = (call.attempt.id, call.attempt.status) if call else found
    sequence = _int(params.get("SequenceNumber"))
    if sequence is not None:
        stored = _call_event_insert(connection.dialect.name).run(
            connection, {"aid": attempt_id, "seq": sequence, "st": status, "at": now}
        )
        if not stored:
            return False  # delivered before
    if current in FINAL_STATUSES:
        return False
    if call is None:
        if _STATUS_ORDER.get(status, -1) > _STATUS_ORDER.get(current, -1):
            _update("attempts", ("status",)).run(
                connection, {"row_id": attempt_id, "new_status": status}
            )
        return True
    attempt, member = call.attempt, call.member
    attempt.status = status
    attempt.ended_at = now
    attempt.duration_s = _int(params.get("CallDuration"))
    attempt.sip_response_code = _int(params.get("SipResponseCode"))
    attempt.answered_by = params.get("AnsweredBy") or attempt.answered_by
    if attempt.outcome is None:
        attempt.outcome = _call_outcome(flows, call).value
    attempt.question_id = None
    _write(connection, call)
    if member.status != MemberStatus.FINAL:
        _settle(
            connection,
            call,
            plan_next_call(
                connection,
                member,
                policy,
                now,
                ivr_attempts=ivr_attempts,
                calling_ends_at=call.calling_ends_at,
            ),
        )
    return True


def _status_of(connection: Connection, call_sid: str, final: bool):
    """The call's attempt with all a final status needs (`_Call`), or its id and status."""
    if final:
        return _call(connection, _CALL_BY_SID, {"call_sid": call_sid})
    return next(iter(_STATUS_BY_CALL_ID.rows(connection, {"call_sid": call_sid})), None)


def _settle(connection: Connection, call: _Call, changes: Mapping[str, Any]) -> None:
    """Give the member what `plan_next_call` says, and write it."""
    for name, value in changes.items():
        setattr(call.member, name, value)
    _write(connection, call)


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


def _call_outcome(flows: Mapping[str, Flow], call: _Call) -> AttemptOutcome:
    attempt = call.attempt
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
    flow = flows.get(call.flow)
    if flow is None:
        # The round's questionnaire has gone: the citizen heard an apology and nothing was
        # asked, a failure on our side that leaves the member to be called again.
        log.warning("attempt %s: its round's flow is gone; outcome failed", attempt.id)
        return AttemptOutcome.FAILED
    saved = call.answers
    answers = {q: v for q, v in saved.items() if v is not None}
    run = FlowRun.resume(
        flow, {}, attempt.language, answers, {q for q, v in saved.items() if v is None}
    )
    return AttemptOutcome(classify_interview(flow, answers, run.outcome))


def _attempt_for(connection: Connection, attempt_id: int, call_sid: str) -> _Call | None:
    """The attempt, with what a turn needs of its member, round and case, and the member's
    saved answers, in one query (one row per answer: one round trip per webhook instead of
    five); None for an unknown attempt, or one bound to another call."""
    call = _call(connection, _CALL, {"attempt_id": attempt_id})
    if call is None or not call_sid or call.attempt.provider_call_id not in (None, call_sid):
        return None  # unknown, or a signed URL replayed for another call
    return call


def _call(connection: Connection, query: Prepared, params: dict[str, Any]) -> _Call | None:
    """A `_Call` from the rows of `_CALL` or `_CALL_BY_SID` (one per saved answer: the call's
    columns are read from the first, and only its values are converted), or None without
    any."""
    rows = query.raw_rows(connection, params)
    if not rows:
        return None
    (aid, language, sid, status, outcome, answered_by, duration_s, sip_code, ended_at,
     question_id, tries, member_id, round_id, office_id, phone, member_status, disposition,
     next_call_at, mode, appointment_at, flow, erased_at, calling_ends_at, office_code,
     office_name, procedure_code, procedure_name, returned_at, _, _) = query.processed(
         connection, rows[0])  # fmt: skip
    return _Call(
        CallAttempt(
            aid, language, sid, status, outcome, answered_by, duration_s, sip_code, ended_at,
            question_id, tries or 0,
        ),
        CallMember(
            member_id, round_id, office_id, phone, member_status, disposition, next_call_at,
            mode, appointment_at,
        ),
        flow,
        erased_at,
        calling_ends_at,
        (office_code, office_name),
        (procedure_code, procedure_name),
        returned_at,
        {row[-2]: row[-1] for row in rows if row[-2] is not None},
    )  # fmt: skip


def _run(flows: Mapping[str, Flow], call: _Call, tz) -> tuple[FlowRun, set[str]]:
    attempt, saved = call.attempt, call.answers
    run = FlowRun.resume(
        flows[call.flow],
        _context(call.office, call.procedure, call.returned_at, tz),
        attempt.language,
        {q: v for q, v in saved.items() if v is not None},
        {q for q, v in saved.items() if v is None},
    )
    if run.current is not None and run.current.id == attempt.question_id:
        run.tries = attempt.tries
    return run, set(saved)


def case_context(case: Case, tz) -> dict[str, str]:
    """What prompts may name: the office, the procedure and the local return date."""
    return _context(
        (case.office.code, case.office.name),
        (case.procedure_code, case.procedure_name),
        case.returned_at,
        tz,
    )


def _context(office, procedure, returned_at: datetime | None, tz) -> dict[str, str]:
    code, name = office
    procedure_code, procedure_name = procedure
    returned = returned_at.astimezone(tz).strftime("%d/%m/%Y") if returned_at else ""
    return {
        "office": name or code,
        "procedure": procedure_name or procedure_code or "",
        "returned_date": returned,
    }


def _record(
    connection: Connection,
    deadlines: DeadlinePolicy,
    call: _Call,
    run: FlowRun,
    saved: set[str],
    events: list[Event],
    now: datetime,
) -> Turn:
    """Save what the events say (answers, the ending) and where the interview now stands.

    `saved` names the questions that already have a row, so that no query is needed to
    choose between inserting and updating an answer."""
    attempt, member = call.attempt, call.member
    ending = None
    for event in events:
        if isinstance(event, Answered | NoAnswer):
            value = event.value if isinstance(event, Answered) else None
            write_answer(
                connection,
                member.id,
                attempt.id,
                event.question_id,
                value,
                now,
                exists=event.question_id in saved,
                flow=run.flow,
                office_id=member.office_id,
                deadlines=deadlines,
            )
        elif isinstance(event, Finished):
            ending = event.outcome
    current = run.current
    attempt.question_id = current.id if current is not None else None
    attempt.tries = run.tries
    if ending is not None:
        _end(connection, call, run, ending, now)
    else:
        _write(connection, call)
    return Turn(events, attempt, attempt.language, attempt.question_id, attempt.tries)


def _end(connection: Connection, call: _Call, run: FlowRun, outcome, now: datetime) -> None:
    """The flow ended (`interview_ending`, as `finish_interview` for the other modes): the
    attempt's outcome, once; the member handed to the interviewers, or final at once; the
    number on the opt-out list when the citizen asked for it."""
    attempt, member = call.attempt, call.member
    if attempt.outcome is not None:
        _write(connection, call)
        return
    ending = interview_ending(run, outcome)
    attempt.outcome = ending.outcome.value
    if ending.handover:
        member.mode, member.appointment_at = "interviewer", now
    _write(connection, call)
    if ending.final_now:
        _settle(connection, call, plan_next_call(connection, member, None, now))
    if ending.opt_out and member.phone:
        _opt_out_insert(connection.dialect.name).run(connection, {"phone": member.phone, "at": now})


def _write(connection: Connection, call: _Call) -> None:
    """Write what the turn changed of the attempt and of the member, one UPDATE each, only
    the columns changed: nothing for a replay, and never a column a concurrent request (the
    call's status callback) may have changed in the meantime."""
    attempt, member = call.attempt, call.member
    state = (_attempt_state(attempt), _member_state(member))
    if state == call.stored:
        return
    for table, row, fields, new, old in (
        ("attempts", attempt, _ATTEMPT_FIELDS, state[0], call.stored[0]),
        ("members", member, _MEMBER_FIELDS, state[1], call.stored[1]),
    ):
        if new != old:
            changed = tuple(name for name, a, b in zip(fields, new, old, strict=True) if a != b)
            params = {f"new_{name}": getattr(row, name) for name in changed}
            _update(table, changed).run(connection, {"row_id": row.id, **params})
    call.stored = state


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
    office_id: int | None = None,
) -> None:
    """`write_answer` in the session's unit of work, for the console, the web and SMS:
    objects the caller has added and not yet flushed are flushed first, so rows keep the
    order in which they were made."""
    if session.new:
        session.flush()
    write_answer(
        session.connection(), member_id, attempt_id, question_id, value, now, exists=exists,
        flow=flow, text=text, office_id=office_id, deadlines=deadlines_of(session),
    )  # fmt: skip


def write_answer(
    connection: Connection,
    member_id: int,
    attempt_id: int,
    question_id: str,
    value: str | None,
    now: datetime,
    *,
    exists: bool,
    deadlines: DeadlinePolicy,
    flow: Flow | None = None,
    text: str | None = None,
    office_id: int | None = None,
) -> None:
    """Save an answer ('0' don't know; None, no answer), or change it when `exists` says the
    member already has a row for the question. Shared by the IVR, the console and the web.
    With the `flow`, an answer it declares a follow-up for raises the member's follow-up (for
    `office_id`, the member's office, read when not given; due as `deadlines` say); `text`
    is a comment typed for a `record` question (the web), kept with its answer."""
    params = {"m": member_id, "q": question_id, "v": value, "a": attempt_id, "at": now}
    params["text"] = text
    if exists:
        if value is not None:  # an answer replaces a "no answer", never the other way round
            (_CHANGE_ANSWER if text is None else _CHANGE_ANSWER_AND_TEXT).run(connection, params)
    else:
        _INSERT_ANSWER.run(connection, params)
    if flow is not None:
        answer_follow_up(
            connection, deadlines, flow, member_id, question_id, value, now, office_id=office_id
        )


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
    return start_turn(
        session.connection(), flows, attempt.id, call_sid, tz=tz, now=now,
        deadlines=deadlines_of(session),
    )  # fmt: skip


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
