#!/usr/bin/env python3
"""Benchmark: the report JSON of a round of 100,000 members with 300,000 attempts.

Measured: the real `round_report` (counts, AAPOR rates and question scores for the round, its
offices, receiving officers, modes and interviewers) in a new session, serialised with
`json.dumps`. The floor (issue 17), measured in the same run on the same data: the two GROUP
BYs (answers per office, question and key; attempts per office and outcome) without which no
report can give scores per office and question and call outcomes per office. Targets: at
most 2x the floor on each database, and under 2 s on PostgreSQL. Also printed: one
`GROUP BY disposition` of the round's members, for scale. The exit status is 0 whatever the
figures: this is a measurement.

The round is populated as a week of calling leaves it: 9 offices, 100,000 cases (officers
from a small pool, procedure codes), one IVR round on the mscore flow whose members are
about 75 % complete (1.1), 3 % partial (1.2), 5 % refused (2.11), 2 % break-off (2.12),
8 % non-contact (2.20), 2 % not eligible (4.70) and the rest still pending; a share handed
over to interviewers (mode 'interviewer', their later attempts made by interviewer users);
exactly 300,000 attempts whose outcomes roll up to those dispositions; and the answers of the
completes and partials (consent and six scored questions, some '0' don't know and some NULL
no answer, a few recorded comments).

`--explain` prints, per backend, every statement the report runs with its own time, and
its plan (EXPLAIN ANALYZE on PostgreSQL, EXPLAIN QUERY PLAN on SQLite).

Usage: scripts/bench_report.py [--members N] [--attempts A] [--repeats K] [--explain]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import backends, best_of, scratch_database, target_line
from sqlalchemy import event, text

from cati.config import Settings
from cati.db import insert_rows, make_engine, make_session_factory
from cati.domain.weeks import IsoWeek
from cati.migrate import upgrade
from cati.models import Answer, Attempt, Case, Member, Office, Round, RoundOffice, User
from cati.services.flows import load_flows
from cati.services.reports import round_report

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)
WEEK = IsoWeek(2026, 47)
ROUND_ID = 1
TARGET = 2.0  # report time at most this many times the floor's
ABSOLUTE_TARGET_S = 2.0  # and under this on PostgreSQL
BATCH = 50_000
OFFICES = 9
OFFICERS_PER_OFFICE = 8
INTERVIEWERS = 8
IVR_ATTEMPTS = 3  # the robot's tries before a member goes to the interviewers

DISPOSITIONS = (  # (code, share); None: pending, not final yet
    ("1.1", 0.75),
    ("1.2", 0.03),
    ("2.11", 0.05),
    ("2.12", 0.02),
    ("2.20", 0.08),
    ("4.70", 0.02),
    (None, 0.05),
)
# Failed dials other than an invalid number (which ends a case at once), by frequency.
NON_CONTACTS = (
    ("no_answer", 45),
    ("unreachable", 25),
    ("busy", 15),
    ("machine", 10),
    ("failed", 4),
    ("fax", 1),
)
SCALES = ("staff_attitude", "guidance_quality", "overall")
SCALE_WEIGHTS = (2, 1, 2, 3, 6, 9, 16, 24, 37)  # keys 1-9: most citizens are satisfied
YES_SHARE = {"on_time": 0.88, "asked_to_return": 0.17, "paid_without_receipt": 0.04}
QUESTIONS = (
    "staff_attitude",
    "guidance_quality",
    "on_time",
    "asked_to_return",
    "paid_without_receipt",
    "overall",
)

CASE_COLUMNS = (
    "dossier_code",
    "citizen_name",
    "phone",
    "phone_type",
    "office_id",
    "procedure_code",
    "procedure_name",
    "officer",
    "channel",
    "immediate_result",
    "received_at",
    "due_at",
    "returned_at",
    "created_at",
    "updated_at",
)
MEMBER_COLUMNS = (
    "round_id",
    "case_id",
    "office_id",
    "phone",
    "status",
    "disposition",
    "attempt_count",
    "next_call_at",
    "mode",
)
ATTEMPT_COLUMNS = (
    "member_id",
    "mode",
    "user_id",
    "provider",
    "provider_call_id",
    "status",
    "outcome",
    "answered_by",
    "duration_s",
    "sip_response_code",
    "language",
    "question_id",
    "tries",
    "started_at",
    "ended_at",
)
ANSWER_COLUMNS = (
    "member_id",
    "question_id",
    "value",
    "attempt_id",
    "recording_url",
    "answered_at",
)
BASELINE_SQL = text(
    "SELECT disposition, count(*) FROM members WHERE round_id = :r GROUP BY disposition"
)


# --------------------------------------------------------------------------------------------
# The data
# --------------------------------------------------------------------------------------------


def _pick(rng: random.Random, weighted) -> str:
    return rng.choices([v for v, _ in weighted], [w for _, w in weighted])[0]


def _plan(rng: random.Random, code: str | None, handed_over: bool) -> list[str | None]:
    """The attempt outcomes (oldest first) of one member, which roll up to `code`.

    A member handed over to the interviewers had IVR_ATTEMPTS robot calls that reached
    nobody first; the attempts after those are the interviewers'.
    """

    def misses(n: int) -> list[str | None]:
        return [_pick(rng, NON_CONTACTS) for _ in range(n)]

    before = misses(IVR_ATTEMPTS) if handed_over else []
    if code == "1.1":
        tries = rng.choices((0, 1, 2, 3, 4), (30, 25, 20, 14, 11))[0]
        return before + misses(tries) + ["complete"]
    if code == "1.2":  # cut short, then not reached again
        return before + misses(rng.randint(0, 2)) + ["partial"] + misses(rng.randint(0, 3))
    if code == "2.11":
        if rng.random() < 0.15:  # asked to be called back, then never reached again
            return before + misses(rng.randint(0, 1)) + ["appointment"] + misses(rng.randint(1, 3))
        return before + misses(rng.randint(0, 2)) + ["refused"]
    if code == "2.12":  # no consent or hung up early, then not reached again
        return before + misses(rng.randint(0, 2)) + ["break_off"] + misses(rng.randint(1, 4))
    if code == "2.20":
        if not handed_over and rng.random() < 0.1:
            return ["invalid_number"]
        return before + misses(rng.randint(3, 6))
    if code == "4.70":
        return before + misses(rng.randint(0, 2)) + ["not_eligible"]
    # Pending: not called yet, or called without reaching anyone; a few calls under way.
    plan = before + misses(rng.choices((0, 1, 2), (35, 40, 25))[0])
    if rng.random() < 0.1:
        plan.append(None)
    return plan


def _fit(rng: random.Random, plans: list[list[str | None]], codes, handed, total: int) -> None:
    """Add or drop leading non-contacts of the IVR's final members until there are `total`
    attempts (the members handed over keep their IVR_ATTEMPTS robot calls)."""
    count = sum(map(len, plans))
    candidates = [
        i
        for i, (code, by_hand) in enumerate(zip(codes, handed, strict=True))
        if code not in (None, "2.20") and not by_hand
    ]
    while count < total:
        plans[rng.choice(candidates)].insert(0, _pick(rng, NON_CONTACTS))
        count += 1
    human = {"complete", "partial", "refused", "break_off", "not_eligible", "appointment"}
    while count > total:
        plan = plans[rng.choice(candidates)]
        if len(plan) > 1 and plan[0] not in human:
            del plan[0]
            count -= 1


def _answers(
    rng: random.Random, member_id: int, attempt_id: int, outcome: str, at: datetime
) -> list[tuple]:
    """The answers saved in a complete (consent and six questions) or partial interview."""
    asked = QUESTIONS if outcome == "complete" else QUESTIONS[: rng.randint(3, 5)]
    rows = [(member_id, "consent", "1", attempt_id, None, at)]
    for n, question in enumerate(asked, start=1):
        roll = rng.random()
        if roll < 0.02:
            value = None  # no valid key after the tries
        elif roll < 0.05:
            value = "0"  # don't know
        elif question in SCALES:
            value = str(rng.choices(range(1, 10), SCALE_WEIGHTS)[0])
        else:
            value = "1" if rng.random() < YES_SHARE[question] else "2"
        rows.append((member_id, question, value, attempt_id, None, at + timedelta(seconds=9 * n)))
    if outcome == "complete" and rng.random() < 0.2:
        url = f"https://recordings.example/{member_id}.mp3"
        rows.append((member_id, "comment", "1", attempt_id, url, at + timedelta(seconds=70)))
    return rows


def _attempt_row(
    rng: random.Random,
    attempt_id: int,
    member_id: int,
    outcome: str | None,
    user_id: int | None,
    started: datetime,
) -> tuple:
    if user_id is None:
        mode, provider, call_id = "ivr", "twilio", f"CA{attempt_id:032x}"
    else:
        mode, provider, call_id = "interviewer", None, None
    human = outcome not in {o for o, _ in NON_CONTACTS} | {"invalid_number", None}
    status, answered_by, duration, sip = {
        None: ("in-progress", None, None, None),
        "busy": ("busy", None, 0, 486),
        "no_answer": ("no-answer", None, 0, 480),
        "unreachable": ("failed", None, 0, 480),
        "invalid_number": ("failed", None, 0, 404),
        "failed": ("failed", None, 0, 503),
        "machine": ("completed", "machine_start", rng.randint(3, 20), 200),
        "fax": ("completed", "fax", rng.randint(2, 8), 200),
    }.get(outcome, ("completed", "human", rng.randint(20, 150), 200))
    if user_id is not None:
        answered_by = None
    ended = None if outcome is None else started + timedelta(seconds=duration or 30)
    return (
        member_id,
        mode,
        user_id,
        provider,
        call_id,
        status,
        outcome,
        answered_by,
        duration if human or outcome in ("machine", "fax") else None,
        sip if user_id is None else None,
        "vi",
        None,
        0,
        started,
        ended,
    )


def populate(url: str, members: int, attempts: int) -> dict[str, int]:
    upgrade(url)
    engine = make_engine(url)
    rng = random.Random(1047)
    start, end = WEEK.bounds_utc(TZ)
    procedures = [(f"1.{1000 + i:06d}", f"Thủ tục hành chính số {i}") for i in range(40)]
    procedure_weights = [1 / (i + 1) for i in range(40)]
    officers = {
        office: [f"Cán bộ {office}-{k}" for k in range(1, OFFICERS_PER_OFFICE + 1)]
        for office in range(1, OFFICES + 1)
    }
    # Dispositions and plans first, then exactly `attempts` attempts over them.
    codes = rng.choices([c for c, _ in DISPOSITIONS], [w for _, w in DISPOSITIONS], k=members)
    handed = [
        code in ("1.1", "1.2", "2.11", "2.12", "2.20", "4.70") and rng.random() < 0.12
        for code in codes
    ]
    plans = [_plan(rng, code, h) for code, h in zip(codes, handed, strict=True)]
    _fit(rng, plans, codes, handed, attempts)
    counts = Counter()
    with engine.begin() as conn:
        # A fresh database numbers rows from 1: offices 1-9, users 1-9, cases and members
        # 1-N, the round 1, attempts and answers in the order inserted.
        insert_rows(
            conn,
            Office.__table__,
            ("code", "name"),
            [(f"OFFICE-{i}", f"Bộ phận một cửa {i}") for i in range(1, OFFICES + 1)],
        )
        insert_rows(
            conn,
            User.__table__,
            ("username", "password_hash", "role", "active", "failed_logins", "created_at",
             "session_token"),
            [("manager", "x", "manager", True, 0, NOW, "t0")]
            + [(f"interviewer{k}", "x", "interviewer", True, 0, NOW, f"t{k}")
               for k in range(1, 9)],
        )  # fmt: skip
        interviewers = list(range(2, 2 + INTERVIEWERS))
        insert_rows(
            conn,
            Round.__table__,
            (
                "week",
                "flow",
                "mode",
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
                    str(WEEK),
                    "mscore",
                    "ivr",
                    "open",
                    11,
                    0.1,
                    5,
                    start,
                    end,
                    end + timedelta(days=14),
                    members * 11,
                    members * 10,
                    members,
                    NOW,
                )
            ],
        )
        case_rows, member_rows, attempt_rows, answer_rows = [], [], [], []
        per_office = Counter()
        attempt_id = 0
        for n in range(1, members + 1):
            office = 1 + min(OFFICES - 1, int(rng.expovariate(0.4)))
            per_office[office] += 1
            procedure = rng.choices(procedures, procedure_weights)[0]
            phone = f"+849{n:08d}"
            returned = start + timedelta(seconds=rng.randrange(7 * 86400))
            received = returned - timedelta(days=rng.randrange(1, 20))
            case_rows.append(
                (
                    f"HS-{n:08d}",
                    f"Công dân {n}",
                    phone,
                    "mobile",
                    office,
                    *procedure,
                    rng.choice(officers[office]) if rng.random() > 0.03 else None,
                    "in_person",
                    False,
                    received,
                    received + timedelta(days=15),
                    returned,
                    NOW,
                    NOW,
                )
            )
            code, plan = codes[n - 1], plans[n - 1]
            mode = "interviewer" if handed[n - 1] else "ivr"
            status = "pending" if code is None else "final"
            if code is None and plan and plan[-1] is None:
                status = "in_progress"
            member_rows.append(
                (
                    ROUND_ID,
                    n,
                    office,
                    phone,
                    status,
                    code,
                    len(plan),
                    NOW + timedelta(hours=2) if status == "pending" else None,
                    mode,
                )
            )
            when = end + timedelta(minutes=rng.randrange(6 * 60))
            interviewer = rng.choice(interviewers)
            for k, outcome in enumerate(plan):
                attempt_id += 1
                by = interviewer if handed[n - 1] and k >= IVR_ATTEMPTS else None
                attempt_rows.append(_attempt_row(rng, attempt_id, n, outcome, by, when))
                if outcome in ("complete", "partial"):
                    answer_rows += _answers(rng, n, attempt_id, outcome, when)
                when += timedelta(hours=rng.randint(3, 30))
            if len(case_rows) >= BATCH:
                counts.update(_flush(conn, case_rows, member_rows, attempt_rows, answer_rows))
        counts.update(_flush(conn, case_rows, member_rows, attempt_rows, answer_rows))
        insert_rows(
            conn,
            RoundOffice.__table__,
            ("round_id", "office_id", "frame", "eligible", "sampled"),
            [(ROUND_ID, o, n * 11, n * 10, n) for o, n in sorted(per_office.items())],
        )
        # The answers name their attempts by the numbering above: check it held.
        top = conn.execute(text("SELECT max(id), count(*) FROM attempts")).one()
        assert tuple(top) == (attempt_id, attempt_id), top
    with engine.begin() as conn:  # fresh statistics, as autovacuum or `PRAGMA optimize` keep
        conn.exec_driver_sql("ANALYZE")
    engine.dispose()
    return dict(counts)


def _flush(conn, cases: list, members: list, attempts: list, answers: list) -> Counter:
    done = Counter(cases=len(cases), attempts=len(attempts), answers=len(answers))
    insert_rows(conn, Case.__table__, CASE_COLUMNS, cases)
    insert_rows(conn, Member.__table__, MEMBER_COLUMNS, members)
    insert_rows(conn, Attempt.__table__, ATTEMPT_COLUMNS, attempts)
    insert_rows(conn, Answer.__table__, ANSWER_COLUMNS, answers)
    for rows in (cases, members, attempts, answers):
        rows.clear()
    return done


# --------------------------------------------------------------------------------------------
# The measurement
# --------------------------------------------------------------------------------------------


# The floor: the two aggregates no report of scores per office and question and of call
# outcomes per office can do without, and nothing else (no rates, no officers, modes or
# interviewers, no roll-up, no JSON). Not a target: it shows where the target lies.
FLOOR_SQL = (
    text("""
        SELECT m.office_id, a.question_id, a.value, count(*) FROM answers a
        JOIN members m ON m.id = a.member_id WHERE m.round_id = :r GROUP BY 1, 2, 3
    """),
    text("""
        SELECT m.office_id, t.outcome, count(*) FROM attempts t
        JOIN members m ON m.id = t.member_id WHERE m.round_id = :r GROUP BY 1, 2
    """),
)


def measure(url: str, repeats: int) -> tuple[float, float, dict]:
    engine = make_engine(url)
    factory = make_session_factory(engine)
    flows = load_flows(Settings.flows_dir)
    with engine.connect() as conn:
        counted: list = []
        baseline = best_of(
            repeats, lambda: counted.append(conn.execute(BASELINE_SQL, {"r": ROUND_ID}).all())
        )
        floor = best_of(
            repeats, lambda: [conn.execute(sql, {"r": ROUND_ID}).all() for sql in FLOOR_SQL]
        )
    made: list[tuple[dict, str]] = []

    def run() -> None:
        with factory() as session:
            data = round_report(session, ROUND_ID, flows, TZ)
            made.append((data, json.dumps(data, ensure_ascii=False)))

    seconds = best_of(repeats, run)
    engine.dispose()
    data, document = made[-1]
    by_code = dict(counted[-1])
    figures = data["counts"]
    if (figures["sampled"], figures["complete"]) != (sum(by_code.values()), by_code.get("1.1")):
        raise AssertionError(f"the report's counts {figures} disagree with {by_code}")
    return (
        seconds,
        baseline,
        {
            "data": data,
            "bytes": len(document.encode()),
            "codes": by_code,
            "floor": floor,
        },
    )


def explain(url: str) -> None:
    """Every statement of one report, with its time and plan."""
    engine = make_engine(url)
    factory = make_session_factory(engine)
    flows = load_flows(Settings.flows_dir)
    statements: list[list] = []

    @event.listens_for(engine, "before_cursor_execute")
    def before(conn, cursor, statement, parameters, context, executemany):
        statements.append([statement, parameters, time.perf_counter()])

    @event.listens_for(engine, "after_cursor_execute")
    def after(conn, cursor, statement, parameters, context, executemany):
        statements[-1][2] = time.perf_counter() - statements[-1][2]

    with factory() as session:
        round_report(session, ROUND_ID, flows, TZ)
    event.remove(engine, "before_cursor_execute", before)
    event.remove(engine, "after_cursor_execute", after)
    postgres = engine.dialect.name == "postgresql"
    with engine.connect() as conn:
        for n, (statement, parameters, seconds) in enumerate(statements, start=1):
            print(f"\n--- statement {n}: {seconds * 1000:.1f} ms (execute only)")
            print(statement)
            print(f"parameters: {parameters}")
            if not statement.lstrip().upper().startswith("SELECT"):
                continue
            prefix = "EXPLAIN (ANALYZE, BUFFERS) " if postgres else "EXPLAIN QUERY PLAN "
            rows = conn.exec_driver_sql(prefix + statement, parameters).all()
            if postgres:
                print("\n".join(row[0] for row in rows))
            else:
                print("\n".join(f"  {row[-1]}" for row in rows))
    engine.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--attempts", type=int, default=300_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--explain", action="store_true", help="print the report's query plans")
    args = parser.parse_args()
    print(
        f"report of a round of {args.members:,} members and {args.attempts:,} attempts, "
        f"best of {args.repeats}"
    )
    for backend in backends():
        with scratch_database(backend) as url:
            started = time.perf_counter()
            loaded = populate(url, args.members, args.attempts)
            load_s = time.perf_counter() - started
            seconds, baseline, result = measure(url, args.repeats)
            if args.explain:
                explain(url)
        counts = result["data"]["counts"]
        print(
            f"             loaded {loaded['cases']:,} cases and members, "
            f"{loaded['attempts']:,} attempts, {loaded['answers']:,} answers in {load_s:.0f} s; "
            f"report: {counts['complete']:,} complete, {counts['attempts']:,} attempts counted, "
            f"{len(result['data']['offices'])} offices, {len(result['data']['officers'])} "
            f"officers, {len(result['data']['interviewers'])} interviewers, "
            f"{result['bytes']:,} bytes of JSON"
        )
        floor = result["floor"]
        print(
            f"             one GROUP BY disposition {baseline:.3f} s; the floor (scores per "
            f"office and question, outcomes per office: two GROUP BYs) {floor:.3f} s"
        )
        target_line(backend, "round_report + json.dumps", seconds, floor, TARGET, "2 GROUP BYs")
        if backend == "postgresql":
            verdict = "OK" if seconds < ABSOLUTE_TARGET_S else "MISSED"
            print(
                f"  TARGET {backend:<10} {'round_report, absolute':<26} product {seconds:8.3f} s"
                f"   (target < {ABSOLUTE_TARGET_S:g} s) {verdict}"
            )
    return 0  # a measurement: the figures and their verdicts are printed


if __name__ == "__main__":
    sys.exit(main())
