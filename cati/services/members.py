"""One sampled citizen as a supervisor needs to see them (a complaint, a question)."""

from __future__ import annotations

from datetime import tzinfo
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cati.models import Answer, Attempt, Case, Member
from cati.phone import mask_phone


def member_report(session: Session, dossier_code: str, tz: tzinfo) -> dict[str, Any] | None:
    """The latest round membership of a dossier: attempts, answers so far, disposition.

    Answers are the keys pressed ('0' for don't know); a question not asked yet or left
    without an answer is absent; `comments` holds the comments interviewers typed, by
    question. The phone number is masked.
    """
    member = session.scalar(
        select(Member)
        .join(Case, Case.id == Member.case_id)
        .where(Case.dossier_code == dossier_code)
        .order_by(Member.round_id.desc())
        .limit(1)
    )
    if member is None:
        return None
    attempts = session.scalars(
        select(Attempt).where(Attempt.member_id == member.id).order_by(Attempt.started_at)
    ).all()
    answers = session.execute(
        select(Answer.question_id, Answer.value)
        .where(Answer.member_id == member.id, Answer.value.is_not(None))
        .order_by(Answer.answered_at, Answer.id)
    ).all()
    comments = session.execute(
        select(Answer.question_id, Answer.text)
        .where(Answer.member_id == member.id, Answer.text.is_not(None))
        .order_by(Answer.answered_at, Answer.id)
    ).all()
    return {
        "dossier_code": dossier_code,
        "round_id": member.round_id,
        "phone": mask_phone(member.phone),
        "status": member.status,
        "disposition": member.disposition,
        "next_call_at": member.next_call_at.astimezone(tz).isoformat()
        if member.next_call_at
        else None,
        "attempts": [
            {
                "started_at": a.started_at.astimezone(tz).isoformat(),
                "mode": a.mode,
                "outcome": a.outcome,
                "provider_status": a.status,
                "answered_by": a.answered_by,
                "duration_s": a.duration_s,
            }
            for a in attempts
        ],
        "answers": dict(answers),
        "comments": dict(comments),  # what an interviewer typed for a comment question
    }
