"""Engine and session factory, the declarative base and shared column types."""

from __future__ import annotations

import functools
import os
import sqlite3
import stat
import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

try:
    import fcntl
except ImportError:  # not POSIX: writers of other processes meet SQLite's busy handler
    fcntl = None

from sqlalchemy import Connection, DateTime, Engine, MetaData, Table, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import DeclarativeBase, sessionmaker
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always returned timezone-aware.

    PostgreSQL keeps the zone (timestamptz). SQLite has none: values are written as naive UTC
    text in SQLAlchemy's own SQLite format (so that text order is time order) and given their
    zone back when read. The processors are written out in one step each because bulk imports
    convert hundreds of thousands of values.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def bind_processor(self, dialect):
        sqlite = dialect.name == "sqlite"

        def process(value: datetime | None):
            if value is None:
                return None
            if value.tzinfo is None:
                raise ValueError(f"naive datetime {value!r} given where UTC is required")
            return _sqlite_text(value) if sqlite else value.astimezone(UTC)

        return process

    def result_processor(self, dialect, coltype):
        if dialect.name == "sqlite":

            def process(value: str | None) -> datetime | None:
                return None if value is None else datetime.fromisoformat(value).replace(tzinfo=UTC)

        else:

            def process(value: datetime | None) -> datetime | None:
                if value is None:
                    return None
                return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

        return process


@lru_cache(maxsize=65536)
def _sqlite_text(value: datetime) -> str:
    # Imports repeat the same instants (import time, dates to the minute): cache them.
    value = value.astimezone(UTC)
    return (
        f"{value.year:04d}-{value.month:02d}-{value.day:02d} {value.hour:02d}:"
        f"{value.minute:02d}:{value.second:02d}.{value.microsecond:06d}"
    )


def make_engine(url: str, **kwargs) -> Engine:
    """Create an engine; for a SQLite file, its first connection creates the folder, the file
    and its -wal and -shm files are kept private to their owner (mode 0600), and sane pragmas
    are turned on.

    Errors never quote a statement's parameters: they can be phone numbers or names, and
    errors end up in logs.
    """
    kwargs.setdefault("hide_parameters", True)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = None
        kwargs.setdefault("connect_args", {"timeout": 30})
        if parsed.database and parsed.database != ":memory:":
            path = Path(parsed.database)
            # Writers of this process queue on one lock (see _SQLiteConnection).
            kwargs["connect_args"] = {"factory": _SQLiteConnection, **kwargs["connect_args"]}
        engine = create_engine(url, **kwargs)
        if path is not None:
            event.listen(engine, "do_connect", functools.partial(_create_private, path))
        event.listen(engine, "connect", functools.partial(_sqlite_pragmas, path))
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    # A dead server or a silent network is noticed within about a minute, not after the
    # operating system's two hours: the scheduler's leadership depends on it.
    kwargs["connect_args"] = {
        "keepalives": 1,
        "keepalives_idle": 30,
        "keepalives_interval": 10,
        "keepalives_count": 3,
        "tcp_user_timeout": 30_000,  # ms: unacknowledged data for this long ends the link
        **kwargs.get("connect_args", {}),
    }
    return create_engine(url, pool_pre_ping=True, **kwargs)


# The database holds citizens' names and numbers: its file, and the -wal and -shm files SQLite
# creates beside it (with the database file's own mode), are for their owner only.
PRIVATE_MODE = 0o600
WRITERS_SUFFIX = "-writers"  # the lock file of the writers of all processes (_WriterLock)
SQLITE_COMPANIONS = ("", "-wal", "-shm", "-journal", WRITERS_SUFFIX)


def _create_private(path: Path, _dialect, _record, _cargs, _cparams) -> None:
    # The folder and file are made by the first connection, not by making the engine; a file
    # about to be created is created private, never readable by others for a moment.
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, PRIVATE_MODE))


def make_private(path: Path) -> None:
    """Take group and other permissions off a SQLite database and its companion files (those
    made with wider modes before, by an older cati or another program). A file that belongs to
    another user is left as it is."""
    for suffix in SQLITE_COMPANIONS:
        companion = path.with_name(path.name + suffix)
        try:
            mode = stat.S_IMODE(companion.stat().st_mode)
            if mode & 0o077:
                companion.chmod(mode & 0o700)
        except (FileNotFoundError, PermissionError):
            pass


def _sqlite_pragmas(path: Path | None, dbapi_connection, _record) -> None:
    if path is not None:
        # Before WAL mode creates the -wal and -shm files, which copy the database's mode.
        make_private(path)
    # pysqlite's own transaction handling breaks SAVEPOINT; let SQLAlchemy emit BEGIN itself.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA temp_store=MEMORY")
    cursor.execute("PRAGMA cache_size=-65536")  # 64 MiB: sampling sorts a week of cases
    cursor.close()


def _sqlite_begin(connection) -> None:
    # IMMEDIATE takes the write lock up front. With a plain BEGIN, two transactions that read
    # and then write (claiming a member, saving an answer) can both read, and the later writer
    # fails at once with "database is locked"; this way it waits (busy timeout) and then sees
    # the first one's commit. SQLite serialises writers anyway; PostgreSQL is for scale.
    # On the driver: SQLAlchemy's execution of the statement cost more than the BEGIN itself
    # (scripts/bench_ivr_cpu.py); its error is still SQLAlchemy's (OperationalError).
    raw = connection.connection.dbapi_connection
    if isinstance(raw, _SQLiteConnection):
        raw.wait_for_writers()
    try:
        raw.execute("BEGIN IMMEDIATE")
    except BaseException as exc:
        if isinstance(raw, _SQLiteConnection):
            raw.release_writers()
        if isinstance(exc, sqlite3.Error):
            raise DBAPIError.instance("BEGIN IMMEDIATE", (), exc, sqlite3.Error) from exc
        raise


POLL_SECONDS = 0.0002  # how often a writer waiting on another process tries the lock again


class _WriterLock:
    """What a process's writers of one SQLite file queue on: a thread lock, then a lock on a
    file beside the database (`-writers`) that the other processes' writers take too."""

    def __init__(self, path: str) -> None:
        self.lock = threading.Lock()
        self.owner: int | None = None
        self.path = path + WRITERS_SUFFIX
        self.fd: int | None = None  # opened by the first writer, kept for the process
        self.pid = 0  # the process that opened it: a forked worker opens its own

    def lock_file(self, timeout: float) -> bool:
        """Take the file lock (the thread lock is held), waiting at most `timeout` seconds.

        Polled, not blocking, so that a writer hung in another process costs a timeout (then
        SQLite's own handler, as before) and never a hang. A waiting writer goes on within
        `POLL_SECONDS` of the lock's release, where SQLite's busy handler would sleep up to
        100 ms: the lock is free again after a webhook's turn, well under a millisecond, and
        polls that backed off to 2 ms left it unused most of the time it was waited for
        (scripts/bench_ivr.py: 700 against 1,100 turns a second with 0.2 ms)."""
        if fcntl is None:
            return False
        if self.fd is None or self.pid != os.getpid():
            # A forked process shares its parent's open file, and so its lock: never use it.
            try:
                self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, PRIVATE_MODE)
            except OSError:  # a read-only folder: SQLite's own lock and handler, as before
                return False
            self.pid = os.getpid()
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    return False
                time.sleep(POLL_SECONDS)

    def unlock_file(self) -> None:
        fcntl.flock(self.fd, fcntl.LOCK_UN)


_WRITER_LOCKS: dict[str, _WriterLock] = {}
_WRITER_LOCKS_GUARD = threading.Lock()


class _SQLiteConnection(sqlite3.Connection):
    """A SQLite connection whose write transactions first take the writers' lock of its file
    (`_WriterLock`), released once they commit or roll back.

    SQLite lets one writer in at a time; the others wait in its busy handler, which polls
    with sleeps growing to 100 ms, so that under concurrent webhooks a turn could sleep far
    longer than the transaction it waited for (the tail of scripts/bench_ivr.py). Threads
    queued on a lock are woken as soon as it is free, and writers of other processes (the
    web server's workers, the scheduler, a command) within a millisecond or two. A thread
    that already holds the lock through another connection does not wait for itself: it goes
    on to SQLite's handler, as before; so does one that waited longer than the busy timeout.
    """

    def __init__(self, database, *args, timeout: float = 5.0, **kwargs) -> None:
        super().__init__(database, *args, timeout=timeout, **kwargs)
        self._timeout = timeout
        key = os.path.realpath(os.fsdecode(database))
        with _WRITER_LOCKS_GUARD:
            if key not in _WRITER_LOCKS:
                _WRITER_LOCKS[key] = _WriterLock(key)
            self._writers = _WRITER_LOCKS[key]
        self._holds_writers = self._holds_file = False

    def wait_for_writers(self) -> None:
        writers = self._writers
        if self._holds_writers or writers.owner == threading.get_ident():
            return
        start = time.monotonic()
        if writers.lock.acquire(timeout=self._timeout):
            writers.owner = threading.get_ident()
            self._holds_writers = True
            self._holds_file = writers.lock_file(self._timeout - (time.monotonic() - start))

    def release_writers(self) -> None:
        if self._holds_writers:
            self._holds_writers = False
            if self._holds_file:
                self._holds_file = False
                self._writers.unlock_file()
            self._writers.owner = None
            self._writers.lock.release()

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self.release_writers()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self.release_writers()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self.release_writers()


class Prepared:
    """A Core statement compiled once per database kind and run on the driver's cursor, in
    the transaction of the SQLAlchemy connection it is given.

    For the few statements a webhook runs at every turn: SQLAlchemy's execution of a cached
    statement (the cache lookup, the parameters' construction, the events, the result's
    wrapping) costs about four times the statement itself (scripts/bench_ivr_cpu.py). The
    SQL, the parameters' order and the types' processors are still SQLAlchemy's, taken once,
    and listeners of `before_cursor_execute` still hear of each statement; driver errors come
    through unwrapped (sqlite3's or psycopg's own exceptions)."""

    __slots__ = ("_compiled", "statement")

    def __init__(self, statement) -> None:
        self.statement = statement
        self._compiled: dict[str, tuple] = {}

    def rows(self, connection: Connection, params: dict[str, Any]) -> list[tuple]:
        """The rows of a SELECT (or of a RETURNING), each value as SQLAlchemy would read it."""
        rows = self.raw_rows(connection, params)
        processors = self._compiled_for(connection.dialect)[3]
        return [self._processed(row, processors) for row in rows] if processors else rows

    def raw_rows(self, connection: Connection, params: dict[str, Any]) -> list[tuple]:
        """The rows as the driver gives them, for a caller that reads only some of them
        (`processed` makes one of them what `rows` would have given)."""
        return self._execute(connection, params).fetchall()

    def processed(self, connection: Connection, row: tuple) -> tuple:
        return self._processed(row, self._compiled_for(connection.dialect)[3])

    @staticmethod
    def _processed(row: tuple, processors: list) -> tuple:
        if not processors:
            return row
        values = list(row)
        for index, process in processors:
            values[index] = process(values[index])
        return tuple(values)

    def run(self, connection: Connection, params: dict[str, Any]) -> int:
        """Run an INSERT, UPDATE or DELETE; the number of rows it touched."""
        return self._execute(connection, params).rowcount

    def _execute(self, connection: Connection, params: dict[str, Any]):
        dialect = connection.dialect
        sql, names, binds, _ = self._compiled_for(dialect)
        values = [params[name] if name in params else binds[name][1] for name in names]
        for index, (name, value) in enumerate(zip(names, values, strict=True)):
            process = binds[name][0]
            if process is not None and value is not None:
                values[index] = process(value)
        parameters = values if dialect.positional else dict(zip(names, values, strict=True))
        cursor = connection.connection.driver_connection.cursor()
        if notify := connection.dispatch.before_cursor_execute:  # tests and benchmarks count
            notify(connection, cursor, sql, parameters, None, False)
        cursor.execute(sql, parameters)
        return cursor

    def _compiled_for(self, dialect) -> tuple:
        try:
            return self._compiled[dialect.name]
        except KeyError:
            compiled = self._compiled[dialect.name] = self._compile(dialect)
            return compiled

    def _compile(self, dialect) -> tuple:
        compiled = self.statement.compile(dialect=dialect)
        names = tuple(compiled.positiontup if compiled.positional else compiled.binds)
        binds = {
            name: (bind.type.dialect_impl(dialect).bind_processor(dialect), bind.effective_value)
            for name, bind in compiled.binds.items()
        }
        columns = self.statement.exported_columns  # a SELECT's, or a RETURNING's
        processors = [
            (index, process)
            for index, column in enumerate(columns)
            if (process := column.type.dialect_impl(dialect).result_processor(dialect, None))
        ]
        return compiled.string, names, binds, processors


def for_large_statements(connection: Connection) -> None:
    """For the rest of this transaction on PostgreSQL, give the statements that group or sort
    a whole week or round room to do it in memory (the default 4 MB spills them to disk;
    grouping a week's 700,000 numbers takes about 120 MB, a hash table may use twice
    work_mem), and no JIT: compiling them to machine code costs more than it saves,
    the more so on temporary tables, which have no statistics (scripts/bench_sampling.py,
    scripts/bench_report.py --explain). Nothing on SQLite."""
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql("SET LOCAL work_mem = '64MB'")
        connection.exec_driver_sql("SET LOCAL jit = off")


def make_session_factory(engine: Engine) -> sessionmaker:
    return sessionmaker(bind=engine, expire_on_commit=False)


def insert_rows(
    connection: Connection, table: Table, columns: Sequence[str], rows: list[tuple]
) -> None:
    """Insert many rows of plain tuples in one `executemany`, as fast as the driver allows.

    Each column's own bind processor converts its values, exactly as an ORM insert would; what
    is saved is SQLAlchemy's per-row parameter handling, which dominates bulk imports.
    """
    if not rows:
        return
    dialect = connection.dialect
    processors = [
        (index, processor)
        for index, name in enumerate(columns)
        if (processor := table.c[name].type.bind_processor(dialect)) is not None
    ]
    if processors:
        converted = []
        for row in rows:
            values = list(row)
            for index, processor in processors:
                values[index] = processor(values[index])
            converted.append(tuple(values))
        rows = converted
    marker = "?" if dialect.paramstyle == "qmark" else "%s"
    preparer = dialect.identifier_preparer
    sql = (
        f"INSERT INTO {preparer.format_table(table)} "
        f"({', '.join(preparer.quote(name) for name in columns)}) "
        f"VALUES ({', '.join([marker] * len(columns))})"
    )
    connection.exec_driver_sql(sql, rows)
