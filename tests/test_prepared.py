"""`cati.db.Prepared`: a Core statement compiled once and run on the driver's cursor reads
and writes exactly what SQLAlchemy's own execution would, in the connection's transaction,
on SQLite and PostgreSQL; and `Runtime.connection()`, the unit of work the webhooks run
them in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import bindparam, event, insert, select, update

from cati.db import Prepared
from cati.models import OptOut
from cati.runtime import Runtime
from tests.conftest import fresh_session_factory

OPT_OUTS = OptOut.__table__
AT = datetime(2026, 12, 7, 8, 30, 15, 123456, tzinfo=UTC)
ADD = Prepared(
    insert(OPT_OUTS)
    .values(phone=bindparam("phone"), reason="declined", created_at=bindparam("at"))
    .returning(OPT_OUTS.c.id, OPT_OUTS.c.created_at)
)
READ = Prepared(
    select(OPT_OUTS.c.phone, OPT_OUTS.c.reason, OPT_OUTS.c.created_at).where(
        OPT_OUTS.c.phone == bindparam("phone")
    )
)
MOVE = Prepared(
    update(OPT_OUTS)
    .where(OPT_OUTS.c.phone.like(bindparam("pattern")))
    .values(created_at=bindparam("at"))
)


def test_values_are_written_and_read_as_sqlalchemy_does(connection):
    in_hanoi = AT.astimezone(timezone(timedelta(hours=7)))
    [(row_id, returned)] = ADD.rows(connection, {"phone": "+84912000001", "at": in_hanoi})
    assert returned == AT and returned.tzinfo is not None  # RETURNING processed too
    # What SQLAlchemy reads of the row, and what the prepared SELECT reads, agree.
    core = connection.execute(select(OPT_OUTS).where(OPT_OUTS.c.id == row_id)).one()
    assert (core.phone, core.reason, core.created_at) == ("+84912000001", "declined", AT)
    assert READ.rows(connection, {"phone": "+84912000001"}) == [("+84912000001", "declined", AT)]
    assert READ.rows(connection, {"phone": "+84900000000"}) == []


def test_a_missing_value_is_null_and_a_naive_time_is_refused(connection):
    add_with_reason = Prepared(
        insert(OPT_OUTS).values(
            phone=bindparam("phone"), reason=bindparam("reason"), created_at=bindparam("at")
        )
    )
    add_with_reason.run(connection, {"phone": "+84912000002", "reason": None, "at": AT})
    assert READ.rows(connection, {"phone": "+84912000002"}) == [("+84912000002", None, AT)]
    with pytest.raises(ValueError, match="naive datetime"):
        ADD.run(connection, {"phone": "+84912000003", "at": datetime(2026, 12, 7, 8, 30)})


def test_run_says_how_many_rows_changed_within_the_transaction(engine):
    with engine.connect() as connection:
        with connection.begin():
            for n in range(3):
                ADD.run(connection, {"phone": f"+8491200010{n}", "at": AT})
            later = AT + timedelta(days=1)
            assert MOVE.run(connection, {"pattern": "+8491200010%", "at": later}) == 3
            assert READ.rows(connection, {"phone": "+84912000101"})[0][2] == later
            connection.rollback()
        with connection.begin():  # rolled back with the transaction it ran in
            assert READ.rows(connection, {"phone": "+84912000101"}) == []


def test_listeners_hear_of_each_statement(connection):
    heard: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:
        heard.append(statement.split(None, 1)[0])

    event.listen(connection, "before_cursor_execute", record)
    try:
        ADD.run(connection, {"phone": "+84912000004", "at": AT})
        READ.rows(connection, {"phone": "+84912000004"})
    finally:
        event.remove(connection, "before_cursor_execute", record)
    assert heard == ["INSERT", "SELECT"]


def test_a_runtimes_connection_commits_its_block_or_nothing(tmp_path):
    """`Runtime.connection()`, the webhooks' unit of work: what the block wrote is committed
    when it ends, and nothing of it when it raises."""
    with fresh_session_factory(tmp_path) as factory:
        runtime = Runtime(None, factory)
        with runtime.connection() as connection:
            ADD.run(connection, {"phone": "+84912000201", "at": AT})
        with pytest.raises(RuntimeError), runtime.connection() as connection:
            ADD.run(connection, {"phone": "+84912000202", "at": AT})
            raise RuntimeError("the turn failed")
        with runtime.connection() as connection:
            kept = {
                phone
                for phone in ("+84912000201", "+84912000202")
                if READ.rows(connection, {"phone": phone})
            }
    assert kept == {"+84912000201"}
