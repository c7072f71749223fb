"""The interviewer console: the queue, claiming a case with a lease, the script, the outcome.

The script is the round's flow run by the same engine as the IVR, so an interviewer asks the
same questions in the same order and can save only the answers the IVR would accept.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session

from cati.domain.calling import CallingPolicy
from cati.domain.dispositions import AttemptOutcome, is_human_contact
from cati.domain.flow import Flow, FlowRun, QuestionType, classify_interview
from cati.models import Answer, Attempt, Case, Member, MemberStatus, Round, RoundStatus
from cati.phone import mask_phone
from cati.services.dialer import (
    not_opted_out,
    round_ends_at,
    round_still_calling,
    schedule_next_call,
)
from cati.services.ivr import case_context, record_opt_out_choice, save_answer
from cati.services.users import record_audit

LEASE = timedelta(minutes=20)
# The longest notes an interviewer may keep on a call (stored on the attempt and the member).
MAX_NOTES_LENGTH = 2000
# What an interviewer can record for a call; "interrupted" becomes partial or break-off.
CONSOLE_OUTCOMES = (
    "complete",
    "interrupted",
    "appointment",
    "refused",
    "not_eligible",
    "no_answer",
    "busy",
    "unreachable",
    "invalid_number",
    "machine",
    "other",
)


class ConsoleError(ValueError):
    """Something the interviewer asked cannot be done; the message says why."""


class TextTooLongError(ConsoleError):
    """Free text longer than its limit: `field`, its `length` and the `limit`, in characters."""

    def __init__(self, field: str, length: int, limit: int) -> None:
        super().__init__(f"{field}: {length} characters, at most {limit} are kept")
        self.field, self.length, self.limit = field, length, limit


def check_notes(notes: str | None) -> str | None:
    """The notes as stored (trimmed, None when empty), or `TextTooLongError` over the limit."""
    notes = (notes or "").strip()
    if len(notes) > MAX_NOTES_LENGTH:
        raise TextTooLongError("notes", len(notes), MAX_NOTES_LENGTH)
    return notes or None


def _in_console_queue():
    return or_(Member.mode == "interviewer", Round.mode == "interviewer")


def queue_counts(session: Session, user_id: int, now: datetime, tz: tzinfo) -> dict[str, int]:
    """Counts for the queue page: due now, appointments (today, local), my cases in progress."""
    local_day_end = (now.astimezone(tz) + timedelta(days=1)).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    base = (
        select(func.count())
        .select_from(Member)
        .join(Round, Round.id == Member.round_id)
        .where(_in_console_queue(), Round.status == RoundStatus.OPEN.value)
    )
    pending = Member.status == MemberStatus.PENDING.value
    return {
        "due": session.scalar(base.where(pending, _is_due(now))),
        "appointments_today": session.scalar(
            base.where(
                pending, Member.appointment_at.is_not(None), Member.appointment_at < local_day_end
            )
        ),
        "in_progress": session.scalar(
            base.where(Member.claimed_by == user_id, Member.lease_expires_at > now)
        ),
    }


def _is_due(now: datetime):
    return or_(
        and_(Member.appointment_at.is_not(None), Member.appointment_at <= now),
        and_(
            Member.appointment_at.is_(None),
            or_(Member.next_call_at.is_(None), Member.next_call_at <= now),
        ),
    )


def release_expired_leases(
    session: Session, now: datetime, policy: CallingPolicy | None = None
) -> int:
    """Abandoned cases go back to the queue; an unfinished console attempt is dropped (or,
    if answers were saved, kept as a break-off and the next call scheduled)."""
    expired = session.scalars(
        select(Member.id).where(Member.claimed_by.is_not(None), Member.lease_expires_at <= now)
    ).all()
    for member_id in expired:
        _drop_open_attempt(session, member_id)
    for member_id in expired:
        member = session.get(Member, member_id)
        member.status, member.claimed_by, member.lease_expires_at = (
            MemberStatus.PENDING.value,
            None,
            None,
        )
        if policy is not None:
            session.flush()
            schedule_next_call(session, member, policy, now)
    return len(expired)


def claim_next_case(
    session: Session, user_id: int, now: datetime, policy: CallingPolicy | None = None
) -> int | None:
    """Give the interviewer the next case: appointments due first, then by due time.

    The claim is a compare-and-set on the member's status (SKIP LOCKED candidates on
    PostgreSQL), so two interviewers clicking at once never get the same citizen; it comes
    with a lease that the case screen renews and that expires when the screen is abandoned.
    With a calling policy, nothing is handed out outside calling hours.
    """
    release_expired_leases(session, now, policy)
    mine = session.scalar(
        select(Member.id).where(Member.claimed_by == user_id, Member.lease_expires_at > now)
    )
    if mine is not None:
        return mine  # finish (or release) the case you hold before taking another
    if policy is not None and not policy.is_callable_at(now):
        return None
    candidates = (
        select(Member.id)
        .join(Round, Round.id == Member.round_id)
        .where(
            _in_console_queue(),
            round_still_calling(now),
            Member.status == MemberStatus.PENDING.value,
            Member.phone.is_not(None),
            not_opted_out(),
            _is_due(now),
            *([Member.attempt_count < policy.max_attempts] if policy is not None else []),
        )
        .order_by(
            Member.appointment_at.is_(None),
            Member.appointment_at,
            Member.next_call_at.is_not(None),
            Member.next_call_at,
            Member.id,
        )
    )
    if session.get_bind().dialect.name == "postgresql":
        # Lock just the one case taken: the others stay free for the next interviewer.
        candidates = candidates.limit(1).with_for_update(of=Member, skip_locked=True)
    else:
        candidates = candidates.limit(20)
    for member_id in session.scalars(candidates).all():
        member = session.get(Member, member_id)
        won = session.execute(
            update(Member)
            .where(Member.id == member_id, Member.status == MemberStatus.PENDING.value)
            .values(
                status=MemberStatus.IN_PROGRESS.value,
                claimed_by=user_id,
                lease_expires_at=now + LEASE,
                attempt_count=Member.attempt_count + 1,
            )
            .execution_options(synchronize_session=False)
        ).rowcount
        if won:
            session.refresh(member)  # the compare-and-set bypassed the identity map
            session.add(
                Attempt(
                    member_id=member_id,
                    mode="interviewer",
                    user_id=user_id,
                    status="in-progress",
                    language="vi",
                    tries=0,
                    started_at=now,
                )
            )
            session.flush()
            return member_id
    return None


def _held(session: Session, member_id: int, user_id: int, now: datetime) -> Member:
    member = session.get(Member, member_id)
    if member is None or member.claimed_by != user_id:
        raise ConsoleError("this case is not yours to work on (it was released or expired)")
    if member.lease_expires_at <= now:  # lapsed but nobody took it: still yours
        member.lease_expires_at = now + LEASE
    return member


def _open_attempt(session: Session, member_id: int, user_id: int) -> Attempt:
    attempt = session.scalar(
        select(Attempt)
        .where(
            Attempt.member_id == member_id,
            Attempt.mode == "interviewer",
            Attempt.user_id == user_id,
            Attempt.outcome.is_(None),
        )
        .order_by(Attempt.id.desc())
    )
    if attempt is None:
        raise ConsoleError("no call in progress for this case")
    return attempt


def _drop_open_attempt(session: Session, member_id: int) -> None:
    for attempt in session.scalars(
        select(Attempt).where(
            Attempt.member_id == member_id, Attempt.mode == "interviewer", Attempt.outcome.is_(None)
        )
    ):
        saved = session.scalar(
            select(func.count()).select_from(Answer).where(Answer.attempt_id == attempt.id)
        )
        if saved:
            attempt.outcome, attempt.status = AttemptOutcome.BREAK_OFF, "completed"
        else:
            session.get(Member, member_id).attempt_count -= 1
            session.delete(attempt)


def renew_lease(session: Session, member_id: int, user_id: int, now: datetime) -> datetime:
    member = _held(session, member_id, user_id, now)
    member.lease_expires_at = now + LEASE
    return member.lease_expires_at


def release_case(session: Session, member_id: int, user_id: int, now: datetime) -> None:
    """Give the case back to the queue without recording a call."""
    member = _held(session, member_id, user_id, now)
    _drop_open_attempt(session, member_id)
    member.status, member.claimed_by, member.lease_expires_at = (
        MemberStatus.PENDING.value,
        None,
        None,
    )
    record_audit(session, user_id, "release_case", member_id=member_id, now=now)


@dataclass
class CaseView:
    member_id: int
    dossier_code: str
    citizen_name: str | None
    phone_masked: str
    office: str
    procedure: str
    received_at: datetime
    due_at: datetime | None
    returned_at: datetime | None
    officer: str | None
    notes: str | None
    flow: Flow
    answers: dict[str, str | None]
    prompts: dict[str, str]  # the question as the interviewer reads it, the case filled in
    next_question: str | None
    attempts: list[dict[str, Any]] = field(default_factory=list)


def get_case(
    session: Session,
    member_id: int,
    user_id: int,
    flows: Mapping[str, Flow],
    tz: tzinfo,
    now: datetime,
) -> CaseView:
    """What the interviewer sees: never another interviewer's case in progress."""
    member = _held(session, member_id, user_id, now)
    case = session.get(Case, member.case_id)
    round_ = session.get(Round, member.round_id)
    flow = flows[round_.flow]
    saved = _saved(session, member_id)
    run = _run(flow, case, tz, saved)
    prompts = {q.id: q.prompt.render("vi", run.case)[0] or "" for q in flow.questions}
    attempts = session.scalars(
        select(Attempt)
        .where(Attempt.member_id == member_id, Attempt.outcome.is_not(None))
        .order_by(Attempt.started_at)
    ).all()
    return CaseView(
        member_id=member.id,
        dossier_code=case.dossier_code,
        citizen_name=case.citizen_name,
        phone_masked=mask_phone(member.phone),
        office=case.office.name or case.office.code,
        procedure=case.procedure_name or case.procedure_code or "",
        received_at=case.received_at,
        due_at=case.due_at,
        returned_at=case.returned_at,
        officer=case.officer,
        notes=member.notes,
        flow=flow,
        answers=saved,
        prompts=prompts,
        next_question=run.current.id if run.current else None,
        attempts=[
            {
                "started_at": a.started_at,
                "mode": a.mode,
                "outcome": a.outcome,
                "duration_s": a.duration_s,
            }
            for a in attempts
        ],
    )


def _saved(session: Session, member_id: int) -> dict[str, str | None]:
    return dict(
        session.execute(
            select(Answer.question_id, Answer.value).where(Answer.member_id == member_id)
        ).all()
    )


def _run(flow: Flow, case: Case, tz: tzinfo, saved: Mapping[str, str | None]) -> FlowRun:
    return FlowRun.resume(
        flow,
        case_context(case, tz),
        "vi",
        {q: v for q, v in saved.items() if v is not None},
        {q for q, v in saved.items() if v is None},
    )


def reveal_phone(session: Session, member_id: int, user_id: int, now: datetime) -> str:
    """The full number, for dialling by hand; every reveal is audited."""
    member = _held(session, member_id, user_id, now)
    record_audit(session, user_id, "show_number", member_id=member_id, now=now)
    return member.phone or ""


def save_answers(
    session: Session,
    member_id: int,
    user_id: int,
    submitted: Mapping[str, str],
    flows: Mapping[str, Flow],
    tz: tzinfo,
    now: datetime,
) -> list[str]:
    """Save the answers entered so far, in the flow's order, through the flow engine.

    Returns the question ids saved. An answer the flow would not accept, or one given to a
    question the flow does not ask at this point, is refused with a message naming it, and
    nothing is saved.
    """
    member = _held(session, member_id, user_id, now)
    attempt = _open_attempt(session, member_id, user_id)
    case = session.get(Case, member.case_id)
    flow = flows[session.get(Round, member.round_id).flow]
    before = _saved(session, member_id)
    pending = {q: (v or "").strip() for q, v in submitted.items() if (v or "").strip()}
    for question_id in pending:
        if question_id not in {q.id for q in flow.questions}:
            raise ConsoleError(f"{_shown(question_id)}: no such question in {flow.id}")
    # Answers saved earlier come back with the form: unchanged ones are left alone, a changed
    # one is a correction (still a valid key for its question).
    changes: dict[str, str | None] = {}
    for question_id in [q for q in pending if q in before]:
        value = pending.pop(question_id)
        if value != before[question_id]:
            _check_key(flow.question(question_id), value)
            changes[question_id] = value
    run = _run(flow, case, tz, before)
    while run.current is not None and run.current.id in pending:
        question = run.current
        key = pending.pop(question.id)
        _check_key(question, key)
        run.press(key)
        # A declined comment is kept as "no answer", as the IVR keeps it.
        changes[question.id] = key if question.id in run.answered else None
        if run.recording:  # the console records no voice: "1" only notes the wish to comment
            run.recorded()
    if pending:
        raise ConsoleError(f"{next(iter(pending))}: the flow does not ask this question now")
    for question_id, value in changes.items():
        save_answer(
            session, member_id, attempt.id, question_id, value, now,
            exists=question_id in before, flow=flow,
        )  # fmt: skip
    saved = list(changes)
    if saved:
        record_audit(
            session, user_id, "save_answers", member_id=member_id, details=",".join(saved), now=now
        )
    return saved


def _shown(text: str, limit: int = 40) -> str:
    """Typed text quoted back in a message, cut short: a message never grows with the input."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _check_key(question, key: str) -> None:
    declines_comment = question.type is QuestionType.RECORD and key.isdigit()
    if key not in question.keys and not declines_comment:
        raise ConsoleError(
            f"{question.id}: {_shown(key)!r} is not an answer to this question "
            f"(valid: {', '.join(question.keys)})"
        )


def record_outcome(
    session: Session,
    member_id: int,
    user_id: int,
    outcome: str,
    *,
    appointment_at: datetime | None,
    notes: str | None,
    flows: Mapping[str, Flow],
    policy: CallingPolicy,
    tz: tzinfo,
    now: datetime,
) -> str:
    """Close the interviewer's call with its outcome; return the attempt outcome stored.

    'complete' needs the questionnaire finished; 'interrupted' becomes partial or break-off by
    the answers given; 'appointment' needs a time inside calling hours before the round ends.
    The member then gets its next call or its final disposition, and the lease is released.
    Notes longer than `MAX_NOTES_LENGTH` are refused (`TextTooLongError`) before anything changes.
    """
    if outcome not in CONSOLE_OUTCOMES:
        raise ConsoleError(f"unknown outcome {outcome!r}")
    notes = check_notes(notes)
    member = _held(session, member_id, user_id, now)
    attempt = _open_attempt(session, member_id, user_id)
    round_ = session.get(Round, member.round_id)
    flow = flows[round_.flow]
    everything = _saved(session, member_id)
    saved = {q: v for q, v in everything.items() if v is not None}
    run = _run(flow, session.get(Case, member.case_id), tz, everything)
    if outcome == "complete":
        if run.outcome is None:
            raise ConsoleError("the questionnaire is not finished: record 'interrupted' instead")
        stored = AttemptOutcome(classify_interview(flow, saved, run.outcome))
    elif outcome == "interrupted":
        stored = AttemptOutcome(classify_interview(flow, saved, None))
    else:
        stored = AttemptOutcome(outcome)
    if outcome == "appointment":
        if appointment_at is None:
            raise ConsoleError("an appointment needs a date and time")
        if appointment_at <= now or appointment_at >= round_ends_at(round_):
            raise ConsoleError("the appointment must be in the future and before the round ends")
        if not policy.is_callable_at(appointment_at):
            raise ConsoleError("the appointment is outside calling hours")
    # A new appointment, or none: an old one must not make the case due again at once.
    member.appointment_at = appointment_at if outcome == "appointment" else None
    attempt.outcome, attempt.status, attempt.ended_at = stored, "completed", now
    attempt.duration_s = int((now - attempt.started_at).total_seconds())
    attempt.notes = notes or None
    if notes:
        member.notes = notes
    if stored is AttemptOutcome.REFUSED:
        record_opt_out_choice(session, member, run, now)
    member.claimed_by, member.lease_expires_at = None, None
    session.flush()
    schedule_next_call(session, member, policy, now)
    record_audit(
        session,
        user_id,
        "record_outcome",
        member_id=member_id,
        details=f"{stored} -> {member.disposition or member.status}",
        now=now,
    )
    return stored.value


@dataclass(frozen=True)
class InterviewerDay:
    username: str
    day: str
    calls: int
    contacts: int
    completes: int
    refusals: int
    success_rate: float | None
    completes_per_hour: float | None
    average_interview_s: float | None


def interviewer_stats(
    session: Session, tz: tzinfo, user_id: int | None = None
) -> list[InterviewerDay]:
    """Per interviewer and local day: calls, contacts, completes, refusals, success rate
    (contacts ÷ calls), completes per hour on the phone, average length of a complete."""
    from cati.models import User

    query = (
        select(User.username, Attempt.started_at, Attempt.outcome, Attempt.duration_s)
        .join(User, User.id == Attempt.user_id)
        .where(Attempt.mode == "interviewer", Attempt.outcome.is_not(None))
        .order_by(User.username, Attempt.started_at)
    )
    if user_id is not None:
        query = query.where(Attempt.user_id == user_id)
    days: dict[tuple[str, str], list] = {}
    for username, started, outcome, duration in session.execute(query):
        days.setdefault((username, started.astimezone(tz).date().isoformat()), []).append(
            (AttemptOutcome(outcome), duration or 0)
        )
    result = []
    for (username, day), rows in days.items():
        calls = len(rows)
        contacts = sum(1 for o, _ in rows if is_human_contact(o))
        completes = [d for o, d in rows if o is AttemptOutcome.COMPLETE]
        seconds = sum(d for _, d in rows)
        result.append(
            InterviewerDay(
                username,
                day,
                calls,
                contacts,
                len(completes),
                sum(1 for o, _ in rows if o is AttemptOutcome.REFUSED),
                contacts / calls if calls else None,
                len(completes) / (seconds / 3600) if seconds else None,
                sum(completes) / len(completes) if completes else None,
            )
        )
    return result
