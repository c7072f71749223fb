"""Real `cati` processes for the fault tests: a web server and schedulers on one database."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

CATI = [sys.executable, "-c", "from cati.cli import main; main()"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def cati_env(database_url: str, **settings: str) -> dict[str, str]:
    """The environment of a `cati` process: this one's, without any CATI_ setting leaking in."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CATI_", "TWILIO_"))}
    env.update(
        CATI_DATABASE_URL=database_url,
        CATI_TIMEZONE="Asia/Ho_Chi_Minh",
        CATI_SECRET_KEY="fault-tests-secret-key",
        **settings,
    )
    return env


def run_cati(env: dict[str, str], *args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*CATI, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=120
    )


def start_cati(env: dict[str, str], *args: str, cwd: Path, log: Path) -> subprocess.Popen:
    handle = open(log, "ab")  # noqa: SIM115 (closed with the process, in stop())
    process = subprocess.Popen(
        [*CATI, *args], env=env, cwd=cwd, stdout=handle, stderr=subprocess.STDOUT
    )
    process.log_handle = handle  # type: ignore[attr-defined]
    return process


def start_web(env: dict[str, str], port: int, *, cwd: Path, log: Path) -> subprocess.Popen:
    process = start_cati(env, "serve", "--port", str(port), cwd=cwd, log=log)
    wait_until(lambda: _answers(f"http://127.0.0.1:{port}/healthz"), timeout=30, what="web up")
    return process


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2):
            return True
    except urllib.error.HTTPError:
        return True  # 503 still means the server answers
    except OSError:
        return False


def stop(process: subprocess.Popen, sig: int = signal.SIGTERM, timeout: float = 30) -> int:
    if process.poll() is None:
        process.send_signal(sig)
    try:
        return process.wait(timeout)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        process.log_handle.close()  # type: ignore[attr-defined]


def wait_until(predicate: Callable[[], object], *, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for: {what}")
        time.sleep(0.1)


class Plug:
    """A TCP proxy in front of the database server that a test can pull: while pulled, every
    connection through it is cut and new ones are closed at once."""

    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.pulled = threading.Event()
        self.lock = threading.Lock()
        self.sockets: set[socket.socket] = set()
        threading.Thread(target=self._accept, daemon=True).start()

    def pull(self) -> None:
        self.pulled.set()
        with self.lock:
            for sock in self.sockets:
                _close(sock)
            self.sockets.clear()

    def push_back(self) -> None:
        self.pulled.clear()

    def close(self) -> None:
        self.pull()
        _close(self.listener)

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if self.pulled.is_set():
                _close(client)
                continue
            try:
                server = socket.create_connection(self.upstream, timeout=5)
            except OSError:
                _close(client)
                continue
            server.settimeout(None)
            with self.lock:
                self.sockets.update((client, server))
            for source, target in ((client, server), (server, client)):
                threading.Thread(target=_pump, args=(source, target), daemon=True).start()


def _pump(source: socket.socket, target: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            target.sendall(data)
    except OSError:
        pass
    finally:
        _close(source)
        _close(target)


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()
