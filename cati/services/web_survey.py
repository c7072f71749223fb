"""The questionnaire on the citizen's own phone (`/s/<token>`): what a screen shows, and an
answer given on it.

The web runs the round's flow with the same engine as the IVR and the console (`FlowRun`,
through `cati.domain.web_links.walk`) and saves answers with the same `save_answer`, so a
questionnaire is written once, its follow-ups are raised the same way, and a citizen who
leaves the web half-way is resumed by the IVR where they stopped (and the other way round).

- Reading a screen (`screen`) changes nothing: messaging apps open links to build previews.
- Each answer is saved as it is given (`answer`); the first answer of a visit opens a web
  attempt (mode `web`), which later answers within `VISIT_GAP` continue. Until the flow ends
  the attempt carries what it would be if the citizen left now (partial or break-off, by the
  phone's rule), so a round that closes, or the phone that follows, counts it as such; when
  the flow ends it gets its outcome as an IVR call would (`finish_interview`): complete,
  refused (with the flow's opt-out), not eligible, or handed to an interviewer.
- Once the flow has ended, or the member is final, the link shows only its last page and
  changes nothing.
- Web attempts are not calls: they do not count in `members.attempt_count` (the calling
  policy's attempts), so a citizen who opened the page is still called as often.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from cati.domain.dispositions import AttemptOutcome
from cati.domain.flow import (
    CONTACT_CONSENT,
    DONT_KNOW,
    Flow,
    QuestionType,
    classify_interview,
    fill_script,
)
from cati.domain.web_links import is_consent, numbered, walk, web_wording
from cati.models import Answer, Attempt, Member, MemberStatus
from cati.services.interviews import finish_interview
from cati.services.ivr import case_context, save_answer
from cati.services.web_links import open_link

WEB = "web"
VISIT_GAP = timedelta(minutes=30)  # answers further apart than this are two visits
MAX_COMMENT_LENGTH = 2000  # as the console's notes


@dataclass
class Choice:
    key: str
    label: str
    end: str | None = None  # refused, not_eligible, handover, complete


@dataclass
class QuestionScreen:
    id: str
    type: str
    text: str
    choices: list[Choice]
    consent: bool
    number: int | None  # "Câu 2/7"; None for the consent question
    total: int
    dont_know: bool  # a "don't know" answer is offered
    selected: str | None = None
    comment: str = ""
    low: str | None = None  # a scale's end labels
    high: str | None = None


@dataclass
class Screen:
    """One page of a link: a question, the last page ("done", with the flow's `outcome`), or
    why there is nothing: "unknown" (or tampered), "expired", "busy" (a call is under way),
    "unavailable" (the questionnaire has gone)."""

    state: str
    outcome: str | None = None
    question: QuestionScreen | None = None
    back: str | None = None  # the question before, to go back to
    context: dict[str, str] = field(default_factory=dict)  # office, procedure, returned_date
    title: str = ""


@dataclass
class Result:
    """What an answer did: `state` is "saved", "stale" (a form for a question not asked now:
    nothing changed), "invalid" (`error` says why; nothing changed), or a `Screen` state
    (done, unknown, expired, busy, unavailable: nothing changed). `next` is the question to
    show next when it is not simply the current one."""

    state: str
    next: str | None = None
    error: str | None = None


def _saved(session: Session, member_id: int) -> dict[str, tuple[str | None, str | None]]:
    return {
        q: (value, text)
        for q, value, text in session.execute(
            select(Answer.question_id, Answer.value, Answer.text).where(
                Answer.member_id == member_id
            )
        )
    }


def _split(saved) -> tuple[dict[str, str], set[str]]:
    answers = {q: v for q, (v, _) in saved.items() if v is not None}
    return answers, {q for q, (v, _) in saved.items() if v is None}


def _words(words: Mapping[str, str] | None, language: str) -> str | None:
    if not words:
        return None
    return words.get(language) or next(iter(words.values()))


def _language(flow: Flow, language: str) -> str:
    return language if language in flow.languages else flow.languages[0]


def question_screen(
    flow: Flow, question_id: str, context: Mapping[str, str], language: str, labels
) -> QuestionScreen:
    """A question as the web shows it: the interviewer's words where the flow has them
    (they read better than the IVR's "press 1"), the citizen addressed as ông/bà; `labels`
    gives the page's words for yes, no and declining."""
    language = _language(flow, language)
    contact = question_id == CONTACT_CONSENT
    question = flow.contact_consent if contact else flow.question(question_id)
    script = _words(question.script, language)
    if script:
        text = fill_script(script, {**context, "interviewer": ""})
    else:
        text = _words(question.label, language) or question.prompt.render(language, context)[0]
    consent = is_consent(flow, question)
    if question.type is QuestionType.CHOICE:
        choices = []
        for option in question.options:
            label = _words(option.label, language) or option.key
            if consent and option.end is not None and option.end.value == "refused":
                label = labels["decline"]
            choices.append(Choice(option.key, label, option.end.value if option.end else None))
    elif question.type is QuestionType.SCALE:
        choices = [Choice(key, key) for key in "123456789"]
    elif question.type is QuestionType.YES_NO:
        choices = [Choice("1", labels["yes"]), Choice("2", labels["no"])]
    else:
        choices = []
    order = numbered(flow)
    return QuestionScreen(
        id=question.id,
        type=question.type.value,
        text=web_wording(text or ""),
        choices=choices,
        consent=consent,
        number=order.index(question.id) + 1 if question.id in order else None,
        total=len(order),
        dont_know=not contact
        and question.type is not QuestionType.RECORD
        and DONT_KNOW in question.keys,
        low=_words(question.low, language),
        high=_words(question.high, language),
    )


def screen(
    session: Session,
    flows: Mapping[str, Flow],
    token: str,
    *,
    tz,
    now: datetime,
    language: str,
    labels: Mapping[str, str],
    question_id: str | None = None,
) -> Screen:
    """What the link shows now (read only): `question_id` shows an earlier question of the
    path again (going back); otherwise the question the flow asks now."""
    opened = open_link(session, token, now)
    if opened.state != "open":
        return Screen(opened.state)
    member, round_, case = opened.member, opened.round, opened.case
    flow = flows.get(round_.flow)
    if flow is None:
        return Screen("unavailable")
    context = case_context(case, tz)
    title = _words(flow.title, _language(flow, language)) or ""
    saved = _saved(session, member.id)
    path, run = walk(flow, *_split(saved))
    if run.asking_contact:
        # The questions are done (a complete): the optional contact question comes last.
        shown = question_screen(flow, CONTACT_CONSENT, context, language, labels)
        return Screen("question", question=shown, back=None, context=context, title=title)
    if run.outcome is not None or member.status == MemberStatus.FINAL.value:
        outcome = run.outcome.value if run.outcome is not None else "closed"
        return Screen("done", outcome=outcome, context=context, title=title)
    if member.status == MemberStatus.IN_PROGRESS.value:
        return Screen("busy", context=context, title=title)
    target = question_id if question_id in path else path[-1]
    shown = question_screen(flow, target, context, language, labels)
    value, text = saved.get(target, (None, None))
    shown.selected, shown.comment = value, text or ""
    index = path.index(target)
    return Screen(
        "question",
        question=shown,
        back=path[index - 1] if index > 0 else None,
        context=context,
        title=title,
    )


def answer(
    session: Session,
    flows: Mapping[str, Flow],
    token: str,
    *,
    question_id: str,
    value: str | None,
    text: str | None,
    now: datetime,
    language: str,
) -> Result:
    """Save the answer to `question_id` given on the page (a key, or for a `record` question
    the typed comment, empty for none) and say where to go next."""
    opened = open_link(session, token, now)
    if opened.state != "open":
        return Result(opened.state)
    member, round_ = opened.member, opened.round
    if session.get_bind().dialect.name == "postgresql":
        # Two taps at once on a slow network: the second waits for the first, then sees it.
        session.execute(select(Member.id).where(Member.id == member.id).with_for_update())
        session.refresh(member)
    flow = flows.get(round_.flow)
    if flow is None:
        return Result("unavailable")
    saved = _saved(session, member.id)
    path, run = walk(flow, *_split(saved))
    if run.asking_contact and question_id == CONTACT_CONSENT:
        # After the complete: 1 (yes) lets the Sở contact them about what they reported,
        # 2 is no; saved as the IVR saves it, onto the member's follow-up.
        if value not in ("1", "2"):
            return Result("invalid", error="choose")
        attempt = session.scalar(  # the visit that completed the questions
            select(Attempt)
            .where(Attempt.member_id == member.id, Attempt.mode == WEB)
            .order_by(Attempt.id.desc())
            .limit(1)
        ) or _visit(session, member.id, now, _language(flow, language))
        save_answer(session, member.id, attempt.id, CONTACT_CONSENT, value, now, exists=False,
                    flow=flow)  # fmt: skip
        session.flush()
        return Result("saved")
    if run.outcome is not None or member.status == MemberStatus.FINAL.value:
        return Result("done")
    if member.status == MemberStatus.IN_PROGRESS.value:
        return Result("busy")
    if question_id not in path:
        return Result("stale")
    question = flow.question(question_id)
    if question.type is QuestionType.RECORD:
        text = (text or "").strip()
        if len(text) > MAX_COMMENT_LENGTH:
            return Result("invalid", error="too_long")
        value = "1" if text else None
    elif value not in question.keys:  # the keys the engine accepts for it on the phone
        return Result("invalid", error="choose")

    attempt = _visit(session, member.id, now, _language(flow, language))
    exists = question_id in saved
    if question.type is QuestionType.RECORD and value is None:
        if exists:  # a comment taken back
            session.execute(
                update(Answer)
                .where(Answer.member_id == member.id, Answer.question_id == question_id)
                .values(value=None, text=None, attempt_id=attempt.id, answered_at=now)
                .execution_options(synchronize_session=False)
            )
        else:
            save_answer(session, member.id, attempt.id, question_id, None, now, exists=False)
    else:
        typed = text if question.type is QuestionType.RECORD else None
        save_answer(session, member.id, attempt.id, question_id, value, now, exists=exists,
                    flow=flow, text=typed)  # fmt: skip
    session.flush()

    path, run = walk(flow, *_split(_saved(session, member.id)))
    attempt.ended_at = now
    attempt.duration_s = int((now - attempt.started_at).total_seconds())
    if run.outcome is not None:
        attempt.outcome = None  # what it would have been gives way to how it ended
        attempt.status, attempt.question_id = "completed", None
        finish_interview(session, attempt, member, run, run.outcome, now)
        session.flush()
        return Result("saved")
    attempt.outcome = AttemptOutcome(classify_interview(flow, run.answered, None))
    attempt.question_id = path[-1]
    # Forward over the answers already given (after going back), else the current question.
    after = path.index(question_id) + 1 if question_id in path else len(path)
    following = path[after] if after < len(path) else None
    session.flush()
    return Result("saved", next=following if following != path[-1] else None)


def _visit(session: Session, member_id: int, now: datetime, language: str) -> Attempt:
    """The web attempt this answer belongs to: the visit going on, or a new one."""
    last = session.scalar(
        select(Attempt)
        .where(Attempt.member_id == member_id, Attempt.mode == WEB)
        .order_by(Attempt.id.desc())
        .limit(1)
    )
    if last is not None and last.status == "in-progress":
        if last.ended_at is not None and now - last.ended_at < VISIT_GAP:
            return last
        last.status = "completed"  # that visit is over; its outcome stays as it was left
    attempt = Attempt(
        member_id=member_id,
        mode=WEB,
        status="in-progress",
        language=language,
        tries=0,
        started_at=now,
        ended_at=now,
    )
    session.add(attempt)
    session.flush()
    return attempt
