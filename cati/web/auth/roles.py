"""Who may open a page: `role_required(...)` for views, and the helpers around it.

    @bp.get("/console")
    @role_required("interviewer")
    def console(): ...

Not signed in: a redirect to `/login?next=<this page>`. Signed in with another role: 403. An
admin passes every role check.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import ParamSpec, TypeVar
from urllib.parse import urlencode, urlsplit

from flask import abort, flash, redirect, request
from flask_login import current_user

from cati.models import Role

P = ParamSpec("P")
R = TypeVar("R")

ROLES = tuple(role.value for role in Role)
HOME_PATHS = {
    Role.INTERVIEWER.value: "/console",
    Role.MANAGER.value: "/dashboard",
    Role.ADMIN.value: "/dashboard",
    Role.OFFICE.value: "/followups",
}


def role_required(*roles: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Allow the view to signed-in users with one of `roles` (any role when none is given)."""
    unknown = [role for role in roles if role not in ROLES]
    if unknown:
        raise ValueError(f"unknown role(s) {', '.join(map(repr, unknown))}: use {', '.join(ROLES)}")

    def decorate(view: Callable[P, R]) -> Callable[P, R]:
        @wraps(view)
        def guarded(*args: P.args, **kwargs: P.kwargs) -> R:
            if not current_user.is_authenticated:
                return redirect_to_login()  # type: ignore[return-value]
            if roles and current_user.role != Role.ADMIN.value and current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return guarded

    return decorate


def current_user_id() -> int | None:
    """The id of the signed-in user (for `record_audit`), None when nobody is signed in."""
    return current_user.id if current_user.is_authenticated else None


def home_path(role: str) -> str:
    """Where a user of `role` lands after signing in."""
    return HOME_PATHS.get(role, "/dashboard")


def login_path(next_path: str | None = None) -> str:
    target = local_path(next_path)
    return "/login" + (f"?{urlencode({'next': target})}" if target else "")


def redirect_to_login():
    """Send an anonymous visitor to the sign-in page, coming back here afterwards."""
    from cati.web.i18n import t

    flash(t("auth.login.required"), "info")
    here = request.full_path if request.query_string else request.path
    return redirect(login_path(here))


def local_path(target: str | None) -> str | None:
    """`target` if it is a path on this site (`/console?x=1`), else None: never another host.

    Rejects absolute and scheme-relative URLs (`//evil.example`), backslashes (which browsers
    read as slashes) and control characters.
    """
    if not target or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target or any(ord(char) < 32 or ord(char) == 127 for char in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target
