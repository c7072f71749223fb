#!/usr/bin/env python3
"""Benchmark: sample a 10 % round from 1,000,000 cases returned in one week.

The floor (issue 17), measured in the same run on the same data, is the two things no
sampler can skip: reading the eligible frame (one `SELECT COUNT(*)` of the week's eligible
cases: in person, not immediate, callable phone, not opted out, not sampled within the
re-survey window) plus writing the round's members (the same rows again, into a scratch
round, rolled back). Target: `sample_round` at most 1.5x that floor, on each database. The
sampling is the real `sample_round` (frame and eligible counts, allocation, one member per
phone, the INSERT … SELECT of members), on a migrated database that also holds opt-outs and
last week's round. The exit status is 0 whatever the figures: this is a measurement.

Usage: scripts/bench_sampling.py [--cases N] [--repeats K]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import backends, best_of, scratch_database, target_line
from sqlalchemy import delete, insert, literal, select, text

from cati.db import insert_rows, make_engine, make_session_factory
from cati.domain.weeks import IsoWeek
from cati.migrate import upgrade
from cati.models import Case, Member, Office, OptOut, Round, RoundOffice
from cati.services.rounds import SamplingOptions, sample_round

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)
WEEK = IsoWeek(2026, 47)
TARGET = 1.5  # sample_round at most this many times (COUNT + writing the members)
CASE_COLUMNS = (
    "dossier_code",
    "phone",
    "phone_type",
    "office_id",
    "channel",
    "immediate_result",
    "received_at",
    "returned_at",
    "created_at",
    "updated_at",
)


def populate(url: str, cases: int) -> None:
    """1,000,000 cases returned in WEEK across 9 offices, with the messiness of real data."""
    upgrade(url)
    engine = make_engine(url)
    rng = random.Random(47)
    start, _ = WEEK.bounds_utc(TZ)
    with engine.begin() as conn:
        # A fresh database numbers rows from 1: offices 1-9, cases 1-N, the round 1.
        insert_rows(
            conn,
            Office.__table__,
            ("code", "name"),
            [(f"OFFICE-{i}", f"Office {i}") for i in range(1, 10)],
        )
        batch = []
        for n in range(cases):
            roll = rng.random()
            phone = f"+849{rng.randrange(10**8):08d}" if roll > 0.01 else None
            returned = start + timedelta(seconds=rng.randrange(7 * 86400))
            batch.append(
                (
                    f"HS-{n:08d}",
                    phone,
                    "mobile" if phone else "invalid",
                    1 + min(8, int(rng.expovariate(0.4))),
                    "in_person" if roll < 0.78 else ("online" if roll < 0.93 else "postal"),
                    rng.random() < 0.05,
                    returned - timedelta(days=rng.randrange(1, 20)),
                    returned,
                    NOW,
                    NOW,
                )
            )
            if len(batch) == 50_000:
                insert_rows(conn, Case.__table__, CASE_COLUMNS, batch)
                batch = []
        insert_rows(conn, Case.__table__, CASE_COLUMNS, batch)
        phones = [p for (p,) in conn.execute(text("SELECT phone FROM cases WHERE id % 97 = 0"))]
        insert_rows(
            conn,
            OptOut.__table__,
            ("phone", "created_at"),
            [(p, NOW) for p in phones[: len(phones) // 2] if p],
        )
        # Last week's round, whose members must not be sampled again.
        last = WEEK.shifted(-1)
        last_start, last_end = last.bounds_utc(TZ)
        insert_rows(
            conn,
            Round.__table__,
            (
                "week",
                "flow",
                "status",
                "seed",
                "rate",
                "min_per_office",
                "week_start_at",
                "week_end_at",
                "calling_ends_at",
                "frame_size",
                "eligible",
                "sampled",
                "created_at",
            ),
            [
                (
                    str(last),
                    "mscore",
                    "open",
                    1,
                    0.1,
                    5,
                    last_start,
                    last_end,
                    last_end + timedelta(days=14),
                    0,
                    0,
                    0,
                    NOW,
                )
            ],
        )
        insert_rows(
            conn,
            RoundOffice.__table__,
            ("round_id", "office_id", "frame", "eligible", "sampled"),
            [(1, 1, 0, 0, 0)],
        )
        insert_rows(
            conn,
            Member.__table__,
            ("round_id", "case_id", "office_id", "phone"),
            [(1, i, 1, p) for i, p in enumerate(phones[len(phones) // 2 :], start=1) if p],
        )
    with engine.begin() as conn:  # fresh statistics, as autovacuum or `PRAGMA optimize` keep
        conn.exec_driver_sql("ANALYZE")
    engine.dispose()


def measure(url: str) -> tuple[float, float, float, Round]:
    engine = make_engine(url)
    factory = make_session_factory(engine)
    start, end = WEEK.bounds_utc(TZ)
    window = timedelta(days=90)
    count_sql = text("""
        SELECT COUNT(*) FROM cases c
        WHERE c.returned_at >= :start AND c.returned_at < :end
          AND c.channel = 'in_person' AND c.immediate_result = :no
          AND c.phone_type IN ('mobile', 'landline') AND c.phone IS NOT NULL
          AND NOT EXISTS (SELECT 1 FROM opt_outs o WHERE o.phone = c.phone)
          AND NOT EXISTS (SELECT 1 FROM members m JOIN rounds r ON r.id = m.round_id
                          WHERE m.phone = c.phone AND r.week_start_at > :low
                            AND r.week_start_at < :high)
    """).bindparams(no=False)
    type_ = Case.__table__.c.returned_at.type
    params = {
        k: v
        for k, v in {
            "start": start,
            "end": end,
            "low": start - window,
            "high": start + window,
        }.items()
    }
    with engine.connect() as conn:
        bind = type_.bind_processor(conn.dialect)
        params = {k: bind(v) for k, v in params.items()}
        counted: list[int] = []
        baseline = best_of(
            REPEATS, lambda: counted.append(conn.execute(count_sql, params).scalar_one())
        )

    result: list[Round] = []

    def run() -> None:
        with factory() as session:
            round_, _ = sample_round(
                session, WEEK, SamplingOptions(rate=0.1, seed=11), tz=TZ, resurvey_days=90, now=NOW
            )
            session.commit()
            result.append(round_)

    def setup() -> None:
        with factory.begin() as session:
            ids = [r.id for r in session.query(Round).where(Round.week == str(WEEK))]
            session.execute(delete(Member).where(Member.round_id.in_(ids)))
            session.execute(delete(RoundOffice).where(RoundOffice.round_id.in_(ids)))
            session.execute(delete(Round).where(Round.id.in_(ids)))

    sampled = best_of(REPEATS, run, setup)
    floor = write_members_again(engine, result[-1].id)
    engine.dispose()
    print(
        f"             eligible (baseline count) {counted[-1]:,}; round: frame "
        f"{result[-1].frame_size:,}, eligible after one-per-phone {result[-1].eligible:,}, "
        f"sampled {result[-1].sampled:,}"
    )
    print(
        f"             floor (writing the same {result[-1].sampled:,} members again) "
        f"{floor:.3f} s = {floor / baseline:.1f}x the baseline"
    )
    return sampled, baseline, floor, result[-1]


def write_members_again(engine, round_id: int) -> float:
    """Time the INSERT of round `round_id`'s members into a scratch round (with the members
    table's keys, indexes and foreign keys), rolled back; the best of REPEATS."""
    copy = text("""
        INSERT INTO members (round_id, case_id, office_id, phone)
        SELECT :scratch, case_id, office_id, phone FROM members WHERE round_id = :r
    """)
    times = []
    with engine.connect() as conn:
        for _ in range(REPEATS):
            with conn.begin() as transaction:
                scratch = conn.execute(
                    insert(Round)
                    .from_select(
                        [c.name for c in Round.__table__.c if c.name not in ("id", "flow")]
                        + ["flow"],
                        select(
                            *(c for c in Round.__table__.c if c.name not in ("id", "flow")),
                            literal("floor"),
                        ).where(Round.id == round_id),
                    )
                    .returning(Round.id)
                ).scalar_one()
                start = time.perf_counter()
                conn.execute(copy, {"scratch": scratch, "r": round_id})
                times.append(time.perf_counter() - start)
                transaction.rollback()
    return min(times)


def main() -> int:
    global REPEATS
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    REPEATS = args.repeats
    print(f"sampling 10 % of {args.cases:,} cases returned in {WEEK}, best of {REPEATS}")
    for backend in backends():
        with scratch_database(backend) as url:
            populate(url, args.cases)
            sampled, baseline, floor, _ = measure(url)
        target_line(
            backend,
            "sample_round (rate 0.1)",
            sampled,
            baseline + floor,
            TARGET,
            f"COUNT {baseline:.3f} s + members {floor:.3f} s",
        )
    return 0  # a measurement: the figures and their verdicts are printed


REPEATS = 3
if __name__ == "__main__":
    sys.exit(main())
