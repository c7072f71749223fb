"""Shared helpers of the benchmarks: the databases to run on, timing, printing."""

from __future__ import annotations

import os
import secrets
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url

from cati.db import make_engine


def backends() -> list[str]:
    """SQLite always; PostgreSQL when CATI_BENCH_POSTGRES_URL (or CATI_TEST_POSTGRES_URL) is set."""
    names = ["sqlite"]
    if postgres_server():
        names.append("postgresql")
    return names


def postgres_server() -> str | None:
    return os.environ.get("CATI_BENCH_POSTGRES_URL") or os.environ.get("CATI_TEST_POSTGRES_URL")


@contextmanager
def scratch_database(backend: str) -> Iterator[str]:
    """A new empty database for one measurement, removed afterwards."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory(prefix="cati-bench-") as folder:
            yield f"sqlite:///{Path(folder) / 'bench.db'}"
        return
    server = postgres_server()
    assert server
    name = f"cati_bench_{os.getpid()}_{secrets.token_hex(4)}"
    admin = make_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def best_of(
    repeats: int, run: Callable[[], None], setup: Callable[[], None] | None = None
) -> float:
    """The fastest of `repeats` timed runs (each after an untimed `setup`)."""
    times = []
    for _ in range(repeats):
        if setup:
            setup()
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def report(
    backend: str, label: str, seconds: float, baseline: float, target: float, extra: str = ""
) -> bool:
    ratio = seconds / baseline if baseline else float("inf")
    ok = ratio <= target
    print(
        f"  {backend:<10} {label:<34} {seconds:8.3f} s   baseline {baseline:7.3f} s   "
        f"ratio {ratio:5.2f}x (target <= {target:g}x) {'OK' if ok else 'MISSED'} {extra}"
    )
    return ok
