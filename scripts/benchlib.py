"""Shared helpers of the benchmarks: the databases to run on, timing, printing."""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from cati.testing import temporary_database


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
    server = postgres_server() if backend == "postgresql" else None
    with (
        tempfile.TemporaryDirectory(prefix="cati-bench-") as folder,
        temporary_database(server, Path(folder), "cati_bench") as url,
    ):
        yield url


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


def target_line(
    backend: str, label: str, seconds: float, floor: float, target: float, floor_note: str = ""
) -> bool:
    """The product against its floor (issue 17), with the target and OK or MISSED."""
    ratio = seconds / floor if floor else float("inf")
    ok = ratio <= target
    print(
        f"  TARGET {backend:<10} {label:<26} product {seconds:8.3f} s   floor {floor:7.3f} s"
        f"{f' ({floor_note})' if floor_note else ''}   ratio {ratio:5.2f}x "
        f"(target <= {target:g}x) {'OK' if ok else 'MISSED'}"
    )
    return ok
