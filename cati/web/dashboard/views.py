"""Dashboard routes (manager role): thin views over the report use cases."""

from __future__ import annotations

from datetime import datetime

from flask import abort, render_template

from cati.services.flows import load_flows
from cati.services.reports import ReportError, round_report, rounds_progress
from cati.services.scheduler import JOB_NAMES, scheduler_status
from cati.web.auth.roles import role_required
from cati.web.dashboard import bp
from cati.web.i18n import current_language, t
from cati.web.runtime import get_runtime


@bp.get("")
@role_required("manager")
def rounds():
    runtime = get_runtime()
    settings = runtime.settings
    with runtime.transaction() as session:
        items = rounds_progress(session)
        scheduler = scheduler_status(
            session,
            now=runtime.clock(),
            heartbeat_s=settings.heartbeat_s,
            job_names=JOB_NAMES,
            language=current_language(),
        )
    return render_template(
        "dashboard/rounds.html", rounds=items, scheduler=scheduler, local=_local(settings.timezone)
    )


def _local(tz):
    """Shows a UTC ISO time of the status document in local time."""

    def local(iso: str | None) -> str:
        return "–" if iso is None else f"{datetime.fromisoformat(iso).astimezone(tz):%d/%m %H:%M}"

    return local


@bp.get("/rounds/<int:round_id>")
@role_required("manager")
def round_page(round_id: int):
    runtime = get_runtime()
    settings = runtime.settings
    with runtime.transaction() as session:
        try:
            report = round_report(
                session, round_id, load_flows(settings.flows_dir), settings.timezone
            )
        except ReportError:
            abort(404)
    offices = sorted(
        report["offices"],
        key=lambda o: -((o["questions"].get("overall") or {}).get("mean") or 0),
    )
    warn = {
        "asked_to_return": settings.warn_asked_to_return,
        "paid_without_receipt": settings.warn_paid_without_receipt,
        "on_time_below": settings.warn_on_time_below,
    }
    return render_template("dashboard/round.html", report=report, offices=offices, warn=warn)


@bp.get("/trend")
@role_required("manager")
def trend():
    """The rounds of the last weeks side by side (default: the last 8 ISO weeks)."""
    from flask import request

    from cati.domain.weeks import IsoWeek
    from cati.services.reports import rounds_trend

    runtime = get_runtime()
    settings = runtime.settings
    last = IsoWeek.containing(runtime.clock(), settings.timezone)
    try:
        last = IsoWeek.parse(request.args["to"]) if request.args.get("to") else last
        weeks = int(request.args.get("weeks", "8"))
    except ValueError:
        abort(400)
    first = last.shifted(-(max(1, min(weeks, 104)) - 1))
    with runtime.transaction() as session:
        data = rounds_trend(session, first, last, load_flows(settings.flows_dir), settings.timezone)
    series = {
        "weeks": [item["round"]["week"] for item in data["rounds"]],
        "overall": [
            (item["questions"].get("overall") or {}).get("mean") for item in data["rounds"]
        ],
        "rr1": [item["rates"]["rr1"] for item in data["rounds"]],
        "labels": {"overall": t("dashboard.overall"), "rr1": "RR1"},
    }
    return render_template("dashboard/trend.html", trend=data, series=series)
