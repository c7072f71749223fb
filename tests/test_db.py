"""The engine's SQLite set-up: writers queue on a lock (a thread lock, then a file lock shared
with other processes), not in SQLite's busy handler (its sleeps made the IVR's tail under
concurrent webhooks, issue 17)."""

from __future__ import annotations

import fcntl
import os
import stat
import threading

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from cati.db import _WRITER_LOCKS, make_engine


@pytest.fixture
def sqlite_engine(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'writers.db'}", connect_args={"timeout": 0.2})
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (n INTEGER)"))
    yield engine
    engine.dispose()


def writers_lock(tmp_path):
    return _WRITER_LOCKS[str((tmp_path / "writers.db").resolve())].lock


def test_a_write_transaction_holds_the_process_lock_until_it_ends(sqlite_engine, tmp_path):
    lock = writers_lock(tmp_path)
    with sqlite_engine.begin() as conn:
        conn.execute(text("INSERT INTO t VALUES (1)"))
        assert lock.locked()
    assert not lock.locked()
    with pytest.raises(RuntimeError), sqlite_engine.begin() as conn:
        conn.execute(text("INSERT INTO t VALUES (2)"))
        assert lock.locked()
        raise RuntimeError("rolled back")
    assert not lock.locked()
    with sqlite_engine.connect() as conn:
        assert conn.execute(text("SELECT n FROM t")).scalars().all() == [1]


def test_a_waiting_writer_goes_on_when_the_first_commits(sqlite_engine, tmp_path):
    """The second writer waits on the lock (not failing after SQLite's short busy timeout)
    and writes once the first one has committed."""
    lock = writers_lock(tmp_path)
    done = threading.Event()
    errors: list[BaseException] = []

    def second() -> None:
        try:
            with sqlite_engine.begin() as conn:
                conn.execute(text("INSERT INTO t VALUES (2)"))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            done.set()

    with sqlite_engine.begin() as conn:
        conn.execute(text("INSERT INTO t VALUES (1)"))
        thread = threading.Thread(target=second)
        thread.start()
        assert not done.wait(0.05)  # queued behind the first writer
        assert lock.locked()
    thread.join(10)
    assert not errors
    with sqlite_engine.connect() as conn:
        assert conn.execute(text("SELECT n FROM t ORDER BY n")).scalars().all() == [1, 2]
    assert not lock.locked()


def test_a_thread_never_waits_for_its_own_lock(sqlite_engine):
    """A second write transaction opened by the thread that already writes meets SQLite's
    own lock and busy timeout, as before: an error, not a hang."""
    with sqlite_engine.begin() as conn:
        conn.execute(text("INSERT INTO t VALUES (1)"))
        with pytest.raises(OperationalError, match="locked"), sqlite_engine.begin() as other:
            other.execute(text("INSERT INTO t VALUES (2)"))


def other_process_lock(tmp_path) -> int:
    """An open file of its own on the writers' lock file, as another process would have."""
    return os.open(tmp_path / "writers.db-writers", os.O_RDWR)


def test_a_write_transaction_locks_out_the_writers_of_other_processes(sqlite_engine, tmp_path):
    with sqlite_engine.begin() as conn:
        conn.execute(text("INSERT INTO t VALUES (1)"))
        other = other_process_lock(tmp_path)
        with pytest.raises(BlockingIOError):
            fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
    fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)  # free once committed
    os.close(other)
    mode = stat.S_IMODE(os.stat(tmp_path / "writers.db-writers").st_mode)
    assert oct(mode) == "0o600"


def test_a_writer_waits_for_another_process_and_goes_on_when_it_is_done(sqlite_engine, tmp_path):
    with sqlite_engine.begin() as conn:  # creates the lock file
        conn.execute(text("INSERT INTO t VALUES (1)"))
    other = other_process_lock(tmp_path)
    fcntl.flock(other, fcntl.LOCK_EX)
    done = threading.Event()

    def write() -> None:
        with sqlite_engine.begin() as conn:
            conn.execute(text("INSERT INTO t VALUES (2)"))
        done.set()

    thread = threading.Thread(target=write)
    thread.start()
    assert not done.wait(0.1)  # waiting for the other process, not writing past it
    fcntl.flock(other, fcntl.LOCK_UN)
    thread.join(10)
    os.close(other)
    assert done.is_set()
    with sqlite_engine.connect() as conn:
        assert conn.execute(text("SELECT n FROM t ORDER BY n")).scalars().all() == [1, 2]
