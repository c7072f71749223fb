"""Alembic, driven from code: `cati db upgrade` and the tests use the same configuration."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Connection, Engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(url: str | None = None, connection: Connection | None = None) -> Config:
    if not (MIGRATIONS_DIR / "env.py").is_file():
        raise RuntimeError(
            f"migrations not found in {MIGRATIONS_DIR}; install cati from its source tree "
            "(pip install -e .)"
        )
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["configure_logging"] = False
    if url is not None:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def upgrade(url: str | None = None, connection: Connection | None = None) -> None:
    command.upgrade(alembic_config(url, connection), "head")


class SchemaNotCurrent(RuntimeError):
    """The database is missing or not migrated to this version's head. Its message is one
    line that names the database (never its password) and says what to do."""


def display_url(url: str) -> str:
    """The database URL as it may be shown: its password masked."""
    return make_url(url).render_as_string(hide_password=True)


def require_current_schema(url: str, engine: Engine | None = None) -> None:
    """Raise `SchemaNotCurrent` unless the database at `url` is migrated to the head.

    Creates nothing: a SQLite file that does not exist is reported before any connection is
    opened (opening one would create it). `engine`, when given, is the engine of `url` to ask;
    otherwise a short-lived one is used.
    """
    shown = display_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = parsed.database
        if not path or path == ":memory:" or not Path(path).is_file():
            raise SchemaNotCurrent(f"database {shown} does not exist: run `cati db upgrade` first")
    own_engine = engine is None
    if engine is None:
        from cati.db import make_engine

        engine = make_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            current = MigrationContext.configure(connection).get_current_revision()
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or type(exc).__name__).strip().splitlines()
        raise SchemaNotCurrent(
            f"database {shown} cannot be read: {reason[0] if reason else type(exc).__name__}"
        ) from None
    finally:
        if own_engine:
            engine.dispose()
    script = ScriptDirectory.from_config(alembic_config())
    head = script.get_current_head()
    if current == head:
        return
    if current is None:
        raise SchemaNotCurrent(f"database {shown} is not migrated: run `cati db upgrade` first")
    try:
        script.get_revision(current)
    except CommandError:
        raise SchemaNotCurrent(
            f"database {shown} is at migration {current}, which this version of cati does not "
            f"know (its latest is {head}): run the cati that migrated it"
        ) from None
    raise SchemaNotCurrent(
        f"database {shown} is at migration {current}, this version of cati needs {head}: "
        "run `cati db upgrade` first"
    )
