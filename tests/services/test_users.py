"""Accounts, signing in with a lock-out, and the audit trail."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select
from werkzeug.security import check_password_hash

from cati.models import AuditEvent, User
from cati.services import users as users_service
from cati.services.users import (
    LOCKOUT,
    MAX_FAILED_LOGINS,
    UserInputError,
    authenticate,
    change_password,
    create_user,
    disable_user,
    list_users,
    record_audit,
    record_logout,
)
from tests.conftest import NOW
from tests.factories import create_member

PASSWORD = "mật khẩu đủ dài"
SCRYPT = users_service.PASSWORD_HASH_METHOD  # as shipped, before any test patches it


@pytest.fixture(autouse=True)
def fast_hashes(monkeypatch):
    """A cheap hash method for speed; `test_production_passwords_use_scrypt` checks the real one."""
    monkeypatch.setattr(users_service, "PASSWORD_HASH_METHOD", "pbkdf2:sha256:1000")


def audit(session, action: str | None = None) -> list[AuditEvent]:
    query = select(AuditEvent).order_by(AuditEvent.id)
    if action:
        query = query.where(AuditEvent.action == action)
    return list(session.scalars(query))


def details(event: AuditEvent) -> dict:
    return json.loads(event.details) if event.details else {}


# --------------------------------------------------------------------------------------------
# accounts
# --------------------------------------------------------------------------------------------


def test_create_stores_a_hash_never_the_password(session):
    user = create_user(session, "  Lan.Nguyen ", PASSWORD, "interviewer", now=NOW)
    assert (user.username, user.role, user.active, user.failed_logins) == (
        "lan.nguyen",
        "interviewer",
        True,
        0,
    )
    assert user.locked_until is None and user.created_at == NOW
    assert PASSWORD not in user.password_hash
    assert check_password_hash(user.password_hash, PASSWORD)
    [added] = audit(session, "user_added")
    assert details(added) == {"username": "lan.nguyen", "role": "interviewer"}
    assert added.user_id is None


def test_a_username_is_taken_whatever_its_case(session):
    create_user(session, "lan", PASSWORD, "interviewer", now=NOW)
    with pytest.raises(UserInputError, match="username 'lan' already exists"):
        create_user(session, "LAN", PASSWORD, "manager", now=NOW)
    assert [u.username for u in list_users(session)] == ["lan"]


@pytest.mark.parametrize("username", ["", "lân", "two words", "-dash", "x" * 65, "a/b"])
def test_a_bad_username_is_named(session, username):
    with pytest.raises(UserInputError, match="is not valid") as raised:
        create_user(session, username, PASSWORD, "interviewer", now=NOW)
    assert repr(username) in str(raised.value)


def test_a_bad_role_is_named(session):
    with pytest.raises(UserInputError, match="role 'boss' is not valid: use one of interviewer"):
        create_user(session, "lan", PASSWORD, "boss", now=NOW)


def test_a_password_needs_ten_characters(session):
    with pytest.raises(UserInputError, match="password too short: at least 10 characters"):
        create_user(session, "lan", "123456789", "interviewer", now=NOW)
    create_user(session, "lan", "1234567890", "interviewer", now=NOW)


def test_list_is_ordered_by_username(session):
    for name, role in (("minh", "manager"), ("an", "admin"), ("lan", "interviewer")):
        create_user(session, name, PASSWORD, role, now=NOW)
    assert [(u.username, u.role) for u in list_users(session)] == [
        ("an", "admin"),
        ("lan", "interviewer"),
        ("minh", "manager"),
    ]


def test_disable(session):
    create_user(session, "lan", PASSWORD, "interviewer", now=NOW)
    assert disable_user(session, "Lan", now=NOW) is True
    assert disable_user(session, "lan", now=NOW) is False
    assert [details(e) for e in audit(session, "user_disabled")] == [{"username": "lan"}]
    with pytest.raises(UserInputError, match="no user named 'ghost'"):
        disable_user(session, "ghost", now=NOW)


def test_production_passwords_use_scrypt(session, monkeypatch):
    assert SCRYPT == "scrypt"
    monkeypatch.setattr(users_service, "PASSWORD_HASH_METHOD", SCRYPT)
    user = create_user(session, "lan", PASSWORD, "interviewer", now=NOW)
    assert user.password_hash.startswith("scrypt:32768:8:1$")
    assert authenticate(session, "lan", PASSWORD, now=NOW).ok
    assert authenticate(session, "lan", PASSWORD[:-1], now=NOW).reason == "bad_password"
    assert authenticate(session, "ghost", PASSWORD, now=NOW).reason == "unknown_user"


# --------------------------------------------------------------------------------------------
# signing in
# --------------------------------------------------------------------------------------------


@pytest.fixture
def lan(session) -> User:
    return create_user(session, "lan", PASSWORD, "interviewer", now=NOW)


def test_the_right_password_signs_in_and_is_audited(session, lan):
    outcome = authenticate(session, " LAN ", PASSWORD, now=NOW, remote_addr="10.0.0.7")
    assert (outcome.ok, outcome.reason, outcome.user) == (True, "ok", lan)
    [event] = audit(session, "login")
    assert (event.user_id, event.member_id, event.at) == (lan.id, None, NOW)
    assert details(event) == {"ip": "10.0.0.7"}


@pytest.mark.parametrize("password", ["wrong password", "", PASSWORD.upper(), PASSWORD + " "])
def test_a_wrong_password_fails_and_counts(session, lan, password):
    outcome = authenticate(session, "lan", password, now=NOW)
    assert (outcome.ok, outcome.reason, outcome.user) == (False, "bad_password", None)
    assert lan.failed_logins == 1
    [event] = audit(session, "login_failed")
    assert event.user_id == lan.id
    assert details(event) == {"reason": "bad_password"}


def test_an_unknown_user_fails_without_keeping_what_was_typed(session, lan):
    for name in ("ghost", "not a username at all"):
        outcome = authenticate(session, name, PASSWORD, now=NOW, remote_addr="10.0.0.8")
        assert (outcome.ok, outcome.reason, outcome.user) == (False, "unknown_user", None)
    events = audit(session, "login_failed")
    assert [(e.user_id, details(e)) for e in events] == [
        (None, {"reason": "unknown_user", "ip": "10.0.0.8"}),
        (None, {"reason": "unknown_user", "ip": "10.0.0.8"}),
    ]


def test_a_disabled_user_cannot_sign_in(session, lan):
    disable_user(session, "lan", now=NOW)
    outcome = authenticate(session, "lan", PASSWORD, now=NOW)
    assert (outcome.ok, outcome.reason, outcome.user) == (False, "disabled", None)
    assert details(audit(session, "login_failed")[0]) == {"reason": "disabled"}


def test_five_failures_lock_for_fifteen_minutes_then_unlock(session, lan):
    for minute in range(MAX_FAILED_LOGINS - 1):
        outcome = authenticate(
            session, "lan", "wrong password", now=NOW + timedelta(minutes=minute)
        )
        assert outcome.reason == "bad_password"
        assert lan.locked_until is None
    last = NOW + timedelta(minutes=MAX_FAILED_LOGINS - 1)
    assert authenticate(session, "lan", "wrong password", now=last).reason == "bad_password"
    assert timedelta(minutes=15) == LOCKOUT
    assert lan.locked_until == last + LOCKOUT
    assert lan.failed_logins == 0

    # Locked: even the right password is refused, without being checked or counted.
    for now in (last, last + LOCKOUT - timedelta(seconds=1)):
        outcome = authenticate(session, "lan", PASSWORD, now=now)
        assert (outcome.ok, outcome.reason) == (False, "locked")
    assert lan.locked_until == last + LOCKOUT

    outcome = authenticate(session, "lan", PASSWORD, now=last + LOCKOUT)
    assert (outcome.ok, outcome.reason) == (True, "ok")
    assert (lan.failed_logins, lan.locked_until) == (0, None)

    reasons = [details(e)["reason"] for e in audit(session, "login_failed")]
    assert reasons == ["bad_password"] * 5 + ["locked"] * 2
    assert "locked_until" in details(audit(session, "login_failed")[4])
    assert all(PASSWORD not in (e.details or "") for e in audit(session))


def test_a_success_resets_the_failure_count(session, lan):
    for _ in range(MAX_FAILED_LOGINS - 1):
        authenticate(session, "lan", "wrong password", now=NOW)
    assert authenticate(session, "lan", PASSWORD, now=NOW).ok
    for _ in range(MAX_FAILED_LOGINS - 1):
        authenticate(session, "lan", "wrong password", now=NOW)
    assert lan.locked_until is None and lan.failed_logins == MAX_FAILED_LOGINS - 1


# --------------------------------------------------------------------------------------------
# the audit trail
# --------------------------------------------------------------------------------------------


def test_record_audit_with_a_member_and_details(session, lan):
    member = create_member(session)
    event = record_audit(
        session, lan.id, "show_number", member_id=member.id, details={"field": "số"}, now=NOW
    )
    stored = session.get(AuditEvent, event.id)
    assert (stored.user_id, stored.action, stored.member_id, stored.at) == (
        lan.id,
        "show_number",
        member.id,
        NOW,
    )
    assert stored.details == '{"field": "số"}'
    text = record_audit(session, lan.id, "change_disposition", details="2.11 → 1.1", now=NOW)
    assert text.details == "2.11 → 1.1" and text.member_id is None


@pytest.mark.parametrize("action", ["", "x" * 33])
def test_record_audit_refuses_a_bad_action(session, action):
    with pytest.raises(ValueError, match="audit action"):
        record_audit(session, None, action, now=NOW)


# --------------------------------------------------------------------------------------------
# ending sessions: a new session token
# --------------------------------------------------------------------------------------------


def test_every_account_has_its_own_session_token(session, lan):
    minh = create_user(session, "minh", PASSWORD, "manager", now=NOW)
    assert len(lan.session_token) == 32 and len(minh.session_token) == 32
    assert lan.session_token != minh.session_token


def test_signing_out_disabling_and_a_new_password_each_replace_the_token(session, lan):
    tokens = [lan.session_token]
    record_logout(session, lan.id, now=NOW)
    tokens.append(lan.session_token)
    change_password(session, "LAN", "một mật khẩu mới", now=NOW)
    tokens.append(lan.session_token)
    disable_user(session, "lan", now=NOW)
    tokens.append(lan.session_token)
    assert len(set(tokens)) == 4
    assert [e.action for e in audit(session)][-3:] == [
        "logout",
        "password_changed",
        "user_disabled",
    ]


def test_a_new_password_is_checked_hashed_and_audited_without_itself(session, lan):
    with pytest.raises(UserInputError, match="password too short"):
        change_password(session, "lan", "short", now=NOW)
    with pytest.raises(UserInputError, match="no user named 'ghost'"):
        change_password(session, "ghost", "một mật khẩu mới", now=NOW)
    change_password(session, "lan", "một mật khẩu mới", now=NOW)
    assert check_password_hash(lan.password_hash, "một mật khẩu mới")
    assert not authenticate(session, "lan", PASSWORD, now=NOW).ok
    [event] = audit(session, "password_changed")
    assert details(event) == {"username": "lan"}
    assert "mới" not in event.details
