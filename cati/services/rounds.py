"""Weekly rounds: draw a stratified sample of eligible citizens, and read rounds back."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, and_, cast, exists, func, insert, literal, select
from sqlalchemy.orm import Session, aliased

from cati.domain.intake import Channel
from cati.domain.sampling import allocate, sample_size
from cati.domain.weeks import IsoWeek
from cati.models import Case, Member, Office, OptOut, Round, RoundOffice, RoundStatus
from cati.phone import PhoneType

MAX_SEED = 2**63 - 1
DEFAULT_RATE = 0.2


@dataclass(frozen=True)
class SamplingOptions:
    flow: str = "mscore"
    rate: float | None = None
    size: int | None = None
    min_per_office: int = 5
    seed: int | None = None


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
) -> tuple[Round, bool]:
    """Create the round of `week` for `options.flow`; return (round, created).

    1. The frame is every case returned during the week, local time.
    2. Eligible: in person, not an immediate result, a callable phone not opted out and not
       sampled by another round whose week starts less than `resurvey_days` away.
    3. One member per phone: the phone's most recently returned eligible dossier.
    4. The sample size is split across offices (`allocate`), and each office's members are the
       eligible cases with the smallest seeded hash key, all in one INSERT … SELECT.
    An existing round for the same week and flow is returned unchanged.
    """
    existing = get_round(session, week, options.flow)
    if existing is not None:
        return existing, False
    seed = random.SystemRandom().randrange(2**31) if options.seed is None else options.seed
    start, end = week.bounds_utc(tz)
    in_week = and_(Case.returned_at >= start, Case.returned_at < end)

    frame = dict(
        session.execute(
            select(Case.office_id, func.count()).where(in_week).group_by(Case.office_id)
        ).all()
    )
    eligible_cases = _eligible_cases(in_week, start, resurvey_days)
    eligible = dict(
        session.execute(
            select(eligible_cases.c.office_id, func.count()).group_by(eligible_cases.c.office_id)
        ).all()
    )
    rate = None if options.size is not None else (options.rate or DEFAULT_RATE)
    total = sample_size(sum(eligible.values()), rate=rate, size=options.size)
    quotas = allocate(eligible, total, options.min_per_office)

    round_ = Round(
        week=str(week),
        flow=options.flow,
        status=RoundStatus.OPEN,
        seed=seed,
        rate=rate,
        size=options.size,
        min_per_office=options.min_per_office,
        week_start_at=start,
        week_end_at=end,
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

    ranked = select(
        eligible_cases,
        func.row_number()
        .over(
            partition_by=eligible_cases.c.office_id,
            order_by=(_sample_key(eligible_cases.c.id, seed), eligible_cases.c.id),
        )
        .label("rank"),
    ).subquery("ranked")
    chosen = (
        select(literal(round_.id), ranked.c.id, ranked.c.office_id, ranked.c.phone)
        .join(
            RoundOffice,
            and_(RoundOffice.round_id == round_.id, RoundOffice.office_id == ranked.c.office_id),
        )
        .where(ranked.c.rank <= RoundOffice.sampled)
    )
    session.execute(
        insert(Member).from_select(["round_id", "case_id", "office_id", "phone"], chosen)
    )
    return round_, True


def _eligible_cases(in_week: ColumnElement[bool], week_start: datetime, resurvey_days: int):
    """Eligible cases of the week, one per phone (the latest returned), as a subquery."""
    other_round = aliased(Round)
    window = timedelta(days=resurvey_days)
    recently_sampled = (
        select(Member.id)
        .join(other_round, other_round.id == Member.round_id)
        .where(
            Member.phone == Case.phone,
            other_round.week_start_at > week_start - window,
            other_round.week_start_at < week_start + window,
        )
    )
    candidates = (
        select(
            Case.id,
            Case.office_id,
            Case.phone,
            func.row_number()
            .over(partition_by=Case.phone, order_by=(Case.returned_at.desc(), Case.id.desc()))
            .label("phone_rank"),
        )
        .where(
            in_week,
            Case.channel == Channel.IN_PERSON.value,
            Case.immediate_result.is_(False),
            Case.phone_type.in_([PhoneType.MOBILE.value, PhoneType.LANDLINE.value]),
            Case.phone.is_not(None),
            ~exists().where(OptOut.phone == Case.phone),
            ~exists(recently_sampled),
        )
        .subquery("candidates")
    )
    return (
        select(candidates.c.id, candidates.c.office_id, candidates.c.phone)
        .where(candidates.c.phone_rank == 1)
        .subquery("eligible")
    )


_P1, _P2, _P3 = 2147483647, 2147483629, 2147483587  # primes just under 2**31


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
        "seed": round_.seed,
        "status": round_.status,
        "rate": round_.rate,
        "size": round_.size,
        "min_per_office": round_.min_per_office,
        "week_start": round_.week_start_at.astimezone(tz).isoformat(),
        "week_end": round_.week_end_at.astimezone(tz).isoformat(),
        "created_at": round_.created_at.astimezone(tz).isoformat(),
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
