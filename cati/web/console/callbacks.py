"""Console routes closing the loop: calling back a citizen whose follow-up was resolved, to
tell them what was done and ask whether they are satisfied (Decision 766 indicator 5.3)."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from cati.services.console import national_phone
from cati.services.follow_ups import (
    CallbackError,
    claim_next_callback,
    get_callback,
    parse_satisfied,
    record_callback,
    release_callback,
)
from cati.web.auth.roles import current_user_id, role_required
from cati.web.console import bp
from cati.web.console.views import CONSOLE_ROLES
from cati.web.i18n import t
from cati.web.runtime import get_runtime


@bp.post("/callbacks/next")
@role_required(*CONSOLE_ROLES)
def next_callback():
    runtime = get_runtime()
    now = runtime.clock()
    callable_now = runtime.settings.calling_policy.is_callable_at(now)
    with runtime.transaction() as session:
        follow_up_id = claim_next_callback(
            session, current_user_id(), now, callable_now=callable_now
        )
    if follow_up_id is None:
        flash(t("callback.none") if callable_now else t("callback.outside_hours"), "info")
        return redirect(url_for("console.queue"))
    return redirect(url_for("console.callback", follow_up_id=follow_up_id))


@bp.get("/callback/<int:follow_up_id>")
@role_required(*CONSOLE_ROLES)
def callback(follow_up_id: int, error: str | None = None, chosen: str = ""):
    runtime = get_runtime()
    tz = runtime.settings.timezone
    with runtime.transaction() as session:
        try:
            item = get_callback(session, follow_up_id, current_user_id(), runtime.clock())
        except CallbackError:
            return _gone()
    opening = t(
        "callback.opening",
        name=item.citizen_name or "",
        interviewer=current_user.username,
        raised=item.raised_at.astimezone(tz).strftime("%d/%m/%Y"),
        procedure=item.procedure or "",
        office=item.office_name or "",
    )
    return render_template(
        "console/callback.html",
        item=item,
        opening=" ".join(opening.split()),
        phone_display=national_phone(item.phone),
        error=error,
        chosen=chosen,
        tz=tz,
    ), (422 if error else 200)


@bp.post("/callback/<int:follow_up_id>")
@role_required(*CONSOLE_ROLES)
def save_callback(follow_up_id: int):
    runtime = get_runtime()
    chosen = request.form.get("satisfied", "")
    try:
        satisfied = parse_satisfied(chosen)
    except CallbackError:
        return callback(follow_up_id, error=t("callback.error.answer"), chosen=chosen)
    with runtime.transaction() as session:
        try:
            record_callback(session, follow_up_id, current_user_id(), satisfied, runtime.clock())
        except CallbackError:
            return _gone()
    flash(t("callback.saved"), "success")
    return redirect(url_for("console.queue"))


@bp.post("/callback/<int:follow_up_id>/release")
@role_required(*CONSOLE_ROLES)
def release_callback_view(follow_up_id: int):
    runtime = get_runtime()
    with runtime.transaction() as session:
        try:
            release_callback(session, follow_up_id, current_user_id(), runtime.clock())
        except CallbackError:
            return _gone()
    flash(t("callback.released"), "info")
    return redirect(url_for("console.queue"))


def _gone():
    """A callback that is no longer the interviewer's: a page in their language, not a 404."""
    return render_template("console/gone.html", message=t("callback.error.gone")), 404
