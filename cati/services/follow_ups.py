"""Follow-ups: raised when an answer that needs action is saved (or a hotline message comes
in), listed, shown and handled with every change audited, and counted for the reports.

Raising is idempotent under duplicated webhooks and concurrent requests: the follow-up row is
inserted with ON CONFLICT DO NOTHING on its unique source (the member, the hotline message),
and so is each reason, so a repeat finds the work done and two racing requests make one row.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, and_, bindparam, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from cati.db import Prepared
from cati.domain.flow import CONTACT_CONSENT, YES, Flow
from cati.domain.follow_ups import (
    COMMENT,
    HOTLINE_MESSAGE,
    OPEN,
    STATUSES,
    DeadlinePolicy,
    Handling,
    Status,
    check_transition,
    is_overdue,
    summarize,
)
from cati.models import (
    Answer,
    Case,
    CounterAnswer,
    DigestSend,
    FollowUp,
    FollowUpChange,
    FollowUpReason,
    HotlineMessage,
    Member,
    Office,
    Round,
    User,
)

OPEN_FILTER = "open"
STATUS_FILTERS = (OPEN_FILTER, *STATUSES)


class FollowUpError(LookupError):
    """No such follow-up (or not one this user may see), no such office, a bad address."""


def deadlines(session: Session) -> DeadlinePolicy:
    """The deadline policy of this unit of work (the runtime sets it from the settings)."""
    return session.info.get("follow_up_deadlines") or DeadlinePolicy()


def _insert(session: Session):
    return postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


# --------------------------------------------------------------------------------------------
# Raising
# --------------------------------------------------------------------------------------------


def raise_for_answer(
    session: Session,
    flow: Flow,
    member_id: int,
    question_id: str,
    value: str | None,
    now: datetime,
    *,
    office_id: int | None = None,
) -> int | None:
    """`answer_follow_up` in the session's unit of work (what it added is flushed first)."""
    if session.new:
        session.flush()
    return answer_follow_up(
        session.connection(), deadlines(session), flow, member_id, question_id, value, now,
        office_id=office_id,
    )  # fmt: skip


# Built once: the IVR's turns run them (building an ORM statement there cost more than the
# rest of the turn, scripts/bench_ivr_cpu.py).
_CONTACT_CHOICE = Prepared(
    update(FollowUp.__table__)
    .where(FollowUp.__table__.c.member_id == bindparam("member"))
    .values(contact_allowed=bindparam("allowed"), updated_at=bindparam("at"))
    .returning(FollowUp.__table__.c.id)
)
_OFFICE_OF_MEMBER = Prepared(
    select(Member.__table__.c.office_id).where(Member.__table__.c.id == bindparam("member"))
)


def answer_follow_up(
    connection: Connection,
    policy: DeadlinePolicy,
    flow: Flow,
    member_id: int,
    question_id: str,
    value: str | None,
    now: datetime,
    *,
    office_id: int | None = None,
) -> int | None:
    """Raise (or add a reason to) the member's follow-up when this answer calls for one, as
    the flow declares; the follow-up's id, or None (no query is made then). Reasons are only
    ever added: a corrected answer leaves the follow-up for the office to close. The
    member's office is read unless the caller gives it (`office_id`); the deadline is the
    `policy`'s.

    The contact question's answer (`CONTACT_CONSENT`) is recorded on the follow-up as
    `contact_allowed` instead."""
    if question_id == CONTACT_CONSENT and flow.contact_consent is not None:
        if not value:
            return None
        changed = _CONTACT_CHOICE.rows(
            connection, {"member": member_id, "allowed": value == YES, "at": now}
        )
        return changed[0][0] if changed else None
    if question_id not in {q.id for q in flow.questions}:
        return None
    reason = flow.question(question_id).follow_up_reason(value)
    if reason is None:
        return None
    if office_id is None:
        office_id = _OFFICE_OF_MEMBER.rows(connection, {"member": member_id})[0][0]
    return _raise(
        connection, policy, FollowUp.member_id, member_id, office_id, [(reason, question_id)], now
    )


def raise_for_hotline_message(session: Session, message_id: int, now: datetime) -> int:
    """A message left on the hotline becomes a follow-up (`hotline_message`) for the office of
    the caller's latest dossier, or for the managers when the number matches none."""
    caller = session.scalar(select(HotlineMessage.caller).where(HotlineMessage.id == message_id))
    office_id = None
    if caller:
        office_id = session.scalar(
            select(Case.office_id)
            .where(Case.phone == caller)
            .order_by(Case.returned_at.desc().nulls_last(), Case.id.desc())
            .limit(1)
        )
    session.flush()  # the message first (the follow-up's foreign key)
    return _raise(
        session.connection(),
        deadlines(session),
        FollowUp.hotline_message_id,
        message_id,
        office_id,
        [(HOTLINE_MESSAGE, "hotline")],
        now,
    )


def raise_for_counter_comment(
    session: Session, rating_id: int, office_id: int, now: datetime
) -> int:
    """A counter rating's typed comment (the comment question, or what went wrong after a low
    score) becomes the rating's follow-up (`comment`) for its office; raised once."""
    session.flush()  # the rating first (the follow-up's foreign key)
    return _raise(session.connection(), deadlines(session), FollowUp.counter_rating_id,
                  rating_id, office_id, [(COMMENT, "counter")], now)  # fmt: skip


def _raise(
    connection: Connection,
    policy: DeadlinePolicy,
    source_column,
    source_id: int,
    office_id: int | None,
    reasons: Iterable[tuple[str, str]],
    now: datetime,
) -> int:
    """Raise the follow-up of a source (once) with its reasons, with statements compiled once
    per database kind and source: an IVR turn raising one must not pay for building them and
    their cache keys (scripts/bench_ivr_cpu.py)."""
    raise_, find, audit, add_reason = _raise_statements(connection.dialect.name, source_column.key)
    created = raise_.rows(
        connection,
        {
            "source": source_id,
            "office": office_id,
            "new": Status.NEW.value,
            "raised": now,
            "due": policy.due_at(now),
            "updated": now,
        },
    )
    follow_up_id = (created or find.rows(connection, {"source": source_id}))[0][0]
    if created:
        audit.run(connection, {"fid": follow_up_id, "at": now, "new": Status.NEW.value})
    for reason, source in reasons:
        add_reason.run(connection, {"fid": follow_up_id, "why": reason, "src": source, "at": now})
    return follow_up_id


@lru_cache(maxsize=8)
def _raise_statements(dialect: str, source: str) -> tuple:
    """INSERT of the follow-up (nothing on a repeat, RETURNING its id), SELECT of the existing
    one, INSERT of its first audit entry, INSERT of a reason (nothing on a repeat)."""
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    follow_ups, changes = FollowUp.__table__, FollowUpChange.__table__
    reasons = FollowUpReason.__table__
    raise_ = (
        insert(follow_ups)
        .values(
            {
                source: bindparam("source"),
                "office_id": bindparam("office"),
                "status": bindparam("new"),
                "raised_at": bindparam("raised"),
                "due_at": bindparam("due"),
                "updated_at": bindparam("updated"),
            }
        )
        .on_conflict_do_nothing(index_elements=[source])
        .returning(follow_ups.c.id)
    )
    find = select(follow_ups.c.id).where(follow_ups.c[source] == bindparam("source"))
    audit = changes.insert().values(
        follow_up_id=bindparam("fid"),
        user_id=None,
        at=bindparam("at"),
        from_status=None,
        to_status=bindparam("new"),
        note=None,
    )
    add_reason = (
        insert(reasons)
        .values(
            follow_up_id=bindparam("fid"),
            reason=bindparam("why"),
            source=bindparam("src"),
            raised_at=bindparam("at"),
        )
        .on_conflict_do_nothing(index_elements=["follow_up_id", "reason", "source"])
    )
    return Prepared(raise_), Prepared(find), Prepared(audit), Prepared(add_reason)


# --------------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------------


@dataclass
class FollowUpView:
    """A follow-up as the command line and the pages show it. The identity fields (name,
    phone, dossier code, voice recordings) are None unless the reader may see them."""

    id: int
    office_id: int | None
    office_code: str | None
    office_name: str | None
    reasons: list[str]
    sources: list[str]
    status: str
    raised_at: datetime
    due_at: datetime
    overdue: bool
    contact_allowed: bool | None
    closed_at: datetime | None
    note: str | None
    callback_satisfied: bool | None
    kind: str  # member | hotline | counter
    round_week: str | None = None
    procedure: str | None = None
    officer: str | None = None
    received_at: datetime | None = None
    returned_at: datetime | None = None
    identity_shown: bool = False
    dossier_code: str | None = None
    citizen_name: str | None = None
    phone: str | None = None
    recordings: list[str] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)  # what the citizen typed
    changes: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self, tz) -> dict[str, Any]:
        def when(moment: datetime | None) -> str | None:
            return moment.astimezone(tz).isoformat() if moment else None

        return {
            "id": self.id,
            "dossier_code": self.dossier_code,
            "office_code": self.office_code,
            "reasons": self.reasons,
            "status": self.status,
            "raised_at": when(self.raised_at),
            "due_at": when(self.due_at),
            "contact_allowed": self.contact_allowed,
            "overdue": self.overdue,
            "closed_at": when(self.closed_at),
            "note": self.note,
            "callback_satisfied": self.callback_satisfied,
        }


def may_see_identity(contact_allowed: bool | None, *, manager: bool) -> bool:
    """Managers see who the citizen is; an office only when the citizen agreed to be
    contacted."""
    return manager or contact_allowed is True


def list_follow_ups(
    session: Session,
    *,
    now: datetime,
    office_code: str | None = None,
    office_id: int | None = None,
    status: str | None = None,
    overdue: bool = False,
    manager: bool = True,
) -> list[FollowUpView]:
    """Follow-ups, overdue and oldest first, filtered by office, status (or `open`) and
    whether they are overdue."""
    query = select(FollowUp).order_by(FollowUp.due_at, FollowUp.id)
    if office_code is not None:
        office_id_of_code = session.scalar(select(Office.id).where(Office.code == office_code))
        if office_id_of_code is None:
            raise FollowUpError(f"no office with code {office_code!r}")
        query = query.where(FollowUp.office_id == office_id_of_code)
    if office_id is not None or not manager:
        if office_id is None:
            return []  # an office user without an office sees nothing
        query = query.where(FollowUp.office_id == office_id)
    if status == OPEN_FILTER or overdue:
        query = query.where(FollowUp.status.in_([s.value for s in OPEN]))
    if status not in (None, OPEN_FILTER):
        if status not in STATUSES:
            raise FollowUpError(f"status {status!r} is not valid: use {', '.join(STATUS_FILTERS)}")
        query = query.where(FollowUp.status == status)
    if overdue:
        query = query.where(FollowUp.due_at < now)
    rows = list(session.scalars(query))
    return _views(session, rows, now, manager=manager, detailed=False)


def get_follow_up(
    session: Session,
    follow_up_id: int,
    *,
    now: datetime,
    office_id: int | None = None,
    manager: bool = True,
) -> FollowUpView:
    """One follow-up with its history; `office_id` restricts to that office's (any other is
    'not found', so an office learns nothing of another's)."""
    row = session.get(FollowUp, follow_up_id)
    if row is None or (not manager and (office_id is None or row.office_id != office_id)):
        raise FollowUpError(f"no follow-up {follow_up_id}")
    return _views(session, [row], now, manager=manager, detailed=True)[0]


def _views(
    session: Session, rows: list[FollowUp], now: datetime, *, manager: bool, detailed: bool
) -> list[FollowUpView]:
    if not rows:
        return []
    ids = [row.id for row in rows]
    reasons: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for fid, reason, source in session.execute(
        select(FollowUpReason.follow_up_id, FollowUpReason.reason, FollowUpReason.source)
        .where(FollowUpReason.follow_up_id.in_(ids))
        .order_by(FollowUpReason.id)
    ):
        reasons[fid].append((reason, source))
    offices = {
        office.id: office
        for office in session.scalars(
            select(Office).where(Office.id.in_({r.office_id for r in rows if r.office_id}))
        )
    }
    member_ids = [row.member_id for row in rows if row.member_id]
    members = {
        member.id: (member, case, week)
        for member, case, week in session.execute(
            select(Member, Case, Round.week)
            .join(Case, Case.id == Member.case_id)
            .join(Round, Round.id == Member.round_id)
            .where(Member.id.in_(member_ids))
        )
    }
    hotline = {
        message.id: message
        for message in session.scalars(
            select(HotlineMessage).where(
                HotlineMessage.id.in_([r.hotline_message_id for r in rows if r.hotline_message_id])
            )
        )
    }
    comments: dict[tuple[str, int], list[str]] = defaultdict(list)
    if detailed:
        # What the citizen typed is the substance of the follow-up, not their identity.
        for member_id, text in session.execute(
            select(Answer.member_id, Answer.text).where(
                Answer.member_id.in_(member_ids), Answer.text.is_not(None), Answer.text != ""
            )
        ):
            comments["member", member_id].append(text)
        rating_ids = [row.counter_rating_id for row in rows if row.counter_rating_id]
        for rating_id, text in session.execute(
            select(CounterAnswer.rating_id, CounterAnswer.text).where(
                CounterAnswer.rating_id.in_(rating_ids),
                CounterAnswer.text.is_not(None),
                CounterAnswer.text != "",
            )
        ):
            comments["counter", rating_id].append(text)
    recordings: dict[int, list[str]] = defaultdict(list)
    if detailed and member_ids:
        for member_id, url in session.execute(
            select(Answer.member_id, Answer.recording_url).where(
                Answer.member_id.in_(member_ids), Answer.recording_url.is_not(None)
            )
        ):
            recordings[member_id].append(url)
    views = []
    for row in rows:
        office = offices.get(row.office_id)
        shown = may_see_identity(row.contact_allowed, manager=manager)
        listed = list(dict.fromkeys(reason for reason, _ in reasons[row.id]))
        view = FollowUpView(
            id=row.id,
            office_id=row.office_id,
            office_code=office.code if office else None,
            office_name=(office.name or office.code) if office else None,
            reasons=listed,
            sources=[source for _, source in reasons[row.id]],
            status=row.status,
            raised_at=row.raised_at,
            due_at=row.due_at,
            overdue=is_overdue(row.status, row.due_at, now),
            contact_allowed=row.contact_allowed,
            closed_at=row.closed_at,
            note=row.note,
            callback_satisfied=row.callback_satisfied,
            kind="member" if row.member_id else ("counter" if row.counter_rating_id else "hotline"),
            identity_shown=shown,
        )
        view.comments = comments[
            ("member", row.member_id) if row.member_id else ("counter", row.counter_rating_id)
        ]
        if row.member_id in members:
            member, case, week = members[row.member_id]
            view.round_week = week
            view.procedure = case.procedure_name or case.procedure_code
            view.officer = case.officer
            view.received_at, view.returned_at = case.received_at, case.returned_at
            if shown:
                view.dossier_code = case.dossier_code
                view.citizen_name = case.citizen_name
                view.phone = member.phone or case.phone
                view.recordings = recordings[member.id]
        elif row.hotline_message_id in hotline:
            message = hotline[row.hotline_message_id]
            view.received_at = message.received_at
            if shown:
                view.phone = message.caller
                view.recordings = [message.recording_url] if message.recording_url else []
        if detailed:
            view.changes = _changes(session, row.id)
        views.append(view)
    return views


def _changes(session: Session, follow_up_id: int) -> list[dict[str, Any]]:
    return [
        {"at": at, "user": username, "from": before, "to": after, "note": note}
        for at, username, before, after, note in session.execute(
            select(
                FollowUpChange.at,
                User.username,
                FollowUpChange.from_status,
                FollowUpChange.to_status,
                FollowUpChange.note,
            )
            .outerjoin(User, User.id == FollowUpChange.user_id)
            .where(FollowUpChange.follow_up_id == follow_up_id)
            .order_by(FollowUpChange.id)
        )
    ]


# --------------------------------------------------------------------------------------------
# Handling
# --------------------------------------------------------------------------------------------


def update_status(
    session: Session,
    follow_up_id: int,
    status: str,
    note: str | None,
    *,
    user_id: int | None,
    now: datetime,
    office_id: int | None = None,
    manager: bool = True,
) -> FollowUp:
    """Change a follow-up's status, audited. `FollowUpError` when there is no such follow-up
    for this user, `TransitionError` when the change is not allowed (closing needs a note).
    The row is locked while it changes, so two clerks cannot both close it."""
    row = session.scalar(select(FollowUp).where(FollowUp.id == follow_up_id).with_for_update())
    if row is None or (not manager and (office_id is None or row.office_id != office_id)):
        raise FollowUpError(f"no follow-up {follow_up_id}")
    after, note = check_transition(row.status, status, note)
    before = row.status
    row.status = after.value
    row.updated_at = now
    row.closed_at = None if after in OPEN else now
    if note is not None:
        row.note = note
    session.add(
        FollowUpChange(
            follow_up_id=row.id,
            user_id=user_id,
            at=now,
            from_status=before,
            to_status=after.value,
            note=note,
        )
    )
    session.flush()
    return row


# --------------------------------------------------------------------------------------------
# Offices and reports
# --------------------------------------------------------------------------------------------


def set_office_email(session: Session, code: str, address: str) -> Office:
    """Set the address an office's daily digest goes to (an empty one stops it)."""
    office = session.scalar(select(Office).where(Office.code == code.strip()))
    if office is None:
        raise FollowUpError(f"no office with code {code!r}")
    address = address.strip()
    if address and not re.fullmatch(r"[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+", address):
        raise FollowUpError(f"{address!r} is not an email address like motcua@dongha.gov.vn")
    if len(address) > 254:
        raise FollowUpError("an email address is at most 254 characters")
    office.email = address or None
    session.flush()
    return office


def follow_up_figures(
    session: Session,
    *,
    now: datetime,
    round_id: int | None = None,
    raised_from: datetime | None = None,
    raised_before: datetime | None = None,
) -> dict[str, Any]:
    """The follow-ups' figures, in all and per office (`summarize`): those raised from a
    round's members, or raised in [raised_from, raised_before) (a period of weeks), or every
    one. The report JSON's `follow_ups`."""
    query = select(
        FollowUp.office_id,
        FollowUp.status,
        FollowUp.raised_at,
        FollowUp.due_at,
        FollowUp.closed_at,
        FollowUp.callback_satisfied,
    )
    if round_id is not None:
        query = query.join(Member, Member.id == FollowUp.member_id).where(
            Member.round_id == round_id
        )
    if raised_from is not None:
        query = query.where(FollowUp.raised_at >= raised_from)
    if raised_before is not None:
        query = query.where(FollowUp.raised_at < raised_before)
    by_office: dict[int | None, list[Handling]] = defaultdict(list)
    for office_id, *handling in session.execute(query):
        by_office[office_id].append(Handling(*handling))
    offices = {
        office.id: office
        for office in session.scalars(select(Office).where(Office.id.in_(set(by_office) - {None})))
    }
    every = [item for items in by_office.values() for item in items]
    return {
        **summarize(every, now),
        "offices": [
            {
                "office_code": offices[office_id].code if office_id else None,
                "office_name": offices[office_id].name if office_id else None,
                **summarize(items, now),
            }
            for office_id, items in sorted(
                by_office.items(), key=lambda kv: offices[kv[0]].code if kv[0] else "\uffff"
            )
        ],
    }


# --------------------------------------------------------------------------------------------
# Closing the loop: calling the citizen back
# --------------------------------------------------------------------------------------------

CALLBACK_LEASE = timedelta(minutes=20)


class CallbackError(LookupError):
    """The callback is not this interviewer's (released, expired, taken, done) or the answer
    is not one of yes, no."""


def _callback_due(now: datetime):
    """Resolved, the citizen agreed to be contacted, not called back yet, and free (never
    claimed, or its lease has run out)."""
    return and_(
        FollowUp.status == Status.RESOLVED.value,
        FollowUp.contact_allowed.is_(True),
        FollowUp.callback_at.is_(None),
        or_(
            FollowUp.callback_claimed_by.is_(None),
            FollowUp.callback_lease_expires_at <= now,
        ),
    )


def _callable():
    """Callbacks go to members with a number (a hotline caller is never asked for consent)."""
    return (
        select(FollowUp.id)
        .join(Member, Member.id == FollowUp.member_id)
        .where(Member.phone.is_not(None))
    )


def callbacks_due(session: Session, now: datetime) -> int:
    """How many resolved follow-ups wait for their citizen to be called back."""
    due = _callable().where(_callback_due(now)).subquery()
    return session.scalar(select(func.count()).select_from(due))


def held_callback(session: Session, user_id: int, now: datetime) -> int | None:
    """The callback this interviewer holds now, if any."""
    return session.scalar(
        select(FollowUp.id).where(
            FollowUp.callback_claimed_by == user_id,
            FollowUp.callback_at.is_(None),
            FollowUp.callback_lease_expires_at > now,
        )
    )


def claim_next_callback(
    session: Session, user_id: int, now: datetime, *, callable_now: bool = True
) -> int | None:
    """Give the interviewer the next citizen to call back, the longest resolved first.

    As for survey cases: a compare-and-set on the follow-up (SKIP LOCKED candidates on
    PostgreSQL), so two interviewers clicking at once never get the same citizen, with a
    lease that lapses when the screen is abandoned. Outside calling hours
    (`callable_now` False) nothing is handed out."""
    mine = held_callback(session, user_id, now)
    if mine is not None:
        return mine
    if not callable_now:
        return None
    candidates = _callable().where(_callback_due(now)).order_by(FollowUp.closed_at, FollowUp.id)
    if session.get_bind().dialect.name == "postgresql":
        candidates = candidates.limit(1).with_for_update(of=FollowUp, skip_locked=True)
    else:
        candidates = candidates.limit(20)
    for follow_up_id in session.scalars(candidates).all():
        won = session.execute(
            update(FollowUp)
            .where(FollowUp.id == follow_up_id, _callback_due(now))
            .values(callback_claimed_by=user_id, callback_lease_expires_at=now + CALLBACK_LEASE)
            .execution_options(synchronize_session=False)
        ).rowcount
        if won:
            session.expire_all()  # the compare-and-set bypassed the identity map
            _audit(session, user_id, "claim_callback", follow_up_id, now)
            return follow_up_id
    return None


def _held_callback_row(session: Session, follow_up_id: int, user_id: int, now: datetime):
    row = session.get(FollowUp, follow_up_id)
    if row is None or row.callback_claimed_by != user_id or row.callback_at is not None:
        raise CallbackError(f"callback {follow_up_id} is not yours to make")
    if row.callback_lease_expires_at <= now:  # lapsed but nobody took it: still yours
        row.callback_lease_expires_at = now + CALLBACK_LEASE
    return row


@dataclass
class CallbackView:
    """What the interviewer needs to call a citizen back: who, about what, what was done."""

    id: int
    citizen_name: str | None
    phone: str | None
    office_name: str | None
    procedure: str | None
    reasons: list[str]
    raised_at: datetime
    closed_at: datetime | None
    note: str | None  # the closing note: what the office did
    lease_expires_at: datetime


def get_callback(session: Session, follow_up_id: int, user_id: int, now: datetime) -> CallbackView:
    """The callback this interviewer holds (`CallbackError` otherwise)."""
    row = _held_callback_row(session, follow_up_id, user_id, now)
    [view] = _views(session, [row], now, manager=True, detailed=False)
    return CallbackView(
        id=row.id,
        citizen_name=view.citizen_name,
        phone=view.phone,
        office_name=view.office_name,
        procedure=view.procedure,
        reasons=view.reasons,
        raised_at=row.raised_at,
        closed_at=row.closed_at,
        note=row.note,
        lease_expires_at=row.callback_lease_expires_at,
    )


def parse_satisfied(text: str | None) -> bool:
    value = (text or "").strip().lower()
    if value not in ("yes", "no"):
        raise CallbackError("say whether the citizen is satisfied: yes or no")
    return value == "yes"


def record_callback(
    session: Session, follow_up_id: int, user_id: int, satisfied: bool, now: datetime
) -> FollowUp:
    """The citizen's answer: satisfied or not with how their follow-up was handled (what
    Decision 766 indicator 5.3 counts). The callback leaves the queue."""
    row = _held_callback_row(session, follow_up_id, user_id, now)
    row.callback_satisfied, row.callback_at = satisfied, now
    row.callback_claimed_by = row.callback_lease_expires_at = None
    session.flush()
    _audit(session, user_id, "record_callback", follow_up_id, now, row.member_id,
           satisfied="yes" if satisfied else "no")  # fmt: skip
    return row


def release_callback(session: Session, follow_up_id: int, user_id: int, now: datetime) -> None:
    """Back to the queue without an answer (the citizen could not be reached)."""
    row = _held_callback_row(session, follow_up_id, user_id, now)
    row.callback_claimed_by = row.callback_lease_expires_at = None
    session.flush()
    _audit(session, user_id, "release_callback", follow_up_id, now, row.member_id)


def _audit(session, user_id, action, follow_up_id, now, member_id=None, **details) -> None:
    from cati.services.users import record_audit

    if member_id is None:
        member_id = session.scalar(select(FollowUp.member_id).where(FollowUp.id == follow_up_id))
    record_audit(session, user_id, action, member_id=member_id,
                 details={"follow_up": follow_up_id, **details}, now=now)  # fmt: skip


# --------------------------------------------------------------------------------------------
# The daily digest: once per office and local day
# --------------------------------------------------------------------------------------------


def claim_digest(
    session: Session, office_id: int, day: date, now: datetime, *, new: int, overdue: int
) -> int | None:
    """Take today's digest of an office before mailing it: the claim's id, or None when it
    was sent (or is being sent) already today. The row's uniqueness (office, day) settles a
    job run twice at once; `forget_digest` gives a claim back when the mail could not go."""
    return session.execute(
        _insert(session)(DigestSend)
        .values(office_id=office_id, day=day, sent_at=now, new_count=new, overdue_count=overdue)
        .on_conflict_do_nothing(index_elements=["office_id", "day"])
        .returning(DigestSend.id)
    ).scalar()


def forget_digest(session: Session, claim_ids: Iterable[int]) -> None:
    """Give back digests that were claimed but not sent, so that a later run sends them."""
    ids = list(claim_ids)
    if ids:
        session.execute(DigestSend.__table__.delete().where(DigestSend.id.in_(ids)))
        session.flush()
