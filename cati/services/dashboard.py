"""What the manager's pages read beyond the report: citizens' comments in their own words
(typed in the console, recorded by the IVR), the end of each round's calling period, and the
rounds of a range of weeks with their offices (trends)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from cati.domain.flow import Flow, QuestionType
from cati.domain.weeks import IsoWeek
from cati.models import Answer, Case, Member, Office, Round
from cati.services.reports import round_report, rounds_of_weeks

MAX_COMMENTS = 200


@dataclass(frozen=True)
class Comment:
    answer_id: int
    question_id: str
    office: str
    officer: str | None
    text: str | None
    has_recording: bool
    answered_at: datetime


def round_comments(
    session: Session, round_id: int, flow: Flow | None, *, limit: int = MAX_COMMENTS
) -> list[Comment]:
    """The round's comments, newest first (at most `limit`): answers to its record questions
    with a typed text or a recording still kept (retention erases recordings)."""
    if flow is None:
        return []
    record_ids = [q.id for q in flow.questions if q.type is QuestionType.RECORD]
    if not record_ids:
        return []
    rows = session.execute(
        select(
            Answer.id,
            Answer.question_id,
            Office.name,
            Office.code,
            Case.officer,
            Answer.text,
            Answer.recording_url,
            Answer.answered_at,
        )
        .join(Member, Member.id == Answer.member_id)
        .join(Case, Case.id == Member.case_id)
        .join(Office, Office.id == Member.office_id)
        .where(
            Member.round_id == round_id,
            Answer.question_id.in_(record_ids),
            or_(Answer.recording_url.is_not(None), Answer.text.is_not(None)),
        )
        .order_by(Answer.answered_at.desc(), Answer.id.desc())
        .limit(limit)
    )
    return [
        Comment(
            answer_id=answer_id,
            question_id=question_id,
            office=name or code,
            officer=officer or None,
            text=text.strip() if text and text.strip() else None,
            has_recording=bool(url),
            answered_at=answered_at,
        )
        for answer_id, question_id, name, code, officer, text, url, answered_at in rows
    ]


def recording_of(session: Session, answer_id: int) -> tuple[int, str] | None:
    """The member and the recording URL of an answer, None when it has none (or no longer)."""
    row = session.execute(
        select(Answer.member_id, Answer.recording_url).where(Answer.id == answer_id)
    ).first()
    if row is None or not row[1]:
        return None
    return row[0], row[1]


def calling_ends(session: Session) -> dict[int, datetime]:
    """When each round's calling period ends (`calling_ends_at`), by round id."""
    return dict(session.execute(select(Round.id, Round.calling_ends_at)).all())


def trend_rounds(
    session: Session, first: IsoWeek, last: IsoWeek, flows: Mapping[str, Flow], tz: tzinfo
) -> list[dict[str, Any]]:
    """The rounds of the weeks [first, last], oldest first, each with its report's round,
    counts, rates and questions (as `rounds_trend`), its offices' figures and the end of its
    calling period: a question followed week by week, for the province and each office."""
    items = []
    for round_ in rounds_of_weeks(session, first, last):
        report = round_report(session, round_.id, flows, tz)
        items.append(
            {
                **{key: report[key] for key in ("round", "counts", "rates", "questions")},
                "offices": [
                    {key: o[key] for key in ("office_code", "office_name", "counts", "questions")}
                    for o in report["offices"]
                ],
                "calling_ends_at": round_.calling_ends_at,
            }
        )
    return items
