"""`cati users add|list|disable`, run in-process against the test transaction."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select
from werkzeug.security import check_password_hash

from cati.models import User
from cati.services import users as users_service
from cati.services.users import authenticate
from tests.conftest import NOW

PASSWORD = "mật khẩu đủ dài"


@pytest.fixture(autouse=True)
def fast_hashes(monkeypatch):
    """A cheap hash method for speed; `tests/services/test_users.py` checks the real one."""
    monkeypatch.setattr(users_service, "PASSWORD_HASH_METHOD", "pbkdf2:sha256:1000")


def user(session, username: str) -> User | None:
    return session.scalar(select(User).where(User.username == username))


def test_add_with_password_stdin(cli, session):
    result = cli("users", "add", "lan", "--role", "interviewer", "--password-stdin",
                 input=PASSWORD + "\n")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert result.output == "added lan (interviewer)\n"
    lan = user(session, "lan")
    assert (lan.role, lan.active, lan.created_at) == ("interviewer", True, NOW)
    assert check_password_hash(lan.password_hash, PASSWORD)


def test_add_prompts_twice_without_echo(cli, session):
    result = cli("users", "add", "Minh", "--role", "MANAGER", input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert PASSWORD not in result.output
    assert "Repeat the password" in result.output
    assert check_password_hash(user(session, "minh").password_hash, PASSWORD)
    assert user(session, "minh").role == "manager"


def test_add_asks_again_when_the_two_passwords_differ(cli, session):
    result = cli("users", "add", "an", "--role", "admin",
                 input=f"{PASSWORD}\nsomething else\n{PASSWORD}\n{PASSWORD}\n")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "do not match" in result.output
    assert user(session, "an").role == "admin"


def test_add_refuses_an_existing_username_before_asking_for_a_password(cli, session):
    cli("users", "add", "lan", "--role", "interviewer", "--password-stdin", input=PASSWORD)
    result = cli("users", "add", "LAN", "--role", "manager")
    assert result.exit_code == 2
    assert "username 'lan' already exists" in result.output
    assert "Password" not in result.output
    assert user(session, "lan").role == "interviewer"


def test_add_refuses_a_bad_role(cli, session):
    result = cli("users", "add", "lan", "--role", "boss", "--password-stdin", input=PASSWORD)
    assert result.exit_code == 2
    assert "--role" in result.output and "'boss' is not one of" in result.output
    assert user(session, "lan") is None


def test_add_refuses_a_bad_username(cli, session):
    result = cli("users", "add", "lân", "--role", "interviewer", "--password-stdin", input=PASSWORD)
    assert result.exit_code == 2
    assert "USERNAME" in result.output and "'lân' is not valid" in result.output


def test_add_refuses_a_short_password(cli, session):
    for args, stdin in (
        (["--password-stdin"], "short\n"),
        (["--password-stdin"], ""),
        ([], "short\nshort\n"),
    ):
        result = cli("users", "add", "lan", "--role", "interviewer", *args, input=stdin)
        assert result.exit_code == 2, result.output
        assert "password too short: at least 10 characters" in result.output
    assert user(session, "lan") is None


def test_add_without_role_is_bad_usage(cli):
    result = cli("users", "add", "lan", "--password-stdin", input=PASSWORD)
    assert result.exit_code == 2
    assert "Missing option '--role'" in result.output


def test_list(cli, session):
    for name, role in (("minh", "manager"), ("lan", "interviewer"), ("an", "admin")):
        cli("users", "add", name, "--role", role, "--password-stdin", input=PASSWORD)
    cli("users", "disable", "minh")
    for _ in range(5):
        authenticate(session, "lan", "wrong password", now=NOW)

    result = cli("users", "list")
    assert result.exit_code == 0, result.output
    assert [line.split(maxsplit=3) for line in result.output.splitlines()] == [
        ["username", "role", "active", "locked"],
        ["an", "admin", "yes", "no"],
        ["lan", "interviewer", "yes", "until 2026-11-23 10:15"],  # local time
        ["minh", "manager", "no", "no"],
    ]

    rows = json.loads(cli("users", "list", "--json").output)
    assert rows[1] == {"username": "lan", "role": "interviewer", "active": True,
                       "locked_until": "2026-11-23T10:15+07:00"}  # fmt: skip


def test_list_shows_an_expired_lock_as_unlocked(cli, session):
    cli("users", "add", "lan", "--role", "interviewer", "--password-stdin", input=PASSWORD)
    user(session, "lan").locked_until = NOW - timedelta(seconds=1)
    session.flush()
    assert cli("users", "list").output.splitlines()[1].split() == [
        "lan",
        "interviewer",
        "yes",
        "no",
    ]


def test_disable(cli, session):
    cli("users", "add", "lan", "--role", "interviewer", "--password-stdin", input=PASSWORD)
    result = cli("users", "disable", "lan")
    assert (result.exit_code, result.output) == (0, "disabled\n")
    assert user(session, "lan").active is False
    assert authenticate(session, "lan", PASSWORD, now=NOW).reason == "disabled"
    assert cli("users", "disable", "lan").output == "already disabled\n"


def test_disable_an_unknown_user_is_bad_usage(cli):
    result = cli("users", "disable", "ghost")
    assert result.exit_code == 2
    assert "no user named 'ghost'" in result.output
