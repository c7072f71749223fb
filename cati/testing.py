"""Support for the tests and benchmarks: throw-away databases."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url

from cati.db import make_engine


@contextmanager
def temporary_database(server_url: str | None, folder: Path, prefix: str) -> Iterator[str]:
    """A new, empty database, dropped afterwards: on the PostgreSQL server at `server_url`, or
    a new SQLite file in `folder` when no server is given. Yields its URL."""
    name = f"{prefix}_{os.getpid()}_{secrets.token_hex(4)}"
    if not server_url:
        yield f"sqlite:///{folder / f'{name}.db'}"
        return
    admin = make_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
