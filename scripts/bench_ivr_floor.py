"""The floor of scripts/bench_ivr.py (issue 17): the least work any durable IVR turn must do.

A Flask app under the same server and settings as the product (gunicorn gthread, the same
workers and threads), on the same database kind, that for every webhook request:

1. checks Twilio's signature (the same check as the product's);
2. reads the call's place from a table keyed by CallSid (one SELECT);
3. writes the key and the new place: one INSERT of the answer, one UPDATE of the place;
4. commits, and answers a fixed <Gather> TwiML (204 for status callbacks, as the product).

SQLite: the sqlite3 module, one connection per thread, WAL, synchronous=NORMAL and
BEGIN IMMEDIATE. PostgreSQL: psycopg 3, a pool of connections that grows to at most one per
server thread (the pool sized to the threads). No SQLAlchemy, no ORM, no flow engine, no TwiML
building: what is left is what no correct implementation can skip.

    CATI_DATABASE_URL=... CATI_PUBLIC_URL=... \\
        gunicorn --pythonpath scripts 'bench_ivr_floor:create()'

`prepare(url, call_sids)` creates and fills the floor's two tables in an (empty) database.
"""

from __future__ import annotations

import os
import queue
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from bench_ivr_baseline import TWIML
from flask import Flask, Response, abort, request
from sqlalchemy.engine import make_url

from cati.config import Settings
from cati.telephony.signatures import is_valid_signature

CREATE = {
    "sqlite": (
        "CREATE TABLE floor_calls (call_sid VARCHAR(64) PRIMARY KEY, place INTEGER NOT NULL)",
        "CREATE TABLE floor_answers (id INTEGER PRIMARY KEY, call_sid VARCHAR(64) NOT NULL, "
        "place INTEGER NOT NULL, digits VARCHAR(8), answered_at TEXT NOT NULL)",
    ),
    "postgresql": (
        "CREATE TABLE floor_calls (call_sid VARCHAR(64) PRIMARY KEY, place INTEGER NOT NULL)",
        "CREATE TABLE floor_answers (id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, "
        "call_sid VARCHAR(64) NOT NULL, place INTEGER NOT NULL, digits VARCHAR(8), "
        "answered_at TIMESTAMPTZ NOT NULL)",
    ),
}


class Database:
    """One transaction per turn: `with db.transaction() as cur: cur.execute(sql, params)`."""

    def __init__(self, url: str) -> None:
        parsed = make_url(url)
        self.kind = parsed.get_backend_name()
        if self.kind == "sqlite":
            self.path = parsed.database
            self.local = threading.local()
            self.marker = "?"
        elif self.kind == "postgresql":
            self.conninfo = parsed.set(drivername="postgresql").render_as_string(
                hide_password=False
            )
            self.idle: queue.LifoQueue = queue.LifoQueue()
            self.marker = "%s"
        else:
            raise ValueError(f"the floor runs on SQLite or PostgreSQL, not {self.kind}")

    def close(self) -> None:
        if self.kind == "sqlite":
            if (conn := getattr(self.local, "conn", None)) is not None:
                conn.close()
                self.local.conn = None
            return
        while not self.idle.empty():
            self.idle.get_nowait().close()

    def sql(self, statement: str) -> str:
        return statement.replace("?", self.marker)

    @contextmanager
    def transaction(self) -> Iterator:
        if self.kind == "sqlite":
            conn = getattr(self.local, "conn", None)
            if conn is None:
                conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=NORMAL")
                self.local.conn = conn
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
            return
        import psycopg

        try:
            conn = self.idle.get_nowait()
        except queue.Empty:  # at most one connection per server thread
            conn = psycopg.connect(self.conninfo)
        try:
            with conn.transaction(), conn.cursor() as cursor:
                yield cursor
        finally:
            self.idle.put(conn)


def prepare(url: str, call_sids: list[str]) -> None:
    """The floor's tables in the database at `url`, one place row per call."""
    db = Database(url)
    with db.transaction() as cursor:
        for statement in CREATE[db.kind]:
            cursor.execute(statement)
        insert = db.sql("INSERT INTO floor_calls (call_sid, place) VALUES (?, ?)")
        cursor.executemany(insert, [(sid, 0) for sid in call_sids])
    db.close()


def make_app(url: str, public_url: str, token: str) -> Flask:
    db = Database(url)
    select = db.sql("SELECT place FROM floor_calls WHERE call_sid = ?")
    insert = db.sql(
        "INSERT INTO floor_answers (call_sid, place, digits, answered_at) VALUES (?, ?, ?, ?)"
    )
    update = db.sql("UPDATE floor_calls SET place = ? WHERE call_sid = ?")
    sqlite = db.kind == "sqlite"
    app = Flask(__name__)

    @app.post("/ivr/<webhook>")
    def ivr(webhook: str) -> Response:
        form = request.form.to_dict(flat=True)
        query = request.query_string.decode("latin-1")
        url = public_url + (
            request.environ.get("RAW_URI") or request.path + (f"?{query}" if query else "")
        )
        if not is_valid_signature(token, url, form, request.headers.get("X-Twilio-Signature", "")):
            abort(403)
        sid = form.get("CallSid", "")
        now = datetime.now(UTC)
        with db.transaction() as cursor:
            row = cursor.execute(select, (sid,)).fetchone()
            if row is None:
                abort(404)
            place = row[0] + 1
            answered = now.isoformat() if sqlite else now
            cursor.execute(insert, (sid, place, form.get("Digits"), answered))
            cursor.execute(update, (place, sid))
        if webhook == "status":
            return Response(status=204)
        return Response(TWIML, mimetype="text/xml")

    return app


def create() -> Flask:
    """The app for gunicorn (`bench_ivr_floor:create()`), set up like the product's: from
    CATI_DATABASE_URL, CATI_PUBLIC_URL and the webhook token of CATI_SECRET_KEY."""
    settings = Settings.from_env()
    return make_app(os.environ["CATI_DATABASE_URL"], settings.public_url, settings.webhook_token)
