"""Shared helpers of the benchmarks: the databases to run on, timing, printing."""

from __future__ import annotations

import http.client
import math
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from cati.testing import temporary_database

SCRIPTS = Path(__file__).resolve().parent
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0
# gunicorn on 2 cores: gthread, 2 workers x 2 threads (why: the comment in bench_ivr.py).
DEFAULT_WORKERS = 2
DEFAULT_THREADS = 2
REQUEST_TIMEOUT_S = 30.0  # a client's wait for one answer


def drive(
    clients: list,
    jobs: list,
    work: Callable[[object, object], object],
    limit_s: float,
    failures: tuple[type[BaseException], ...],
) -> tuple[dict[int, object], float, list[str]]:
    """Hand `jobs` to one thread per keep-alive client, each doing `work(client, job)` for
    the next job until none is left or `limit_s` has passed. A job failing with one of
    `failures` is counted as an error and its client reconnects. Returns each finished job's
    result by its index, the seconds taken and the errors."""
    lock = threading.Lock()
    pending = iter(enumerate(jobs))
    done: dict[int, object] = {}
    errors: list[str] = []
    deadline = time.monotonic() + limit_s

    def worker(client) -> None:
        while time.monotonic() < deadline:
            with lock:
                index, job = next(pending, (None, None))
            if index is None:
                return
            try:
                done[index] = work(client, job)
            except failures as exc:
                with lock:
                    errors.append(f"{type(exc).__name__}: {exc}")
                client.close()

    threads = [threading.Thread(target=worker, args=(c,), daemon=True) for c in clients]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()) + REQUEST_TIMEOUT_S)
    seconds = time.perf_counter() - start
    if any(thread.is_alive() for thread in threads):
        errors.append("client threads still running after the time limit")
    if len(done) < len(jobs) and not errors:
        errors.append(f"time limit of {limit_s:g} s reached")
    return done, seconds, errors


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


# --- gunicorn on loopback (bench_ivr, bench_web) ---------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def gunicorn(
    app: str, env: dict[str, str], port: int, args, folder: Path
) -> Iterator[subprocess.Popen]:
    """Run gunicorn for `app` on 127.0.0.1:port until the block ends (stopped even on errors),
    in `folder` (its log goes there, and whatever the app writes to its working directory)."""
    log = folder / "gunicorn.log"
    folder.mkdir()
    command = [
        sys.executable, "-m", "gunicorn", app,
        "--bind", f"127.0.0.1:{port}",
        "--worker-class", "gthread",
        "--workers", str(args.workers),
        "--threads", str(args.threads),
        "--keep-alive", "30",  # the clients' connections stay open for the whole run
        "--graceful-timeout", "5",
        "--pythonpath", str(SCRIPTS),
        "--log-level", "warning",
    ]  # fmt: skip
    if Path("/dev/shm").is_dir():
        command += ["--worker-tmp-dir", "/dev/shm"]  # heartbeats off the disk
    with log.open("wb") as output:
        process = subprocess.Popen(
            command,
            env=env,
            cwd=folder,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_until_up(process, port, log)
        yield process
    finally:
        stop(process)


def wait_until_up(process: subprocess.Popen, port: int, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {process.returncode}:\n{tail(log)}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/")
            conn.getresponse().read()
            conn.close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"gunicorn did not answer on port {port} in {START_TIMEOUT_S:g} s")


def stop(process: subprocess.Popen) -> None:
    """SIGTERM (gunicorn stops its workers), then SIGKILL to its whole process group: the
    group is still ours then, its leader not yet reaped."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            with suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(STOP_TIMEOUT_S)


def cpu_seconds(pid: int) -> float:
    """CPU time (user and system) used so far by gunicorn `pid` and its workers (Linux only:
    NaN elsewhere)."""
    total = 0.0
    try:
        proc = Path("/proc")
        for entry in proc.iterdir():
            if entry.name.isdigit():
                try:
                    fields = (entry / "stat").read_text().rpartition(")")[2].split()
                except OSError:
                    continue
                if entry.name == str(pid) or fields[1] == str(pid):
                    total += int(fields[11]) + int(fields[12])
    except OSError:
        return math.nan
    return total / os.sysconf("SC_CLK_TCK")


def tail(log: Path, lines: int = 20) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def percentile(ordered: list[float], p: float) -> float:
    """Nearest rank."""
    if not ordered:
        return math.nan
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]
