"""Signing in and out (`/login`, `/logout`), the signed-in user, and who may see what.

The signed-in user is a small frozen `CurrentUser` (id, username, role) read from the
database at each request, so a disabled account or a changed role takes effect at once and
no ORM object outlives its transaction.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, Flask
from flask_login import LoginManager, UserMixin

from cati.models import User
from cati.web.runtime import get_runtime

bp = Blueprint("auth", __name__)
login_manager = LoginManager()


@dataclass(frozen=True)
class CurrentUser(UserMixin):
    id: int
    username: str
    role: str
    office_id: int | None = None  # the office of an `office` user

    def get_id(self) -> str:
        return str(self.id)

    @classmethod
    def of(cls, user: User) -> CurrentUser:
        return cls(id=user.id, username=user.username, role=user.role, office_id=user.office_id)


@login_manager.user_loader
def load_user(user_id: str) -> CurrentUser | None:
    try:
        key = int(user_id)
    except ValueError:
        return None
    with get_runtime().transaction() as session:
        user = session.get(User, key)
        if user is None or not user.active:
            return None
        return CurrentUser.of(user)


def init_app(app: Flask) -> None:
    # The views use the i18n module, which uses this package: import them once both exist.
    from cati.web.auth import views
    from cati.web.auth.roles import redirect_to_login

    login_manager.init_app(app)
    login_manager.unauthorized_handler(redirect_to_login)
    app.register_blueprint(bp)
    views.register_error_pages(app)
