"""Console routes: check the role, call a use case, render or redirect."""

from __future__ import annotations

from datetime import datetime

from flask import abort, flash, jsonify, redirect, render_template, request, url_for

from cati.services.console import (
    CONSOLE_OUTCOMES,
    ConsoleError,
    TextTooLongError,
    check_notes,
    claim_next_case,
    get_case,
    interviewer_stats,
    queue_counts,
    record_outcome,
    release_case,
    renew_lease,
    reveal_phone,
    save_answers,
)
from cati.services.flows import load_flows
from cati.web.auth.roles import current_user_id, role_required
from cati.web.console import bp
from cati.web.i18n import t
from cati.web.runtime import get_runtime

CONSOLE_ROLES = ("interviewer",)  # admins pass every role check


@bp.get("")
@role_required(*CONSOLE_ROLES)
def queue():
    runtime = get_runtime()
    with runtime.transaction() as session:
        counts = queue_counts(
            session, current_user_id(), runtime.clock(), runtime.settings.timezone
        )
    return render_template("console/queue.html", counts=counts)


@bp.post("/next")
@role_required(*CONSOLE_ROLES)
def next_case():
    runtime = get_runtime()
    with runtime.transaction() as session:
        member_id = claim_next_case(
            session, current_user_id(), runtime.clock(), runtime.settings.calling_policy
        )
    if member_id is None:
        flash(t("console.nothing_due"), "info")
        return redirect(url_for("console.queue"))
    return redirect(url_for("console.case", member_id=member_id))


@bp.get("/case/<int:member_id>")
@role_required(*CONSOLE_ROLES)
def case(
    member_id: int,
    phone: str | None = None,
    error: str | None = None,
    typed: dict[str, object] | None = None,
):
    """The case screen; `typed`: what the form held when it was refused, shown again."""
    runtime = get_runtime()
    settings = runtime.settings
    with runtime.transaction() as session:
        try:
            view = get_case(
                session,
                member_id,
                current_user_id(),
                load_flows(settings.flows_dir),
                settings.timezone,
                runtime.clock(),
            )
        except ConsoleError:
            abort(404)  # released, expired, or another interviewer's case
    return render_template(
        "console/case.html",
        case=view,
        phone=phone,
        error=error,
        typed=typed or {},
        outcomes=CONSOLE_OUTCOMES,
        tz=settings.timezone,
    )


@bp.post("/case/<int:member_id>/show-number")
@role_required(*CONSOLE_ROLES)
def show_number(member_id: int):
    runtime = get_runtime()
    with runtime.transaction() as session:
        try:
            phone = reveal_phone(session, member_id, current_user_id(), runtime.clock())
        except ConsoleError:
            abort(404)
    return case(member_id, phone=phone)


@bp.post("/case/<int:member_id>/save")
@role_required(*CONSOLE_ROLES)
def save(member_id: int):
    """Save the answers entered; with an outcome chosen, also close the call."""
    runtime = get_runtime()
    settings = runtime.settings
    answers = {
        key[len("answer-") :]: value
        for key, value in request.form.items()
        if key.startswith("answer-")
    }
    outcome = request.form.get("outcome", "").strip()
    wants_json = request.accept_mimetypes.best == "application/json"
    typed = {
        "answers": answers,
        "outcome": outcome,
        "appointment_at": request.form.get("appointment_at", ""),
        "notes": request.form.get("notes", ""),
    }
    try:
        if outcome or not wants_json:  # the notes are kept with an outcome: checked first
            check_notes(typed["notes"])
        appointment = _local_datetime(request.form.get("appointment_at", ""), settings.timezone)
        flows = load_flows(settings.flows_dir)
        # The answers are committed on their own first: a refused outcome loses nothing typed.
        with runtime.transaction() as session:
            save_answers(
                session,
                member_id,
                current_user_id(),
                answers,
                flows,
                settings.timezone,
                runtime.clock(),
            )
        if outcome:
            with runtime.transaction() as session:
                stored = record_outcome(
                    session,
                    member_id,
                    current_user_id(),
                    outcome,
                    appointment_at=appointment,
                    notes=typed["notes"],
                    flows=flows,
                    policy=settings.calling_policy,
                    tz=settings.timezone,
                    now=runtime.clock(),
                )
    except ConsoleError as exc:
        message = str(exc)
        if isinstance(exc, TextTooLongError):
            message = t("console.notes_too_long", length=exc.length, limit=exc.limit)
        if wants_json:
            return jsonify(error=message), 422
        return case(member_id, error=message, typed=typed), 422
    if wants_json:
        return jsonify(saved=True)
    if outcome:
        flash(t("console.saved_outcome", outcome=t(f"outcome.{stored}")), "success")
        return redirect(url_for("console.queue"))
    return redirect(url_for("console.case", member_id=member_id))


@bp.post("/case/<int:member_id>/release")
@role_required(*CONSOLE_ROLES)
def release(member_id: int):
    runtime = get_runtime()
    with runtime.transaction() as session:
        try:
            release_case(session, member_id, current_user_id(), runtime.clock())
        except ConsoleError:
            abort(404)
    flash(t("console.released"), "info")
    return redirect(url_for("console.queue"))


@bp.post("/case/<int:member_id>/lease")
@role_required(*CONSOLE_ROLES)
def lease(member_id: int):
    """Renewed by the case screen while it stays open."""
    runtime = get_runtime()
    with runtime.transaction() as session:
        try:
            until = renew_lease(session, member_id, current_user_id(), runtime.clock())
        except ConsoleError:
            return jsonify(error="expired"), 409
    return jsonify(lease_expires_at=until.isoformat())


@bp.get("/stats")
@role_required("interviewer", "manager")
def stats():
    """Interviewers see their own figures; managers and admins see everyone's."""
    from flask_login import current_user

    runtime = get_runtime()
    mine_only = current_user.role == "interviewer"
    with runtime.transaction() as session:
        rows = interviewer_stats(
            session, runtime.settings.timezone, current_user_id() if mine_only else None
        )
    return render_template("console/stats.html", rows=rows)


def _local_datetime(text: str, tz) -> datetime | None:
    """A `datetime-local` field (local wall time) as an aware instant."""
    text = text.strip()
    if not text:
        return None
    try:
        return datetime.fromisoformat(text).replace(tzinfo=tz)
    except ValueError:
        shown = text if len(text) <= 40 else text[:39] + "…"
        raise ConsoleError(t("console.bad_appointment", value=shown)) from None
