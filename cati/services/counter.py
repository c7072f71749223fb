"""Counter ratings (issue 15, section 2): kiosks at the desk, the offices' QR codes, a rating
as the citizen gives it, its integrity flags, and the figures reported apart from rounds.

A rating runs the flow with the same engine and the same screens as the web survey of
sampled members (`walk`, `question_screen`); at the counter, starting is consent, so the
flow's consent question is answered "yes" when the rating starts, and the optional contact
question is never asked (a counter rating is anonymous: no name, no number).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from cati.domain import counter as rules
from cati.domain.flow import Flow, QuestionType
from cati.domain.reports import question_summary
from cati.domain.web_links import is_consent, is_well_formed, new_nonce, token_hash, walk
from cati.models import Case, CounterAnswer, CounterRating, Kiosk, Office, OfficeQr
from cati.services.follow_ups import raise_for_counter_comment
from cati.services.users import record_audit
from cati.services.web_survey import QuestionScreen, question_screen

LOW_SCORE = 3  # a score of this or less asks, without insisting, what went wrong
OFFICER_DAYS = 30  # the officers offered: those on the office's dossiers of these last days
RATING_HOURS = 2  # a rating not touched for this long is not continued
COUNTER_ACCEPTED = "counter_accepted"  # audit actions: a manager counts flagged ratings in
COUNTER_UNACCEPTED = "counter_unaccepted"  # … or leaves them out again


class CounterError(ValueError):
    """A kiosk, office or rating that is not there; the message names it."""


# --------------------------------------------------------------------------------------------
# Kiosks and QR codes
# --------------------------------------------------------------------------------------------


def _office(session: Session, code: str) -> Office:
    office = session.scalar(select(Office).where(Office.code == code))
    if office is None:
        raise CounterError(f"no office with code {code!r} (cati offices list shows them)")
    return office


def kiosk_url(public_url: str, token: str) -> str:
    return f"{public_url.rstrip('/')}/k/{token}"


def qr_url(public_url: str, token: str) -> str:
    return f"{public_url.rstrip('/')}/q/{token}"


def add_kiosk(
    session: Session, office_code: str, name: str | None, now: datetime
) -> tuple[Kiosk, str]:
    """Register a tablet of the office; returns it and its token (shown once, not kept)."""
    office = _office(session, office_code)
    token = rules.new_kiosk_token()
    kiosk = Kiosk(office_id=office.id, name=(name or "").strip() or None,
                  token_hash=token_hash(token), active=True, created_at=now)  # fmt: skip
    session.add(kiosk)
    session.flush()
    return kiosk, token


def list_kiosks(session: Session) -> list[dict[str, Any]]:
    ratings = (
        select(func.count(CounterRating.id))
        .where(CounterRating.kiosk_id == Kiosk.id)
        .scalar_subquery()
    )
    rows = session.execute(
        select(Kiosk, Office.code, ratings).join(Office, Office.id == Kiosk.office_id)
        .order_by(Kiosk.id)
    ).all()  # fmt: skip
    return [
        {
            "id": k.id,
            "office_code": code,
            "name": k.name,
            "active": k.active,
            "created_at": k.created_at,
            "ratings": n,
        }
        for k, code, n in rows
    ]


def disable_kiosk(session: Session, kiosk_id: int) -> Kiosk:
    kiosk = session.get(Kiosk, kiosk_id)
    if kiosk is None:
        raise CounterError(f"no kiosk {kiosk_id} (cati kiosks list shows them)")
    kiosk.active = False
    session.flush()
    return kiosk


def office_token(session: Session, office_code: str, key: str, now: datetime) -> tuple:
    """The office and its QR token, made on first use; derived again afterwards."""
    office = _office(session, office_code)
    qr = session.get(OfficeQr, office.id)
    if qr is None:
        qr = OfficeQr(office_id=office.id, nonce=new_nonce(), token_hash="", created_at=now)
        qr.token_hash = token_hash(rules.derive_office_token(key, office.id, qr.nonce))
        session.add(qr)
        session.flush()
    token = rules.derive_office_token(key, office.id, qr.nonce)
    if token_hash(token) != qr.token_hash:
        raise CounterError(
            "CATI_SECRET_KEY is not the key this office's QR code was made with: the posters "
            "already printed still work; set the former key to print them again"
        )
    return office, token


def open_kiosk(session: Session, token: str) -> Kiosk | None:
    """The active kiosk of this token, or None (unknown, tampered or disabled)."""
    if not is_well_formed(token):
        return None
    return session.scalar(
        select(Kiosk).where(Kiosk.token_hash == token_hash(token), Kiosk.active.is_(True))
    )


def open_office(session: Session, token: str) -> Office | None:
    if not is_well_formed(token):
        return None
    return session.scalar(
        select(Office).join(OfficeQr, OfficeQr.office_id == Office.id)
        .where(OfficeQr.token_hash == token_hash(token))
    )  # fmt: skip


def recent_officers(session: Session, office_id: int, now: datetime) -> list[str]:
    """The receiving officers on the office's dossiers of the last 30 days, by name."""
    since = now - timedelta(days=OFFICER_DAYS)
    names = session.scalars(
        select(Case.officer).distinct()
        .where(Case.office_id == office_id, Case.officer.is_not(None),
               or_(Case.received_at >= since, Case.returned_at >= since))
    ).all()  # fmt: skip
    return sorted({n.strip() for n in names if n and n.strip()})


# --------------------------------------------------------------------------------------------
# A rating as the citizen gives it
# --------------------------------------------------------------------------------------------


def start_rating(
    session: Session,
    flow: Flow,
    *,
    office_id: int,
    kiosk_id: int | None,
    mode: str,
    language: str,
    now: datetime,
    dossier_code: str | None = None,
    officer: str | None = None,
) -> CounterRating:
    """A new rating: the dossier code (optional) is checked and kept either way with the
    check's result; starting is consent (the flow's consent question is answered yes)."""
    code = rules.clean_dossier_code(dossier_code)
    check = None
    if code is not None:
        case = session.execute(
            select(Case.office_id, Case.channel, Case.immediate_result)
            .where(func.upper(Case.dossier_code) == code)
        ).first()  # fmt: skip
        check = rules.check_dossier(office_id, *(case or (None, None, False)))
    if officer is not None and officer not in recent_officers(session, office_id, now):
        officer = None  # only a name offered on the page
    rating = CounterRating(office_id=office_id, kiosk_id=kiosk_id, mode=mode, flow=flow.id,
                           language=language, started_at=now, dossier_code=code,
                           dossier_check=check, officer=officer)  # fmt: skip
    session.add(rating)
    session.flush()
    first = flow.questions[0]
    if is_consent(flow, first):
        agree = next(o.key for o in first.options if o.end is None)
        session.add(CounterAnswer(rating_id=rating.id, question_id=first.id, value=agree,
                                  answered_at=now))  # fmt: skip
        session.flush()
    return rating


def _saved(session: Session, rating_id: int) -> dict[str, tuple[str | None, str | None]]:
    return {
        q: (v, t)
        for q, v, t in session.execute(
            select(CounterAnswer.question_id, CounterAnswer.value, CounterAnswer.text).where(
                CounterAnswer.rating_id == rating_id
            )
        )
    }


def _path(flow: Flow, saved):
    answers = {q: v for q, (v, _) in saved.items() if v is not None}
    skipped = {q for q, (v, _) in saved.items() if v is None}
    return walk(flow, answers, skipped)


def _is_low(flow: Flow, question_id: str, value: str | None) -> bool:
    question = flow.question(question_id)
    return (
        question.type is QuestionType.SCALE
        and value is not None
        and value.isdigit()
        and 0 < int(value) <= LOW_SCORE
    )


@dataclass
class CounterScreen:
    """What a rating shows now: a question, "reason" (what went wrong, after a low score on
    `question`), or "done" (thanks)."""

    state: str
    question: QuestionScreen | None = None
    back: str | None = None
    reason_for: str | None = None
    context: dict[str, str] = field(default_factory=dict)
    title: str = ""
    outcome: str | None = None


def rating_screen(
    session: Session,
    flow: Flow,
    rating: CounterRating,
    *,
    office_name: str,
    language: str,
    labels: Mapping[str, str],
    question_id: str | None = None,
) -> CounterScreen:
    context = {"office": office_name, "procedure": ""}
    saved = _saved(session, rating.id)
    for qid, (value, text) in saved.items():  # a low score not yet asked about
        if text is None and qid in {q.id for q in flow.questions} and _is_low(flow, qid, value):
            return CounterScreen("reason", reason_for=qid, context=context)
    path, run = _path(flow, saved)
    if rating.finished_at is not None or run.outcome is not None or run.asking_contact:
        return CounterScreen("done", context=context)
    target = question_id if question_id in path else path[-1]
    shown = question_screen(flow, target, context, language, labels)
    value, text = saved.get(target, (None, None))
    shown.selected, shown.comment = value, text or ""
    index = path.index(target)
    back = path[index - 1] if index > 0 else None
    if back is not None and is_consent(flow, flow.question(back)):
        back = None  # starting was consent: nothing to go back to
    return CounterScreen("question", question=shown, back=back, context=context)


def answer_rating(
    session: Session,
    flow: Flow,
    rating: CounterRating,
    *,
    question_id: str,
    value: str | None,
    text: str | None,
    now: datetime,
    settings,
) -> tuple[str, str | None]:
    """Save one answer (a key; or a `record` question's typed comment; or, with question
    `reason:<id>`, what went wrong after a low score). Returns ("saved", next question or
    None), ("invalid", why) or ("stale", None): nothing changed."""
    if rating.finished_at is not None:
        return "stale", None
    saved = _saved(session, rating.id)
    if question_id.startswith("reason:"):
        asked = question_id.removeprefix("reason:")
        if asked not in saved or not _is_low(flow, asked, saved[asked][0]):
            return "stale", None
        typed = (text or "").strip()
        if len(typed) > rules.MAX_COMMENT_LENGTH:
            return "invalid", "too_long"
        row = session.get(CounterAnswer, (rating.id, asked))
        row.text = typed
        _touched(session, flow, rating, now, settings)
        if typed:
            raise_for_counter_comment(session, rating.id, rating.office_id, now)
        return "saved", None
    path, run = _path(flow, saved)
    if question_id not in path or run.outcome is not None or run.asking_contact:
        return "stale", None
    question = flow.question(question_id)
    if question.type is QuestionType.RECORD:
        typed = (text or "").strip()
        if len(typed) > rules.MAX_COMMENT_LENGTH:
            return "invalid", "too_long"
        value, stored_text = ("1", typed) if typed else (None, None)
    else:
        if value is None or value not in question.keys or value == "*":
            return "invalid", "choose"
        stored_text = None
    row = session.get(CounterAnswer, (rating.id, question_id))
    if row is None:
        session.add(CounterAnswer(rating_id=rating.id, question_id=question_id, value=value,
                                  text=stored_text, answered_at=now))  # fmt: skip
    else:
        # a changed score is asked about again if low; a comment is replaced
        if row.value != value or question.type is QuestionType.RECORD:
            row.text = stored_text
        row.value, row.answered_at = value, now
    session.flush()
    if stored_text:
        raise_for_counter_comment(session, rating.id, rating.office_id, now)
    path, _ = _path(flow, _saved(session, rating.id))
    _touched(session, flow, rating, now, settings)
    after = path.index(question_id) + 1 if question_id in path else len(path)
    following = path[after] if after < len(path) else None
    return "saved", following if following != path[-1] else None


def _touched(session: Session, flow: Flow, rating: CounterRating, now: datetime, settings):
    rating.answered_at = now
    saved = _saved(session, rating.id)
    _, run = _path(flow, saved)
    pending = any(
        t is None and _is_low(flow, q, v) for q, (v, t) in saved.items()
        if q in {x.id for x in flow.questions}
    )  # fmt: skip
    if (run.outcome is not None or run.asking_contact) and not pending:
        rating.finished_at = now
    session.flush()
    reflag(session, rating, settings)


# --------------------------------------------------------------------------------------------
# Integrity
# --------------------------------------------------------------------------------------------


def policy_of(settings) -> rules.IntegrityPolicy:
    return rules.IntegrityPolicy(
        burst=settings.counter_burst,
        burst_window=timedelta(minutes=settings.counter_burst_minutes),
        opening_hours=settings.opening_hours,
    )


def _facts(session: Session, ratings: list[CounterRating], tz) -> list[rules.RatingFacts]:
    ids = [r.id for r in ratings]
    patterns: dict[int, list] = defaultdict(list)
    for rating_id, q, v in session.execute(
        select(CounterAnswer.rating_id, CounterAnswer.question_id, CounterAnswer.value)
        .where(CounterAnswer.rating_id.in_(ids))
    ):  # fmt: skip
        patterns[rating_id].append((q, v or ""))
    return [
        rules.RatingFacts(
            r.id,
            _source(r.kiosk_id, r.office_id),
            r.started_at.astimezone(tz),
            tuple(sorted(patterns[r.id])) if r.finished_at is not None else None,
            r.dossier_code,
        )
        for r in ratings
    ]


def reflag(session: Session, rating: CounterRating, settings) -> None:
    """Flag again the ratings of the rating's office on its local day (bursts, runs and
    hours lie within a day), and those sharing its dossier code."""
    tz = settings.timezone
    local = rating.started_at.astimezone(tz)
    day = local.replace(hour=0, minute=0, second=0, microsecond=0)
    start, end = day.astimezone(tz), (day + timedelta(days=1)).astimezone(tz)
    same_day = session.scalars(
        select(CounterRating).where(
            CounterRating.office_id == rating.office_id,
            CounterRating.started_at >= start,
            CounterRating.started_at < end,
        )
    ).all()
    flags = rules.flag_ratings(_facts(session, list(same_day), tz), policy_of(settings))
    for other in same_day:
        other.flags = rules.flags_text(flags[other.id])
    if rating.dossier_code:
        sharing = session.scalars(
            select(CounterRating).where(CounterRating.dossier_code == rating.dossier_code)
        ).all()
        if len(sharing) > 1:
            for other in sharing:
                found = set((other.flags or "").split(",")) - {""}
                other.flags = rules.flags_text(found | {rules.DOSSIER_TWICE})
    session.flush()


def accept_rating(session: Session, rating_id: int, by: str, now: datetime) -> CounterRating:
    """A manager counts a flagged rating in the office's figures after all (the command
    line: audited without a user)."""
    rating = session.get(CounterRating, rating_id)
    if rating is None:
        raise CounterError(f"no counter rating {rating_id}")
    rating.accepted_by, rating.accepted_at = by, now
    session.flush()
    record_audit(session, None, COUNTER_ACCEPTED, details={"ratings": [rating_id]}, now=now)
    return rating


def accept_ratings(
    session: Session, rating_ids: Iterable[int], *, by: str, user_id: int | None, now: datetime
) -> list[int]:
    """Count these flagged ratings in their offices' figures after all, recording who
    (`by`, the user's name) and when, and one audit row. Those not flagged or accepted
    already are left as they are; returns the ids accepted now."""
    wanted = sorted(set(rating_ids))
    accepted = []
    for start_at in range(0, len(wanted), 500):
        for rating in session.scalars(
            select(CounterRating).where(
                CounterRating.id.in_(wanted[start_at : start_at + 500]),
                CounterRating.flags.is_not(None),
                CounterRating.accepted_by.is_(None),
            )
        ):
            rating.accepted_by, rating.accepted_at = by, now
            accepted.append(rating.id)
    if accepted:
        accepted.sort()
        session.flush()
        record_audit(session, user_id, COUNTER_ACCEPTED, details={"ratings": accepted}, now=now)
    return accepted


def undo_acceptance(
    session: Session, rating_id: int, *, user_id: int | None, now: datetime
) -> bool:
    """Leave an accepted rating out of its office's figures again (audited); False when it
    was not accepted."""
    rating = session.get(CounterRating, rating_id)
    if rating is None or rating.accepted_by is None:
        return False
    details = {"ratings": [rating_id], "accepted_by": rating.accepted_by}
    rating.accepted_by, rating.accepted_at = None, None
    session.flush()
    record_audit(session, user_id, COUNTER_UNACCEPTED, details=details, now=now)
    return True


@dataclass(frozen=True)
class FlaggedRating:
    """A flagged counter rating as a manager reviews it: never a phone number or a name;
    `answers` the keys given (consent left out), `finished` False for a partial rating."""

    id: int
    started_at: datetime
    office_code: str
    office_name: str
    mode: str
    kiosk_id: int | None
    kiosk_name: str | None
    flags: tuple[str, ...]
    answers: dict[str, str | None]
    finished: bool
    dossier_code: str | None
    dossier_check: str | None
    accepted_by: str | None
    accepted_at: datetime | None


def flagged_ratings(
    session: Session,
    flow: Flow | None,
    *,
    window: timedelta,
    start: datetime | None = None,
    end: datetime | None = None,
    office_code: str | None = None,
    accepted: bool = False,
    ids: Iterable[int] | None = None,
    limit: int | None = None,
) -> list[list[FlaggedRating]]:
    """The flagged ratings waiting for a manager (or, `accepted`, those a manager
    accepted), started in [start, end), of one office or all, or just `ids`: the ones the
    figures count as flagged (with an answer beyond consent), in the groups read together
    (one kiosk or QR code, each within `window` of the one before or with the same answers
    in a run: a burst, a run is one group), by office name then time. At most `limit`
    ratings, the earliest."""
    query = (
        select(CounterRating, Office.code, Office.name, Kiosk.name)
        .join(Office, Office.id == CounterRating.office_id)
        .outerjoin(Kiosk, Kiosk.id == CounterRating.kiosk_id)
        .where(CounterRating.flags.is_not(None))
        .where(
            CounterRating.accepted_by.is_not(None)
            if accepted
            else CounterRating.accepted_by.is_(None)
        )
        .order_by(CounterRating.started_at, CounterRating.id)
    )
    if start is not None:
        query = query.where(CounterRating.started_at >= start)
    if end is not None:
        query = query.where(CounterRating.started_at < end)
    if office_code:
        query = query.where(Office.code == office_code)
    if ids is not None:
        query = query.where(CounterRating.id.in_(sorted(set(ids))))
    rows = session.execute(query).all()
    answered = _answers(session, [r.id for r, *_ in rows], _consent_of(flow))
    found = {}
    for rating, code, name, kiosk_name in rows:
        if not answered.get(rating.id):
            continue  # opened and left before the first question: not in the figures
        found[rating.id] = FlaggedRating(
            id=rating.id, started_at=rating.started_at, office_code=code,
            office_name=name or code, mode=rating.mode, kiosk_id=rating.kiosk_id,
            kiosk_name=kiosk_name, flags=tuple(rating.flags.split(",")),
            answers=answered[rating.id], finished=rating.finished_at is not None,
            dossier_code=rating.dossier_code, dossier_check=rating.dossier_check,
            accepted_by=rating.accepted_by, accepted_at=rating.accepted_at,
        )  # fmt: skip
        if limit is not None and len(found) >= limit:
            break
    groups = rules.read_together(
        ((r.id, _source(r.kiosk_id, r.office_code), r.started_at, _run(r)) for r in found.values()),
        window,
    )
    batches = [[found[i] for i in group] for group in groups]
    batches.sort(key=lambda b: (b[0].office_name, b[0].started_at, b[0].id))
    return batches


def _run(rating: FlaggedRating) -> tuple | None:
    """What a rating in a run of identical answers shares with the others of the run."""
    if rules.SAME_ANSWERS not in rating.flags:
        return None
    return tuple(sorted(rating.answers.items()))


def _source(kiosk_id: int | None, office: Any) -> tuple[str, Any]:
    return (rules.KIOSK, kiosk_id) if kiosk_id is not None else (rules.QR, office)


def _consent_of(flow: Flow | None) -> str | None:
    return flow.questions[0].id if flow and is_consent(flow, flow.questions[0]) else None


def _answers(
    session: Session, ids: list[int], consent: str | None
) -> dict[int, dict[str, str | None]]:
    """The keys of each rating's answers, the consent question left out."""
    answered: dict[int, dict[str, str | None]] = defaultdict(dict)
    for start_at in range(0, len(ids), 500):
        for rating_id, q, v in session.execute(
            select(CounterAnswer.rating_id, CounterAnswer.question_id, CounterAnswer.value)
            .where(CounterAnswer.rating_id.in_(ids[start_at : start_at + 500]))
        ):  # fmt: skip
            if q != consent:
                answered[rating_id][q] = v
    return answered


# --------------------------------------------------------------------------------------------
# Figures, apart from rounds
# --------------------------------------------------------------------------------------------


def self_selected(
    session: Session, flow: Flow | None, start: datetime, end: datetime
) -> list[dict[str, Any]]:
    """Per office (code and name) and mode: `n` ratings counted (with at least one answer
    beyond consent, not flagged or accepted by a manager), `flagged` (left out, not
    accepted), `accepted`, `partial` (of those counted), and the question statistics of the
    counted ones, as the rounds report them (`question_summary`, the flow's scale and
    `satisfied_from`)."""
    ratings = session.execute(
        select(CounterRating.id, Office.code, CounterRating.mode, CounterRating.flags,
               CounterRating.accepted_by, CounterRating.finished_at, Office.name)
        .join(Office, Office.id == CounterRating.office_id)
        .where(CounterRating.started_at >= start, CounterRating.started_at < end)
    ).all()  # fmt: skip
    consent = _consent_of(flow)
    answered = _answers(session, [r.id for r in ratings], consent)
    groups: dict[tuple[str, str], dict[str, Any]] = {}
    names: dict[str, str] = {}
    for rating_id, code, mode, flags, accepted, finished, name in ratings:
        names[code] = name
        if not answered.get(rating_id):
            continue  # opened and left before the first question
        empty = {"n": 0, "flagged": 0, "accepted": 0, "partial": 0, "keys": defaultdict(dict)}
        group = groups.setdefault((code, mode), empty)
        if flags and not accepted:
            group["flagged"] += 1
            continue
        group["accepted"] += bool(flags)
        group["n"] += 1
        group["partial"] += finished is None
        for q, v in answered[rating_id].items():
            keys = group["keys"][q]
            keys[v] = keys.get(v, 0) + 1
    result = []
    for (code, mode), group in sorted(groups.items()):
        questions = {}
        if flow is not None:
            for q in flow.questions:
                if q.type.value in ("scale", "yes_no", "choice") and q.id != consent:
                    scores = [int(k) for k in q.keys if k.isdigit() and k != "0"]
                    scale = (min(scores), max(scores)) if scores else (1, 9)
                    questions[q.id] = question_summary(
                        q.type.value, group["keys"].get(q.id, {}), scale, q.satisfied_from
                    )
        result.append({"office_code": code, "office_name": names[code], "mode": mode,
                       "n": group["n"],
                       "flagged": group["flagged"], "accepted": group["accepted"],
                       "partial": group["partial"], "questions": questions})  # fmt: skip
    return result
