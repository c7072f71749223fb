"""`/healthz`: up when the database answers at the current schema and a scheduler leads with
a fresh heartbeat, 503 otherwise."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from alembic import command
from sqlalchemy.orm import sessionmaker

from cati.db import make_engine
from cati.migrate import alembic_config
from cati.runtime import Runtime
from cati.services.scheduler import LEADER, STANDBY, NodeInfo, beat
from cati.web import create_app
from tests.conftest import NOW, fresh_database


def _leader(session, heartbeat_at):
    me = NodeInfo("web-1:42:ab", "web-1", 42, heartbeat_at)
    beat(session, me, role=LEADER, now=heartbeat_at)
    session.flush()


def test_healthy(client, session):
    _leader(session, NOW - timedelta(seconds=12))
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {
        "status": "ok",
        "database": "ok",
        "migrations": "current",
        "scheduler": "heartbeat 12 s ago",
    }


def test_no_scheduler_is_reported(client):
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json["scheduler"] == "no heartbeat: is `cati scheduler` running?"


def test_a_stale_scheduler_heartbeat_is_reported(client, session):
    _leader(session, NOW - timedelta(seconds=61))  # dead: a minute without a heartbeat
    response = client.get("/healthz")
    assert response.status_code == 503 and "no heartbeat" in response.json["scheduler"]


def test_a_standby_alone_does_not_count(client, session):
    beat(session, NodeInfo("s:1:x", "s", 1, NOW), role=STANDBY, now=NOW)
    session.flush()
    assert client.get("/healthz").status_code == 503


def test_unmigrated_database_is_reported(tmp_path, settings):
    with fresh_database(tmp_path) as url:
        engine = make_engine(url)
        runtime = Runtime(dataclasses.replace(settings, database_url=url), sessionmaker(engine))
        response = create_app(runtime, {"TESTING": True}).test_client().get("/healthz")
        engine.dispose()
    assert response.status_code == 503
    assert "run cati db upgrade" in response.json["migrations"]


def test_unreachable_database_is_reported(settings):
    engine = make_engine(
        "postgresql+psycopg://nobody@127.0.0.1:1/none", connect_args={"connect_timeout": 2}
    )
    runtime = Runtime(settings, sessionmaker(engine))
    response = create_app(runtime, {"TESTING": True}).test_client().get("/healthz")
    assert response.status_code == 503 and response.json["database"].startswith("unreachable")


def test_the_web_scope_leaves_the_scheduler_out(client):
    response = client.get("/healthz?scope=web")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok", "migrations": "current"}
    assert client.get("/healthz").status_code == 503  # no scheduler: the full check fails


def test_an_unknown_scope_is_refused(client):
    response = client.get("/healthz?scope=everything")
    assert response.status_code == 400 and "everything" in response.json["scope"]


def test_the_web_scope_still_checks_the_database(settings):
    engine = make_engine(
        "postgresql+psycopg://nobody@127.0.0.1:1/none", connect_args={"connect_timeout": 2}
    )
    runtime = Runtime(settings, sessionmaker(engine))
    client = create_app(runtime, {"TESTING": True}).test_client()
    assert client.get("/healthz?scope=web").status_code == 503


def test_a_database_one_migration_behind_says_so(tmp_path, settings):
    """At 0004 the scheduler's table does not exist yet: the answer names the migrations,
    not an unreachable database."""
    with fresh_database(tmp_path) as url:
        command.upgrade(alembic_config(url), "0004")
        engine = make_engine(url)
        runtime = Runtime(dataclasses.replace(settings, database_url=url), sessionmaker(engine))
        client = create_app(runtime, {"TESTING": True}).test_client()
        responses = [client.get("/healthz"), client.get("/healthz?scope=web")]
        engine.dispose()
    for response in responses:
        assert response.status_code == 503
        assert response.json["database"] == "ok"
        assert response.json["migrations"].startswith("at 0004, expected ")
