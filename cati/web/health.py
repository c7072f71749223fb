"""`GET /healthz` for load balancers: is the database reachable and its schema current?"""

from __future__ import annotations

from functools import cache

from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Blueprint
from sqlalchemy.exc import SQLAlchemyError

from cati.migrate import alembic_config
from cati.web.runtime import get_runtime

bp = Blueprint("health", __name__)


@cache
def _head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


@bp.get("/healthz")
def healthz():
    """200 when the database answers and its migrations are current, else 503 with why.

    The scheduler's heartbeat joins this check when the scheduler process exists.
    """
    runtime = get_runtime()
    try:
        with runtime.transaction() as session:
            current = MigrationContext.configure(session.connection()).get_current_revision()
    except SQLAlchemyError as exc:
        return {"status": "down", "database": f"unreachable ({type(exc).__name__})"}, 503
    head = _head_revision()
    if current != head:
        return {
            "status": "down",
            "database": "ok",
            "migrations": f"at {current}, expected {head}: run cati db upgrade",
        }, 503
    return {"status": "ok", "database": "ok", "migrations": "current"}
