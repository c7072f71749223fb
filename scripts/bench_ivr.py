#!/usr/bin/env python3
"""Benchmark: N full M.Score surveys through the real IVR webhooks under gunicorn, against
the floor of issue 17.

The real application (`cati.web:create_app()`) and the floor (scripts/bench_ivr_floor.py: the
signature check, one SELECT of the call's place by CallSid, one INSERT of the answer, one
UPDATE of the place, a commit and a fixed <Gather>) run under the same gunicorn settings
(gthread, the same workers and threads) on loopback, each on a database of its own of the
same kind. C client threads, each with one keep-alive connection, drive N calls through the
real webhooks as Twilio would: status `ringing`, /ivr/voice, then every <Gather> answered
with a key (consent 1, six answers, no comment) until <Hangup/>, then status `completed`;
every request signed. The floor gets the same number of requests from the same clients, once
before the product (the surveys' requests built from the flow) and once after (the product's
requests replayed); both are printed, and the targets compare the product with their mean.

Targets (issue 17), on each database: p99 latency of all requests at most 1.5x the floor's,
and throughput at least 0.7x the floor's. At the end every member must be final with its 7
answers. The exit status is 0 whatever the figures: this is a measurement.

A few warm-up calls (not measured, checked like the others) go first on both servers, so
that each worker has loaded the flows and opened its database connections.

Usage: scripts/bench_ivr.py [--calls N] [--concurrency C] [--workers W] [--threads T]
"""

from __future__ import annotations

import argparse
import http.client
import math
import os
import random
import re
import secrets
import sys
import tempfile
import time
import urllib.parse
from collections import defaultdict
from collections.abc import Callable
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from html import unescape
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_ivr_floor import prepare as prepare_floor
from benchlib import (
    DEFAULT_THREADS,
    DEFAULT_WORKERS,
    REQUEST_TIMEOUT_S,
    backends,
    cpu_seconds,
    drive,
    free_port,
    gunicorn,
    percentile,
    scratch_database,
    tail,
)
from sqlalchemy import func, select, text

from cati.config import Settings
from cati.db import insert_rows, make_engine
from cati.domain.flow import CONTACT_CONSENT, QuestionType
from cati.domain.weeks import IsoWeek
from cati.migrate import upgrade
from cati.models import Answer, Attempt, Case, Member, Office, Round
from cati.services.flows import load_flows
from cati.telephony.signatures import sign

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
P99_TARGET = 1.5  # p99 of all requests at most this many times the floor's
RPS_TARGET = 0.7  # throughput at least this share of the floor's
ANSWERS = 7  # consent and the six scored questions; "no comment" saves nothing
MAX_TURNS = 30  # a call answers at most this many <Gather>s (8 in a normal interview)
WEBHOOKS = ("voice", "gather", "status")

# gunicorn on 2 cores: gthread, 2 workers x 2 threads by default (benchlib.DEFAULT_WORKERS
# and DEFAULT_THREADS, shared with bench_web). A webhook is mostly Python
# (Flask, SQLAlchemy's ORM, psycopg, the flow engine, TwiML: ~4.5 ms of CPU per request), so a
# process uses at most one core (the GIL): 2 processes are needed to use both cores, and a
# second thread in each fills the waits on the database (about ten round trips and a commit's
# fsync per request). More processes or threads do not add CPU, only context switches, GIL
# hand-offs and cache misses: measured here with PostgreSQL (300 calls, 16 clients, 3 runs
# each): 2x2 about 345 req/s, p99 70-90 ms, 4.3 ms server CPU per request; 3x2 and 4x2 about
# 300-320 req/s, p99 95-150 ms, 4.9 ms; 4x1 300-340 req/s, p99 130-190 ms. SQLite serialises
# writers, and a process waiting for the write lock sleeps in SQLite's busy handler (up to
# 100 ms a time): with more than one process its p99 grows (1x1 about 75 ms, 2x2 200-280 ms,
# 4x2 400-450 ms) at the same ~300 req/s; one process suits SQLite, which is not for scale.
# The client shares the same cores, so it is kept cheap: http.client, regex TwiML parsing.

_GATHER = re.compile(rb'<Gather [^>]*action="([^"]*)"')
_HANGUP = re.compile(rb"<Hangup\s*/>")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--workers", type=int, default=DEFAULT_WORKERS, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=DEFAULT_THREADS, help="threads each")
    parser.add_argument("--warmup", type=int, default=16, help="unmeasured calls first")
    parser.add_argument("--time-limit", type=float, default=300.0, help="seconds per drive")
    args = parser.parse_args()
    if min(args.calls, args.concurrency, args.workers, args.threads) < 1 or args.warmup < 0:
        parser.error("--calls, --concurrency, --workers and --threads must be at least 1")
    print(
        f"IVR webhooks: {args.calls} calls ({args.warmup} warm-up calls first), "
        f"{args.concurrency} concurrent clients, gunicorn {args.workers} workers x "
        f"{args.threads} threads (gthread), {os.cpu_count()} cores"
    )
    for backend in backends():
        with scratch_database(backend) as url, scratch_database(backend) as floor_db:
            run_backend(backend, url, floor_db, args)
    return 0  # a measurement: the figures and their verdicts are printed


# --- the database -------------------------------------------------------------------------


def populate(url: str, count: int) -> list[tuple[int, str]]:
    """Migrate, then one open round of `count` members with one queued call each, in bulk.
    Returns (attempt id, call id) of every call."""
    upgrade(url)
    engine = make_engine(url)
    now = datetime.now(UTC)
    week = IsoWeek.containing(now, TZ)
    start, end = week.bounds_utc(TZ)
    ids = range(1, count + 1)
    sids = [f"CABENCH{i:025d}" for i in ids]
    try:
        with engine.begin() as conn:
            insert_rows(conn, Office.__table__, ["id", "code", "name"],
                        [(1, "QT-DONGHA", "Bộ phận một cửa thành phố Đông Hà")])  # fmt: skip
            insert_rows(
                conn,
                Round.__table__,
                ["id", "week", "flow", "status", "seed", "rate", "min_per_office",
                 "week_start_at", "week_end_at", "calling_ends_at", "frame_size", "eligible",
                 "sampled", "created_at"],
                [(1, str(week), "mscore", "open", 1, 0.2, 5, start, end,
                  end + timedelta(days=14), count, count, count, now)],
            )  # fmt: skip
            phones = [f"+8491{i:07d}" for i in ids]
            insert_rows(
                conn,
                Case.__table__,
                ["id", "dossier_code", "citizen_name", "phone", "phone_type", "office_id",
                 "procedure_name", "channel", "immediate_result", "received_at",
                 "returned_at", "created_at", "updated_at"],
                [(i, f"HS-{i:07d}", "Nguyễn Văn An", phones[i - 1], "mobile", 1,
                  "Đăng ký khai sinh", "in_person", False, now - timedelta(days=9),
                  now - timedelta(days=2), now, now) for i in ids],
            )  # fmt: skip
            insert_rows(
                conn,
                Member.__table__,
                ["id", "round_id", "case_id", "office_id", "phone", "status", "attempt_count"],
                [(i, 1, i, 1, phones[i - 1], "pending", 1) for i in ids],
            )
            insert_rows(
                conn,
                Attempt.__table__,
                ["id", "member_id", "mode", "provider", "provider_call_id", "status",
                 "language", "tries", "started_at"],
                [(i, i, "ivr", "simulated", sids[i - 1], "queued", "vi", 0, now)
                 for i in ids],
            )  # fmt: skip
            if engine.dialect.name == "postgresql":  # explicit ids: move the sequences on
                for table in ("offices", "rounds", "cases", "members", "attempts"):
                    conn.execute(
                        text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                             f"(SELECT max(id) FROM {table}))")
                    )  # fmt: skip
    finally:
        engine.dispose()
    return list(zip(ids, sids, strict=True))


def check(url: str, count: int) -> tuple[bool, str]:
    """Every member final with its 7 answers (a declined comment may be saved as an empty
    answer: only answers with a value count), every call complete."""
    engine = make_engine(url)
    # The contact question, asked only when a follow-up is raised, is not one of the seven.
    answered = Answer.value.is_not(None) & (Answer.question_id != CONTACT_CONSENT)
    try:
        with engine.connect() as conn:
            final = conn.scalar(select(func.count()).where(Member.status == "final"))
            complete = conn.scalar(select(func.count()).where(Attempt.outcome == "complete"))
            per_member = (
                select(Answer.member_id)
                .where(answered)
                .group_by(Answer.member_id)
                .having(func.count() == ANSWERS)
                .subquery()
            )
            full = conn.scalar(select(func.count()).select_from(per_member))
            answers = conn.scalar(select(func.count()).where(answered))
    finally:
        engine.dispose()
    ok = final == complete == full == count and answers == ANSWERS * count
    return ok, (
        f"{final}/{count} members final, {complete} attempts complete, {full} members with "
        f"{ANSWERS} answers ({answers} answers in all)"
    )


# --- the servers --------------------------------------------------------------------------


# --- the clients --------------------------------------------------------------------------

Request = tuple[str, str, dict[str, str]]  # webhook, path and query, POST parameters


class Client:
    """One client thread's keep-alive connection; times every request it sends."""

    def __init__(self, port: int, public_url: str, token: str) -> None:
        self.port, self.public_url, self.token = port, public_url, token
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT_S)
        self.samples: list[tuple[str, float]] = []
        self.reconnects = 0

    def post(self, webhook: str, path: str, params: dict[str, str]) -> tuple[int, bytes]:
        body = urllib.parse.urlencode(params).encode()
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": sign(self.token, self.public_url + path, params),
        }
        for attempt in range(2):  # once more on a fresh connection if the server closed it
            try:
                start = time.perf_counter()
                self.conn.request("POST", path, body, headers)
                response = self.conn.getresponse()
                data = response.read()
                self.samples.append((webhook, time.perf_counter() - start))
                return response.status, data
            except (http.client.RemoteDisconnected, ConnectionError):
                self.conn.close()
                if attempt:
                    raise
                self.reconnects += 1
        raise AssertionError("unreachable")

    def close(self) -> None:
        self.conn.close()


class Failure(Exception):
    pass


def call_params(sid: str, **extra: str) -> dict[str, str]:
    return {"CallSid": sid, "AccountSid": "ACbench", "From": "+842333852123",
            "To": "+84912000001", "Direction": "outbound-api", **extra}  # fmt: skip


def expect(status: int, data: bytes, wanted: int, what: str) -> None:
    if status != wanted:
        raise Failure(f"{what}: HTTP {status}: {data[:200]!r}")


def real_call(
    client: Client, attempt_id: int, sid: str, keys: Callable[[str, random.Random], str]
) -> list[Request]:
    """One citizen answering one call, through the real webhooks; returns what was sent."""
    rng = random.Random(attempt_id)
    sent: list[Request] = []

    def post(webhook: str, path: str, **extra: str) -> tuple[int, bytes]:
        params = call_params(sid, **extra)
        sent.append((webhook, path, params))
        return client.post(webhook, path, params)

    expect(*post("status", "/ivr/status", CallStatus="ringing", SequenceNumber="1"), 204,
           "status ringing")  # fmt: skip
    status, twiml = post("voice", f"/ivr/voice?attempt={attempt_id}", CallStatus="in-progress")
    expect(status, twiml, 200, "voice")
    for _ in range(MAX_TURNS):
        if _HANGUP.search(twiml):
            break
        found = _GATHER.search(twiml)
        if found is None:
            raise Failure(f"call {attempt_id}: neither <Gather> nor <Hangup/>: {twiml[:300]!r}")
        action = unescape(found.group(1).decode())
        if not action.startswith(client.public_url):
            raise Failure(f"call {attempt_id}: action outside the public URL: {action}")
        path = action[len(client.public_url) :]
        question = urllib.parse.parse_qs(urllib.parse.urlsplit(path).query)["q"][0]
        status, twiml = post("gather", path, Digits=keys(question, rng), CallStatus="in-progress")
        expect(status, twiml, 200, f"gather {question}")
    else:
        raise Failure(f"call {attempt_id}: no <Hangup/> after {MAX_TURNS} turns")
    duration = str(20 + 12 * len(sent))
    expect(*post("status", "/ivr/status", CallStatus="completed", SequenceNumber="2",
                 CallDuration=duration), 204, "status completed")  # fmt: skip
    return sent


def replayed_call(client: Client, requests: list[Request]) -> list[Request]:
    """The same requests sent to the baseline or the floor, parsed the same way (the same
    client cost)."""
    for webhook, path, params in requests:
        status, twiml = client.post(webhook, path, params)
        if status not in (200, 204):  # the floor answers status callbacks as the IVR does
            expect(status, twiml, 200, f"replayed {webhook}")
        if not _HANGUP.search(twiml) and (found := _GATHER.search(twiml)):
            unescape(found.group(1).decode())
    return requests


def keys_for_flow(flow_id: str) -> Callable[[str, random.Random], str]:
    """Realistic keys: consent 1, scores 1-9, yes/no 1 or 2, no voice comment (2)."""
    flow = load_flows(Settings.flows_dir)[flow_id]
    pick = {
        QuestionType.CHOICE: lambda rng: "1",
        QuestionType.SCALE: lambda rng: rng.choice("123456789"),
        QuestionType.YES_NO: lambda rng: rng.choice("12"),
        QuestionType.RECORD: lambda rng: "2",
    }
    by_question = {q.id: pick[q.type] for q in flow.questions}
    if flow.contact_consent is not None:  # asked last when the answers raise a follow-up
        by_question[CONTACT_CONSENT] = lambda rng: rng.choice("12")
    return lambda question, rng: by_question[question](rng)


class Drive:
    """N calls on C threads, each with its own keep-alive client, bounded in time."""

    def __init__(self, port: int, public_url: str, token: str, concurrency: int) -> None:
        self.port, self.public_url, self.token = port, public_url, token
        self.concurrency = concurrency

    def run(
        self, jobs: list, make_call: Callable[[Client, object], list[Request]], limit_s: float
    ) -> Result:
        clients = [Client(self.port, self.public_url, self.token) for _ in range(self.concurrency)]
        failures = (Failure, OSError, http.client.HTTPException, KeyError)
        try:
            done, seconds, errors = drive(clients, jobs, make_call, limit_s, failures)
        finally:
            for client in clients:
                client.close()
        samples = [sample for client in clients for sample in client.samples]
        return Result(
            samples,
            seconds,
            [done[i] for i in sorted(done)],
            len(done),
            errors,
            sum(c.reconnects for c in clients),
        )


class Result:
    def __init__(self, samples, seconds, calls, completed, errors, reconnects) -> None:
        self.samples: list[tuple[str, float]] = samples
        self.seconds: float = seconds
        self.calls: list[list[Request]] = calls
        self.completed: int = completed
        self.errors: list[str] = errors
        self.reconnects: int = reconnects
        self.server_cpu = math.nan  # seconds of CPU the server used meanwhile

    @property
    def cpu_per_request(self) -> float:
        return self.server_cpu / len(self.samples) if self.samples else math.nan

    @property
    def rps(self) -> float:
        return len(self.samples) / self.seconds if self.seconds else 0.0

    def latencies(self) -> dict[str, list[float]]:
        by_webhook: dict[str, list[float]] = defaultdict(list)
        for webhook, seconds in self.samples:
            by_webhook[webhook].append(seconds)
            by_webhook["all"].append(seconds)
        return {name: sorted(values) for name, values in by_webhook.items()}


# --- one backend --------------------------------------------------------------------------


def run_backend(backend: str, url: str, floor_db: str, args) -> bool:
    total = args.warmup + args.calls
    started = time.perf_counter()
    calls = populate(url, total)
    prepare_floor(floor_db, [sid for _, sid in calls])
    seconds = time.perf_counter() - started
    print(f"\n{backend}: {total} members and calls inserted in {seconds:.1f} s")
    real_port, floor_port = free_port(), free_port()
    real_url, floor_url = f"http://127.0.0.1:{real_port}", f"http://127.0.0.1:{floor_port}"
    env = {
        **os.environ,
        "CATI_DATABASE_URL": url,
        "CATI_PUBLIC_URL": real_url,
        "CATI_TELEPHONY": "simulated",
        "CATI_SECRET_KEY": secrets.token_hex(32),  # nothing written to an instance folder
    }
    token = Settings.from_env(env).webhook_token
    keys = keys_for_flow("mscore")
    questions = [q.id for q in load_flows(Settings.flows_dir)["mscore"].questions]
    with ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="cati-bench-")))
        real_server = stack.enter_context(
            gunicorn("cati.web:create_app()", env, real_port, args, folder / "real")
        )
        floor_env = {**env, "CATI_DATABASE_URL": floor_db, "CATI_PUBLIC_URL": floor_url}
        floor_server = stack.enter_context(
            gunicorn("bench_ivr_floor:create()", floor_env, floor_port, args, folder / "floor")
        )

        def real(client: Client, job) -> list[Request]:
            return real_call(client, *job, keys)

        def survey(client: Client, job) -> list[Request]:
            return replayed_call(client, survey_requests(*job, questions, keys))

        real_drive = Drive(real_port, real_url, token, args.concurrency)
        floor_drive = Drive(floor_port, floor_url, token, args.concurrency)
        warm = real_drive.run(calls[: args.warmup], real, args.time_limit)
        floor_warm = floor_drive.run(calls[: args.warmup], survey, args.time_limit)

        def measured_run(drive: Drive, server, jobs, make_call) -> Result:
            cpu = cpu_seconds(server.pid)
            result = drive.run(jobs, make_call, args.time_limit)
            result.server_cpu = cpu_seconds(server.pid) - cpu
            return result

        before = measured_run(floor_drive, floor_server, calls[args.warmup :], survey)
        measured = measured_run(real_drive, real_server, calls[args.warmup :], real)
        after = measured_run(floor_drive, floor_server, measured.calls, replayed_call)
        errors = warm.errors + floor_warm.errors + before.errors + measured.errors + after.errors
        if errors:
            print(f"  real server log:\n{tail(folder / 'real' / 'gunicorn.log')}")
            print(f"  floor server log:\n{tail(folder / 'floor' / 'gunicorn.log')}")
    correct, summary = check(url, total)
    report(backend, args, measured, before, after, errors, correct, summary)
    return correct and not errors


def survey_requests(
    attempt_id: int, sid: str, questions: list[str], keys: Callable[[str, random.Random], str]
) -> list[Request]:
    """The requests of one full survey as real_call sends them (every question answered in
    turn, the same keys), built without the product: what the floor gets before it."""
    rng = random.Random(attempt_id)
    requests: list[Request] = [
        ("status", "/ivr/status", call_params(sid, CallStatus="ringing", SequenceNumber="1")),
        ("voice", f"/ivr/voice?attempt={attempt_id}", call_params(sid, CallStatus="in-progress")),
    ]
    for question in questions:
        path = f"/ivr/gather?attempt={attempt_id}&q={question}&t=0"
        digits = keys(question, rng)
        requests.append(("gather", path, call_params(sid, Digits=digits, CallStatus="in-progress")))
    duration = str(20 + 12 * (len(requests) + 1))
    requests.append(
        ("status", "/ivr/status", call_params(sid, CallStatus="completed", SequenceNumber="2",
                                               CallDuration=duration))
    )  # fmt: skip
    return requests


def report(
    backend, args, measured: Result, before: Result, after: Result, errors, correct, summary
) -> None:
    """Product, floor (before, after, mean) and ratio, with the targets of issue 17."""
    real = measured.latencies()
    floors = (before.latencies(), after.latencies())
    print(
        f"  {'webhook':<8} {'count':>6} {'p50 ms':>8} {'p99 ms':>8} {'floor p50':>10} "
        f"{'floor p99':>10} {'p99 ratio':>10}   (floor: mean of before and after)"
    )
    for name in (*WEBHOOKS, "all"):
        values = real.get(name, [])
        p50, p99 = percentile(values, 50) * 1e3, percentile(values, 99) * 1e3
        f50 = sum(percentile(f.get(name, []), 50) for f in floors) / 2 * 1e3
        f99 = sum(percentile(f.get(name, []), 99) for f in floors) / 2 * 1e3
        print(
            f"  {name:<8} {len(values):>6} {p50:>8.1f} {p99:>8.1f} {f50:>10.1f} {f99:>10.1f} "
            f"{p99 / f99 if f99 else math.inf:>9.2f}x"
        )
    p99 = percentile(real.get("all", []), 99) * 1e3
    f99s = [percentile(f.get("all", []), 99) * 1e3 for f in floors]
    f99 = sum(f99s) / 2
    rps, frps = measured.rps, (before.rps + after.rps) / 2
    p99_ratio, rps_ratio = p99 / f99 if f99 else math.inf, rps / frps if frps else 0.0
    print(
        f"  floor before the product: p99 {f99s[0]:.1f} ms, {before.rps:.0f} req/s, "
        f"{len(before.samples)} requests; after: p99 {f99s[1]:.1f} ms, {after.rps:.0f} req/s, "
        f"{len(after.samples)} requests; product {len(measured.samples)} requests"
    )
    print(
        f"  server CPU per request: product {measured.cpu_per_request * 1e3:.2f} ms, floor "
        f"{before.cpu_per_request * 1e3:.2f} / {after.cpu_per_request * 1e3:.2f} ms"
    )
    verdict = {True: "OK", False: "MISSED"}
    print(
        f"  TARGET {backend:<10} p99         product {p99:7.1f} ms   floor {f99:7.1f} ms   "
        f"ratio {p99_ratio:5.2f}x (target <= {P99_TARGET:g}x) {verdict[p99_ratio <= P99_TARGET]}"
    )
    print(
        f"  TARGET {backend:<10} throughput  product {rps:7.0f} /s   floor {frps:7.0f} /s   "
        f"ratio {rps_ratio:5.2f}x (target >= {RPS_TARGET:g}x) {verdict[rps_ratio >= RPS_TARGET]}"
    )
    reconnects = measured.reconnects + before.reconnects + after.reconnects
    if reconnects:
        print(f"  reconnects: {reconnects}")
    for error in errors[:5]:
        print(f"  error: {error}")
    if len(errors) > 5:
        print(f"  … and {len(errors) - 5} more errors")
    if measured.completed != args.calls:
        print(f"  only {measured.completed} of {args.calls} calls completed")
    print(f"  check: {summary} {'OK' if correct else 'FAILED'}")


if __name__ == "__main__":
    sys.exit(main())
