"""Which `cati scheduler` process runs the jobs: the one holding a lock the database's
machine releases by itself when the holder dies.

- PostgreSQL: a session advisory lock, held by a connection kept for the purpose. When the
  process dies its connection closes and the server releases the lock at once.
- SQLite: an exclusive `flock` on a file beside the database. The kernel releases it when the
  process dies, whatever the way; every process using the database file sees it.
"""

from __future__ import annotations

import fcntl
import logging
import os
from abc import ABC, abstractmethod
from pathlib import Path

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import SQLAlchemyError

log = logging.getLogger(__name__)

# One lock per database: advisory locks are scoped to the database they were taken in.
ADVISORY_KEY = 0x63617469_5343484C  # "catiSCHL"


class Leadership(ABC):
    @abstractmethod
    def try_acquire(self) -> bool:
        """Take the lock if nobody holds it; never waits."""

    @abstractmethod
    def still_held(self) -> bool:
        """Whether the lock is still ours (a lost database connection loses it)."""

    @abstractmethod
    def release(self) -> None:
        """Give the lock up (safe to call when not held)."""


class AdvisoryLockLeadership(Leadership):
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.connection: Connection | None = None

    def try_acquire(self) -> bool:
        self.release()
        connection = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        try:
            held = connection.scalar(text("SELECT pg_try_advisory_lock(:k)"), {"k": ADVISORY_KEY})
        except BaseException:
            connection.invalidate()  # it may hold the lock: never back into the pool
            connection.close()
            raise
        if not held:
            connection.close()
            return False
        self.connection = connection
        return True

    def still_held(self) -> bool:
        if self.connection is None:
            return False
        try:
            return bool(
                self.connection.scalar(
                    text(
                        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
                        "AND pid = pg_backend_pid() AND granted "
                        "AND ((classid::bigint << 32) | objid::bigint) = :k"
                    ),
                    {"k": ADVISORY_KEY},
                )
            )
        except SQLAlchemyError as exc:
            log.warning("leadership: lock connection lost (%s)", type(exc).__name__)
            return False

    def release(self) -> None:
        if self.connection is None:
            return
        connection, self.connection = self.connection, None
        try:
            connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": ADVISORY_KEY})
        except SQLAlchemyError:
            pass  # the connection is gone, and the lock with it
        finally:
            try:
                connection.invalidate()  # never hand a lock-holding connection back to the pool
            finally:
                connection.close()


class FileLockLeadership(Leadership):
    def __init__(self, path: Path) -> None:
        self.path = path
        self.descriptor: int | None = None
        self.inode: int | None = None

    def try_acquire(self) -> bool:
        if self.descriptor is not None:
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(descriptor)
            return False
        self.descriptor, self.inode = descriptor, os.fstat(descriptor).st_ino
        return True

    def still_held(self) -> bool:
        """Held, and the lock file is still the one locked: were it deleted or replaced,
        another process could lock the new file."""
        if self.descriptor is None:
            return False
        try:
            return os.stat(self.path).st_ino == self.inode
        except FileNotFoundError:
            return False

    def release(self) -> None:
        if self.descriptor is not None:
            descriptor, self.descriptor = self.descriptor, None
            os.close(descriptor)  # closing the last descriptor drops the flock


def make_leadership(engine: Engine) -> Leadership:
    if engine.dialect.name == "postgresql":
        return AdvisoryLockLeadership(engine)
    database = engine.url.database
    if not database or database == ":memory:":
        raise ValueError("the scheduler needs a database file or server, not an in-memory one")
    return FileLockLeadership(Path(database).resolve().with_name(Path(database).name + ".lock"))
