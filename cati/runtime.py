"""What a command, request or job needs to run: settings, a session factory and a clock."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import Connection
from sqlalchemy.orm import Session, sessionmaker

from cati.config import Settings
from cati.db import make_engine, make_session_factory


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class Runtime:
    settings: Settings
    session_factory: sessionmaker
    clock: Callable[[], datetime] = field(default=utcnow)

    @classmethod
    def from_settings(cls, settings: Settings) -> Runtime:
        return cls(settings, make_session_factory(make_engine(settings.database_url)))

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One unit of work: committed when the block ends, rolled back if it raises."""
        session = self.session_factory()
        # Follow-ups raised in this unit of work (by any service) get their deadline from it.
        session.info["follow_up_deadlines"] = self.settings.follow_up_deadlines
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    @contextmanager
    def connection(self) -> Iterator[Connection]:
        """One unit of work on a Core connection, without an ORM session (the webhooks'
        turns, where the session's own bookkeeping cost more CPU than the statements,
        scripts/bench_ivr_cpu.py): committed when the block ends, rolled back if it raises."""
        bind = self.session_factory.kw["bind"]
        if isinstance(bind, Connection):  # sessions bound to one connection (the tests')
            with bind.begin_nested():
                yield bind
            return
        with bind.begin() as connection:
            yield connection
