"""What a document says, built from the report JSON: the headline figures, each mode's
response, each question, the offices ranked (low-n figures greyed and not ranked), the
officers, the warnings with their legend, the AAPOR figures and the follow-ups. The text and
PDF renderers only lay it out, so both say the same."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from cati import formats
from cati.documents.words import COUNT_WORDS, RATE_WORDS, WORDS, word

# The yes/no questions the warnings watch: (question, above or below, setting).
WARNED = (
    ("asked_to_return", "above", "CATI_WARN_ASKED_TO_RETURN"),
    ("paid_without_receipt", "above", "CATI_WARN_PAID_WITHOUT_RECEIPT"),
    ("on_time", "below", "CATI_WARN_ON_TIME_BELOW"),
)
RESPONSE_RATE = "rr1"  # the headline response rate: AAPOR's most conservative
MODE_ORDER = ("interviewer", "ivr", "web", "kiosk", "qr")


@dataclass(frozen=True)
class Options:
    """How to write the document: language, the minimum n, warning thresholds, issuer."""

    language: str = "vi"
    min_n: int = 5
    thresholds: Mapping[str, float] = field(
        default_factory=lambda: {
            "asked_to_return": 0.10,
            "paid_without_receipt": 0.01,
            "on_time": 0.90,
        }
    )
    issuer: str = "Sở Nội vụ"
    made_on: date | None = None

    @classmethod
    def of(cls, settings: Any, language: str, now: datetime) -> Options:
        """The options the settings give (minimum n, warning thresholds, organisation), for a
        document made `now` in `language`."""
        return cls(
            language=language,
            min_n=settings.report_min_n,
            thresholds={
                "asked_to_return": settings.warn_asked_to_return,
                "paid_without_receipt": settings.warn_paid_without_receipt,
                "on_time": settings.warn_on_time_below,
            },
            issuer=settings.organisation,
            made_on=now.astimezone(settings.timezone).date(),
        )


def last_calling_day(calling_ends_at: datetime, tz) -> date:
    """The last local day a round is called (its calling period's end is exclusive)."""
    return (calling_ends_at.astimezone(tz) - timedelta(microseconds=1)).date()


@dataclass
class Cell:
    text: str
    grey: bool = False  # from fewer than min_n answers
    warn: bool = False  # past a warning threshold
    number: bool = True  # right-aligned


@dataclass
class Question:
    id: str
    label: str
    kind: str  # scale | yes_no
    summary: Mapping[str, Any]
    scale: tuple[int, int] = (1, 9)


def questions_of(report: Mapping[str, Any], flow: Any, language: str) -> list[Question]:
    """The report's scale and yes/no questions, in the flow's order, with their labels."""
    labels: dict[str, str] = {}
    if flow is not None:
        for q in flow.questions:
            labels[q.id] = (q.label or {}).get(language) or q.id
    items = []
    for qid, summary in report["questions"].items():
        if "mean" in summary:
            dist = [int(k) for k in summary.get("distribution", {})] or [1, 9]
            items.append(
                Question(qid, labels.get(qid, qid), "scale", summary, (min(dist), max(dist)))
            )
        elif "yes_share" in summary:
            items.append(Question(qid, labels.get(qid, qid), "yes_no", summary))
    return items


def _p(x, o: Options) -> str:
    return formats.percent(x, o.language)


def _d(x, o: Options) -> str:
    return formats.decimal(x, 2, o.language)


def _i(x, o: Options) -> str:
    return formats.integer(x, o.language)


def figure(question: Question, summary: Mapping[str, Any] | None, o: Options) -> Cell:
    """A question's figure in a table: the mean (scale) or the yes share, grey under min_n,
    flagged past its warning threshold."""
    summary = summary or {}
    n = summary.get("n", 0)
    value = summary.get("mean") if question.kind == "scale" else summary.get("yes_share")
    text = _d(value, o) if question.kind == "scale" else _p(value, o)
    grey = n < o.min_n
    return Cell(text, grey=grey, warn=not grey and _past(question.id, value, o))


def _past(qid: str, value: float | None, o: Options) -> bool:
    for warned, direction, _setting in WARNED:
        if qid == warned and value is not None and qid in o.thresholds:
            limit = o.thresholds[qid]
            return value > limit if direction == "above" else value < limit
    return False


def _satisfied_range(q: Question) -> tuple[int, int] | None:
    low = q.summary.get("satisfied_from")
    return None if low is None else (low, q.scale[1])


def headline(report: Mapping[str, Any], questions: list[Question], o: Options) -> list[dict]:
    """The figures a Sở reports first: sample, reach, completes, response and call success
    rates, then each scale question's mean and satisfied share and each yes share."""
    lang = o.language
    counts, rates = report["counts"], report["rates"]
    items = [
        {"label": word("sampled", lang), "value": _i(counts["sampled"], o), "note": ""},
        {"label": word("reached", lang), "value": _i(counts["contacted"], o), "note": ""},
        {"label": word("complete", lang), "value": _i(counts["complete"], o), "note": ""},
        {
            "label": word("response_rate", lang),
            "value": _p(rates.get(RESPONSE_RATE), o),
            "note": f"AAPOR {RESPONSE_RATE.upper()}: {RATE_WORDS[RESPONSE_RATE]['def']}",
        },
        {
            "label": word("call_success_rate", lang),
            "value": _p(rates.get("call_success_rate"), o),
            "note": word("call_success_def", lang),
        },
    ]
    for q in questions:
        s = q.summary
        note = f"n = {_i(s['n'], o)}"
        grey = s["n"] < o.min_n
        if q.kind == "scale":
            bounds = _satisfied_range(q)
            if bounds:
                satisfied = word("satisfied_range", lang, low=bounds[0], high=bounds[1])
                note = f"{satisfied}: {_p(s.get('satisfied_share'), o)} · {note}"
            items.append(
                {
                    "label": word("mean_of", lang, label=q.label),
                    "value": f"{_d(s['mean'], o)} / {q.scale[1]}",
                    "note": note,
                    "grey": grey,
                }
            )
        else:
            items.append(
                {
                    "label": word("yes_of", lang, label=q.label),
                    "value": _p(s.get("yes_share"), o),
                    "note": note,
                    "grey": grey,
                }
            )
    return items


def ranking_key(questions: list[Question]) -> tuple[str | None, str]:
    """Offices are ranked by the `overall` question's mean when the flow has one, else by the
    average of the scale questions' means (as the SIPAS index averages its factors)."""
    if any(q.id == "overall" and q.kind == "scale" for q in questions):
        return "overall", next(q.label for q in questions if q.id == "overall")
    return None, ""


def _ranking_value(item: Mapping[str, Any], questions: list[Question], o: Options):
    """(value, n) an office is ranked on; None when it cannot be ranked."""
    key, _ = ranking_key(questions)
    if key is not None:
        s = item["questions"].get(key) or {}
        return (s.get("mean"), s.get("n", 0))
    means = [(item["questions"].get(q.id) or {}) for q in questions if q.kind == "scale"]
    usable = [s["mean"] for s in means if s.get("mean") is not None and s["n"] >= o.min_n]
    if not means or len(usable) < len(means):
        return (None, 0)
    return (sum(usable) / len(usable), min(s["n"] for s in means))


def ranked_offices(
    report: Mapping[str, Any], questions: list[Question], o: Options
) -> list[dict[str, Any]]:
    """Offices by their ranking value, best first, with competition ranks (1, 2, 2, 4) on the
    value as printed; those below min_n on it come last, greyed and unranked."""
    rows = []
    for item in report["offices"]:
        value, n = _ranking_value(item, questions, o)
        rankable = value is not None and n >= o.min_n
        rows.append(
            {
                "code": item["office_code"],
                "name": item["office_name"],
                "n": item["counts"]["complete"],
                "value": round(value, 2) if rankable else None,
                "cells": [figure(q, item["questions"].get(q.id), o) for q in questions],
                "grey": not rankable,
            }
        )
    ranked = sorted((r for r in rows if not r["grey"]), key=lambda r: (-r["value"], r["code"]))
    previous, rank = None, 0
    for position, row in enumerate(ranked, start=1):
        if row["value"] != previous:
            rank, previous = position, row["value"]
        row["rank"] = str(rank)
    unranked = sorted((r for r in rows if r["grey"]), key=lambda r: r["code"])
    for row in unranked:
        row["rank"] = "–"
    return ranked + unranked


def officers(report: Mapping[str, Any], questions: list[Question], o: Options) -> list[dict]:
    """Each receiving officer's scale means (staff attitude, guidance, …), by name."""
    scales = [q for q in questions if q.kind == "scale"]
    return [
        {
            "name": item["officer"],
            "n": item["counts"]["complete"],
            "cells": [figure(q, item["questions"].get(q.id), o) for q in scales],
        }
        for item in sorted(report.get("officers", []), key=lambda i: i["officer"])
    ]


def warnings(report: Mapping[str, Any], questions: list[Question], o: Options) -> dict:
    """The legend (every threshold, with its setting) and the offices past one."""
    lang = o.language
    by_id = {q.id: q for q in questions}
    legend = []
    for qid, direction, setting in WARNED:
        if qid in by_id and qid in o.thresholds:
            legend.append(
                word(
                    f"warn_{direction}",
                    lang,
                    label=by_id[qid].label,
                    value=_p(o.thresholds[qid], o),
                    setting=setting,
                )
            )
    legend.append(word("warn_min_n", lang, min_n=o.min_n, setting="CATI_REPORT_MIN_N"))
    items = []
    for office in report["offices"]:
        flags = []
        for qid, _direction, _setting in WARNED:
            if qid not in by_id:
                continue
            cell = figure(by_id[qid], office["questions"].get(qid), o)
            if cell.warn:
                n = _i(office["questions"][qid]["n"], o)
                flags.append(word("warn_item", lang, label=by_id[qid].label, value=cell.text, n=n))
        if flags:
            items.append({"office": office["office_name"], "flags": flags})
    return {"legend": legend, "items": items}


def response(report: Mapping[str, Any], o: Options) -> dict:
    """The dispositions and every AAPOR rate with its name and definition."""
    lang = o.language
    counts, rates = report["counts"], report["rates"]
    return {
        "counts": [{"label": COUNT_WORDS[k][lang], "value": _i(counts[k], o)} for k in COUNT_WORDS],
        "rates": [
            {
                "code": k.upper(),
                "name": RATE_WORDS[k][lang],
                "definition": RATE_WORDS[k]["def"],
                "value": _p(rates.get(k), o),
            }
            for k in RATE_WORDS
        ]
        + [
            {
                "code": "",
                "name": word("call_success_rate", lang),
                "definition": word("call_success_def", lang),
                "value": _p(rates.get("call_success_rate"), o),
            }
        ],
        "e": _d(rates.get("e"), o),
    }


def follow_ups(report: Mapping[str, Any], o: Options) -> dict[str, Any] | None:
    """The follow-ups' figures, when the round (or the weeks) raised any: the totals, and per
    office raised, open, overdue, the share handled on time (Decision 766 indicator 5.2) and
    the share of citizens called back who were satisfied (5.3)."""
    figures = report.get("follow_ups")
    if not figures or not figures.get("raised"):
        return None
    lang = o.language
    totals = [
        {"label": word("fu_raised", lang), "value": _i(figures["raised"], o)},
        {"label": word("fu_open", lang), "value": _i(figures["open"], o)},
        {"label": word("fu_overdue", lang), "value": _i(figures["overdue"], o)},
        {"label": word("fu_closed", lang), "value": _i(figures["closed"], o)},
        {"label": word("fu_on_time_share", lang), "value": _p(figures["on_time_share"], o)},
        {
            "label": word("fu_median_days", lang),
            "value": formats.decimal(figures["median_days_to_close"], 1, lang),
        },
        {"label": word("fu_satisfied_share", lang), "value": _p(figures["satisfied_share"], o)},
    ]
    columns = [word(key, lang) for key in ("fu_raised", "fu_open", "fu_overdue",
                                            "fu_on_time_share", "fu_satisfied_share")]  # fmt: skip
    offices = [
        {
            "name": office["office_name"] or word("fu_no_office", lang),
            "values": [
                _i(office["raised"], o),
                _i(office["open"], o),
                _i(office["overdue"], o),
                _p(office["on_time_share"], o),
                _p(office["satisfied_share"], o),
            ],
            "overdue": bool(office["overdue"]),
        }
        for office in figures.get("offices", [])
        if office.get("raised")
    ]
    return {"totals": totals, "columns": columns, "offices": offices}


def mode_name(mode: str, language: str) -> str:
    key = f"mode_{mode}"
    return word(key, language) if key in WORDS else mode


def _mode_order(mode: str) -> tuple[int, str]:
    return (MODE_ORDER.index(mode) if mode in MODE_ORDER else len(MODE_ORDER), mode)


def by_mode(report: Mapping[str, Any], questions: list[Question], o: Options) -> dict | None:
    """Modes answer differently (Dillman), so they are never pooled without saying so: when
    the round's completes came by more than one mode, each question's figure per mode side by
    side (with its n) and a line saying the overall figures pool them; by one mode, a line
    naming it. None when nothing was completed."""
    lang = o.language
    answered = sorted(
        (m for m in report.get("modes", []) if m["counts"]["complete"]),
        key=lambda m: _mode_order(m["mode"]),
    )
    if not answered:
        return None
    names = [mode_name(m["mode"], lang) for m in answered]
    if len(answered) == 1:
        return {"line": word("one_mode", lang, mode=names[0]), "columns": [], "rows": []}
    rows = []
    for q in questions:
        cells = []
        for m in answered:
            summary = m["questions"].get(q.id) or {}
            cell = figure(q, summary, o)
            cells.append({"text": cell.text, "n": _i(summary.get("n", 0), o), "grey": cell.grey})
        rows.append({"label": q.label, "kind": q.kind, "cells": cells})
    return {
        "line": word("modes_note", lang),
        "columns": names,
        "completes": [_i(m["counts"]["complete"], o) for m in answered],
        "rows": rows,
    }


RESPONSE_FIGURES = ("members", "attempts", "completes", "partials", "refusals")


def modes_response(report: Mapping[str, Any], o: Options) -> dict[str, Any] | None:
    """Each mode's response (the report's `modes_response`) with the modes as columns, as on
    the round page: invited or dialled, attempts, completes, partials, refusals and
    break-offs, and the response rate (RR1). None when no mode was used yet."""
    modes = report.get("modes_response")
    if not modes:
        return None
    lang = o.language
    rows = [
        {"label": word(f"mr_{key}", lang), "values": [_i(m[key], o) for m in modes]}
        for key in RESPONSE_FIGURES
    ]
    rows.append(
        {"label": word("mr_rate", lang), "values": [_p(m["response_rate"], o) for m in modes]}
    )
    return {
        "columns": [mode_name(m["mode"], lang) for m in modes],
        "rows": rows,
        "note": word("mr_note", lang),
    }


def counter(
    self_selected: list[Mapping[str, Any]] | None, flow: Any, o: Options
) -> dict[str, Any] | None:
    """The counter ratings (kiosk, QR) in their own section: per office and mode, the ratings
    counted, those flagged (not counted) and each question's figure, greyed under min_n. They
    are self-selected: never in the sampled figures or the AAPOR rates. None when the report
    has no `self_selected`."""
    if self_selected is None:
        return None
    lang = o.language
    first = next((g for g in self_selected if g.get("questions")), None)
    questions = questions_of({"questions": first["questions"]}, flow, lang) if first else []
    rows = []
    for group in sorted(
        self_selected,
        key=lambda g: (g.get("office_name") or g["office_code"], _mode_order(g["mode"])),
    ):
        cells = []
        for q in questions:
            cell = figure(q, group["questions"].get(q.id), o)
            cell.warn = False  # the warnings watch the sampled figures only
            cells.append(cell)
        rows.append(
            {
                "office": group.get("office_name") or group["office_code"],
                "mode": mode_name(group["mode"], lang),
                "n": _i(group["n"], o),
                "flagged": _i(group["flagged"], o),
                "cells": cells,
            }
        )
    return {
        "title": word("counter", lang),
        "note": word("counter_note", lang),
        "questions": questions,
        "rows": rows,
    }


def _satisfied_from(questions: list[Question]) -> str:
    lows = sorted(
        {q.summary.get("satisfied_from") for q in questions if q.kind == "scale"} - {None}
    )
    return "/".join(map(str, lows)) if lows else "–"


def week_period(round_json: Mapping[str, Any]) -> tuple[date, date]:
    start = datetime.fromisoformat(round_json["week_start"]).date()
    return start, start + timedelta(days=6)


def round_document(
    report: Mapping[str, Any],
    flow: Any,
    o: Options,
    *,
    calling_ends: date | None = None,
    self_selected: list[Mapping[str, Any]] | None = None,
    counter_flow: Any = None,
) -> dict[str, Any]:
    """Everything the round's document says, formatted in `o.language`; with
    `self_selected`, the counter ratings of the round's week in their own section."""
    lang = o.language
    round_json = report["round"]
    questions = questions_of(report, flow, lang)
    start, end = week_period(round_json)
    key, key_label = ranking_key(questions)
    ranked_by = (
        word("ranked_by_mean", lang, label=key_label) if key else word("ranked_by_average", lang)
    )
    return {
        "language": lang,
        "issuer": o.issuer,
        "title": word("title", lang),
        "programme": (getattr(flow, "title", None) or {}).get(lang, round_json["flow"]),
        "subtitle": word("round_line", lang, id=round_json["id"], week=round_json["week"]),
        "period": word(
            "period_value", lang, start=formats.date(start, lang), end=formats.date(end, lang)
        ),
        "made_on": formats.date(o.made_on, lang) if o.made_on else None,
        "open_note": (
            word("open_round", lang, date=formats.date(calling_ends, lang))
            if round_json["status"] == "open" and calling_ends
            else None
        ),
        "method": [
            word(
                "method_1_web" if round_json["mode"] == "web" else "method_1",
                lang,
                sampled=_i(round_json["sampled"], o),
                eligible=_i(round_json["eligible"], o),
            ),
            word("method_2", lang, satisfied=_satisfied_from(questions), min_n=o.min_n),
        ],
        "headline": headline(report, questions, o),
        "modes_response": modes_response(report, o),
        "questions": questions,
        "offices": ranked_offices(report, questions, o),
        "ranked_by": word("ranked_by", lang, what=ranked_by),
        "officers": officers(report, questions, o),
        "scales": [q for q in questions if q.kind == "scale"],
        "warnings": warnings(report, questions, o),
        "response": response(report, o),
        "follow_ups": follow_ups(report, o),
        "modes": by_mode(report, questions, o),
        "counter": counter(self_selected, counter_flow, o),
        "min_n": o.min_n,
    }


def trend_document(
    trend: Mapping[str, Any], flows: Mapping[str, Any], o: Options, *, counter_flow: Any = None
) -> dict:
    """A range of weeks: each round's headline figures side by side, and each scale
    question's mean week by week."""
    lang = o.language
    first, _, last = trend["weeks"].partition("..")
    rounds = trend["rounds"]
    flow = flows.get(rounds[0]["round"]["flow"]) if rounds else None
    questions = questions_of(rounds[0], flow, lang) if rounds else []
    weeks = []
    for item in rounds:
        start, end = week_period(item["round"])
        by_id = {q.id: q for q in questions_of(item, flow, lang)}
        weeks.append(
            {
                "week": item["round"]["week"],
                "round": item["round"]["id"],
                "open": item["round"]["status"] == "open",
                "period": f"{formats.date(start, lang)}–{formats.date(end, lang)}",
                "sampled": _i(item["counts"]["sampled"], o),
                "complete": _i(item["counts"]["complete"], o),
                "rr": _p(item["rates"].get(RESPONSE_RATE), o),
                "success": _p(item["rates"].get("call_success_rate"), o),
                "cells": [
                    figure(q, by_id[q.id].summary if q.id in by_id else None, o) for q in questions
                ],
                "satisfied": [
                    Cell(
                        _p((item["questions"].get(q.id) or {}).get("satisfied_share"), o),
                        grey=(item["questions"].get(q.id) or {}).get("n", 0) < o.min_n,
                    )
                    for q in questions
                    if q.kind == "scale"
                ],
                "means": {
                    q.id: (
                        (item["questions"].get(q.id) or {}).get("mean"),
                        (item["questions"].get(q.id) or {}).get("n", 0),
                    )
                    for q in questions
                    if q.kind == "scale"
                },
            }
        )
    return {
        "language": lang,
        "issuer": o.issuer,
        "title": word("trend_title", lang),
        "programme": (getattr(flow, "title", None) or {}).get(lang, "") if flow else "",
        "subtitle": word("weeks_line", lang, first=first, last=last or first),
        "made_on": formats.date(o.made_on, lang) if o.made_on else None,
        "method": [
            word("method_1_weeks", lang),
            word("method_2", lang, satisfied=_satisfied_from(questions), min_n=o.min_n),
        ],
        "questions": questions,
        "scales": [q for q in questions if q.kind == "scale"],
        "weeks": weeks,
        "follow_ups": follow_ups(trend, o),
        "counter": counter(trend.get("self_selected"), counter_flow, o),
        "min_n": o.min_n,
    }
