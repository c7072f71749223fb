"""Signing in and out (`/login`, `/logout`), the signed-in user, and who may see what.

The signed-in user is a small frozen `CurrentUser` (id, username, role) read from the
database at each request, so a disabled account or a changed role takes effect at once and
no ORM object outlives its transaction.

A session ends on the server, not only in the browser: it carries the account's session token
(`User.session_token`, replaced at sign-out, password change and disabling), and the time of its
last request, after which it lasts `CATI_SESSION_HOURS` (by the runtime's clock). The
remember-me cookie is never set; it would carry the same token if it were.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from datetime import timedelta

from flask import Blueprint, Flask, session
from flask_login import LoginManager, UserMixin

from cati.models import User
from cati.web.runtime import get_runtime

bp = Blueprint("auth", __name__)
login_manager = LoginManager()

# The session's last request, in seconds since the epoch by the runtime's clock.
LAST_SEEN_KEY = "seen"


@dataclass(frozen=True)
class CurrentUser(UserMixin):
    id: int
    username: str
    role: str
    session_token: str = field(default="", repr=False)
    office_id: int | None = None  # the office of an `office` user

    def get_id(self) -> str:
        """What the session (and a remember-me cookie) holds: the id and the session token."""
        return f"{self.id}:{self.session_token}"

    @classmethod
    def of(cls, user: User) -> CurrentUser:
        return cls(
            id=user.id,
            username=user.username,
            role=user.role,
            session_token=user.session_token,
            office_id=user.office_id,
        )


@login_manager.user_loader
def load_user(user_id: str) -> CurrentUser | None:
    """The session's user, or None (signed out) when its token was replaced, the account was
    disabled, or no request came for `CATI_SESSION_HOURS`; a live session's time is renewed."""
    key, _, token = user_id.partition(":")
    if not key.isdigit() or not token:
        return _ended()
    runtime = get_runtime()
    now = runtime.clock().timestamp()
    seen = session.get(LAST_SEEN_KEY)
    idle = timedelta(hours=runtime.settings.session_hours).total_seconds()
    if not isinstance(seen, int | float) or now - seen >= idle:
        return _ended()
    with runtime.transaction() as db:
        user = db.get(User, int(key))
        if user is None or not user.active:
            return _ended()
        if not hmac.compare_digest(user.session_token.encode(), token.encode()):
            return _ended()
        identity = CurrentUser.of(user)
    mark_seen(now)
    return identity


def mark_seen(now: float) -> None:
    """Note a request of the signed-in session (at most once a minute, to spare the cookie)."""
    seen = session.get(LAST_SEEN_KEY)
    if not isinstance(seen, int | float) or abs(now - seen) >= 60:
        session[LAST_SEEN_KEY] = now


def _ended() -> None:
    """Forget an ended session's user (the language stays)."""
    for name in ("_user_id", "_fresh", "_id", LAST_SEEN_KEY):
        session.pop(name, None)
    return None


def init_app(app: Flask) -> None:
    # The views use the i18n module, which uses this package: import them once both exist.
    from cati.web.auth import views
    from cati.web.auth.roles import redirect_to_login

    login_manager.init_app(app)
    login_manager.unauthorized_handler(redirect_to_login)
    app.register_blueprint(bp)
    views.register_error_pages(app)
