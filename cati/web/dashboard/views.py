"""Dashboard routes (managers and admins): thin views over the report use cases.

The figures come from the same functions as `cati report` and `cati export` (round_report,
report_table, rounds_trend, trend_table, export_rows, cati.spreadsheets); `figures` turns a
report into what the pages show (ranks, greyed low-n figures, warnings).
"""

from __future__ import annotations

import tempfile

from flask import (
    Response,
    abort,
    redirect,
    render_template,
    request,
    send_file,
    stream_with_context,
)

from cati.domain.flow import FlowError
from cati.domain.weeks import IsoWeek
from cati.services.counter import self_selected
from cati.services.dashboard import calling_ends, recording_of, round_comments, trend_rounds
from cati.services.exports import export_columns, export_rows
from cati.services.flows import load_flows
from cati.services.follow_ups import follow_up_figures
from cati.services.reports import (
    ReportError,
    report_table,
    round_report,
    rounds_progress,
    trend_table,
)
from cati.services.scheduler import JOB_NAMES, scheduler_status
from cati.services.users import record_audit
from cati.spreadsheets import csv_lines, write_xlsx
from cati.web.auth.roles import current_user_id, role_required
from cati.web.dashboard import bp, figures
from cati.web.i18n import current_language, t
from cati.web.runtime import get_runtime

MANAGERS = ("manager",)  # admins pass every role check
FORMATS = ("csv", "xlsx")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
RECORDING_PLAYED = "recording_played"
MAX_TREND_WEEKS = 104


def _flows():
    try:
        return load_flows(get_runtime().settings.flows_dir)
    except (FlowError, OSError):
        return {}


@bp.get("")
@role_required(*MANAGERS)
def rounds():
    runtime = get_runtime()
    settings = runtime.settings
    flows = _flows()
    with runtime.transaction() as session:
        items = rounds_progress(session)
        ends = calling_ends(session)
        scheduler = scheduler_status(
            session,
            now=runtime.clock(),
            heartbeat_s=settings.heartbeat_s,
            job_names=JOB_NAMES,
            language=current_language(),
        )
    language = current_language()
    for item in items:
        flow = flows.get(item["flow"])
        item["flow_title"] = (flow.title.get(language) if flow else None) or item["flow"]
        item["calling_ends_at"] = ends.get(item["id"])
    return render_template(
        "dashboard/rounds.html", rounds=items, scheduler_down=scheduler["leader"] is None
    )


def _report_or_404(session, round_id: int, flows) -> dict:
    """The round's report JSON, as `cati report` gives it; 404 for an unknown round."""
    runtime = get_runtime()
    try:
        return round_report(
            session, round_id, flows, runtime.settings.timezone, now=runtime.clock()
        )
    except ReportError:
        abort(404)


@bp.get("/rounds/<int:round_id>")
@role_required(*MANAGERS)
def round_page(round_id: int):
    runtime = get_runtime()
    settings = runtime.settings
    flows = _flows()
    with runtime.transaction() as session:
        report = _report_or_404(session, round_id, flows)
        flow = flows.get(report["round"]["flow"])
        comments = round_comments(session, round_id, flow)
        ends_at = calling_ends(session).get(round_id)
        # The counter ratings of the round's week: self-selected, in their own section.
        week = IsoWeek.parse(report["round"]["week"]).bounds_utc(settings.timezone)
        ratings = self_selected(session, flows.get(settings.counter_flow), *week)
    language = current_language()
    min_n = figures.min_n_of(settings)
    thresholds = figures.thresholds_of(settings)
    columns = figures.columns_of(flow, report, language)
    return render_template(
        "dashboard/round.html",
        report=report,
        flow_title=((flow.title.get(language) if flow else None) or report["round"]["flow"]),
        calling_ends_at=ends_at,
        columns=columns,
        offices=figures.office_rows(report, columns, min_n=min_n, thresholds=thresholds),
        officers=figures.officer_rows(report, columns, min_n=min_n),
        legend=figures.legend(thresholds, columns),
        ranked_by=figures.ranking_question(columns),
        min_n=min_n,
        comments=comments,
        charts=_distribution_charts(report, columns),
        modes=figures.by_mode(report, columns, min_n=min_n),
        counter=figures.counter_rows(
            ratings, flows.get(settings.counter_flow), language, min_n=min_n
        ),
        counter_weeks={"from": report["round"]["week"], "to": report["round"]["week"]},
    )


def _distribution_charts(report, columns) -> dict:
    charts = []
    for column in columns:
        summary = report["questions"].get(column.id) or {}
        if column.kind == "scale" and summary.get("distribution") is not None:
            scores = list(summary["distribution"])
            charts.append(
                {
                    "id": column.id,
                    "label": column.label,
                    "scores": scores,
                    "counts": [summary["distribution"][s] for s in scores],
                    "satisfied_from": summary.get("satisfied_from"),
                }
            )
    return {"locale": _chart_locale(), "people": t("dashboard.people"), "charts": charts}


def _chart_locale() -> str:
    from cati.web.formats import chart_locale

    return chart_locale()


@bp.get("/recordings/<int:answer_id>")
@role_required(*MANAGERS)
def recording(answer_id: int):
    """A citizen's recorded comment: audited (a voice is personal data), then the provider's
    file. The page plays it in an <audio> element."""
    runtime = get_runtime()
    with runtime.transaction() as session:
        found = recording_of(session, answer_id)
        if found is None:
            abort(404)
        member_id, url = found
        record_audit(
            session,
            current_user_id(),
            RECORDING_PLAYED,
            member_id=member_id,
            details={"answer": answer_id},
            now=runtime.clock(),
        )
    return redirect(url)


# Downloads: the spreadsheets of `cati report` and `cati export`, streamed.


@bp.get("/rounds/<int:round_id>/report.<fmt>")
@role_required(*MANAGERS)
def report_download(round_id: int, fmt: str):
    if fmt not in FORMATS:
        abort(404)
    with get_runtime().transaction() as session:
        data = _report_or_404(session, round_id, _flows())
    columns, rows = report_table(data)
    return _table_response(
        fmt, columns, rows, f"cati-round-{round_id}-report", f"report {round_id}"
    )


@bp.get("/rounds/<int:round_id>/report.pdf")
@role_required(*MANAGERS)
def report_pdf(round_id: int):
    """The A4 document of `cati report ROUND --format pdf`, in the page's language."""
    from cati.documents import model, pdf
    from cati.models import Round

    runtime = get_runtime()
    settings = runtime.settings
    flows = _flows()
    with runtime.transaction() as session:
        data = _report_or_404(session, round_id, flows)
        ends = session.get(Round, round_id).calling_ends_at
    doc = model.round_document(
        data,
        flows.get(data["round"]["flow"]),
        model.Options.of(settings, current_language(), runtime.clock()),
        calling_ends=model.last_calling_day(ends, settings.timezone),
    )
    response = Response(pdf.render(doc), mimetype="application/pdf")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="cati-round-{round_id}-report.pdf"'
    )
    return response


@bp.get("/rounds/<int:round_id>/export.<fmt>")
@role_required(*MANAGERS)
def export_download(round_id: int, fmt: str):
    from cati.models import Round

    if fmt not in FORMATS:
        abort(404)
    runtime = get_runtime()
    settings = runtime.settings
    flows = _flows()
    with runtime.transaction() as session:
        round_ = session.get(Round, round_id)
        if round_ is None or round_.flow not in flows:
            abort(404)
        columns = export_columns(flows[round_.flow])
    hash_key = settings.resolve_secret_key()

    def rows():
        # Its own transaction, held while the rows stream out in batches.
        with runtime.transaction() as session:
            yield from export_rows(session, round_id, flows, settings.timezone, hash_key)

    return _table_response(
        fmt, columns, rows(), f"cati-round-{round_id}-export", f"round {round_id}"
    )


@bp.get("/trend/download.<fmt>")
@role_required(*MANAGERS)
def trend_download(fmt: str):
    if fmt not in FORMATS:
        abort(404)
    runtime = get_runtime()
    first, last, error = _week_range()
    if error:
        abort(400)
    from cati.services.reports import rounds_trend

    with runtime.transaction() as session:
        data = rounds_trend(session, first, last, _flows(), runtime.settings.timezone)
    columns, rows = trend_table(data)
    return _table_response(fmt, columns, rows, f"cati-trend-{first}-{last}", "trend")


def _table_response(fmt: str, columns, rows, name: str, sheet_name: str) -> Response:
    if fmt == "csv":
        # UTF-8 with a byte-order mark, as `cati report --output F.csv` writes (Excel reads it).
        body = stream_with_context(_with_bom(csv_lines(columns, rows)))
        response = Response(body, mimetype="text/csv; charset=utf-8")
        response.headers["Content-Disposition"] = f'attachment; filename="{name}.csv"'
        return response
    # The workbook is built in memory up to 8 MiB, on disk beyond; send_file streams it out
    # and closes it.
    spool = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115
    write_xlsx(spool, columns, rows, sheet_name=sheet_name)
    spool.seek(0)
    return send_file(spool, mimetype=XLSX, as_attachment=True, download_name=f"{name}.xlsx")


def _with_bom(lines):
    yield "\ufeff"
    yield from lines


# Trends


def _week_range() -> tuple[IsoWeek, IsoWeek, str | None]:
    """The weeks of the form (`from`, `to`, ISO weeks as <input type=week> sends them), by
    default the last 8 weeks; an error message when they cannot be read."""
    runtime = get_runtime()
    current = IsoWeek.containing(runtime.clock(), runtime.settings.timezone)
    args = request.args
    try:
        last = IsoWeek.parse(args["to"]) if args.get("to") else current
        if args.get("from"):
            first = IsoWeek.parse(args["from"])
        else:
            weeks = int(args.get("weeks", "8"))
            first = last.shifted(-(max(1, min(weeks, MAX_TREND_WEEKS)) - 1))
    except ValueError:
        return current.shifted(-7), current, t("trend.error.week")
    if first > last:
        return last, first, t("trend.error.order")
    if first.shifted(MAX_TREND_WEEKS - 1) < last:
        return (
            last.shifted(-(MAX_TREND_WEEKS - 1)),
            last,
            t("trend.error.long", weeks=MAX_TREND_WEEKS),
        )
    return first, last, None


@bp.get("/trend")
@role_required(*MANAGERS)
def trend():
    """A question across a range of weeks, for the province and one office."""
    runtime = get_runtime()
    settings = runtime.settings
    first, last, error = _week_range()
    flows = _flows()
    counter_flow = flows.get(settings.counter_flow)
    with runtime.transaction() as session:
        items = [] if error else trend_rounds(session, first, last, flows, settings.timezone)
        # The counter ratings of those weeks: self-selected, in their own section.
        period = first.bounds_utc(settings.timezone)[0], last.bounds_utc(settings.timezone)[1]
        ratings = None if error else self_selected(session, counter_flow, *period)
        # The follow-ups raised in those weeks, per office.
        follow_ups = (
            None
            if error
            else follow_up_figures(
                session, now=runtime.clock(), raised_from=period[0], raised_before=period[1]
            )
        )
    language = current_language()
    min_n = figures.min_n_of(settings)
    questions: dict[str, figures.Column] = {}
    for item in items:
        flow = flows.get(item["round"]["flow"])
        for column in figures.columns_of(flow, item, language):
            questions.setdefault(column.id, column)
    offices = sorted(
        {
            (o["office_code"], o.get("office_name") or o["office_code"])
            for i in items
            for o in i["offices"]
        },
        key=lambda pair: pair[1],
    )
    question_id = request.args.get("question") or (
        "overall" if "overall" in questions else next(iter(questions), None)
    )
    if question_id not in questions:
        question_id = next(iter(questions), None)
    office = request.args.get("office") or ""
    if office not in {code for code, _ in offices}:
        office = ""
    column = questions.get(question_id)
    points = []
    for item in items:
        by_office = {o["office_code"]: o for o in item["offices"]}
        points.append(
            {
                "round": item["round"],
                "open": item["round"]["status"] == "open",
                "calling_ends_at": item["calling_ends_at"],
                "complete": item["counts"]["complete"],
                "province": _point(column, item["questions"], min_n),
                "office": _point(column, by_office[office]["questions"], min_n)
                if office in by_office
                else None,
            }
        )
    office_name = dict(offices).get(office)
    series = {
        "locale": _chart_locale(),
        "kind": column.kind if column else None,
        "scale": list(column.scale) if column and column.scale else None,
        "labels": [_short_week(p["round"]["week"]) + (" *" if p["open"] else "") for p in points],
        "series": [
            {
                "label": t("trend.province"),
                "values": [p["province"]["value"] for p in points],
                "low": [p["province"]["low"] for p in points],
            }
        ]
        + (
            [
                {
                    "label": office_name,
                    "values": [p["office"]["value"] if p["office"] else None for p in points],
                    "low": [p["office"]["low"] if p["office"] else True for p in points],
                }
            ]
            if office
            else []
        ),
    }
    return render_template(
        "dashboard/trend.html",
        first=first,
        last=last,
        error=error,
        questions=list(questions.values()),
        question=column,
        offices=offices,
        office=office,
        office_name=office_name,
        points=points,
        series=series,
        min_n=min_n,
        follow_ups=follow_ups,
        counter=None
        if ratings is None
        else figures.counter_rows(ratings, counter_flow, language, min_n=min_n),
        counter_weeks={"from": str(first), "to": str(last)},
    ), (400 if error else 200)


def _point(column, questions, min_n) -> dict:
    if column is None:
        return {"value": None, "n": 0, "low": True}
    summary = questions.get(column.id) or {}
    n = int(summary.get("n") or 0)
    value = summary.get("mean") if column.kind == "scale" else summary.get("yes_share")
    return {"value": value, "n": n, "low": n < min_n}


def _short_week(week: str) -> str:
    iso = IsoWeek.parse(week)
    return f"{iso.week:02d}/{iso.year}"
