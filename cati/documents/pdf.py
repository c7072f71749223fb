"""The A4 document, laid out from an HTML template and printed by WeasyPrint."""

from __future__ import annotations

from collections.abc import Mapping
from importlib.resources import files
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from cati import formats
from cati.documents import charts
from cati.documents.words import word

_ENV = Environment(
    loader=PackageLoader("cati.documents", "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


def html(doc: Mapping[str, Any]) -> str:
    """The document as HTML (what WeasyPrint prints)."""
    lang = doc["language"]
    weeks = doc.get("weeks") or []

    def chart(q) -> Markup:
        return Markup(
            charts.distribution(q.summary["distribution"], q.summary.get("satisfied_from"), lang)
        )

    def trend_chart(q) -> Markup:
        points = [
            (w["week"].split("-")[-1], *_point(w["means"].get(q.id), doc["min_n"])) for w in weeks
        ]
        return Markup(charts.weekly_means(points, q.scale, lang))

    return _ENV.get_template("report.html").render(
        doc=doc,
        w=lambda key, **values: word(key, lang, **values),
        pct=lambda x: formats.percent(x, lang),
        dec=lambda x: formats.decimal(x, 2, lang),
        num=lambda x: formats.integer(x, lang),
        chart=chart,
        trend_chart=trend_chart,
    )


def _point(mean_n, min_n: int) -> tuple[float | None, bool]:
    mean, n = mean_n or (None, 0)
    return mean, n >= min_n


def render(doc: Mapping[str, Any]) -> bytes:
    """The PDF bytes of a document (`cati.documents.model`)."""
    from weasyprint import CSS, HTML  # imported here: it loads Pango, slow to start

    css = files("cati.documents").joinpath("templates/report.css").read_text(encoding="utf-8")
    css = css.replace("var(--page-word)", f'"{word("page", doc["language"])}"')
    return HTML(string=html(doc)).write_pdf(stylesheets=[CSS(string=css)])
