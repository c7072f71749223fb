#!/usr/bin/env python3
"""The IVR turn's CPU and SQL per request, in-process: the product against the floor.

Where scripts/bench_ivr.py measures latency under gunicorn (which depends on what else the
machine runs), this drives the same full M.Score surveys (status ringing, voice, consent, six
answers, the comment prompt, status completed; every request signed) one at a time through
Flask's test client, in this process, and counts for each webhook request the CPU seconds
spent handling it (`time.process_time`) and the SQL statements it sent. The floor
(scripts/bench_ivr_floor.py) gets the very same requests. CPU time is little affected by
other load on the machine, so these figures can be compared between runs and machines.

`--profile` adds cProfile's top functions of the product's drive.

Usage: scripts/bench_ivr_cpu.py [--calls N] [--profile] [--sort tottime|cumtime]
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import secrets
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path
from statistics import mean, median

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_ivr import keys_for_flow, populate, real_call, replayed_call
from bench_ivr_floor import make_app as make_floor_app
from bench_ivr_floor import prepare as prepare_floor
from benchlib import backends, scratch_database
from sqlalchemy import event

from cati.config import Settings
from cati.runtime import Runtime
from cati.telephony.signatures import sign
from cati.web import create_app

PUBLIC_URL = "http://bench.invalid"
FLOOR_STATEMENTS = 3  # SELECT, INSERT, UPDATE, between BEGIN (IMMEDIATE) and COMMIT


class InProcessClient:
    """bench_ivr.Client's interface on Flask's test client; CPU time and statements per
    request are kept per webhook."""

    def __init__(self, app, token: str, statements: list[int]) -> None:
        self.client = app.test_client()
        self.public_url, self.token = PUBLIC_URL, token
        self.statements = statements  # one counter, moved on by the engine's listener
        self.cpu: dict[str, list[float]] = defaultdict(list)
        self.sql: Counter = Counter()
        self.samples: list = []

    def post(self, webhook: str, path: str, params: dict[str, str]) -> tuple[int, bytes]:
        headers = {"X-Twilio-Signature": sign(self.token, self.public_url + path, params)}
        before_sql = self.statements[0]
        start = time.process_time()
        response = self.client.post(path, data=params, headers=headers)
        self.cpu[webhook].append(time.process_time() - start)
        self.sql[webhook] += self.statements[0] - before_sql
        return response.status_code, response.get_data()


def count_statements(engine, counter: list[int]) -> None:
    @event.listens_for(engine, "before_cursor_execute")
    def _count(_conn, _cursor, statement, *_args) -> None:
        if not statement.startswith("BEGIN"):
            counter[0] += 1


def run_backend(backend: str, args) -> None:
    with scratch_database(backend) as url, scratch_database(backend) as floor_url:
        total = args.warmup + args.calls
        calls = populate(url, total)
        prepare_floor(floor_url, [sid for _, sid in calls])
        env = {
            **os.environ,
            "CATI_DATABASE_URL": url,
            "CATI_PUBLIC_URL": PUBLIC_URL,
            "CATI_TELEPHONY": "simulated",
            "CATI_SECRET_KEY": secrets.token_hex(32),
        }
        settings = Settings.from_env(env)
        runtime = Runtime.from_settings(settings)
        app = create_app(runtime)
        counter = [0]
        count_statements(runtime.session_factory.kw["bind"], counter)
        keys = keys_for_flow("mscore")
        product = InProcessClient(app, settings.webhook_token, counter)
        sent = [real_call(product, *call, keys) for call in calls[: args.warmup]]
        product = InProcessClient(app, settings.webhook_token, counter)
        profiler = cProfile.Profile() if args.profile else None
        if profiler:
            profiler.enable()
        sent = [real_call(product, *call, keys) for call in calls[args.warmup :]]
        if profiler:
            profiler.disable()

        floor_app = make_floor_app(floor_url, PUBLIC_URL, settings.webhook_token)
        floor_counter = [0]  # not counted: FLOOR_STATEMENTS by construction
        floor = InProcessClient(floor_app, settings.webhook_token, floor_counter)
        for requests in sent[: args.warmup]:
            replayed_call(floor, requests)
        floor = InProcessClient(floor_app, settings.webhook_token, floor_counter)
        for requests in sent:
            replayed_call(floor, requests)
        runtime.session_factory.kw["bind"].dispose()

    print(f"\n{backend}: {args.calls} full surveys, one request at a time, in-process")
    print(
        f"  {'webhook':<8} {'requests':>8} {'CPU ms/req':>11} {'median':>7} {'SQL/req':>8} "
        f"{'floor CPU':>10} {'median':>7} {'SQL/req':>8}"
    )
    for name in ("voice", "gather", "status", "all"):
        if name == "all":
            cpu = [v for values in product.cpu.values() for v in values]
            sql = sum(product.sql.values())
            fcpu = [v for values in floor.cpu.values() for v in values]
            fsql = FLOOR_STATEMENTS * len(fcpu)
        else:
            cpu, sql = product.cpu[name], product.sql[name]
            fcpu = floor.cpu[name]
            fsql = FLOOR_STATEMENTS * len(fcpu)
        print(
            f"  {name:<8} {len(cpu):>8} {mean(cpu) * 1e3:>11.2f} {median(cpu) * 1e3:>7.2f} "
            f"{sql / len(cpu):>8.2f} {mean(fcpu) * 1e3:>10.2f} {median(fcpu) * 1e3:>7.2f} "
            f"{fsql / len(fcpu):>8.2f}"
        )
    print(
        f"  CPU per request (median): product {median(cpu) * 1e3:.2f} ms, floor "
        f"{median(fcpu) * 1e3:.2f} ms, ratio {median(cpu) / median(fcpu):.2f}x; "
        f"statements per request: product {sql / len(cpu):.2f}, floor {fsql / len(fcpu):.2f} "
        f"(BEGIN and COMMIT not counted)"
    )
    if profiler:
        stats = pstats.Stats(profiler)
        stats.sort_stats(args.sort).print_stats(args.top)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=100)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--sort", default="tottime", choices=("tottime", "cumtime"))
    parser.add_argument("--top", type=int, default=40)
    args = parser.parse_args()
    for backend in backends():
        run_backend(backend, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
