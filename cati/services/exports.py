"""A round's export: one row per sampled member, streamed, without names or phone numbers."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator, Mapping
from datetime import tzinfo
from typing import Any

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from cati.domain.dispositions import LABELS, Code
from cati.domain.flow import Flow, QuestionType
from cati.models import Answer, Attempt, Case, Member, Office, Round

FIXED_COLUMNS = (
    "dossier_code",
    "office_code",
    "procedure_code",
    "mode",
    "attempts",
    "disposition",
    "disposition_label",
    "completed_at",
)
BATCH = 5000


def phone_hash(key: str, phone: str | None) -> str:
    """A keyed hash of the number: rows of one citizen can be linked, the number not read."""
    if not phone:
        return ""
    return hmac.new(key.encode(), f"phone:{phone}".encode(), hashlib.sha256).hexdigest()[:32]


def _typed(flow: Flow) -> list[str]:
    """The questions whose answer may be a typed comment (record questions)."""
    return [q.id for q in flow.questions if q.type is QuestionType.RECORD]


def export_columns(flow: Flow) -> tuple[str, ...]:
    """The fixed columns, the key per question, the typed comment per record question
    (`<question>_text`, what an interviewer wrote down), and the phone hash."""
    return (
        *FIXED_COLUMNS,
        *(q.id for q in flow.questions),
        *(f"{q}_text" for q in _typed(flow)),
        "phone_hash",
    )


def export_rows(
    session: Session, round_id: int, flows: Mapping[str, Flow], tz: tzinfo, hash_key: str
) -> Iterator[tuple[Any, ...]]:
    """The rows of `export_columns`, streamed in batches (bounded memory for any round size).

    One query: the answers are pivoted in SQL (one column per question), the attempts
    counted, and the completion time taken from the complete attempt.
    """
    round_ = session.get(Round, round_id)
    flow = flows[round_.flow]
    attempts = (
        select(
            Attempt.member_id,
            func.count().label("attempts"),
            func.max(case((Attempt.outcome == "complete", Attempt.ended_at))).label("completed"),
        )
        .where(Attempt.outcome.is_not(None))
        .group_by(Attempt.member_id)
        .subquery("attempt_totals")
    )
    answers = (
        select(
            Answer.member_id,
            *(
                func.max(case((Answer.question_id == q.id, Answer.value))).label(f"q{i}")
                for i, q in enumerate(flow.questions)
            ),
            *(
                func.max(case((Answer.question_id == q, Answer.text))).label(f"t{i}")
                for i, q in enumerate(_typed(flow))
            ),
        )
        .group_by(Answer.member_id)
        .subquery("answers_pivot")
    )
    query = (
        select(
            Case.dossier_code,
            Office.code,
            Case.procedure_code,
            Member.mode,
            func.coalesce(attempts.c.attempts, 0),
            Member.disposition,
            attempts.c.completed,
            *(answers.c[f"q{i}"] for i in range(len(flow.questions))),
            *(answers.c[f"t{i}"] for i in range(len(_typed(flow)))),
            Member.phone,
        )
        .join(Case, Case.id == Member.case_id)
        .join(Office, Office.id == Member.office_id)
        .outerjoin(attempts, attempts.c.member_id == Member.id)
        .outerjoin(answers, and_(answers.c.member_id == Member.id))
        .where(Member.round_id == round_id)
        .order_by(Member.id)
        .execution_options(yield_per=BATCH)
    )
    typed = len(_typed(flow))
    completed_type = Attempt.__table__.c.ended_at.type
    to_datetime = completed_type.result_processor(session.get_bind().dialect, None)
    for row in session.execute(query):
        (code, office, procedure, mode, count, disposition, completed, *keys, phone) = row
        keys = [*keys[: len(keys) - typed], *(text or "" for text in keys[len(keys) - typed :])]
        if completed is not None and not hasattr(completed, "astimezone"):
            completed = to_datetime(completed)  # an aggregate loses its column type on SQLite
        label = LABELS[Code(disposition)]["vi"] if disposition in Code._value2member_map_ else ""
        yield (
            code,
            office,
            procedure or "",
            mode,
            int(count),
            disposition or "",
            label,
            completed.astimezone(tz).isoformat(timespec="minutes") if completed else "",
            *("" if key is None else key for key in keys),
            phone_hash(hash_key, phone),
        )
