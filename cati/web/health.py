"""`GET /healthz` for load balancers: is the database reachable, its schema current and the
scheduler alive?"""

from __future__ import annotations

from functools import cache

from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Blueprint, request
from sqlalchemy.exc import SQLAlchemyError

from cati.migrate import alembic_config
from cati.services.scheduler import get_leader_heartbeat
from cati.web.runtime import get_runtime

bp = Blueprint("health", __name__)


@cache
def _head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


@bp.get("/healthz")
def healthz():
    """200 when the database answers, its migrations are current and a scheduler leads with a
    fresh heartbeat; else 503 with the reason.

    `?scope=web` leaves the scheduler out: for a load balancer that takes web nodes out of
    rotation, which would not help when only the scheduler is down and would cut the calls
    in progress.
    """
    scope = request.args.get("scope")
    if scope not in (None, "web"):
        return {"status": "error", "scope": f"unknown scope {scope!r}: use web or none"}, 400
    runtime = get_runtime()
    settings = runtime.settings
    try:
        with runtime.transaction() as session:
            current = MigrationContext.configure(session.connection()).get_current_revision()
            heartbeat = None
            # The scheduler's table exists only at the current schema.
            if current == _head_revision() and scope != "web":
                heartbeat = get_leader_heartbeat(
                    session, now=runtime.clock(), heartbeat_s=settings.heartbeat_s
                )
    except SQLAlchemyError as exc:
        return {"status": "down", "database": f"unreachable ({type(exc).__name__})"}, 503
    head = _head_revision()
    if current != head:
        return {
            "status": "down",
            "database": "ok",
            "migrations": f"at {current}, expected {head}: run cati db upgrade",
        }, 503
    if scope == "web":
        return {"status": "ok", "database": "ok", "migrations": "current"}
    if heartbeat is None:
        return {
            "status": "down",
            "database": "ok",
            "migrations": "current",
            "scheduler": "no heartbeat: is `cati scheduler` running?",
        }, 503
    age = max(0, round((runtime.clock() - heartbeat).total_seconds()))
    return {
        "status": "ok",
        "database": "ok",
        "migrations": "current",
        "scheduler": f"heartbeat {age} s ago",
    }
