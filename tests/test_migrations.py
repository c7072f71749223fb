"""The migrations build exactly the schema the models describe, and unwind cleanly."""

import os
import sqlite3
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from click.testing import CliRunner
from sqlalchemy import inspect, text

import cati.models  # noqa: F401
from cati.cli import main as cati_main
from cati.db import Base, make_engine
from cati.migrate import alembic_config, upgrade
from cati.runtime import Runtime
from tests.conftest import fresh_database


def schema_differences(engine) -> list:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return compare_metadata(context, Base.metadata)


def test_upgraded_database_matches_the_models(engine):
    assert schema_differences(engine) == []


def test_downgrade_to_base_and_upgrade_again(tmp_path):
    with fresh_database(tmp_path) as url:
        upgrade(url)
        command.downgrade(alembic_config(url), "base")
        engine = make_engine(url)
        try:
            assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
            upgrade(url)
            assert schema_differences(engine) == []
        finally:
            engine.dispose()


@contextmanager
def umask(mask: int) -> Iterator[None]:
    """A typical login umask (022: new files readable by everyone) whatever the runner's."""
    previous = os.umask(mask)
    try:
        yield
    finally:
        os.umask(previous)


def modes(database: Path) -> dict[str, str]:
    """The permission bits of the database file and of its -wal and -shm files."""
    return {
        suffix or "db": oct(stat.S_IMODE(database.with_name(database.name + suffix).stat().st_mode))
        for suffix in ("", "-wal", "-shm")
    }


PRIVATE = {"db": "0o600", "-wal": "0o600", "-shm": "0o600"}


def run_cati(url: str, *args: str, env: dict[str, str] | None = None):
    env = {"CATI_DATABASE_URL": url, **(env or {})}
    return CliRunner().invoke(cati_main, list(args), env=env, catch_exceptions=False)


def test_db_upgrade_creates_a_private_sqlite_database(tmp_path):
    database = tmp_path / "instance" / "cati.db"
    url = f"sqlite:///{database}"
    with umask(0o022):
        assert run_cati(url, "db", "upgrade").exit_code == 0
        engine = make_engine(url)
        try:
            with engine.connect() as connection:  # -wal and -shm exist while it is open
                connection.execute(text("SELECT count(*) FROM cases"))
                assert modes(database) == PRIVATE
        finally:
            engine.dispose()


def dispose(runtime: Runtime) -> None:
    runtime.session_factory.kw["bind"].dispose()


def test_a_cli_command_writing_keeps_the_files_private(tmp_path, monkeypatch):
    database = tmp_path / "cati.db"
    url = f"sqlite:///{database}"
    upgrade(url)
    runtimes = []  # the command's runtime, kept so that its connection stays open
    from_settings = Runtime.from_settings
    monkeypatch.setattr(
        Runtime, "from_settings", lambda s: runtimes.append(from_settings(s)) or runtimes[-1]
    )
    with umask(0o022):
        result = run_cati(url, "optout", "add", "0912 345 678", "--reason", "test")
        assert result.exit_code == 0, result.output
        try:
            assert modes(database) == PRIVATE
        finally:
            dispose(runtimes[0])


def test_the_web_app_writing_keeps_the_files_private(tmp_path, monkeypatch):
    from cati.web import create_app

    database = tmp_path / "cati.db"
    url = f"sqlite:///{database}"
    upgrade(url)
    monkeypatch.setenv("CATI_DATABASE_URL", url)
    monkeypatch.setenv("CATI_API_TOKEN", "a-token-for-the-test")
    monkeypatch.setenv("CATI_SECRET_KEY", "a-secret-key-for-the-test")
    with umask(0o022):
        app = create_app()  # as gunicorn builds it
        try:
            response = app.test_client().post(
                "/api/cases",
                json=[{"dossier_code": "HS-1", "office_code": "X", "received_at": "2026-11-16"}],
                headers={"Authorization": "Bearer a-token-for-the-test"},
            )
            assert response.status_code == 200, response.get_data(as_text=True)
            assert modes(database) == PRIVATE
        finally:
            dispose(app.extensions["cati"])


def test_db_upgrade_tightens_files_made_readable_before(tmp_path):
    database = tmp_path / "cati.db"
    url = f"sqlite:///{database}"
    upgrade(url)
    connection = sqlite3.connect(database)  # another program holds -wal and -shm open
    try:
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("SELECT count(*) FROM cases").fetchall()
        for suffix in ("", "-wal", "-shm"):
            database.with_name(database.name + suffix).chmod(0o644)
        assert run_cati(url, "db", "upgrade").exit_code == 0
        assert modes(database) == PRIVATE
    finally:
        connection.close()
