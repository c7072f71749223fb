"""Follow-up routes: who may see what, a use case, render or redirect.

An `office` user sees and handles only its office's follow-ups, and the citizen's name,
number, dossier and voice only when the citizen agreed to be contacted; another office's
follow-up is "not found". Managers (and admins) see every office's, with the identity.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from cati.domain.follow_ups import STATUSES, TRANSITIONS, Status, TransitionError
from cati.models import Role
from cati.services.follow_ups import (
    STATUS_FILTERS,
    FollowUpError,
    get_follow_up,
    list_follow_ups,
    update_status,
)
from cati.web.auth.roles import current_user_id, role_required
from cati.web.followups import bp
from cati.web.i18n import t
from cati.web.runtime import get_runtime

FOLLOW_UP_ROLES = (Role.OFFICE.value, Role.MANAGER.value)  # admins pass every role check


def _scope() -> dict:
    """The office the user is confined to, or every office for a manager."""
    if current_user.role == Role.OFFICE.value:
        return {"office_id": current_user.office_id, "manager": False}
    return {"manager": True}


@bp.get("")
@role_required(*FOLLOW_UP_ROLES)
def index():
    runtime = get_runtime()
    status = request.args.get("status", "open")
    if status not in (*STATUS_FILTERS, "all"):
        status = "open"
    overdue = request.args.get("overdue") == "1"
    with runtime.transaction() as session:
        items = list_follow_ups(
            session,
            now=runtime.clock(),
            status=None if status == "all" else status,
            overdue=overdue,
            **_scope(),
        )
    return render_template(
        "followups/index.html",
        items=items,
        status=status,
        overdue=overdue,
        filters=("open", *STATUSES, "all"),
        tz=runtime.settings.timezone,
    )


@bp.get("/<int:follow_up_id>")
@role_required(*FOLLOW_UP_ROLES)
def show(follow_up_id: int, error: str | None = None, note: str = "", picked: str = ""):
    """A follow-up and its history; after a refused change, the status picked and the note
    typed come back as they were."""
    runtime = get_runtime()
    with runtime.transaction() as session:
        try:
            item = get_follow_up(session, follow_up_id, now=runtime.clock(), **_scope())
        except FollowUpError:
            abort(404)
    return render_template(
        "followups/show.html",
        item=item,
        targets=sorted(TRANSITIONS[Status(item.status)], key=STATUSES.index),
        error=error,
        note=note,
        picked=picked,
        tz=runtime.settings.timezone,
    ), (422 if error else 200)


@bp.post("/<int:follow_up_id>")
@role_required(*FOLLOW_UP_ROLES)
def update(follow_up_id: int):
    runtime = get_runtime()
    status = request.form.get("status", "")
    note = request.form.get("note", "")
    try:
        with runtime.transaction() as session:
            update_status(
                session,
                follow_up_id,
                status,
                note,
                user_id=current_user_id(),
                now=runtime.clock(),
                **_scope(),
            )
    except FollowUpError:
        abort(404)
    except TransitionError:
        needs_note = status in STATUSES and not note.strip()
        return show(
            follow_up_id,
            error=t("followups.error.note") if needs_note else t("followups.error.transition"),
            note=note,
            picked=status,
        )
    flash(t("followups.saved", status=t(f"followups.status.{status}")), "success")
    return redirect(url_for("followups.show", follow_up_id=follow_up_id))
