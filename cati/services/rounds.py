"""Weekly rounds: draw a stratified sample of eligible citizens, and read rounds back."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    ColumnElement,
    Integer,
    MetaData,
    String,
    Table,
    case,
    cast,
    delete,
    func,
    insert,
    literal,
    null,
    select,
    union_all,
    update,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import UnaryExpression
from sqlalchemy.sql.operators import custom_op

from cati.db import for_large_statements
from cati.domain.calling import calling_period_end
from cati.domain.intake import Channel
from cati.domain.sampling import allocate, sample_size
from cati.domain.weeks import IsoWeek
from cati.models import (
    Answer,
    Attempt,
    AuditEvent,
    Case,
    Member,
    Office,
    OptOut,
    Round,
    RoundOffice,
    RoundStatus,
)
from cati.phone import CALLABLE_TYPES
from cati.services.retention import (
    has_hashed_opt_outs,
    restore_opt_outs,
    serialize_with_retention,
)
from cati.services.users import record_audit

MAX_SEED = 2**63 - 1
# Scratch tables of one sampling run; temporary, so private to its connection.
_SCRATCH = MetaData()
# The eligible cases, one per number. No index: one kept up while the pool fills (700,000 rows
# a week) costs more than all the rest of the sampling.
_POOL = Table(
    "sampling_pool",
    _SCRATCH,
    Column("case_id", Integer),
    Column("office_id", Integer),
    Column("phone", String(20)),
    prefixes=["TEMPORARY"],
)
# Each office's quota, and a sample key that more than `quota` of its pool's cases are likely
# to fall under (see _insert_members).
_QUOTAS = Table(
    "sampling_quotas",
    _SCRATCH,
    Column("office_id", Integer, primary_key=True, autoincrement=False),
    Column("quota", Integer),
    Column("below", BigInteger),
    prefixes=["TEMPORARY"],
)
DEFAULT_RATE = 0.2


class SamplingError(ValueError):
    """A round cannot be sampled safely as things are set up."""


class RoundInUse(ValueError):
    """A round cannot be deleted: calls were made, or interviewers have worked on it."""


@dataclass(frozen=True)
class SamplingOptions:
    flow: str = "mscore"
    mode: str = "ivr"  # ivr: the robot calls; interviewer: the console's queue; web: links
    then_mode: str = "ivr"  # web rounds: who calls those not done on the web (CATI_WEB_THEN)
    rate: float | None = None
    size: int | None = None
    min_per_office: int = 5
    seed: int | None = None
    # The round is called until this long after its week ends, or after it is sampled if later.
    calling_days: int = 14


def get_round(session: Session, week: IsoWeek | str, flow: str) -> Round | None:
    return session.scalar(select(Round).where(Round.week == str(week), Round.flow == flow))


def sample_round(
    session: Session,
    week: IsoWeek,
    options: SamplingOptions,
    *,
    tz: tzinfo,
    resurvey_days: int,
    now: datetime,
    hash_key: str | None = None,
    link_key: str | None = None,
) -> tuple[Round, bool]:
    """Create the round of `week` for `options.flow`; return (round, created).

    1. The frame is every case returned during the week, local time. Opt-outs retention kept
       only as keyed hashes get their number back when the frame brings it again (needs
       `hash_key`), so the plain-number checks below and in the dialer block it.
    2. Eligible: in person, not an immediate result, a callable phone not opted out and not
       sampled by another round whose week starts less than `resurvey_days` away.
    3. One member per phone: the phone's most recently returned eligible dossier.
    4. The sample size is split across offices (`allocate`), and each office's members are its
       eligible cases with the smallest seeded pseudo-random keys.
    All of it runs as set-based SQL; only the per-office counts come back to Python.
    5. A web round's members each get a personal link (`link_key` derives its token; see
       `cati.domain.web_links`).
    An existing round for the same week and flow is returned unchanged; a week that has not
    ended yet is refused (its frame is not complete).
    """
    existing = get_round(session, week, options.flow)
    if existing is not None:
        return existing, False
    start, end = week.bounds_utc(tz)
    if end > now:
        raise SamplingError(
            f"week {week} has not ended yet (it ends {end.astimezone(tz):%a %d/%m/%Y %H:%M} "
            "local time): dossiers returned until then would be left out; sample it afterwards"
        )
    if options.mode == "web" and not link_key:
        raise SamplingError("a web round needs CATI_SECRET_KEY to make its members' links")
    seed = random.SystemRandom().randrange(2**31) if options.seed is None else options.seed

    frame = dict(
        session.execute(
            select(Case.office_id, func.count())
            .where(Case.returned_at >= start, Case.returned_at < end)
            .group_by(Case.office_id)
        ).all()
    )
    serialize_with_retention(session)
    if has_hashed_opt_outs(session):
        if hash_key is None:
            raise SamplingError(
                "CATI_SECRET_KEY: some opt-outs are kept only as keyed hashes; set the key "
                "they were hashed with, or their numbers could be sampled and called"
            )
        frame_phones = (
            select(Case.phone)
            .distinct()
            .where(
                Case.returned_at >= start,
                Case.returned_at < end,
                Case.phone_type.in_([kind.value for kind in CALLABLE_TYPES]),
                Case.phone.is_not(None),
            )
        )
        restore_opt_outs(session, session.scalars(frame_phones).all(), hash_key)
    # The eligible cases are found once, one per number, into a temporary table: counting them
    # and choosing the members both read it.
    connection = session.connection()
    for_large_statements(connection)
    _fill_pool(session, start, end, resurvey_days, frame_size=sum(frame.values()))
    eligible = dict(
        session.execute(select(_POOL.c.office_id, func.count()).group_by(_POOL.c.office_id)).all()
    )
    rate = None if options.size is not None else (options.rate or DEFAULT_RATE)
    total = sample_size(sum(eligible.values()), rate=rate, size=options.size)
    quotas = allocate(eligible, total, options.min_per_office)

    round_ = Round(
        week=str(week),
        flow=options.flow,
        mode=options.mode,
        then_mode=options.then_mode if options.mode == "web" else None,
        status=RoundStatus.OPEN,
        seed=seed,
        rate=rate,
        size=options.size,
        min_per_office=options.min_per_office,
        week_start_at=start,
        week_end_at=end,
        calling_ends_at=calling_period_end(end, now, options.calling_days),
        frame_size=sum(frame.values()),
        eligible=sum(eligible.values()),
        sampled=sum(quotas.values()),
        created_at=now,
    )
    round_.offices = [
        RoundOffice(
            office_id=office_id,
            frame=count,
            eligible=eligible.get(office_id, 0),
            sampled=quotas.get(office_id, 0),
        )
        for office_id, count in sorted(frame.items())
    ]
    session.add(round_)
    session.flush()
    _insert_members(session, round_.id, options.mode, seed, eligible, quotas)
    for table in (_POOL, _QUOTAS):
        table.drop(connection)
    if options.mode == "web":
        from cati.services.web_links import create_links

        create_links(session, round_.id, link_key, now)
    return round_, True


def _fill_pool(session: Session, start, end, resurvey_days: int, frame_size: int) -> None:
    """Fill the pool with the eligible cases returned in [start, end), one per number, in one
    pass over the week (scripts/bench_sampling.py measures it):

    1. the week's callable in-person cases are grouped by number, among marks for the
       excluded numbers (opted out, or sampled by a round whose week starts less than
       `resurvey_days` away) that drop their group: each case is looked at once, and the
       rule "one member per phone" costs no more than that grouping;
    2. a number with several dossiers keeps the latest (by return time, then id), looked up
       by number for those numbers only.
    """
    connection = session.connection()
    for table in (_POOL, _QUOTAS):
        table.drop(connection, checkfirst=True)
        table.create(connection)
    returned_at = Case.returned_at
    if connection.dialect.name == "sqlite" and _mostly_one_week(session, frame_size):
        # SQLite's planner knows nothing of how many cases the week holds and reads them
        # through the return-time index, one table lookup per case: ten times slower than
        # reading the whole table once when the week is most of it (PostgreSQL's statistics
        # make that choice on their own). A unary + keeps it off the index.
        returned_at = UnaryExpression(returned_at, operator=custom_op("+"), type_=returned_at.type)
    week = select(Case.id, Case.office_id, Case.phone).where(
        *_callable_in_person(Case, start, end, returned_at=returned_at)
    )
    opted_out = select(null(), null(), OptOut.phone).where(OptOut.phone.is_not(None))
    window = timedelta(days=resurvey_days)
    recent = (
        select(null(), null(), Member.phone)
        .join(Round, Round.id == Member.round_id)
        .where(
            Round.week_start_at > start - window,
            Round.week_start_at < start + window,
            Member.phone.is_not(None),
        )
    )
    rows = union_all(week, opted_out, recent).subquery()
    numbers = (
        select(
            func.min(rows.c.id).label("case_id"),
            func.min(rows.c.office_id).label("office_id"),
            rows.c.phone,
            func.count(rows.c.id).label("dossiers"),
        )
        .group_by(rows.c.phone)
        .having(func.count() == func.count(rows.c.id))
        .subquery()
    )
    # A number with several dossiers keeps its latest one, looked up by number (for those
    # numbers only: the others' group holds their one dossier).
    shared = numbers.c.dossiers > 1
    latest = (
        select(Case.id)
        .where(Case.phone == numbers.c.phone, *_callable_in_person(Case, start, end))
        .order_by(Case.returned_at.desc(), Case.id.desc())
        .limit(1)
        .correlate_except(Case)
        .scalar_subquery()
    )
    its_office = select(Case.office_id).where(Case.id == latest).correlate_except(Case)
    session.execute(
        insert(_POOL).from_select(
            ["case_id", "office_id", "phone"],
            select(
                case((shared, latest), else_=numbers.c.case_id),
                case((shared, its_office.scalar_subquery()), else_=numbers.c.office_id),
                numbers.c.phone,
            ),
        )
    )


def _mostly_one_week(session: Session, frame_size: int) -> bool:
    """Whether the week's frame is an eighth or more of all the cases (ids are not reused, so
    the highest one is at least how many there are)."""
    return frame_size * 8 >= (session.scalar(select(func.max(Case.id))) or 0)


def _insert_members(
    session: Session,
    round_id: int,
    mode: str,
    seed: int,
    eligible: dict[int, int],
    quotas: dict[int, int],
) -> None:
    """Each office's members: its `quota` eligible cases with the smallest seeded keys (then
    ids), in that order, office after office. Members take the round's mode: an interviewer
    round's are interviewed by people.

    The keys are spread evenly, so an office's members are almost surely among its cases
    whose key is below a bound set a few standard deviations above quota/eligible: only those
    are ranked, in one statement for all the offices, instead of sorting or indexing the whole
    pool. Should an office have fewer cases than its quota below its bound, it is drawn again
    with no bound: the members are exactly those of a full sort, whatever the keys.
    """
    wanted = {office_id: quota for office_id, quota in quotas.items() if quota}
    if not wanted:
        return
    session.execute(
        insert(_QUOTAS),
        [
            {
                "office_id": office_id,
                "quota": quota,
                "below": _key_bound(quota, eligible[office_id]),
            }
            for office_id, quota in sorted(wanted.items())
        ],
    )
    key = _sample_key(_POOL.c.case_id, seed)
    ranked = (
        select(
            _POOL.c.case_id,
            _POOL.c.office_id,
            _POOL.c.phone,
            _QUOTAS.c.quota,
            key.label("sample_key"),
            func.row_number()
            .over(partition_by=_POOL.c.office_id, order_by=(key, _POOL.c.case_id))
            .label("rank"),
        )
        .join(_QUOTAS, _QUOTAS.c.office_id == _POOL.c.office_id)
        .where(key < _QUOTAS.c.below)
        .subquery()
    )
    chosen = (
        select(literal(round_id), ranked.c.case_id, ranked.c.office_id, ranked.c.phone,
               literal(mode))
        .where(ranked.c.rank <= ranked.c.quota)
        .order_by(ranked.c.office_id, ranked.c.sample_key, ranked.c.case_id)  # as ranked
    )  # fmt: skip
    members = (
        insert(Member.__table__)
        .from_select(["round_id", "case_id", "office_id", "phone", "mode"], chosen)
        .execution_options(preserve_rowcount=True)
    )
    if session.execute(members).rowcount == sum(wanted.values()):
        return
    drawn = dict(
        session.execute(
            select(Member.office_id, func.count())
            .where(Member.round_id == round_id)
            .group_by(Member.office_id)
        ).all()
    )
    short = [office_id for office_id, quota in wanted.items() if drawn.get(office_id, 0) < quota]
    if short:
        session.execute(delete(Member).where(Member.round_id == round_id))
        session.execute(
            update(_QUOTAS).where(_QUOTAS.c.office_id.in_(short)).values(below=_KEY_END)
        )
        session.execute(members)


def _key_bound(quota: int, eligible: int) -> int:
    """A sample key that `quota` of `eligible` evenly spread keys fall under with a margin of
    five standard deviations (and twenty cases); every key is below _KEY_END."""
    share = (quota + 5 * math.sqrt(quota) + 20) / eligible
    return _KEY_END if share >= 1 else math.ceil(_KEY_END * share)


def _callable_in_person(
    case, start: datetime, end: datetime, *, returned_at: ColumnElement[datetime] | None = None
) -> tuple[ColumnElement[bool], ...]:
    """Returned in [start, end), in person, not an immediate result, a callable phone
    (`returned_at`: the case's return time as the query should read it)."""
    returned_at = case.returned_at if returned_at is None else returned_at
    return (
        returned_at >= start,
        returned_at < end,
        case.channel == Channel.IN_PERSON.value,
        case.immediate_result.is_(False),
        case.phone_type.in_([kind.value for kind in CALLABLE_TYPES]),
        case.phone.is_not(None),
    )


_P1, _P2, _P3 = 2147483647, 2147483629, 2147483587  # primes just under 2**31
_KEY_END = _P1  # every sample key is below it


def _sample_key(case_id, seed: int) -> ColumnElement[int]:
    """A seeded pseudo-random key per case, computed in SQL identically on SQLite and PostgreSQL.

    A product of independent seeded affine maps modulo primes: no subexpression is repeated
    and every intermediate value stays below 2**62, so 64-bit integer arithmetic never
    overflows on either database.
    """
    rng = random.Random(seed)
    a, b, c = (rng.randrange(1, _P1) for _ in range(3))
    s, t, u = (rng.randrange(0, _P1) for _ in range(3))
    x = cast(case_id, BigInteger)

    def affine(mult: int, add: int, prime: int) -> ColumnElement[int]:
        return ((x % prime) * literal_int(mult) + literal_int(add)) % prime

    mixed = (affine(a, s, _P1) * affine(b, t, _P2)) % _P3
    return (mixed * affine(c, u, _P2)) % _P1


def literal_int(value: int) -> ColumnElement[int]:
    return literal(value, BigInteger, literal_execute=True)


def list_rounds(session: Session) -> list[Round]:
    return list(session.scalars(select(Round).order_by(Round.week.desc(), Round.flow)))


def round_as_dict(session: Session, round_: Round, tz: tzinfo) -> dict[str, Any]:
    """The round as shown by `cati rounds show --json`."""
    offices = session.execute(
        select(
            Office.code, Office.name, RoundOffice.frame, RoundOffice.eligible, RoundOffice.sampled
        )
        .join(Office, Office.id == RoundOffice.office_id)
        .where(RoundOffice.round_id == round_.id)
        .order_by(Office.code)
    ).all()
    members = session.scalars(
        select(Case.dossier_code)
        .join(Member, Member.case_id == Case.id)
        .where(Member.round_id == round_.id)
        .order_by(Case.dossier_code)
    ).all()
    return {
        "id": round_.id,
        "week": round_.week,
        "flow": round_.flow,
        "mode": round_.mode,
        **({"then_mode": round_.then_mode} if round_.mode == "web" else {}),
        "seed": round_.seed,
        "status": round_.status,
        "rate": round_.rate,
        "size": round_.size,
        "min_per_office": round_.min_per_office,
        "week_start": round_.week_start_at.astimezone(tz).isoformat(),
        "week_end": round_.week_end_at.astimezone(tz).isoformat(),
        "created_at": round_.created_at.astimezone(tz).isoformat(),
        "calling_ends_at": round_.calling_ends_at.astimezone(tz).isoformat(),
        "frame_size": round_.frame_size,
        "eligible": round_.eligible,
        "sampled": round_.sampled,
        "offices": [
            {
                "office_code": code,
                "office_name": name,
                "frame": frame,
                "eligible": eligible,
                "sampled": sampled,
            }
            for code, name, frame, eligible, sampled in offices
        ],
        "members": list(members),
    }


def delete_round(session: Session, round_: Round, now: datetime) -> int:
    """Delete a round sampled by mistake, with its members and per-office counts; return how
    many members went with it. The deletion is audited.

    RoundInUse (nothing deleted) once any member has a call attempt (the robot's or an
    interviewer's), an answer, a console lease or an audit entry: what happened to those
    citizens is kept, and the round closes at the end of its calling period instead.
    On PostgreSQL the round's members are locked first, so a dialer or an interviewer cannot
    claim one between the checks and the deletion (SQLite transactions already take the write
    lock when they begin).
    """
    members = select(Member.id).where(Member.round_id == round_.id)
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(Round.id).where(Round.id == round_.id).with_for_update())
        session.execute(members.with_for_update())

    def count(model, *where) -> int:
        return session.scalar(select(func.count()).select_from(model).where(*where))

    attempts = count(Attempt, Attempt.member_id.in_(members))
    if attempts:
        called = session.scalar(
            select(func.count(func.distinct(Attempt.member_id))).where(
                Attempt.member_id.in_(members)
            )
        )
        raise RoundInUse(
            f"round {round_.id} has {attempts} call attempt(s) to {called} member(s); a round "
            "that has been called is kept (it closes at the end of its calling period)"
        )
    answers = count(Answer, Answer.member_id.in_(members))
    leased = count(Member, Member.round_id == round_.id, Member.claimed_by.is_not(None))
    audited = count(AuditEvent, AuditEvent.member_id.in_(members))
    if answers or leased or audited:
        raise RoundInUse(
            f"round {round_.id} has been worked on ({answers} answer(s), {leased} case(s) "
            f"held by interviewers, {audited} audit entries); it is kept"
        )
    removed = session.execute(
        Member.__table__.delete().where(Member.round_id == round_.id)
    ).rowcount
    details = {"round": round_.id, "week": round_.week, "flow": round_.flow, "members": removed}
    session.delete(round_)  # its per-office counts go with it (cascade)
    session.flush()
    record_audit(session, None, "delete_round", details=details, now=now)
    return removed
