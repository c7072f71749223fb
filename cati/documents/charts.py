"""Charts as inline SVG, drawn in Python (no script): a scale question's distribution of
scores, and a question's mean week by week. Numbers on them follow the document's locale."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape

from cati import formats

DARK, LIGHT, INK, RULE = "#1f4e79", "#a9c4de", "#222222", "#bbbbbb"
FONT = "DejaVu Sans, sans-serif"


def distribution(
    counts: Mapping[str, int], satisfied_from: int | None, language: str, *, width: int = 300
) -> str:
    """Bars of the scores given, each labelled with its share of them; the satisfied ones
    dark (all light when the flow declares none)."""
    scores = sorted(counts, key=int)
    n = sum(counts.values())
    top = max(counts.values(), default=0) or 1
    height, base, pad = 130, 105, 6
    step = (width - 2 * pad) / max(len(scores), 1)
    bar = step * 0.7
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="{FONT}" font-size="8" role="img">',
        f'<line x1="{pad}" y1="{base}" x2="{width - pad}" y2="{base}" stroke="{RULE}"/>',
    ]
    for i, score in enumerate(scores):
        count = counts[score]
        h = 80 * count / top
        x = pad + i * step + (step - bar) / 2
        colour = DARK if satisfied_from is not None and int(score) >= satisfied_from else LIGHT
        parts.append(
            f'<rect x="{x:.1f}" y="{base - h:.1f}" width="{bar:.1f}" height="{h:.1f}" '
            f'fill="{colour}"/>'
        )
        share = formats.percent(count / n, language, 0) if n else ""
        cx = x + bar / 2
        parts.append(
            f'<text x="{cx:.1f}" y="{base - h - 3:.1f}" text-anchor="middle" '
            f'fill="{INK}">{escape(share)}</text>'
        )
        parts.append(
            f'<text x="{cx:.1f}" y="{base + 11}" text-anchor="middle" font-size="9" '
            f'fill="{INK}">{escape(score)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def weekly_means(
    points: Sequence[tuple[str, float | None, bool]],
    scale: tuple[int, int],
    language: str,
    *,
    width: int = 300,
) -> str:
    """A line of means, one point per week (label, mean, enough answers); a point from too
    few answers is hollow, a week without answers is a gap."""
    low, high = scale
    height, left, right, top, base = 130, 26, 8, 10, 100
    span = (width - left - right) / max(len(points) - 1, 1)

    def y(value: float) -> float:
        return base - (value - low) / (high - low) * (base - top)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="{FONT}" font-size="8" role="img">'
    ]
    for tick in sorted({low, (low + high) // 2, high}):
        parts.append(
            f'<line x1="{left}" y1="{y(tick):.1f}" x2="{width - right}" y2="{y(tick):.1f}" '
            f'stroke="{RULE}" stroke-width="0.5"/>'
            f'<text x="{left - 4}" y="{y(tick) + 3:.1f}" text-anchor="end" fill="{INK}">'
            f"{escape(formats.integer(tick, language))}</text>"
        )
    previous = None
    for i, (label, mean, enough) in enumerate(points):
        x = left + (i * span if len(points) > 1 else (width - left - right) / 2)
        parts.append(
            f'<text x="{x:.1f}" y="{base + 14}" text-anchor="middle" fill="{INK}">'
            f"{escape(label)}</text>"
        )
        if mean is None:
            previous = None
            continue
        if previous is not None:
            parts.append(
                f'<line x1="{previous[0]:.1f}" y1="{previous[1]:.1f}" x2="{x:.1f}" '
                f'y2="{y(mean):.1f}" stroke="{DARK}" stroke-width="1.2"/>'
            )
        fill = DARK if enough else "#ffffff"
        parts.append(
            f'<circle cx="{x:.1f}" cy="{y(mean):.1f}" r="3" fill="{fill}" stroke="{DARK}"/>'
            f'<text x="{x:.1f}" y="{y(mean) - 6:.1f}" text-anchor="middle" fill="{INK}">'
            f"{escape(formats.decimal(mean, 2, language))}</text>"
        )
        previous = (x, y(mean))
    parts.append("</svg>")
    return "".join(parts)
