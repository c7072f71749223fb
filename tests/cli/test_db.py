"""`cati db upgrade`, and every command that needs the database refusing one that is missing or
not migrated: one line naming it (never its password), exit 2, and no file created."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from alembic import command
from click.testing import CliRunner
from sqlalchemy import text
from sqlalchemy.engine import make_url

from cati.cli import main as cati_main
from cati.db import make_engine
from cati.migrate import SchemaNotCurrent, alembic_config, display_url, upgrade
from tests.conftest import fresh_database

FIRST_REVISION = "0001"

# Every command that reads or writes the database (arguments that get past option parsing).
DATABASE_COMMANDS = [
    ["cases", "import", "{csv}"],
    ["rounds", "sample", "--week", "2026-W47"],
    ["rounds", "list"],
    ["rounds", "show", "1"],
    ["dial", "--round", "1", "--once"],
    ["reap"],
    ["simulate", "--round", "1"],
    ["report", "1"],
    ["report", "--weeks", "2026-W46..2026-W47"],
    ["export", "1"],
    ["members", "show", "HS-1"],
    ["optout", "add", "0912345678"],
    ["optout", "list"],
    ["users", "add", "lan", "--role", "manager", "--password-stdin"],
    ["users", "list"],
    ["users", "disable", "lan"],
    ["serve", "--port", "1"],
    ["scheduler"],
    ["scheduler", "status"],
]


def run(url: str, *args: str, input: str | None = None):
    """`cati …` as a user runs it: settings from the environment, no runtime passed in."""
    env = {"CATI_DATABASE_URL": url, "CATI_TIMEZONE": "Asia/Ho_Chi_Minh"}
    return CliRunner().invoke(cati_main, list(args), env=env, input=input)


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def only_line(result) -> str:
    lines = result.output.splitlines()
    assert len(lines) == 1, result.output
    return lines[0]


@pytest.mark.parametrize("args", DATABASE_COMMANDS, ids=lambda args: " ".join(args[:2]))
def test_a_command_on_a_missing_sqlite_database_says_to_upgrade_and_creates_nothing(tmp_path, args):
    csv = tmp_path / "cases.csv"
    csv.write_text("dossier_code,office_code,received_at\n", encoding="utf-8")
    url = sqlite_url(tmp_path / "instance" / "cati.db")
    result = run(url, *[arg.format(csv=csv) for arg in args], input="mật khẩu đủ dài\n")
    assert result.exit_code == 2, result.output
    assert only_line(result) == (
        f"Error: database {url} does not exist: run `cati db upgrade` first"
    )
    assert not (tmp_path / "instance").exists()


def test_db_upgrade_creates_the_database_that_the_commands_then_use(tmp_path):
    url = sqlite_url(tmp_path / "instance" / "cati.db")
    result = run(url, "db", "upgrade")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "instance" / "cati.db").is_file()
    result = run(url, "rounds", "list")
    assert (result.exit_code, result.output) == (0, "no rounds yet\n")


def test_commands_that_need_no_database_run_without_one(tmp_path):
    url = sqlite_url(tmp_path / "instance" / "cati.db")
    assert run(url, "flows", "check").exit_code == 0
    output = tmp_path / "cases.csv"
    assert run(url, "cases", "generate", "--week", "2026-W47", "--count", "3",
               "--output", str(output)).exit_code == 0  # fmt: skip
    assert not (tmp_path / "instance").exists()


def test_an_empty_database_is_not_migrated(tmp_path):
    with fresh_database(tmp_path) as url:
        engine = make_engine(url)
        with engine.begin() as connection:  # the database exists, without any table
            connection.execute(text("SELECT 1"))
        engine.dispose()
        result = run(url, "users", "list")
        assert result.exit_code == 2, result.output
        assert only_line(result) == (
            f"Error: database {display_url(url)} is not migrated: run `cati db upgrade` first"
        )


def test_a_database_behind_the_migrations_says_to_upgrade(tmp_path):
    with fresh_database(tmp_path) as url:
        command.upgrade(alembic_config(url), FIRST_REVISION)
        result = run(url, "rounds", "list")
        assert result.exit_code == 2, result.output
        line = only_line(result)
        assert line.startswith(f"Error: database {display_url(url)} is at migration 0001, ")
        assert line.endswith("run `cati db upgrade` first")

        assert run(url, "db", "upgrade").exit_code == 0
        assert run(url, "rounds", "list").exit_code == 0


def test_a_database_ahead_of_this_version_is_refused(tmp_path):
    with fresh_database(tmp_path) as url:
        upgrade(url)
        engine = make_engine(url)
        with engine.begin() as connection:
            connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
        engine.dispose()
        result = run(url, "rounds", "list")
        assert result.exit_code == 2, result.output
        assert "at migration 9999, which this version of cati does not know" in only_line(result)


@pytest.fixture
def refused_port():
    """A local port bound but never listening: connections to it are refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


def test_a_postgresql_password_is_never_shown(refused_port):
    url = f"postgresql+psycopg://cati:s3cret-word@127.0.0.1:{refused_port}/cati"
    result = run(url, "rounds", "list")
    assert result.exit_code == 2, result.output
    line = only_line(result)
    assert "s3cret-word" not in line
    assert line.startswith(
        f"Error: database postgresql+psycopg://cati:***@127.0.0.1:{refused_port}/cati "
        "cannot be read: "
    )


@pytest.mark.skipif(
    not os.environ.get("CATI_TEST_POSTGRES_URL"), reason="needs CATI_TEST_POSTGRES_URL"
)
def test_an_unmigrated_postgresql_database_is_named_without_its_password(tmp_path):
    with fresh_database(tmp_path) as url:
        # The test server trusts local connections: any password gets in.
        with_password = make_url(url).set(password="s3cret-word")
        url = with_password.render_as_string(hide_password=False)
        result = run(url, "rounds", "list")
        assert result.exit_code == 2, result.output
        assert only_line(result) == (
            f"Error: database {with_password.render_as_string(hide_password=True)} is not "
            "migrated: run `cati db upgrade` first"
        )
        assert "s3cret-word" not in result.output


def test_the_web_server_refuses_to_start_on_a_missing_database(tmp_path, monkeypatch):
    from cati.web import create_app

    url = sqlite_url(tmp_path / "instance" / "cati.db")
    monkeypatch.setenv("CATI_DATABASE_URL", url)
    with pytest.raises(SchemaNotCurrent) as raised:
        create_app()  # as gunicorn calls it (cati.web:create_app())
    assert str(raised.value) == f"database {url} does not exist: run `cati db upgrade` first"
    assert not (tmp_path / "instance").exists()


def test_the_web_server_refuses_to_start_on_an_unmigrated_database(tmp_path, monkeypatch):
    from cati.web import create_app

    with fresh_database(tmp_path) as url:
        command.upgrade(alembic_config(url), FIRST_REVISION)
        monkeypatch.setenv("CATI_DATABASE_URL", url)
        with pytest.raises(SchemaNotCurrent, match="run `cati db upgrade` first"):
            create_app()


def test_db_upgrade_names_the_database_it_brought_up_to_date(tmp_path):
    url = sqlite_url(tmp_path / "cati.db")
    result = run(url, "db", "upgrade")
    assert (result.exit_code, result.output) == (0, f"database {url} is up to date\n")


def test_week_prints_the_current_week_or_one_before(cli):
    # NOW is Monday 23/11/2026 10:00 in Vietnam: week 48 has begun, week 47 is complete.
    assert cli("week").output == "2026-W48\n"
    assert cli("week", "--ago", "1").output == "2026-W47\n"
    assert cli("week", "--ago", "48").output == "2025-W52\n"


@pytest.mark.slow
@pytest.mark.loopback
def test_gunicorn_refuses_to_start_on_an_unmigrated_database(tmp_path):
    url = sqlite_url(tmp_path / "instance" / "cati.db")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CATI_")}
    env.update(CATI_DATABASE_URL=url, CATI_SECRET_KEY="a-secret-key-for-the-test")
    conf = Path(__file__).resolve().parents[2] / "scripts" / "deploy" / "gunicorn.conf.py"
    result = subprocess.run(
        [sys.executable, "-m", "gunicorn", "-c", str(conf), "--workers", "1",
         "--bind", "127.0.0.1:0"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode != 0
    assert f"database {url} does not exist: run `cati db upgrade` first" in result.stderr
    assert not (tmp_path / "instance").exists()
