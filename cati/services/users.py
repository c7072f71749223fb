"""People who use the system: accounts, signing in with a lock-out, and the audit trail.

Passwords are stored as werkzeug hashes, never in clear and never in the audit trail. After
`MAX_FAILED_LOGINS` wrong passwords in a row an account is locked for `LOCKOUT`; while it is
locked no password is even checked. Every outcome of a sign-in is audited; a failure for an
unknown username is audited without the name typed (it may be a mistyped password).

Each account has a `session_token` that every web session signed in to it carries; signing
out, changing the password and disabling the account give it a new one (`end_sessions`), which
ends every session signed in before, on every browser.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from cati.models import AuditEvent, Office, Role, User
from cati.models.users import new_session_token

# werkzeug's scrypt (n=2**15): about a tenth of a second per check, by design.
PASSWORD_HASH_METHOD = "scrypt"
MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 1024
MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=15)
ROLES = tuple(role.value for role in Role)
USERNAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")

# Audit actions of this module; other modules choose their own (at most 32 characters).
LOGIN = "login"
LOGIN_FAILED = "login_failed"
LOGOUT = "logout"
USER_ADDED = "user_added"
USER_DISABLED = "user_disabled"
PASSWORD_CHANGED = "password_changed"


class UserInputError(ValueError):
    """A username, role or password given by a person cannot be used; the message says why."""


@dataclass(frozen=True)
class LoginOutcome:
    """The result of `authenticate`: `user` is set only when `ok`.

    `reason` is for the audit trail and tests (`ok`, `unknown_user`, `bad_password`, `locked`,
    `disabled`); a person is shown the same message for every failure.
    """

    ok: bool
    reason: str
    user: User | None = None


def normalize_username(raw: str) -> str:
    return raw.strip().lower()


def check_username(raw: str) -> str:
    """The username as stored (trimmed, lower case), or `UserInputError` naming what was typed."""
    username = normalize_username(raw)
    if not USERNAME_PATTERN.fullmatch(username):
        raise UserInputError(
            f"username {raw!r} is not valid: use 1 to 64 letters a-z, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    return username


def check_role(raw: str) -> str:
    role = raw.strip().lower()
    if role not in ROLES:
        raise UserInputError(f"role {raw!r} is not valid: use one of {', '.join(ROLES)}")
    return role


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserInputError(
            f"password too short: at least {MIN_PASSWORD_LENGTH} characters (got {len(password)})"
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise UserInputError(f"password too long: at most {MAX_PASSWORD_LENGTH} characters")


def find_user(session: Session, username: str) -> User | None:
    return session.scalar(select(User).where(User.username == normalize_username(username)))


def check_new_username(session: Session, raw: str) -> str:
    """A valid username nobody has yet, or `UserInputError`."""
    username = check_username(raw)
    if find_user(session, username) is not None:
        raise UserInputError(f"username {username!r} already exists")
    return username


def check_office(session: Session, role: str, office_code: str | None) -> int | None:
    """The office id of an `office` user (required for that role, refused for the others)."""
    if role != Role.OFFICE.value:
        if office_code:
            raise UserInputError(f"--office is only for the {Role.OFFICE.value} role")
        return None
    if not office_code or not office_code.strip():
        raise UserInputError(f"the {Role.OFFICE.value} role needs --office OFFICE_CODE")
    office_id = session.scalar(select(Office.id).where(Office.code == office_code.strip()))
    if office_id is None:
        raise UserInputError(f"no office with code {office_code!r}")
    return office_id


def create_user(
    session: Session,
    username: str,
    password: str,
    role: str,
    *,
    now: datetime,
    office_code: str | None = None,
    by: int | None = None,
) -> User:
    """Add an active account; raise `UserInputError` for a taken or invalid name, role, password
    or office (an `office` user handles its office's follow-ups and needs one)."""
    username = check_new_username(session, username)
    role = check_role(role)
    office_id = check_office(session, role, office_code)
    check_password(password)
    user = User(
        username=username,
        password_hash=generate_password_hash(password, method=PASSWORD_HASH_METHOD),
        role=role,
        active=True,
        failed_logins=0,
        locked_until=None,
        created_at=now,
        session_token=new_session_token(),
        office_id=office_id,
    )
    try:
        with session.begin_nested():
            session.add(user)
    except IntegrityError:  # added by someone else since the check above
        raise UserInputError(f"username {username!r} already exists") from None
    details = {"username": username, "role": role}
    if office_id is not None:
        details["office"] = office_code.strip()
    record_audit(session, by, USER_ADDED, details=details, now=now)
    return user


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.username)))


def disable_user(session: Session, username: str, *, now: datetime, by: int | None = None) -> bool:
    """Stop an account from signing in; False if it was already disabled. `by` (the admin
    in the web) cannot disable their own account."""
    user = find_user(session, username)
    if user is None:
        raise UserInputError(f"no user named {username!r}")
    if by is not None and user.id == by:
        raise UserInputError("you cannot disable your own account")
    if not user.active:
        return False
    user.active = False
    end_sessions(user)
    session.flush()
    record_audit(session, by, USER_DISABLED, details={"username": user.username}, now=now)
    return True


def change_password(
    session: Session, username: str, password: str, *, now: datetime, by: int | None = None
) -> User:
    """Set a new password (checked as for a new account) and end the account's sessions."""
    user = find_user(session, username)
    if user is None:
        raise UserInputError(f"no user named {username!r}")
    check_password(password)
    user.password_hash = generate_password_hash(password, method=PASSWORD_HASH_METHOD)
    end_sessions(user)
    session.flush()
    record_audit(session, by, PASSWORD_CHANGED, details={"username": user.username}, now=now)
    return user


def end_sessions(user: User) -> None:
    """End every web session signed in to `user` (they carry the token being replaced)."""
    user.session_token = new_session_token()


def is_locked(user: User, now: datetime) -> bool:
    return user.locked_until is not None and user.locked_until > now


def authenticate(
    session: Session,
    username: str,
    password: str,
    *,
    now: datetime,
    remote_addr: str | None = None,
) -> LoginOutcome:
    """Check a sign-in, count a wrong password towards the lock-out, audit the outcome."""
    context = {"ip": remote_addr} if remote_addr else {}
    name = normalize_username(username)
    user = None
    if USERNAME_PATTERN.fullmatch(name):
        user = session.scalar(select(User).where(User.username == name).with_for_update())
    if user is None:
        _password_matches(None, password)  # spend the same time as for a real account
        return _failed(session, None, "unknown_user", context, now)
    if is_locked(user, now):
        _password_matches(None, password)  # not checked, but as long as a check
        return _failed(session, user, "locked", context, now)
    if not _password_matches(user.password_hash, password):
        user.failed_logins += 1
        if user.failed_logins >= MAX_FAILED_LOGINS:
            user.failed_logins = 0
            user.locked_until = now + LOCKOUT
            context = {**context, "locked_until": user.locked_until.isoformat()}
        session.flush()
        return _failed(session, user, "bad_password", context, now)
    if not user.active:
        return _failed(session, user, "disabled", context, now)
    user.failed_logins = 0
    user.locked_until = None
    session.flush()
    record_audit(session, user.id, LOGIN, details=context or None, now=now)
    return LoginOutcome(ok=True, reason="ok", user=user)


def record_logout(session: Session, user_id: int, *, now: datetime) -> AuditEvent:
    """Audit a sign-out and end the account's sessions: a cookie copied before stops working."""
    user = session.get(User, user_id, with_for_update=True)
    if user is not None:
        end_sessions(user)
        session.flush()
    return record_audit(session, user_id, LOGOUT, now=now)


def record_audit(
    session: Session,
    user_id: int | None,
    action: str,
    *,
    member_id: int | None = None,
    details: str | dict[str, Any] | None = None,
    now: datetime,
) -> AuditEvent:
    """Write one audit row: who (`user_id`, None for the command line), what, on which member.

    `details` is a short text or a dict (stored as JSON). Keep secrets and citizens' personal
    data (names, phone numbers, answers) out of it: the member id already says who.
    """
    if not action or len(action) > 32:
        raise ValueError(f"audit action must be 1 to 32 characters: {action!r}")
    if isinstance(details, dict):
        details = json.dumps(details, ensure_ascii=False, sort_keys=True, default=str)
    event = AuditEvent(user_id=user_id, action=action, member_id=member_id, details=details, at=now)
    session.add(event)
    session.flush()
    return event


def _failed(
    session: Session, user: User | None, reason: str, context: dict[str, Any], now: datetime
) -> LoginOutcome:
    details = {"reason": reason, **context}
    record_audit(session, user.id if user else None, LOGIN_FAILED, details=details, now=now)
    return LoginOutcome(ok=False, reason=reason)


@cache
def _dummy_hash(method: str) -> str:
    return generate_password_hash("no account has this password", method=method)


def _password_matches(password_hash: str | None, password: str) -> bool:
    if not password or len(password) > MAX_PASSWORD_LENGTH:
        return False
    if password_hash is None:
        check_password_hash(_dummy_hash(PASSWORD_HASH_METHOD), password)
        return False
    return check_password_hash(password_hash, password)
