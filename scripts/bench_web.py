#!/usr/bin/env python3
"""Benchmark: N M.Score questionnaires answered through the web survey page (`/s/<token>`)
under gunicorn, against a static file served by the same server in the same run (issue 15).

The real application (`cati.web:create_app()`) runs under the same gunicorn settings as
scripts/bench_ivr.py (gthread, 2 workers x 2 threads by default) on loopback, on a web round
of N members with their personal links. C client threads, each with one keep-alive
connection, take the members in turn and do what a citizen's phone does: GET /s/<token>
(which opens the session and gives the form its CSRF token), then for each question POST
the answer with that token and the session cookie and follow the 303 to the next GET, until
the thank-you page. Answers are drawn per member (consent yes, scores 1-9, yes or no, one
citizen in five types a short comment, and the contact question the follow-ups add after a
low score or a comment is answered yes or no), as a phone would send them.

The baseline: as many GETs of /static/survey.css, by the same clients on the same
connections, right after the surveys. Printed per database: requests per second of the
surveys (and of the pages shown, the GETs) and of the static file, p50 and p99 of the GET
pages, of the POST answers and of the static file, and their ratios to the static file (the
issue sets no target: they are figures). At the end every member must be final with
disposition 1.1 and exactly the answers its client sent; the exit status is 1 otherwise
(or if any request failed).

A few warm-up members (not measured, checked like the others) go first, so that each worker
has loaded the flow and opened its database connections.

Usage: scripts/bench_web.py [--members N] [--concurrency C] [--workers W] [--threads T]
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
from datetime import UTC, datetime, timedelta
from html import unescape
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent))

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
from sqlalchemy import select, text

from cati.db import insert_rows, make_engine
from cati.domain.web_links import derive_token, new_nonce, token_hash
from cati.domain.weeks import IsoWeek
from cati.migrate import upgrade
from cati.models import Answer, Case, Member, Office, Round, WebLink

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
STATIC = "/static/survey.css"
MAX_SCREENS = 30  # a questionnaire shows at most this many questions (9 at most for M.Score)
COMMENTS = ("Nên có thêm ghế chờ", "Cán bộ hướng dẫn tận tình", "Phải chờ lâu")
KINDS = ("page", "answer", "static")  # GET /s/<token>, POST /s/<token>, GET the static file

_CSRF = re.compile(rb'name="csrf_token" value="([^"]+)"')
_QUESTION = re.compile(rb'name="question" value="([^"]+)"')
_RADIO = re.compile(rb'type="radio" name="answer" id="[^"]*" value="([^"]+)"')
_TEXTAREA = re.compile(rb'<textarea id="comment" name="comment"')
_DONE = b'data-testid="survey-done"'


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--workers", type=int, default=DEFAULT_WORKERS, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=DEFAULT_THREADS, help="threads each")
    parser.add_argument("--warmup", type=int, default=16, help="unmeasured members first")
    parser.add_argument("--time-limit", type=float, default=300.0, help="seconds per drive")
    args = parser.parse_args()
    if min(args.members, args.concurrency, args.workers, args.threads) < 1 or args.warmup < 0:
        parser.error("--members, --concurrency, --workers and --threads must be at least 1")
    print(
        f"Web survey: {args.members} members ({args.warmup} warm-up members first), "
        f"{args.concurrency} concurrent clients, gunicorn {args.workers} workers x "
        f"{args.threads} threads (gthread), {os.cpu_count()} cores; baseline GET {STATIC}"
    )
    ok = True
    for backend in backends():
        with scratch_database(backend) as url:
            ok = run_backend(backend, url, args) and ok
    return 0 if ok else 1


# --- the database -------------------------------------------------------------------------


def populate(url: str, count: int, key: str) -> list[tuple[int, str]]:
    """Migrate, then one open web round of `count` members with their personal links, in bulk
    (as `rounds sample --mode web` makes them). Returns (member id, token) of every member,
    the token derived from the key and nonce as `cati rounds links` derives it."""
    upgrade(url)
    engine = make_engine(url)
    now = datetime.now(UTC)
    week = IsoWeek.containing(now, TZ)
    start, end = week.bounds_utc(TZ)
    ids = range(1, count + 1)
    nonces = [new_nonce() for _ in ids]
    tokens = [derive_token(key, i, nonces[i - 1]) for i in ids]
    try:
        with engine.begin() as conn:
            insert_rows(conn, Office.__table__, ["id", "code", "name"],
                        [(1, "QT-DONGHA", "Bộ phận một cửa thành phố Đông Hà")])  # fmt: skip
            insert_rows(
                conn,
                Round.__table__,
                ["id", "week", "flow", "status", "seed", "rate", "min_per_office",
                 "week_start_at", "week_end_at", "calling_ends_at", "frame_size", "eligible",
                 "sampled", "created_at", "mode", "then_mode"],
                [(1, str(week), "mscore", "open", 1, 0.2, 5, start, end,
                  end + timedelta(days=14), count, count, count, now, "web", "ivr")],
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
                ["id", "round_id", "case_id", "office_id", "phone", "status", "attempt_count",
                 "mode"],
                [(i, 1, i, 1, phones[i - 1], "pending", 0, "web") for i in ids],
            )  # fmt: skip
            insert_rows(
                conn,
                WebLink.__table__,
                ["member_id", "nonce", "token_hash", "created_at"],
                [(i, nonces[i - 1], token_hash(tokens[i - 1]), now) for i in ids],
            )
            if engine.dialect.name == "postgresql":  # explicit ids: move the sequences on
                for table in ("offices", "rounds", "cases", "members"):
                    conn.execute(
                        text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                             f"(SELECT max(id) FROM {table}))")
                    )  # fmt: skip
    finally:
        engine.dispose()
    return list(zip(ids, tokens, strict=True))


Sent = dict[str, str]  # question id -> the key chosen, or the comment typed


def check(url: str, sent: dict[int, Sent], count: int) -> tuple[bool, str]:
    """Every member final 1.1, with exactly the answers its client sent: the keys, and the
    comments typed (saved with value 1 and the text; an empty one with neither)."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            members = conn.execute(select(Member.id, Member.status, Member.disposition)).all()
            rows = conn.execute(
                select(Answer.member_id, Answer.question_id, Answer.value, Answer.text)
            ).all()
    finally:
        engine.dispose()
    saved: dict[int, Sent] = defaultdict(dict)
    for member_id, question, value, typed in rows:
        if value or typed:
            saved[member_id][question] = typed or value  # a comment: its text (value "1")
    final = sum(1 for _, status, code in members if (status, code) == ("final", "1.1"))
    wanted = {m: {q: v for q, v in answers.items() if v} for m, answers in sent.items()}
    wrong = [m for m, answers in wanted.items() if saved.get(m) != answers]
    matching = len(wanted) - len(wrong)
    answers = sum(len(a) for a in saved.values())
    ok = final == matching == count == len(members) == len(sent)
    first = (
        f"; member {wrong[0]}: sent {wanted[wrong[0]]}, saved {saved.get(wrong[0])}"
        if wrong
        else ""
    )
    return ok, (
        f"{final}/{count} members final 1.1, {matching}/{count} with exactly the answers sent "
        f"({answers} answers in all){first}"
    )


# --- the clients --------------------------------------------------------------------------


class Failure(Exception):
    pass


class Client:
    """One client thread's keep-alive connection (a phone's browser); times every request."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT_S)
        self.samples: list[tuple[str, float]] = []
        self.reconnects = 0

    def request(
        self, kind: str, method: str, path: str, body: bytes | None, headers: dict[str, str]
    ) -> tuple[int, http.client.HTTPResponse, bytes]:
        for attempt in range(2):  # once more on a fresh connection if the server closed it
            try:
                start = time.perf_counter()
                self.conn.request(method, path, body, headers)
                response = self.conn.getresponse()
                data = response.read()
                self.samples.append((kind, time.perf_counter() - start))
                return response.status, response, data
            except (http.client.RemoteDisconnected, ConnectionError):
                self.conn.close()
                if attempt:
                    raise
                self.reconnects += 1
        raise AssertionError("unreachable")

    def close(self) -> None:
        self.conn.close()


class Phone:
    """One citizen's browser on a client's connection: its own session cookie."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self.cookie: str | None = None

    def _send(self, kind: str, method: str, path: str, body: bytes | None = None):
        headers = {"Accept-Language": "vi"}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if self.cookie:
            headers["Cookie"] = self.cookie
        status, response, data = self.client.request(kind, method, path, body, headers)
        for header in response.headers.get_all("Set-Cookie") or []:
            pair = header.split(";", 1)[0]
            if pair.startswith("session="):
                self.cookie = pair if pair != "session=" else None
        return status, response, data

    def get(self, path: str) -> bytes:
        status, _response, data = self._send("page", "GET", path)
        if status != 200:
            raise Failure(f"GET {path}: HTTP {status}: {data[:200]!r}")
        return data

    def post(self, path: str, form: dict[str, str]) -> str:
        body = urllib.parse.urlencode(form).encode()
        status, response, data = self._send("answer", "POST", path, body)
        location = response.headers.get("Location")
        if status != 303 or not location:
            raise Failure(f"POST {path} {form.get('question')}: HTTP {status}: {data[:300]!r}")
        parts = urllib.parse.urlsplit(location)  # absolute or not: the path on this server
        return parts.path + (f"?{parts.query}" if parts.query else "")


def survey(client: Client, member_id: int, token: str) -> Sent:
    """One citizen answering the whole questionnaire on the page; returns what was sent."""
    rng = random.Random(member_id)
    phone = Phone(client)
    path = f"/s/{token}"
    page = phone.get(path)
    sent: Sent = {}
    for _ in range(MAX_SCREENS):
        if _DONE in page:
            return sent
        csrf, question = _CSRF.search(page), _QUESTION.search(page)
        if csrf is None or question is None:
            raise Failure(f"member {member_id}: neither a question nor the end: {page[:300]!r}")
        question_id = unescape(question.group(1).decode())
        form = {"csrf_token": unescape(csrf.group(1).decode()), "question": question_id}
        if _TEXTAREA.search(page):
            form["comment"] = rng.choice(COMMENTS) if rng.random() < 0.2 else ""
            sent[question_id] = form["comment"]
        else:
            keys = [k.decode() for k in _RADIO.findall(page) if k != b"0"]  # no "don't know"
            if not keys:
                raise Failure(f"member {member_id}: question {question_id} without choices")
            form["answer"] = "1" if question_id == "consent" else rng.choice(keys)
            sent[question_id] = form["answer"]
        page = phone.get(phone.post(path, form))
    raise Failure(f"member {member_id}: no thank-you page after {MAX_SCREENS} screens")


def static_file(client: Client, _job) -> None:
    status, _response, data = client.request("static", "GET", STATIC, None, {})
    if status != 200 or not data:
        raise Failure(f"GET {STATIC}: HTTP {status}")


class Drive:
    """Jobs on C threads, each thread with the same keep-alive client in every run."""

    def __init__(self, port: int, concurrency: int) -> None:
        self.clients = [Client(port) for _ in range(concurrency)]

    def run(self, jobs: list, work: Callable[[Client, object], object], limit_s: float):
        marks = [len(c.samples) for c in self.clients]
        reconnects = sum(c.reconnects for c in self.clients)
        failures = (Failure, OSError, http.client.HTTPException)
        done, seconds, errors = drive(self.clients, jobs, work, limit_s, failures)
        samples = [s for c, mark in zip(self.clients, marks, strict=True) for s in c.samples[mark:]]
        return Result(
            samples, seconds, done, errors, sum(c.reconnects for c in self.clients) - reconnects
        )

    def close(self) -> None:
        for client in self.clients:
            client.close()


class Result:
    def __init__(self, samples, seconds, done, errors, reconnects) -> None:
        self.samples: list[tuple[str, float]] = samples
        self.seconds: float = seconds
        self.done: dict[int, object] = done
        self.errors: list[str] = errors
        self.reconnects: int = reconnects
        self.server_cpu = math.nan  # seconds of CPU the server used meanwhile

    def count(self, kind: str | None = None) -> int:
        return sum(1 for k, _ in self.samples if kind is None or k == kind)

    def per_second(self, kind: str | None = None) -> float:
        return self.count(kind) / self.seconds if self.seconds else 0.0

    @property
    def cpu_per_request(self) -> float:
        return self.server_cpu / len(self.samples) if self.samples else math.nan

    def latencies(self) -> dict[str, list[float]]:
        by_kind: dict[str, list[float]] = defaultdict(list)
        for kind, seconds in self.samples:
            by_kind[kind].append(seconds)
        return {name: sorted(values) for name, values in by_kind.items()}


# --- one backend --------------------------------------------------------------------------


def run_backend(backend: str, url: str, args) -> bool:
    total = args.warmup + args.members
    key = secrets.token_hex(32)
    started = time.perf_counter()
    members = populate(url, total, key)
    seconds = time.perf_counter() - started
    print(f"\n{backend}: {total} members and links inserted in {seconds:.1f} s")
    port = free_port()
    env = {
        **os.environ,
        "CATI_DATABASE_URL": url,
        "CATI_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "CATI_TELEPHONY": "simulated",
        "CATI_SECRET_KEY": key,  # the links' key; nothing written to an instance folder
    }

    def answer(client: Client, job) -> Sent:
        return survey(client, *job)

    with tempfile.TemporaryDirectory(prefix="cati-bench-") as folder:
        log = Path(folder) / "web" / "gunicorn.log"
        with gunicorn("cati.web:create_app()", env, port, args, Path(folder) / "web") as server:
            drive = Drive(port, args.concurrency)
            try:
                warm = drive.run(members[: args.warmup], answer, args.time_limit)
                warm_static = drive.run([None] * args.warmup, static_file, args.time_limit)

                def measured(jobs, work) -> Result:
                    cpu = cpu_seconds(server.pid)
                    result = drive.run(jobs, work, args.time_limit)
                    result.server_cpu = cpu_seconds(server.pid) - cpu
                    return result

                surveys = measured(members[args.warmup :], answer)
                static = measured([None] * surveys.count("page"), static_file)
            finally:
                drive.close()
        errors = warm.errors + warm_static.errors + surveys.errors + static.errors
        if errors:
            print(f"  server log:\n{tail(log)}")
    sent = {members[i][0]: answers for i, answers in warm.done.items()}
    sent |= {members[args.warmup + i][0]: answers for i, answers in surveys.done.items()}
    correct, summary = check(url, sent, total)
    report(args, surveys, static, errors, correct, summary)
    return correct and not errors


def report(args, surveys: Result, static: Result, errors, correct, summary) -> None:
    latencies = {**surveys.latencies(), **static.latencies()}
    base50 = percentile(latencies.get("static", []), 50)
    base99 = percentile(latencies.get("static", []), 99)
    print(
        f"  {'request':<28} {'count':>6} {'p50 ms':>8} {'p99 ms':>8} {'p50 ratio':>10} "
        f"{'p99 ratio':>10}   (ratio: to the static file)"
    )
    names = {"page": "GET /s/<token> (pages)", "answer": "POST /s/<token> (answers)",
             "static": f"GET {STATIC}"}  # fmt: skip
    for kind in KINDS:
        values = latencies.get(kind, [])
        p50, p99 = percentile(values, 50), percentile(values, 99)
        print(
            f"  {names[kind]:<28} {len(values):>6} {p50 * 1e3:>8.1f} {p99 * 1e3:>8.1f} "
            f"{p50 / base50 if base50 else math.inf:>9.2f}x "
            f"{p99 / base99 if base99 else math.inf:>9.2f}x"
        )
    rate, pages, base = surveys.per_second(), surveys.per_second("page"), static.per_second()
    print(
        f"  surveys: {rate:.0f} requests/s ({pages:.0f} pages/s shown, "
        f"{surveys.per_second('answer'):.0f} answers/s), {len(surveys.done)} questionnaires in "
        f"{surveys.seconds:.1f} s; static file: {base:.0f} requests/s in {static.seconds:.1f} s"
    )
    print(
        f"  ratio to the static file: requests/s {rate / base if base else 0.0:.2f}x, "
        f"pages/s {pages / base if base else 0.0:.2f}x"
    )
    print(
        f"  server CPU per request: surveys {surveys.cpu_per_request * 1e3:.2f} ms, "
        f"static file {static.cpu_per_request * 1e3:.2f} ms"
    )
    if surveys.reconnects + static.reconnects:
        print(f"  reconnects: {surveys.reconnects + static.reconnects}")
    for error in errors[:5]:
        print(f"  error: {error}")
    if len(errors) > 5:
        print(f"  … and {len(errors) - 5} more errors")
    if len(surveys.done) != args.members:
        print(f"  only {len(surveys.done)} of {args.members} questionnaires completed")
    print(f"  check: {summary} {'OK' if correct else 'FAILED'}")


if __name__ == "__main__":
    sys.exit(main())
