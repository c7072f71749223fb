"""The migrations build exactly the schema the models describe, and unwind cleanly."""

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

import cati.models  # noqa: F401
from cati.db import Base, make_engine
from cati.migrate import alembic_config, upgrade
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
