"""Flagged counter ratings (issue 15): the ratings at a kiosk or from an office's QR code
that the integrity checks flagged, and that the office's figures leave out until a manager
accepts them. A burst is read together (one group); accepting one rating, a group or all
those shown goes through a confirmation page that names them; an acceptance can be undone.
The same rules as `cati kiosks flagged` and `cati kiosks accept` (cati.services.counter).
"""

from __future__ import annotations

from datetime import timedelta

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from cati.domain.counter import FLAGS
from cati.models import CounterRating, Office
from cati.services.counter import (
    FlaggedRating,
    accept_ratings,
    flagged_ratings,
    policy_of,
    undo_acceptance,
)
from cati.web.auth.roles import current_user_id, role_required
from cati.web.dashboard import bp, figures
from cati.web.dashboard.views import MANAGERS, _flows, _week_range
from cati.web.i18n import current_language, t
from cati.web.runtime import get_runtime

LIMIT = 500  # ratings shown at once; a narrower filter shows the others
TABS = ("pending", "accepted")


def _filters() -> dict:
    """The list's filters from the address: the weeks (as the trend page reads them), the
    office, the tab; `error` when the weeks cannot be read."""
    first, last, error = _week_range()
    show = request.args.get("show")
    return {
        "first": first,
        "last": last,
        "error": error,
        "office": request.args.get("office") or "",
        "show": show if show in TABS else TABS[0],
    }


def _back(filters: dict, **extra) -> dict:
    """The filters as query arguments, to come back to the same list."""
    args = {"from": str(filters["first"]), "to": str(filters["last"]), **extra}
    if filters["office"]:
        args["office"] = filters["office"]
    return args


def _counter_flow():
    return _flows().get(get_runtime().settings.counter_flow)


def _batches(session, filters: dict, *, accepted: bool, ids=None) -> list[list[FlaggedRating]]:
    settings = get_runtime().settings
    period = (
        {}
        if ids is not None
        else {
            "start": filters["first"].bounds_utc(settings.timezone)[0],
            "end": filters["last"].bounds_utc(settings.timezone)[1],
            "office_code": filters["office"] or None,
        }
    )
    return flagged_ratings(
        session,
        _counter_flow(),
        window=timedelta(minutes=settings.counter_burst_minutes),
        accepted=accepted,
        ids=ids,
        limit=LIMIT + 1,
        **period,
    )


def _counter_offices(session) -> list[tuple[str, str]]:
    """The offices that have counter ratings, by name: the office filter's choices."""
    rows = session.execute(
        select(Office.code, Office.name)
        .where(select(CounterRating.id).where(CounterRating.office_id == Office.id).exists())
    ).all()  # fmt: skip
    return sorted(((code, name or code) for code, name in rows), key=lambda pair: pair[1])


def _view(batches: list[list[FlaggedRating]]) -> dict:
    """What the table shows: the answers' columns, each rating in its group, how many are
    shown and whether more were left out (LIMIT)."""
    columns = figures.answer_columns(_counter_flow(), current_language())
    minutes = get_runtime().settings.counter_burst_minutes
    groups, shown = [], 0
    for batch in batches:
        rows = []
        for rating in batch:
            if shown == LIMIT:
                break
            shown += 1
            rows.append(_row(rating, columns, minutes))
        if rows:
            groups.append(rows)
    more = sum(len(b) for b in batches) > shown
    return {"columns": columns, "groups": groups, "shown": shown, "more": more, "limit": LIMIT}


def _row(rating: FlaggedRating, columns, minutes: int) -> dict:
    place = t(f"mode.{rating.mode}")
    if rating.kiosk_id is not None:
        place += " · " + (rating.kiosk_name or t("flagged.kiosk_number", id=rating.kiosk_id))
    return {
        "id": rating.id,
        "started_at": rating.started_at,
        "office": rating.office_name,
        "place": place,
        "reasons": [
            t(f"flagged.reason.{flag}", minutes=minutes) if flag in FLAGS else flag
            for flag in rating.flags
        ],
        "answers": [(c.label, _short(c, rating.answers.get(c.id))) for c in columns],
        "partial": not rating.finished,
        "dossier_code": rating.dossier_code,
        "check": rating.dossier_check,
        "accepted_by": rating.accepted_by,
        "accepted_at": rating.accepted_at,
    }


def _short(column, value: str | None) -> str:
    """An answer in a word or a digit: 9, Có, Không, Không rõ; – when passed over or not
    reached (so that each answer keeps its place and identical ratings look alike)."""
    if value is None:
        return "–"
    if value == "0":
        return t("flagged.dont_know")
    if column.kind == "yes_no":
        return {"1": t("console.yes"), "2": t("console.no")}.get(value, value)
    return value


@bp.get("/counter/flagged")
@role_required(*MANAGERS)
def flagged():
    filters = _filters()
    runtime = get_runtime()
    with runtime.transaction() as session:
        offices = _counter_offices(session)
        if filters["office"] not in {code for code, _ in offices}:
            filters["office"] = ""
        counts, view = {}, _view([])
        if not filters["error"]:
            for tab in TABS:
                batches = _batches(session, filters, accepted=tab == "accepted")
                total = sum(len(b) for b in batches)
                counts[tab] = total if total <= LIMIT else f"{LIMIT}+"
                if tab == filters["show"]:
                    view = _view(batches)
    return render_template(
        "dashboard/flagged.html",
        filters=filters,
        offices=offices,
        counts=counts,
        back=_back(filters),
        policy=policy_of(runtime.settings),
        **view,
    ), (400 if filters["error"] else 200)


def _ids(values) -> list[int]:
    return sorted({int(v) for v in values if v.isdigit()})


@bp.get("/counter/flagged/accept")
@role_required(*MANAGERS)
def accept_form():
    """The confirmation: the ratings that accepting counts in (those picked, or with
    `all=1` every one the list's filters show), named one by one. Changes nothing."""
    filters = _filters()
    if filters["error"]:
        abort(400)
    ids = None if request.args.get("all") == "1" else _ids(request.args.getlist("rating"))
    if ids == []:
        abort(404)
    with get_runtime().transaction() as session:
        view = _view(_batches(session, filters, accepted=False, ids=ids))
    return render_template(
        "dashboard/flagged_confirm.html",
        ids=[row["id"] for group in view["groups"] for row in group],
        back=_back(filters),
        **view,
    )


@bp.post("/counter/flagged/accept")
@role_required(*MANAGERS)
def accept():
    runtime = get_runtime()
    filters = _filters_of_form()
    with runtime.transaction() as session:
        accepted = accept_ratings(
            session,
            _ids(request.form.getlist("rating")),
            by=current_user.username,
            user_id=current_user_id(),
            now=runtime.clock(),
        )
    if accepted:
        flash(t("flagged.accepted", n=len(accepted)), "success")
    else:
        flash(t("flagged.nothing_accepted"), "info")
    return redirect(url_for("dashboard.flagged", **filters))


@bp.post("/counter/flagged/<int:rating_id>/undo")
@role_required(*MANAGERS)
def undo(rating_id: int):
    runtime = get_runtime()
    filters = _filters_of_form()
    with runtime.transaction() as session:
        done = undo_acceptance(session, rating_id, user_id=current_user_id(), now=runtime.clock())
    if not done:
        abort(404)
    flash(t("flagged.undone"), "success")
    return redirect(url_for("dashboard.flagged", show="accepted", **filters))


def _filters_of_form() -> dict:
    """The list's filters a form carried back (weeks and office, as plain text)."""
    return {
        key: request.form[key][:32] for key in ("from", "to", "office") if request.form.get(key)
    }
