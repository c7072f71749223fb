"""Retention: names, numbers and recordings erased once a round has been closed long enough.

Answers, dispositions and the statistics columns of cases stay; only what identifies a citizen
goes (REFERENCE §6). Opt-outs whose number no case holds any more are kept as keyed hashes, so
the number stays blocked without being stored. Counter ratings, which belong to no round, lose
their dossier code and typed comments as long after they were given.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TypeVar

from sqlalchemy import and_, exists, func, or_, select, text, update
from sqlalchemy.orm import Session, aliased

from cati.models import (
    Answer,
    Attempt,
    Case,
    CounterAnswer,
    CounterRating,
    HotlineMessage,
    Member,
    OptOut,
    Round,
    RoundStatus,
)

BATCH = 500  # values per IN (…): well under every database's limit on bound parameters
T = TypeVar("T")


OPT_OUTS_LOCK = 0x63617469_4F505453  # "catiOPTS"


def serialize_with_retention(session: Session) -> None:
    """Sampling and retention take turns (PostgreSQL; SQLite writers already do): otherwise
    retention could hash an opt-out between sampling's restoring it and its eligibility
    check, and the number would be sampled."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": OPT_OUTS_LOCK})


def opt_out_hash(key: str, phone: str) -> str:
    """The keyed hash an erased opt-out keeps of its E.164 number (prefixed apart from the
    export's `phone_hash`, so one cannot be matched against the other)."""
    return hmac.new(key.encode(), f"opt-out:{phone}".encode(), hashlib.sha256).hexdigest()


@dataclass
class ErasureReport:
    """What one retention run erased; `recordings` are URLs still to delete at the provider."""

    rounds: int = 0
    members: int = 0
    cases: int = 0
    recordings: list[str] = field(default_factory=list)
    opt_outs_hashed: int = 0
    hotline_messages: int = 0
    counter_ratings: int = 0


def erase_closed_rounds(
    session: Session,
    *,
    retention_days: int,
    now: datetime,
    hash_key: str | None,
    round_days: int,
) -> ErasureReport:
    """Erase the personal data of rounds closed at least `retention_days` ago.

    1. The rounds: closed, `closed_at <= now - retention_days`, not erased yet; each gets
       `erased_at = now` (the recordings left to delete are found by
       `list_pending_recordings`, so a failed provider call is retried by a later run).
    2. Their members lose their number and notes, their attempts their interviewer notes,
       their answers the comments typed for them (free text may name anyone; the answer's
       key stays).
    3. Cases lose name, typed number and E.164 number: the members' cases and every other
       case returned during the round's week, except those still in a round not erased.
       Phone type, office, procedure and dates stay for the statistics.
    4. Answer recordings of those members are listed for deletion at the provider.
    5. Hotline messages older than the retention period lose their caller; their
       recordings are listed too. Cases no round took (a week without a round, a dossier
       never returned) are erased as long after their week as a round's would have been.
    6. Old opt-outs whose number no case or member holds any more keep only its keyed hash
       (or are dropped when another row already keeps that hash); without a `hash_key`
       they keep their number.
    7. Counter ratings (kiosk, QR) started before the retention period lose the dossier code
       the citizen typed and their typed comments (`_erase_counter_ratings`).
    Web links and their SMS columns are left: a hash, a nonce, when the SMS went and the
    provider's error kind and code; the number they went to is the member's, erased in 2.
    Set-based UPDATEs (opt-outs row by row: their hash is computed in Python); flushes,
    never commits.
    """
    serialize_with_retention(session)
    cutoff = now - timedelta(days=retention_days)
    report = ErasureReport()
    rounds = session.scalars(
        select(Round)
        .where(
            Round.status == RoundStatus.CLOSED.value,
            Round.closed_at <= cutoff,
            Round.erased_at.is_(None),
        )
        .order_by(Round.id)
    ).all()
    for round_ in rounds:
        # Marked first: a case shared with another round erased in this run is then no
        # longer held back by it when that round comes (rounds are handled in turn).
        round_.erased_at = now
        session.flush()
        _erase_round(session, round_, report)
        report.rounds += 1

    report.cases += _erase_cases_outside_rounds(session, cutoff, round_days)
    report.hotline_messages = _erase_hotline_callers(session, cutoff)
    report.counter_ratings = _erase_counter_ratings(session, cutoff)
    report.recordings = list(
        _unique(
            [
                *_round_recordings(session, [r.id for r in rounds]),
                *_hotline_recordings(session, cutoff),
            ]
        )
    )
    if hash_key is not None:
        report.opt_outs_hashed = _hash_opt_outs(session, cutoff, hash_key)
    session.flush()
    return report


def _erase_round(session: Session, round_: Round, report: ErasureReport) -> None:
    """Steps 2 and 3 for one round."""
    round_members = select(Member.id).where(Member.round_id == round_.id)
    report.members += session.execute(
        update(Member)
        .where(Member.round_id == round_.id)
        .values(phone=None, notes=None)
        .execution_options(synchronize_session="fetch")
    ).rowcount
    session.execute(
        update(Attempt)
        .where(Attempt.member_id.in_(round_members), Attempt.notes.is_not(None))
        .values(notes=None)
        .execution_options(synchronize_session="fetch")
    )
    session.execute(
        update(Answer)
        .where(Answer.member_id.in_(round_members), Answer.text.is_not(None))
        .values(text=None)
        .execution_options(synchronize_session="fetch")
    )
    report.cases += _erase_cases(
        session,
        or_(
            Case.id.in_(select(Member.case_id).where(Member.round_id == round_.id)),
            and_(
                Case.returned_at >= round_.week_start_at,
                Case.returned_at < round_.week_end_at,
            ),
        ),
    )


def _erase_cases_outside_rounds(session: Session, cutoff: datetime, round_days: int) -> int:
    """Cases whose week (returned, or received when never returned) ended a round's calling
    period before `cutoff`: those no round took are as old as an erased round's."""
    too_old = cutoff - timedelta(days=round_days + 7)
    return _erase_cases(
        session,
        or_(
            Case.returned_at < too_old,
            and_(Case.returned_at.is_(None), Case.received_at < too_old),
        ),
    )


def _erase_cases(session: Session, selection) -> int:
    """Erase name and numbers of the cases in `selection` that still hold some, except those
    still in a round not erased yet."""
    member, round_ = aliased(Member), aliased(Round)
    in_a_live_round = exists().where(
        member.case_id == Case.id, round_.id == member.round_id, round_.erased_at.is_(None)
    )
    return session.execute(
        update(Case)
        .where(
            selection,
            or_(
                Case.citizen_name.is_not(None),
                Case.phone_raw.is_not(None),
                Case.phone.is_not(None),
            ),
            ~in_a_live_round,
        )
        .values(citizen_name=None, phone_raw=None, phone=None)
        .execution_options(synchronize_session="fetch")
    ).rowcount


def _erase_hotline_callers(session: Session, cutoff: datetime) -> int:
    return session.execute(
        update(HotlineMessage)
        .where(HotlineMessage.received_at <= cutoff, HotlineMessage.caller.is_not(None))
        .values(caller=None)
        .execution_options(synchronize_session="fetch")
    ).rowcount


def _erase_counter_ratings(session: Session, cutoff: datetime) -> int:
    """Counter ratings started at or before `cutoff` lose their dossier code (it leads to the
    citizen's dossier) and their typed comments (free text may name anyone): a comment
    becomes "", as when the citizen passed over the question, since None would mean "not
    asked yet". The keys, the dossier check's result and the integrity flags stay, so the
    counter figures do not change; a dossier code is no longer found rated twice against an
    erased rating. Returns how many ratings lost something."""
    old = CounterRating.started_at <= cutoff
    old_ratings = select(CounterRating.id).where(old)
    typed = and_(CounterAnswer.text.is_not(None), CounterAnswer.text != "")
    count = session.scalar(
        select(func.count())
        .select_from(CounterRating)
        .where(
            old,
            or_(
                CounterRating.dossier_code.is_not(None),
                exists().where(CounterAnswer.rating_id == CounterRating.id, typed),
            ),
        )
    )
    session.execute(
        update(CounterAnswer)
        .where(CounterAnswer.rating_id.in_(old_ratings), typed)
        .values(text="")
        .execution_options(synchronize_session="fetch")
    )
    session.execute(
        update(CounterRating)
        .where(old, CounterRating.dossier_code.is_not(None))
        .values(dossier_code=None)
        .execution_options(synchronize_session="fetch")
    )
    return count


def _round_recordings(session: Session, round_ids: list[int]) -> list[str]:
    urls: list[str] = []
    for chunk in _chunks(round_ids):
        urls += session.scalars(
            select(Answer.recording_url)
            .join(Member, Member.id == Answer.member_id)
            .where(Member.round_id.in_(chunk), Answer.recording_url.is_not(None))
            .order_by(Answer.id)
        ).all()
    return urls


def _hotline_recordings(session: Session, cutoff: datetime) -> list[str]:
    return list(
        session.scalars(
            select(HotlineMessage.recording_url)
            .where(HotlineMessage.received_at <= cutoff, HotlineMessage.recording_url.is_not(None))
            .order_by(HotlineMessage.id)
        )
    )


def _hash_opt_outs(session: Session, cutoff: datetime, hash_key: str) -> int:
    """Step 6; returns how many plain numbers left the opt-out list (hashed or merged)."""
    candidates = session.scalars(
        select(OptOut).where(
            OptOut.phone.is_not(None),
            OptOut.created_at <= cutoff,
            ~exists().where(Case.phone == OptOut.phone),
            # The dialer checks members' own copy of the number: it must be gone too.
            ~exists().where(Member.phone == OptOut.phone),
        )
    ).all()
    hashes = {entry.id: opt_out_hash(hash_key, entry.phone) for entry in candidates}
    kept = _existing_hashes(session, list(hashes.values()))
    for entry in candidates:
        if hashes[entry.id] in kept:
            session.delete(entry)  # another row keeps this number blocked
        else:
            # The reason is free text typed by a person: it may name the citizen.
            entry.phone, entry.phone_hash, entry.reason = None, hashes[entry.id], None
    session.flush()
    return len(candidates)


def _existing_hashes(session: Session, digests: list[str]) -> set[str]:
    found: set[str] = set()
    for chunk in _chunks(digests):
        found.update(session.scalars(select(OptOut.phone_hash).where(OptOut.phone_hash.in_(chunk))))
    return found


def list_pending_recordings(session: Session, retention_days: int, now: datetime) -> list[str]:
    """Recording URLs that retention erased but the provider has not deleted yet: answers of
    erased rounds, and hotline messages older than the retention period."""
    cutoff = now - timedelta(days=retention_days)
    answers = session.scalars(
        select(Answer.recording_url)
        .join(Member, Member.id == Answer.member_id)
        .join(Round, Round.id == Member.round_id)
        .where(Round.erased_at.is_not(None), Answer.recording_url.is_not(None))
        .order_by(Answer.id)
    ).all()
    return list(_unique([*answers, *_hotline_recordings(session, cutoff)]))


def forget_recording(session: Session, url: str) -> int:
    """Clear `url` wherever it is stored (answers, hotline messages), once the provider has
    deleted the recording; returns the number of rows cleared."""
    cleared = 0
    for column in (Answer.recording_url, HotlineMessage.recording_url):
        cleared += session.execute(
            update(column.class_)
            .where(column == url)
            .values({column.key: None})
            .execution_options(synchronize_session="fetch")
        ).rowcount
    session.flush()
    return cleared


def has_hashed_opt_outs(session: Session) -> bool:
    """Whether some opt-out keeps only a keyed hash (one cheap indexed query)."""
    return session.scalar(select(exists().where(OptOut.phone.is_(None)))) or False


def restore_opt_outs(session: Session, phones: Iterable[str], hash_key: str) -> int:
    """Put the number back on hash-only opt-outs of `phones`, which are in the system again
    (a new dossier brought them): the plain-number checks of sampling and dialing then block
    them as before. Returns how many hash-only rows matched.

    A restored row keeps exactly one of the two (its number, no hash), as every row does; a
    hash-only row whose number is already on the list as a plain row is dropped instead.
    """
    if not has_hashed_opt_outs(session):
        return 0
    by_hash = {opt_out_hash(hash_key, phone): phone for phone in set(phones) if phone}
    matches: list[tuple[int, str]] = []
    for chunk in _chunks(list(by_hash)):
        matches += [
            (row_id, by_hash[digest])
            for row_id, digest in session.execute(
                select(OptOut.id, OptOut.phone_hash).where(
                    OptOut.phone.is_(None), OptOut.phone_hash.in_(chunk)
                )
            )
        ]
    if not matches:
        return 0
    plain: set[str] = set()
    for chunk in _chunks([phone for _, phone in matches]):
        plain.update(session.scalars(select(OptOut.phone).where(OptOut.phone.in_(chunk))))
    for row_id, phone in matches:
        entry = session.get(OptOut, row_id)
        if phone in plain:
            session.delete(entry)  # the plain row already blocks the number
        else:
            entry.phone, entry.phone_hash = phone, None
    session.flush()
    return len(matches)


def _chunks(values: list[T]) -> Iterator[list[T]]:
    for start in range(0, len(values), BATCH):
        yield values[start : start + BATCH]


def _unique(values: Iterable[str]) -> Iterator[str]:
    seen: set[str] = set()
    for value in values:
        if value not in seen:
            seen.add(value)
            yield value
