"""What the manager's pages show, worked out from a report JSON (no Flask, no database).

A figure resting on fewer than `min_n` answers (CATI_REPORT_MIN_N, 5 by default) is shown
greyed: it is never flagged as a warning and its office or officer is not ranked, since one
unhappy citizen is not an office's record.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cati.domain.flow import Flow

DEFAULT_MIN_N = 5
# Warnings: question id → (direction, setting). "above": flagged when the yes share is above
# the threshold; "below": when it is below.
WARNINGS = {
    "on_time": ("below", "warn_on_time_below", "CATI_WARN_ON_TIME_BELOW"),
    "asked_to_return": ("above", "warn_asked_to_return", "CATI_WARN_ASKED_TO_RETURN"),
    "paid_without_receipt": (
        "above",
        "warn_paid_without_receipt",
        "CATI_WARN_PAID_WITHOUT_RECEIPT",
    ),
}
SHOWN_TYPES = ("scale", "yes_no")


def min_n_of(settings: Any) -> int:
    """CATI_REPORT_MIN_N when the settings have it, else 5."""
    return int(getattr(settings, "report_min_n", DEFAULT_MIN_N))


def thresholds_of(settings: Any) -> dict[str, float]:
    return {question: getattr(settings, name) for question, (_, name, _) in WARNINGS.items()}


@dataclass(frozen=True)
class Column:
    """A question shown as a column: a scale question shows its mean, a yes/no its share."""

    id: str
    kind: str  # scale | yes_no
    label: str
    scale: tuple[int, int] | None = None


@dataclass
class Cell:
    value: float | None  # a mean, or a share 0..1
    n: int
    low: bool  # fewer answers than min_n: greyed, never flagged
    warn: bool = False
    satisfied_share: float | None = None


@dataclass
class Row:
    key: str
    name: str
    n: int  # completes (offices) or answers to the ranking question (officers)
    cells: dict[str, Cell]
    rank: int | None = None
    low: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


def columns_of(flow: Flow | None, report: Mapping[str, Any], language: str) -> list[Column]:
    """The scale and yes/no questions in the flow's order, with their words for people."""
    questions = report.get("questions", {})
    if flow is None:
        return [
            Column(qid, "scale" if "mean" in s else "yes_no", qid)
            for qid, s in questions.items()
            if "mean" in s or "yes_share" in s
        ]
    columns = []
    for question in flow.questions:
        if question.type.value not in SHOWN_TYPES or question.id not in questions:
            continue
        label = (question.label or {}).get(language) or question.id
        scale = None
        if question.type.value == "scale":
            scores = [int(k) for k in question.keys if k.isdigit() and k != "0"]
            scale = (min(scores), max(scores)) if scores else (1, 9)
        columns.append(Column(question.id, question.type.value, label, scale))
    return columns


def answer_columns(flow: Flow | None, language: str) -> list[Column]:
    """All the flow's scale and yes/no questions, in its order, with their short words."""
    if flow is None:
        return []
    return columns_of(flow, {"questions": {q.id: {} for q in flow.questions}}, language)


def ranking_question(columns: list[Column]) -> str | None:
    """The question offices are ranked by: `overall` when the flow has it, else the first
    scale question."""
    scales = [c.id for c in columns if c.kind == "scale"]
    if "overall" in scales:
        return "overall"
    return scales[0] if scales else None


def cell_of(
    column: Column,
    summary: Mapping[str, Any] | None,
    *,
    min_n: int,
    thresholds: Mapping[str, float],
) -> Cell:
    summary = summary or {}
    n = int(summary.get("n") or 0)
    low = n < min_n
    if column.kind == "scale":
        return Cell(summary.get("mean"), n, low, satisfied_share=summary.get("satisfied_share"))
    share = summary.get("yes_share")
    warn = False
    if not low and share is not None and column.id in WARNINGS and column.id in thresholds:
        direction = WARNINGS[column.id][0]
        limit = thresholds[column.id]
        warn = share < limit if direction == "below" else share > limit
    return Cell(share, n, low, warn)


def ranked_rows(
    groups: list[tuple[str, str, int, Mapping[str, Any]]],
    columns: list[Column],
    *,
    min_n: int,
    thresholds: Mapping[str, float],
) -> list[Row]:
    """Rows for (key, name, n, questions) groups: those whose ranking question has `min_n`
    answers or more, best first and numbered (ties share a rank); then the others, greyed
    and unnumbered, by name."""
    by = ranking_question(columns)
    rows = []
    for key, name, n, questions in groups:
        cells = {
            c.id: cell_of(c, questions.get(c.id), min_n=min_n, thresholds=thresholds)
            for c in columns
        }
        ranking = cells.get(by) if by else None
        low = ranking is None or ranking.low or ranking.value is None
        rows.append(Row(key, name, n, cells, low=low))
    ranked = sorted((r for r in rows if not r.low), key=lambda r: (-r.cells[by].value, r.name))
    rank, previous = 0, None
    for position, row in enumerate(ranked, start=1):
        value = row.cells[by].value
        if value != previous:
            rank, previous = position, value
        row.rank = rank
    unranked = sorted((r for r in rows if r.low), key=lambda r: r.name)
    return ranked + unranked


def office_rows(report, columns, *, min_n, thresholds) -> list[Row]:
    groups = [
        (
            o["office_code"],
            o.get("office_name") or o["office_code"],
            o["counts"]["complete"],
            o["questions"],
        )
        for o in report.get("offices", [])
    ]
    return ranked_rows(groups, columns, min_n=min_n, thresholds=thresholds)


def officer_rows(report, columns, *, min_n) -> list[Row]:
    """The receiving officers on the scale questions (staff attitude, guidance, …)."""
    scales = [c for c in columns if c.kind == "scale"]
    groups = [
        (o["officer"], o["officer"], o["counts"]["complete"], o["questions"])
        for o in report.get("officers", [])
    ]
    return ranked_rows(groups, scales, min_n=min_n, thresholds={})


def legend(thresholds: Mapping[str, float], columns: list[Column]) -> list[dict[str, Any]]:
    """The warnings the page applies: question, direction, threshold and its setting."""
    shown = {c.id: c.label for c in columns}
    return [
        {
            "question": question,
            "label": shown[question],
            "direction": direction,
            "threshold": thresholds[question],
            # 10 %, 1 %, 90 %; 1.5 % keeps its decimal.
            "digits": 0 if float(round(thresholds[question] * 100, 6)).is_integer() else 1,
            "setting": setting,
        }
        for question, (direction, _, setting) in WARNINGS.items()
        if question in shown and question in thresholds
    ]


MODE_ORDER = ("interviewer", "ivr", "web", "kiosk", "qr")


def _mode_key(mode: str) -> tuple[int, str]:
    return (MODE_ORDER.index(mode) if mode in MODE_ORDER else len(MODE_ORDER), mode)


def by_mode(report: Mapping[str, Any], columns: list[Column], *, min_n: int) -> dict | None:
    """The modes that completed interviews, in a fixed order, and each question's cell per
    mode (modes answer differently, so the page shows them side by side); `rows` is empty
    when only one mode answered. None when nobody completed."""
    answered = sorted(
        (m for m in report.get("modes", []) if m["counts"]["complete"]),
        key=lambda m: _mode_key(m["mode"]),
    )
    if not answered:
        return None
    rows = []
    if len(answered) > 1:
        for column in columns:
            cells = [
                cell_of(column, m["questions"].get(column.id), min_n=min_n, thresholds={})
                for m in answered
            ]
            rows.append((column, cells))
    return {
        "modes": [m["mode"] for m in answered],
        "completes": [m["counts"]["complete"] for m in answered],
        "rows": rows,
    }


def counter_rows(
    self_selected: list[Mapping[str, Any]], flow: Flow | None, language: str, *, min_n: int
) -> tuple[list[Column], list[Row]]:
    """The counter ratings (kiosk, QR) per office and mode, by office name: their columns
    (the counter questionnaire's scale and yes/no questions) and rows (n counted, flagged,
    each question's cell greyed under `min_n`). Self-selected: never ranked or warned."""
    first = next((g for g in self_selected if g.get("questions")), None)
    columns = columns_of(flow, {"questions": first["questions"]}, language) if first else []
    rows = []
    for group in sorted(
        self_selected,
        key=lambda g: (g.get("office_name") or g["office_code"], _mode_key(g["mode"])),
    ):
        cells = {
            c.id: cell_of(c, group["questions"].get(c.id), min_n=min_n, thresholds={})
            for c in columns
        }
        rows.append(
            Row(
                f"{group['office_code']}-{group['mode']}",
                group.get("office_name") or group["office_code"],
                group["n"],
                cells,
                low=group["n"] < min_n,
                extra={
                    "mode": group["mode"],
                    "flagged": group["flagged"],
                    "office_code": group["office_code"],
                },
            )
        )
    return columns, rows
