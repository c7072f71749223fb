"""Console routes: check the role, call a use case, render or redirect."""

from __future__ import annotations

from datetime import datetime

from flask import flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user

from cati.services.console import (
    CONSOLE_OUTCOMES,
    ConsoleError,
    check_notes,
    claim_next_case,
    get_case,
    interviewer_stats,
    member_flow,
    national_phone,
    question_label,
    queue_counts,
    queue_outlook,
    record_outcome,
    release_case,
    renew_lease,
    reveal_phone,
    save_answers,
    today_figures,
)
from cati.services.flows import load_flows
from cati.services.follow_ups import callbacks_due, held_callback
from cati.web.auth.roles import current_user_id, role_required
from cati.web.console import bp
from cati.web.i18n import current_language, t
from cati.web.runtime import get_runtime

APPOINTMENT_FORMATS = ("%d/%m/%Y %H:%M", "%d/%m/%Y %H:%M:%S", "%d/%m/%Y %Hh%M", "%d/%m/%Y %Hh")

CONSOLE_ROLES = ("interviewer",)  # admins pass every role check


@bp.get("")
@role_required(*CONSOLE_ROLES)
def queue():
    runtime = get_runtime()
    settings = runtime.settings
    now = runtime.clock()
    with runtime.transaction() as session:
        counts = queue_counts(session, current_user_id(), now, settings.timezone)
        today = today_figures(session, current_user_id(), now, settings.timezone)
        outlook = queue_outlook(session, current_user_id(), now, settings.calling_policy)
        callbacks = {  # resolved follow-ups to close the loop on, apart from survey cases
            "due": callbacks_due(session, now),
            "held": held_callback(session, current_user_id(), now),
        }
    return render_template(
        "console/queue.html",
        callbacks=callbacks,
        counts=counts,
        today=today,
        outlook=outlook,
        why=_why_nothing(outlook, counts, settings.timezone),
        tz=settings.timezone,
    )


def _why_nothing(outlook, counts, tz) -> str | None:
    """Why "Next case" would give nothing now, or None when a case can be taken."""
    if not outlook.callable_now:
        at = outlook.next_window
        return t("console.why_outside_hours", at=_local(at, tz) if at else "–")
    if counts["due"]:
        return None
    if outlook.next_due is not None:
        return t("console.why_later", at=_local(outlook.next_due, tz))
    return t("console.why_empty")


def _local(moment: datetime, tz) -> str:
    return moment.astimezone(tz).strftime("%H:%M %d/%m/%Y")


def calling_hours(policy) -> str:
    """'08:00–11:30, 13:30–17:00 (T2–T7)': the calling windows and days, for the page."""
    windows = ", ".join(
        f"{start.strftime('%H:%M')}–{end.strftime('%H:%M') if end else '24:00'}"
        for start, end in policy.windows
    )
    names = t("console.day_names").split(",")  # Sunday first
    days = sorted(policy.days)
    if days == list(range(days[0], days[-1] + 1)) and len(days) > 2:
        text = f"{names[days[0] % 7]}–{names[days[-1] % 7]}"
    else:
        text = ", ".join(names[d % 7] for d in days)
    return f"{windows} ({text})"


@bp.post("/next")
@role_required(*CONSOLE_ROLES)
def next_case():
    runtime = get_runtime()
    with runtime.transaction() as session:
        member_id = claim_next_case(
            session, current_user_id(), runtime.clock(), runtime.settings.calling_policy
        )
    if member_id is None:
        with runtime.transaction() as session:
            counts = queue_counts(
                session, current_user_id(), runtime.clock(), runtime.settings.timezone
            )
            outlook = queue_outlook(
                session, current_user_id(), runtime.clock(), runtime.settings.calling_policy
            )
        flash(_why_nothing(outlook, counts, runtime.settings.timezone) or t("console.nothing_due"),
              "info")  # fmt: skip
        return redirect(url_for("console.queue"))
    return redirect(url_for("console.case", member_id=member_id))


@bp.get("/case/<int:member_id>")
@role_required(*CONSOLE_ROLES)
def case(
    member_id: int,
    phone: str | None = None,
    error: ConsoleError | None = None,
    entered: dict | None = None,
):
    """The case screen; after a refused save, `entered` holds the form as it was typed."""
    runtime = get_runtime()
    settings = runtime.settings
    flows = load_flows(settings.flows_dir)
    with runtime.transaction() as session:
        try:
            view = get_case(
                session,
                member_id,
                current_user_id(),
                flows,
                settings.timezone,
                runtime.clock(),
                language=current_language(),
                interviewer=current_user.username,
                max_attempts=settings.calling_policy.max_attempts,
            )
        except ConsoleError as exc:
            return _gone(exc)
    messages = {}
    if error is not None:
        messages[error.field or "form"] = _message(error, view.flow)
    return render_template(
        "console/case.html",
        case=view,
        phone=phone,
        phone_display=national_phone(phone),
        error=error,
        messages=messages,
        entered=entered or {},
        outcomes=CONSOLE_OUTCOMES,
        tz=settings.timezone,
        calling_hours=calling_hours(settings.calling_policy),
    )


def _message(error: ConsoleError, flow) -> str:
    """The refusal in the page's language, the question named by its label."""
    params = dict(error.params)
    if "question" in params and flow is not None:
        params["label"] = question_label(flow, params["question"], current_language())
    params.setdefault("label", params.get("question", ""))
    params["hours"] = calling_hours(get_runtime().settings.calling_policy)
    try:
        return t(error.key, message=str(error), **params)
    except (KeyError, IndexError):  # a message from elsewhere with other placeholders
        return str(error)


def _gone(exc: ConsoleError):
    """A case that is no longer the interviewer's: a page in their language, not a 404."""
    if request.accept_mimetypes.best == "application/json":
        return jsonify(error=t("console.error.gone"), gone=True), 404
    return render_template("console/gone.html"), 404


@bp.post("/case/<int:member_id>/show-number")
@role_required(*CONSOLE_ROLES)
def show_number(member_id: int):
    """The full number: as JSON for the case screen's script (no reload), else the page."""
    runtime = get_runtime()
    with runtime.transaction() as session:
        try:
            phone = reveal_phone(session, member_id, current_user_id(), runtime.clock())
        except ConsoleError as exc:
            return _gone(exc)
    if request.accept_mimetypes.best == "application/json":
        return jsonify(phone=phone, display=national_phone(phone))
    return case(member_id, phone=phone)


@bp.post("/case/<int:member_id>/save")
@role_required(*CONSOLE_ROLES)
def save(member_id: int):
    """Save the answers entered; with an outcome chosen, also close the call.

    Refused (a bad answer, an outcome that does not fit), the page comes back with everything
    as typed, the number still shown if it was, and the message beside its field."""
    runtime = get_runtime()
    settings = runtime.settings
    answers = {
        key[len("answer-") :]: value
        for key, value in request.form.items()
        if key.startswith("answer-")
    }
    outcome = request.form.get("outcome", "").strip()
    wants_json = request.accept_mimetypes.best == "application/json"
    notes = request.form.get("notes", "")
    flows = load_flows(settings.flows_dir)
    try:
        if outcome or not wants_json:  # the notes are kept with an outcome: checked first
            check_notes(notes)
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
            appointment = _local_datetime(request.form.get("appointment_at", ""), settings.timezone)
            with runtime.transaction() as session:
                stored = record_outcome(
                    session,
                    member_id,
                    current_user_id(),
                    outcome,
                    appointment_at=appointment if outcome == "appointment" else None,
                    notes=notes,
                    flows=flows,
                    policy=settings.calling_policy,
                    tz=settings.timezone,
                    now=runtime.clock(),
                )
    except ConsoleError as exc:
        if exc.gone:
            return _gone(exc)
        if wants_json:
            with runtime.transaction() as session:
                flow = member_flow(session, member_id, flows)
            return jsonify(error=_message(exc, flow), field=exc.field), 422
        phone = None
        if request.form.get("phone_revealed") == "1":
            with runtime.transaction() as session:
                phone = reveal_phone(session, member_id, current_user_id(), runtime.clock())
        return case(member_id, phone=phone, error=exc, entered=request.form.to_dict()), 422
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
        except ConsoleError as exc:
            return _gone(exc)
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
    runtime = get_runtime()
    mine_only = current_user.role == "interviewer"
    with runtime.transaction() as session:
        rows = interviewer_stats(
            session,
            runtime.settings.timezone,
            current_user_id() if mine_only else None,
            now=runtime.clock(),
        )
    return render_template("console/stats.html", rows=rows)


def _local_datetime(text: str, tz) -> datetime | None:
    """The appointment field (local wall time, 24/11/2026 14:30; ISO also read) as an instant."""
    text = " ".join(text.split())
    if not text:
        return None
    for pattern in APPOINTMENT_FORMATS:
        try:
            return datetime.strptime(text, pattern).replace(tzinfo=tz)
        except ValueError:
            pass
    try:
        return datetime.fromisoformat(text).replace(tzinfo=tz)
    except ValueError:
        raise ConsoleError(
            f"cannot read the appointment time {text!r}",
            key="console.bad_appointment",
            field="appointment_at",
            value=text if len(text) <= 40 else text[:39] + "…",
        ) from None
