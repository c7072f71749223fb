"""The document as plain text for a terminal: headline figures, each mode's response, each
question, the offices ranked (and, across weeks, one line per week)."""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from typing import Any

from cati import formats
from cati.documents.words import word


def _width(text: str) -> int:
    return sum(0 if unicodedata.combining(c) else 1 for c in text)


def _pad(text: str, width: int, right: bool = False) -> str:
    space = " " * max(width - _width(text), 0)
    return space + text if right else text + space


def table(header: Sequence[str], rows: Sequence[Sequence[str]], numeric_from: int = 1) -> list:
    """Columns aligned; those from `numeric_from` on are right-aligned."""
    widths = [max(_width(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    lines = []
    for row in [header, *rows]:
        cells = [_pad(str(cell), widths[i], right=i >= numeric_from) for i, cell in enumerate(row)]
        lines.append("  ".join(cells).rstrip())
    lines.insert(1, "  ".join("-" * w for w in widths))
    return lines


def _nbsp(text: str) -> str:
    return text.replace("\u00a0", " ")


def render(doc: Mapping[str, Any]) -> str:
    lang = doc["language"]
    lines = [doc["issuer"].upper()]
    if doc.get("programme"):
        lines.append(doc["programme"])
    lines += [doc["title"], doc["subtitle"]]
    if doc.get("period"):
        lines.append(f"{word('period', lang)}: {doc['period']}")
    if doc.get("open_note"):
        lines.append(f"! {doc['open_note']}")
    lines.append("")
    if "weeks" in doc:
        lines += _weeks(doc, lang)
    else:
        lines += _round(doc, lang)
    return _nbsp("\n".join(lines)).rstrip() + "\n"


def _round(doc: Mapping[str, Any], lang: str) -> list[str]:
    lines = [f"== {word('headline', lang)}"]
    label_width = max(_width(item["label"]) for item in doc["headline"])
    for item in doc["headline"]:
        note = f"   ({item['note']})" if item.get("note") else ""
        grey = " *" if item.get("grey") else ""
        lines.append(f"  {_pad(item['label'], label_width)}  {item['value']}{grey}{note}")
    lines += _modes_response(doc, lang)
    lines += ["", f"== {word('questions', lang)}"]
    for q in doc["questions"]:
        s = q.summary
        if q.kind == "scale":
            text = f"{word('mean', lang)} {formats.decimal(s['mean'], 2, lang)}"
            if s.get("ci95"):
                low, high = (formats.decimal(x, 2, lang) for x in s["ci95"])
                text += f" ({word('ci95', lang)} {low}–{high})"
            if s.get("satisfied_from"):
                text += (
                    f", {word('satisfied', lang).lower()} ({s['satisfied_from']}–{q.scale[1]}) "
                    f"{formats.percent(s.get('satisfied_share'), lang)}"
                )
        else:
            text = f"{word('yes', lang)} {formats.percent(s.get('yes_share'), lang)}"
        counts = f"n = {formats.integer(s['n'], lang)}, {word('dont_know', lang)} {s['dont_know']}"
        lines.append(f"  {q.label}: {text}; {counts}")
    lines += _modes(doc, lang)
    lines += ["", f"== {word('offices', lang)}", f"  {doc['ranked_by']}"]
    header = [word("rank", lang), word("office", lang), word("n_complete", lang)]
    header += [f"C{i}" for i, _ in enumerate(doc["questions"], start=1)]
    rows = []
    for row in doc["offices"]:
        cells = [("▲ " if c.warn else "") + c.text + ("*" if c.grey else "") for c in row["cells"]]
        rows.append([row["rank"], row["name"], formats.integer(row["n"], lang), *cells])
    lines += ["  " + line for line in _table_with_name(header, rows)]
    lines.append(
        "  " + " · ".join(f"C{i} {q.label}" for i, q in enumerate(doc["questions"], start=1))
    )
    lines += ["", f"  * {word('text_note', lang, min_n=doc['min_n'])}"]
    lines += ["", f"== {word('warnings', lang)}"]
    lines += [f"  {line}" for line in doc["warnings"]["legend"]]
    items = doc["warnings"]["items"]
    lines += [f"  ▲ {i['office']}: {'; '.join(i['flags'])}" for i in items] or [
        f"  {word('no_warnings', lang)}"
    ]
    return lines + _follow_ups(doc, lang) + _counter(doc, lang)


def _follow_ups(doc: Mapping[str, Any], lang: str) -> list[str]:
    """The follow-ups in all and per office, when any were raised."""
    follow_ups = doc.get("follow_ups")
    if not follow_ups:
        return []
    lines = ["", f"== {word('follow_ups', lang)}"]
    lines.append("  " + " · ".join(f"{i['label']} {i['value']}" for i in follow_ups["totals"]))
    rows = [[row["name"], *row["values"]] for row in follow_ups["offices"]]
    header = [word("fu_office", lang), *follow_ups["columns"]]
    lines += ["  " + line for line in table(header, rows, numeric_from=1)]
    lines.append(f"  {word('fu_note', lang)}")
    return lines


def _modes_response(doc: Mapping[str, Any], lang: str) -> list[str]:
    """Each mode's response, the modes as columns, and how it is counted."""
    section = doc.get("modes_response")
    if not section:
        return []
    lines = ["", f"== {word('modes_response', lang)}"]
    rows = [[row["label"], *row["values"]] for row in section["rows"]]
    lines += ["  " + line for line in table(["", *section["columns"]], rows)]
    return [*lines, f"  {section['note']}"]


def _modes(doc: Mapping[str, Any], lang: str) -> list[str]:
    """Each question per mode side by side (modes answer differently), or the one mode."""
    modes = doc.get("modes")
    if not modes:
        return []
    lines = ["", f"== {word('modes', lang)}", f"  {modes['line']}"]
    if modes["columns"]:
        header = [word("question", lang), *modes["columns"]]
        rows = [
            [row["label"], *(f"{c['text']}{'*' if c['grey'] else ''} (n = {c['n']})"
                             for c in row["cells"])]
            for row in modes["rows"]
        ]  # fmt: skip
        lines += ["  " + line for line in table(header, rows)]
    return lines


def _counter(doc: Mapping[str, Any], lang: str) -> list[str]:
    """The counter ratings, apart: self-selected, never in the sampled figures."""
    counter = doc.get("counter")
    if not counter:
        return []
    lines = ["", f"== {counter['title']}", f"  {counter['note']}"]
    if not counter["rows"]:
        return [*lines, f"  {word('counter_none', lang)}"]
    questions = counter["questions"]
    header = [word(key, lang) for key in ("office", "counter_mode", "counter_n", "counter_flagged")]
    header += [f"C{i}" for i, _ in enumerate(questions, 1)]
    rows = [
        [row["office"], row["mode"], row["n"], row["flagged"],
         *(c.text + ("*" if c.grey else "") for c in row["cells"])]
        for row in counter["rows"]
    ]  # fmt: skip
    lines += ["  " + line for line in table(header, rows, numeric_from=2)]
    if questions:
        lines.append("  " + " · ".join(f"C{i} {q.label}" for i, q in enumerate(questions, 1)))
    lines.append(f"  * {word('text_note', lang, min_n=doc['min_n'])}")
    return lines


def _table_with_name(header, rows) -> list[str]:
    """The office table: rank right-aligned, the name left, figures right."""
    lines = table(header, rows, numeric_from=2)
    return lines


def _weeks(doc: Mapping[str, Any], lang: str) -> list[str]:
    if not doc["weeks"]:
        return [word("no_rounds", lang), *_follow_ups(doc, lang), *_counter(doc, lang)]
    header = [
        word("weeks", lang),
        word("sampled", lang),
        word("complete", lang),
        "RR1",
        word("call_success_rate", lang),
        *[f"C{i}" for i, _ in enumerate(doc["questions"], start=1)],
    ]
    rows = []
    for week in doc["weeks"]:
        name = week["week"] + (f" ({word('open_round_short', lang)})" if week["open"] else "")
        cells = [c.text + ("*" if c.grey else "") for c in week["cells"]]
        rows.append([name, week["sampled"], week["complete"], week["rr"], week["success"], *cells])
    lines = [f"== {word('trend_table', lang)}"]
    lines += ["  " + line for line in table(header, rows)]
    lines.append(
        "  " + " · ".join(f"C{i} {q.label}" for i, q in enumerate(doc["questions"], start=1))
    )
    lines += ["", f"  * {word('text_note', lang, min_n=doc['min_n'])}"]
    return lines + _follow_ups(doc, lang) + _counter(doc, lang)
