"""The engine's SQLite set-up: writers of one process queue on a lock, not in SQLite's busy
handler (its sleeps made the IVR's tail under concurrent webhooks, issue 17)."""

from __future__ import annotations

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
