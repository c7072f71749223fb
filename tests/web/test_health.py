"""`/healthz`: up when the database answers at the current schema, 503 otherwise."""

from __future__ import annotations

import dataclasses

from sqlalchemy.orm import sessionmaker

from cati.db import make_engine
from cati.runtime import Runtime
from cati.web import create_app
from tests.conftest import fresh_database


def test_healthy(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok", "migrations": "current"}


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
