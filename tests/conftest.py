"""Fixtures: one fresh database per test run, one rolled-back transaction per test.

The suite runs on SQLite by default and on PostgreSQL when CATI_TEST_POSTGRES_URL is set (a
server URL; a new database is created on it for this run and dropped at the end).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from cati.cli import main as cati_main
from cati.config import Settings
from cati.db import make_engine, make_session_factory
from cati.migrate import upgrade
from cati.runtime import Runtime
from cati.testing import temporary_database

NOW = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)  # Monday 10:00 in Vietnam
TZ = ZoneInfo("Asia/Ho_Chi_Minh")


@contextmanager
def fresh_database(folder: Path) -> Iterator[str]:
    """A new, empty database for this run (see the module docstring), then dropped."""
    with temporary_database(os.environ.get("CATI_TEST_POSTGRES_URL"), folder, "cati_test") as url:
        yield url


@contextmanager
def fresh_session_factory(folder: Path) -> Iterator[sessionmaker]:
    """A new migrated database and a session factory on it, for a test whose threads or
    processes need connections of their own; the engine is disposed of afterwards."""
    with fresh_database(folder) as url:
        upgrade(url)
        engine = make_engine(url)
        try:
            yield make_session_factory(engine)
        finally:
            engine.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> Iterator[str]:
    with fresh_database(tmp_path_factory.mktemp("db")) as url:
        yield url


@pytest.fixture(scope="session")
def engine(database_url) -> Iterator[Engine]:
    upgrade(database_url)
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def connection(engine) -> Iterator:
    with engine.connect() as conn:
        outer = conn.begin()
        yield conn
        outer.rollback()


@pytest.fixture
def session_factory(connection) -> sessionmaker:
    return sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )


@pytest.fixture
def session(session_factory) -> Iterator[Session]:
    with session_factory() as session:
        yield session


@pytest.fixture
def settings(database_url) -> Settings:
    return Settings(
        database_url=database_url,
        timezone=TZ,
        api_token="test-token",
        secret_key="test-secret-key-for-hashes",
    )


@pytest.fixture
def runtime(settings, session_factory) -> Runtime:
    return Runtime(settings, session_factory, clock=lambda: NOW)


@pytest.fixture
def twilio_runtime(runtime):
    """The runtime with Twilio as the provider (its REST API mocked with `responses`)."""
    settings = dataclasses.replace(
        runtime.settings, telephony="twilio", twilio_account_sid="AC123",
        twilio_auth_token="secret", caller_id="+842333852123",
        public_url="https://cati.example.vn", max_cps=2.0,
    )  # fmt: skip
    return dataclasses.replace(runtime, settings=settings)


@pytest.fixture
def cli(runtime):
    """Run `cati …` in-process against the test transaction; returns click's Result."""
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None):
        return runner.invoke(cati_main, list(args), obj=runtime, input=input,
                             catch_exceptions=False)  # fmt: skip

    return invoke


@pytest.fixture
def app(runtime):
    from cati.web import create_app

    return create_app(runtime, {"TESTING": True})


@pytest.fixture
def client(app):
    return app.test_client()
