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
from cati.domain.flow import (
    CONTACT_CONSENT,
    NO,
    YES,
    Flow,
    FlowRun,
    Outcome,
    QuestionType,
    classify_interview,
    fill_script,
)
from cati.models import (
    Answer,
    Attempt,
    AuditEvent,
    Case,
    Member,
    MemberStatus,
    Round,
    RoundStatus,
)
from cati.phone import mask_phone
from cati.services.dialer import (
    not_opted_out,
    round_ends_at,
    round_still_calling,
    schedule_next_call,
)
from cati.services.follow_ups import raise_for_answer
from cati.services.interviews import record_opt_out_choice
from cati.services.ivr import case_context, save_answer
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
    """Something the interviewer asked cannot be done; the message says why.

    `key` and `params` say it again for the interface's catalog (`console.error.…`, in the
    page's language), `field` names what it concerns: a question id, `outcome`,
    `appointment_at`, or None for the whole case. `gone` is set when the case is no longer
    the interviewer's (saved, expired, taken back)."""

    def __init__(
        self,
        message: str,
        *,
        key: str = "console.error.refused",
        field: str | None = None,
        gone: bool = False,
        **params: Any,
    ) -> None:
        super().__init__(message)
        self.key, self.field, self.gone, self.params = key, field, gone, params


class TextTooLongError(ConsoleError):
    """Free text longer than its limit: `field`, its `length` and the `limit`, in characters."""

    def __init__(self, field: str, length: int, limit: int) -> None:
        super().__init__(
            f"{field}: {length} characters, at most {limit} are kept",
            key=f"console.{field}_too_long",
            field=field,
            length=length,
            limit=limit,
        )
        self.length, self.limit = length, limit


def check_notes(notes: str | None) -> str | None:
    """The notes as stored (trimmed, None when empty), or `TextTooLongError` over the limit."""
    notes = (notes or "").strip()
    if len(notes) > MAX_NOTES_LENGTH:
        raise TextTooLongError("notes", len(notes), MAX_NOTES_LENGTH)
    return notes or None


def _in_console_queue():
    return or_(Member.mode == "interviewer", Round.mode == "interviewer")


def _waiting_in_queue(now: datetime) -> tuple:
    """Members waiting in the interviewers' queue (due or not): a round still calling, pending,
    with a number. The caller joins Round."""
    return (
        _in_console_queue(),
        round_still_calling(now),
        Member.status == MemberStatus.PENDING.value,
        Member.phone.is_not(None),
    )


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
            *_waiting_in_queue(now),
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
    # Locked: the page saves each answer as it is typed, and a quick typist's saves overlap;
    # the later one waits here and then sees what the earlier one saved.
    member = session.get(Member, member_id, with_for_update=True)
    if member is None or member.claimed_by != user_id:
        raise ConsoleError(
            "this case is not yours to work on (it was released or expired)",
            key="console.error.gone",
            gone=True,
        )
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
        raise ConsoleError("no call in progress for this case", key="console.error.gone", gone=True)
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
    questions: list[ScriptQuestion] = field(default_factory=list)
    opening: str | None = None  # the interviewer's opening and closing lines
    closing: str | None = None
    comments: dict[str, str] = field(default_factory=dict)  # typed comments by question
    attempt_number: int = 0  # this call is attempt n …
    max_attempts: int | None = None  # … of at most this many
    # The contact question, asked after the comment when the answers raise a follow-up: its
    # words (None when the flow has none), whether the saved answers raise one, and the keys
    # that raise one per question (for the page's script, which shows it as answers come).
    contact_text: str | None = None
    asks_contact: bool = False
    follow_up_keys: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class Choice:
    key: str
    label: str
    end: str | None = None  # the outcome this choice ends the interview with
    next: str | None = None  # the question it jumps to


@dataclass
class ScriptQuestion:
    """One question as the console shows it, in the page's language."""

    id: str
    number: int
    type: str
    label: str  # a short name, for messages ("Câu 2 (Hướng dẫn hồ sơ)")
    text: str  # the interviewer's script, or the IVR prompt when the flow has none
    required: bool
    choices: list[Choice]
    low: str | None = None  # a scale's end labels
    high: str | None = None


def _words(words: Mapping[str, str] | None, language: str) -> str | None:
    if not words:
        return None
    return words.get(language) or next(iter(words.values()))


def question_label(flow: Flow, question_id: str, language: str) -> str:
    """'Câu 2 (Hướng dẫn hồ sơ)'-style name of a question, for messages; the id if unknown."""
    if question_id == CONTACT_CONSENT and flow.contact_consent is not None:
        return _words(flow.contact_consent.label, language) or question_id
    if question_id not in {q.id for q in flow.questions}:
        return question_id
    question = flow.question(question_id)
    number = flow.index(question_id) + 1
    word = "Câu" if language == "vi" else "Question"
    name = _words(question.label, language)
    return f"{word} {number} ({name})" if name else f"{word} {number}"


def script_questions(flow: Flow, case: Mapping[str, str], language: str) -> list[ScriptQuestion]:
    """The flow's questions with the interviewer's words and the answer choices."""
    language = language if language in flow.languages else flow.languages[0]
    result = []
    for i, q in enumerate(flow.questions):
        script = _words(q.script, language)
        text = fill_script(script, case) if script else q.prompt.render(language, case)[0] or ""
        if q.type is QuestionType.CHOICE:
            choices = [
                Choice(
                    o.key,
                    _words(o.script, language) or _words(o.label, language) or o.key,
                    o.end.value if o.end else None,
                    o.next,
                )
                for o in q.options
            ]
        elif q.type is QuestionType.SCALE:
            choices = [Choice(k, k) for k in "123456789"]
        elif q.type is QuestionType.YES_NO:
            choices = [Choice("1", ""), Choice("2", "")]  # labelled Có/Không by the page
        else:
            choices = []
        result.append(
            ScriptQuestion(
                id=q.id,
                number=i + 1,
                type=q.type.value,
                label=question_label(flow, q.id, language),
                text=text,
                required=q.required,
                choices=choices,
                low=_words(q.low, language),
                high=_words(q.high, language),
            )
        )
    return result


def get_case(
    session: Session,
    member_id: int,
    user_id: int,
    flows: Mapping[str, Flow],
    tz: tzinfo,
    now: datetime,
    *,
    language: str = "vi",
    interviewer: str | None = None,
    max_attempts: int | None = None,
) -> CaseView:
    """What the interviewer sees: never another interviewer's case in progress.

    The questions come with the interviewer's script in `language` (the IVR prompt where the
    flow has none), `{interviewer}` filled with the interviewer's name."""
    from cati.models import User

    member = _held(session, member_id, user_id, now)
    case = session.get(Case, member.case_id)
    round_ = session.get(Round, member.round_id)
    flow = flows[round_.flow]
    saved = _saved(session, member_id)
    run = _run(flow, case, tz, saved)
    prompts = {q.id: q.prompt.render("vi", run.case)[0] or "" for q in flow.questions}
    script_case = {**run.case, "interviewer": interviewer or ""}
    lang = language if language in flow.languages else flow.languages[0]
    attempts = session.execute(
        select(Attempt, User.username)
        .outerjoin(User, User.id == Attempt.user_id)
        .where(Attempt.member_id == member_id, Attempt.outcome.is_not(None))
        .order_by(Attempt.started_at, Attempt.id)
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
                "number": n,
                "started_at": a.started_at,
                "mode": a.mode,
                "outcome": a.outcome,
                "duration_s": a.duration_s,
                "by": username,
                "notes": a.notes,
            }
            for n, (a, username) in enumerate(attempts, start=1)
        ],
        questions=script_questions(flow, script_case, lang),
        opening=fill_script(_words(flow.opening_script, lang), script_case)
        if flow.opening_script
        else None,
        closing=fill_script(_words(flow.closing_script, lang), script_case)
        if flow.closing_script
        else None,
        comments=_comments(session, member_id),
        attempt_number=member.attempt_count,
        max_attempts=max_attempts,
        contact_text=_contact_text(flow, script_case, lang),
        asks_contact=flow.asks_contact(run.answered),
        follow_up_keys={q.id: sorted(q.follow_ups) for q in flow.questions if q.follow_ups},
    )


def _contact_text(flow: Flow, case: Mapping[str, str], language: str) -> str | None:
    """The contact question as the interviewer reads it (the IVR prompt if no script)."""
    question = flow.contact_consent
    if question is None:
        return None
    script = _words(question.script, language)
    return fill_script(script, case) if script else question.prompt.render(language, case)[0]


def member_flow(session: Session, member_id: int, flows: Mapping[str, Flow]) -> Flow | None:
    """The flow a member is interviewed with (None for an unknown member)."""
    member = session.get(Member, member_id)
    return flows.get(session.get(Round, member.round_id).flow) if member else None


def _comments(session: Session, member_id: int) -> dict[str, str]:
    return dict(
        session.execute(
            select(Answer.question_id, Answer.text).where(
                Answer.member_id == member_id, Answer.text.is_not(None)
            )
        ).all()
    )


def national_phone(e164: str | None) -> str:
    """A Vietnamese number written the national way: '0912 345 678', '024 3825 1234'."""
    if not e164:
        return ""
    if not e164.startswith("+84"):
        return e164
    digits = "0" + e164[3:]
    if len(digits) == 10:
        return f"{digits[:4]} {digits[4:7]} {digits[7:]}"
    if len(digits) == 11 and digits[:3] in ("024", "028"):
        return f"{digits[:3]} {digits[3:7]} {digits[7:]}"
    if len(digits) == 11:
        return f"{digits[:4]} {digits[4:7]} {digits[7:]}"
    return digits


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

    Returns the question ids saved. A `record` question takes the comment's text: an empty
    one is "no comment". An optional question left empty before a later answer is saved as
    skipped (no answer). An answer the flow would not accept, one given to a question the
    flow does not ask (after an ending choice, or jumped past), or a later answer while a
    required question is empty, is refused with a message naming it, and nothing is saved.
    """
    member = _held(session, member_id, user_id, now)
    attempt = _open_attempt(session, member_id, user_id)
    case = session.get(Case, member.case_id)
    flow = flows[session.get(Round, member.round_id).flow]
    ids = {q.id for q in flow.questions}
    submitted = dict(submitted)
    # The contact question (shown after the comment when the answers raise a follow-up):
    # taken apart, saved once the questionnaire is done, ignored while no reason is raised.
    contact = (submitted.pop(CONTACT_CONSENT, "") or "").strip() if flow.contact_consent else ""
    for question_id in submitted:
        if question_id not in ids:
            raise ConsoleError(
                f"{_shown(question_id)}: no such question in {flow.id}",
                key="console.error.no_question",
                question=question_id,
            )
    before = _saved(session, member_id)
    texts = _comments(session, member_id)
    records = {q.id for q in flow.questions if q.type is QuestionType.RECORD}
    pending = {q: (v or "").strip() for q, v in submitted.items()}
    declined = {q for q, v in pending.items() if q in records and not v}
    pending = {q: v for q, v in pending.items() if v}
    # Answers saved earlier come back with the form: unchanged ones are left alone, a changed
    # one is a correction (still a valid key for its question; a comment may be cleared).
    changes: dict[str, tuple[str | None, str | None]] = {}
    for question_id in [q for q in (*pending, *declined) if q in before]:
        value = pending.pop(question_id, "")
        declined.discard(question_id)
        if question_id in records:
            if value != (texts.get(question_id) or "") and (value or texts.get(question_id)):
                changes[question_id] = ("1", value) if value else (None, None)
        elif value != before[question_id]:
            _check_key(flow.question(question_id), value)
            changes[question_id] = (value, None)
    run = _run(flow, case, tz, before)
    while (question := run.current) is not None:
        if question.id in pending:
            value = pending.pop(question.id)
            if question.type is QuestionType.RECORD:
                run.press("1")
                run.recorded()  # the console records no voice: the comment is typed
                changes[question.id] = ("1", value)
            else:
                _check_key(question, value)
                run.press(value)
                changes[question.id] = (value, None)
        elif question.id in declined or pending:
            if question.required:
                raise ConsoleError(
                    f"{question.id}: answer this question first",
                    key="console.error.answer_first",
                    field=question.id,
                    question=question.id,
                )
            run.skip()  # gone past, or no comment: kept as "no answer", as the IVR keeps it
            changes[question.id] = (None, None)
        else:
            break
    if pending:
        question_id = next(iter(pending))
        raise ConsoleError(
            f"{_shown(question_id)}: the flow does not ask this question now",
            key="console.error.not_asked",
            field=question_id,
            question=question_id,
        )
    if contact and (run.asking_contact or before.get(CONTACT_CONSENT) not in (None, contact)):
        if contact not in (YES, NO):
            raise ConsoleError(
                f"{CONTACT_CONSENT}: {_shown(contact)!r} is not an answer to this question "
                f"(valid: {YES}, {NO})",
                key="console.error.bad_answer",
                field=CONTACT_CONSENT,
                question=CONTACT_CONSENT,
                value=_shown(contact),
            )
        if run.asking_contact:
            run.press(contact)
        changes[CONTACT_CONSENT] = (contact, None)
    _write(session, flow, member_id, attempt.id, changes, before, records, now)
    saved = list(changes)
    if saved:
        record_audit(
            session, user_id, "save_answers", member_id=member_id, details=",".join(saved), now=now
        )
    return saved


def _shown(text: str, limit: int = 40) -> str:
    """Typed text quoted back in a message, cut short: a message never grows with the input."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _write(session, flow, member_id, attempt_id, changes, before, records, now) -> None:
    for question_id, (value, text) in changes.items():
        if question_id not in records:
            save_answer(session, member_id, attempt_id, question_id, value, now,
                        exists=question_id in before, flow=flow)  # fmt: skip
            continue
        if question_id in before:
            # A typed comment can be changed or cleared (the IVR's rule that an answer never
            # goes back to "no answer" is about keys, not words).
            session.execute(
                update(Answer)
                .where(Answer.member_id == member_id, Answer.question_id == question_id)
                .values(value=value, text=text, attempt_id=attempt_id, answered_at=now)
                .execution_options(synchronize_session=False)
            )
        else:
            session.add(Answer(member_id=member_id, question_id=question_id, value=value,
                               text=text, attempt_id=attempt_id, answered_at=now))  # fmt: skip
        raise_for_answer(session, flow, member_id, question_id, value, now)
    session.flush()


def _check_key(question, key: str) -> None:
    if key not in question.keys:
        raise ConsoleError(
            f"{question.id}: {_shown(key)!r} is not an answer to this question "
            f"(valid: {', '.join(question.keys)})",
            key="console.error.bad_answer",
            field=question.id,
            question=question.id,
            value=_shown(key),
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
        raise ConsoleError(
            f"unknown outcome {_shown(outcome)!r}", key="console.error.bad_outcome", field="outcome"
        )
    notes = check_notes(notes)
    member = _held(session, member_id, user_id, now)
    attempt = _open_attempt(session, member_id, user_id)
    round_ = session.get(Round, member.round_id)
    flow = flows[round_.flow]
    everything = _saved(session, member_id)
    saved = {q: v for q, v in everything.items() if v is not None}
    run = _run(flow, session.get(Case, member.case_id), tz, everything)
    if outcome == "complete":
        # The optional questions left empty do not block it: they are saved as skipped, as
        # long as at least half the core questions have an answer (what makes a partial);
        # with fewer, the interview was cut short.
        first_empty = run.current.id if run.current is not None else None
        skipped: dict[str, tuple[None, None]] = {}
        while run.current is not None and not run.current.required:
            if not run.asking_contact:  # the contact question not asked: no row, choice unknown
                skipped[run.current.id] = (None, None)
            run.skip()
        answered_core = sum(1 for q in flow.core_questions if q.id in saved)
        cut_short = skipped and 2 * answered_core < len(flow.core_questions)
        if run.outcome is None or (run.outcome is Outcome.COMPLETE and cut_short):
            raise ConsoleError(
                "the questionnaire is not finished: record 'interrupted' instead",
                key="console.error.not_finished",
                field=first_empty,
                question=first_empty,
            )
        records = {q.id for q in flow.questions if q.type is QuestionType.RECORD}
        _write(session, flow, member_id, attempt.id, skipped, everything, records, now)
        stored = AttemptOutcome(classify_interview(flow, saved, run.outcome))
    elif outcome == "interrupted":
        stored = AttemptOutcome(classify_interview(flow, saved, None))
    else:
        stored = AttemptOutcome(outcome)
    if outcome == "appointment":
        if appointment_at is None:
            raise ConsoleError(
                "an appointment needs a date and time",
                key="console.error.appointment_missing",
                field="appointment_at",
            )
        if appointment_at <= now or appointment_at >= round_ends_at(round_):
            raise ConsoleError(
                "the appointment must be in the future and before the round ends",
                key="console.error.appointment_range",
                field="appointment_at",
                ends=round_ends_at(round_).astimezone(tz).strftime("%d/%m/%Y %H:%M"),
            )
        if not policy.is_callable_at(appointment_at):
            raise ConsoleError(
                "the appointment is outside calling hours",
                key="console.error.appointment_hours",
                field="appointment_at",
            )
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
    success_rate: float | None  # reached ÷ calls
    completes_per_hour: float | None  # completes ÷ hours signed in that day
    average_interview_s: float | None
    signed_in_s: int = 0


def signed_in_seconds(
    session: Session, user_id: int, start: datetime, end: datetime
) -> dict[str, int]:
    """Seconds signed in per local day (keyed by ISO date in the zone of `start`) between
    `start` and `end`: from each sign-in to the next sign-out (or `end`), as audited."""
    from cati.services.users import LOGIN, LOGOUT

    events = session.execute(
        select(AuditEvent.at, AuditEvent.action)
        .where(AuditEvent.user_id == user_id, AuditEvent.action.in_((LOGIN, LOGOUT)))
        .where(AuditEvent.at < end)
        .order_by(AuditEvent.at, AuditEvent.id)
    ).all()
    tz = start.tzinfo
    intervals: list[tuple[datetime, datetime]] = []
    opened: datetime | None = None
    for at, action in events:
        if action == LOGIN and opened is None:
            opened = at
        elif action == LOGOUT and opened is not None:
            intervals.append((opened, at))
            opened = None
    if opened is not None:
        intervals.append((opened, end))
    days: dict[str, int] = {}
    for begin, finish in intervals:
        begin, finish = max(begin, start), min(finish, end)
        while begin < finish:
            local = begin.astimezone(tz)
            midnight = (local + timedelta(days=1)).replace(
                hour=0, minute=0, second=0, microsecond=0
            )
            piece = min(finish, midnight)
            key = local.date().isoformat()
            days[key] = days.get(key, 0) + int((piece - begin).total_seconds())
            begin = piece
    return days


def interviewer_stats(
    session: Session,
    tz: tzinfo,
    user_id: int | None = None,
    now: datetime | None = None,
    since: datetime | None = None,
) -> list[InterviewerDay]:
    """Per interviewer and local day: calls, people reached (as the manager's report counts
    contacts), completes, refusals, reached ÷ calls, completes per hour signed in, average
    length of a complete. Without `now` no sign-in time is counted (no per-hour figure)."""
    from cati.models import User

    query = (
        select(User.id, User.username, Attempt.started_at, Attempt.outcome, Attempt.duration_s)
        .join(User, User.id == Attempt.user_id)
        .where(Attempt.mode == "interviewer", Attempt.outcome.is_not(None))
        .order_by(User.username, Attempt.started_at)
    )
    if user_id is not None:
        query = query.where(Attempt.user_id == user_id)
    if since is not None:
        query = query.where(Attempt.started_at >= since)
    days: dict[tuple[int, str, str], list] = {}
    for uid, username, started, outcome, duration in session.execute(query):
        days.setdefault((uid, username, started.astimezone(tz).date().isoformat()), []).append(
            (AttemptOutcome(outcome), duration or 0)
        )
    signed_in: dict[int, dict[str, int]] = {}
    result = []
    for (uid, username, day), rows in days.items():
        if now is not None and uid not in signed_in:
            first = min(datetime.fromisoformat(d) for (u, _, d) in days if u == uid)
            signed_in[uid] = signed_in_seconds(session, uid, first.replace(tzinfo=tz), now)
        seconds = signed_in.get(uid, {}).get(day, 0)
        calls = len(rows)
        contacts = sum(1 for o, _ in rows if is_human_contact(o))
        completes = [d for o, d in rows if o is AttemptOutcome.COMPLETE]
        result.append(
            InterviewerDay(
                username,
                day,
                calls,
                contacts,
                len(completes),
                sum(1 for o, _ in rows if o is AttemptOutcome.REFUSED),
                contacts / calls if calls else None,
                len(completes) / (seconds / 3600) if seconds >= 60 else None,
                sum(completes) / len(completes) if completes else None,
                seconds,
            )
        )
    return result


def local_midnight(now: datetime, tz: tzinfo) -> datetime:
    return now.astimezone(tz).replace(hour=0, minute=0, second=0, microsecond=0)


def today_figures(session: Session, user_id: int, now: datetime, tz: tzinfo) -> InterviewerDay:
    """The interviewer's own figures for the local day so far (the queue page)."""
    midnight = local_midnight(now, tz)
    rows = interviewer_stats(session, tz, user_id, now=now, since=midnight)
    if rows:
        return rows[0]
    seconds = signed_in_seconds(session, user_id, midnight, now).get(midnight.date().isoformat(), 0)
    return InterviewerDay("", midnight.date().isoformat(), 0, 0, 0, 0, None, None, None, seconds)


@dataclass
class QueueOutlook:
    """Why nothing can be taken, and what comes next."""

    callable_now: bool
    next_window: datetime | None  # when calling hours open again (outside them)
    next_due: datetime | None  # the next case or appointment falling due
    my_appointments: list[dict[str, Any]]


def queue_outlook(
    session: Session, user_id: int, now: datetime, policy: CallingPolicy | None
) -> QueueOutlook:
    callable_now = policy is None or policy.is_callable_at(now)
    next_window = None if callable_now else policy.next_window_start(now)
    due_at = func.coalesce(Member.appointment_at, Member.next_call_at)
    next_due = session.scalar(
        select(func.min(due_at))
        .select_from(Member)
        .join(Round, Round.id == Member.round_id)
        .where(
            *_waiting_in_queue(now),
            due_at > now,
        )
    )
    # My appointments: pending members whose latest interviewer call was mine.
    latest = (
        select(Attempt.member_id, func.max(Attempt.id).label("attempt_id"))
        .where(Attempt.mode == "interviewer", Attempt.outcome.is_not(None))
        .group_by(Attempt.member_id)
        .subquery("latest")
    )
    mine = session.execute(
        select(Member.appointment_at, Case.dossier_code, Case.citizen_name)
        .join(Case, Case.id == Member.case_id)
        .join(latest, latest.c.member_id == Member.id)
        .join(Attempt, Attempt.id == latest.c.attempt_id)
        .where(
            Attempt.user_id == user_id,
            Member.status == MemberStatus.PENDING.value,
            Member.appointment_at.is_not(None),
            Member.appointment_at > now,
        )
        .order_by(Member.appointment_at)
        .limit(20)
    ).all()
    return QueueOutlook(
        callable_now,
        next_window,
        next_due,
        [{"at": at, "dossier_code": code, "citizen_name": name} for at, code, name in mine],
    )
