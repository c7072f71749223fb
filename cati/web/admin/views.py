"""Admin routes: thin views over `cati.services.users` (the rules of `cati users`) and the
scheduler's status. Every change is audited with the admin's id; an admin cannot disable
their own account."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from cati.models import Office, User
from cati.services.scheduler import JOB_NAMES, scheduler_status
from cati.services.users import (
    MIN_PASSWORD_LENGTH,
    ROLES,
    UserInputError,
    change_password,
    create_user,
    disable_user,
    list_users,
)
from cati.web.admin import bp
from cati.web.auth.roles import current_user_id, role_required
from cati.web.i18n import current_language, t
from cati.web.runtime import get_runtime


def _message(error: UserInputError) -> str:
    """The service's reason in the page's words."""
    text = str(error)
    for needle, key in (
        ("is not valid: use 1 to 64", "admin.error.username"),
        ("already exists", "admin.error.taken"),
        ("password too short", "admin.error.short"),
        ("password too long", "admin.error.long"),
        ("needs --office", "admin.error.office_needed"),
        ("only for the", "admin.error.office_only"),
        ("no office with code", "admin.error.office_unknown"),
        ("your own account", "admin.error.self"),
        ("no user named", "admin.error.no_user"),
        ("role ", "admin.error.role"),
    ):
        if needle in text:
            return t(key, min=MIN_PASSWORD_LENGTH)
    return text


def _page(status: int = 200, *, error: str | None = None, form: dict | None = None):
    runtime = get_runtime()
    with runtime.transaction() as session:
        users = list_users(session)
        offices = dict(session.execute(select(Office.id, Office.code)).all())
        codes = sorted(offices.values())
        rows = [
            {
                "id": u.id,
                "username": u.username,
                "role": u.role,
                "office": offices.get(u.office_id),
                "active": u.active,
                "created_at": u.created_at,
            }
            for u in users
        ]
    return render_template(
        "admin/users.html",
        users=rows,
        roles=ROLES,
        office_codes=codes,
        error=error,
        form=form or {},
        min_length=MIN_PASSWORD_LENGTH,
    ), status


@bp.get("/users")
@role_required("admin")
def users():
    return _page()


@bp.post("/users")
@role_required("admin")
def add_user():
    runtime = get_runtime()
    form = {key: request.form.get(key, "") for key in ("username", "role", "office")}
    password = request.form.get("password", "")
    if password != request.form.get("password_again", ""):
        return _page(422, error=t("admin.error.mismatch"), form=form)
    try:
        with runtime.transaction() as session:
            user = create_user(
                session,
                form["username"],
                password,
                form["role"],
                now=runtime.clock(),
                office_code=form["office"] or None,
                by=current_user_id(),
            )
            username = user.username
    except UserInputError as exc:
        return _page(422, error=_message(exc), form=form)
    flash(t("admin.added", username=username), "success")
    return redirect(url_for("admin.users"))


def _user_or_404(session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        abort(404)
    return user


@bp.post("/users/<int:user_id>/disable")
@role_required("admin")
def disable(user_id: int):
    runtime = get_runtime()
    try:
        with runtime.transaction() as session:
            username = _user_or_404(session, user_id).username
            disable_user(session, username, now=runtime.clock(), by=current_user_id())
    except UserInputError as exc:
        return _page(422, error=_message(exc))
    flash(t("admin.disabled", username=username), "success")
    return redirect(url_for("admin.users"))


@bp.get("/users/<int:user_id>/password")
@role_required("admin")
def password_form(user_id: int, error: str | None = None, status: int = 200):
    runtime = get_runtime()
    with runtime.transaction() as session:
        username = _user_or_404(session, user_id).username
    return render_template(
        "admin/password.html",
        user_id=user_id,
        username=username,
        error=error,
        min_length=MIN_PASSWORD_LENGTH,
    ), status


@bp.post("/users/<int:user_id>/password")
@role_required("admin")
def reset_password(user_id: int):
    runtime = get_runtime()
    password = request.form.get("password", "")
    if password != request.form.get("password_again", ""):
        return password_form(user_id, t("admin.error.mismatch"), 422)
    try:
        with runtime.transaction() as session:
            username = _user_or_404(session, user_id).username
            change_password(session, username, password, now=runtime.clock(), by=current_user_id())
    except UserInputError as exc:
        return password_form(user_id, _message(exc), 422)
    flash(t("admin.password_set", username=username), "success")
    return redirect(url_for("admin.users"))


@bp.get("/scheduler")
@role_required("admin")
def scheduler():
    runtime = get_runtime()
    with runtime.transaction() as session:
        status = scheduler_status(
            session,
            now=runtime.clock(),
            heartbeat_s=runtime.settings.heartbeat_s,
            job_names=JOB_NAMES,
            language=current_language(),
        )
    return render_template("admin/scheduler.html", scheduler=status)
