"""Numbers and dates the reader's way, through Babel: the Jinja filters of every page."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from flask import session as flask_session

from cati.web.formats import chart_locale, date_local, datetime_local, decimal, percent, week_local

CASES = {
    "vi": ("94,3\xa0%", "7,62", "1.234,50", "07/12/2026", "08/12/2026 06:30", "vi-VN",
           "Tuần 49/2026 (30/11–06/12/2026)"),
    "en": ("94.3%", "7.62", "1,234.50", "7 Dec 2026", "8 Dec 2026 06:30", "en-GB",
           "Week 49, 2026 (30 Nov–6 Dec 2026)"),
}  # fmt: skip


@pytest.mark.parametrize("language", list(CASES))
def test_filters_write_the_languages_way(app, language):
    expected = CASES[language]
    with app.test_request_context("/"):
        flask_session["language"] = language
        moment = datetime(2026, 12, 7, 23, 30, tzinfo=UTC)  # the 8th in Hà Nội
        assert (
            percent(0.943),
            decimal(7.6234),
            decimal(1234.5),
            date_local(date(2026, 12, 7)),
            datetime_local(moment),
            chart_locale(),
            week_local("2026-W49"),
        ) == expected
        assert date_local(moment) == expected[4][:-6] if language == "vi" else True
        assert percent(None) == decimal(None) == date_local(None) == "–"


def test_templates_have_the_filters(app):
    with app.test_request_context("/"):
        template = app.jinja_env.from_string(
            "{{ 0.943 | percent }} {{ 7.6234 | decimal }} {{ d | date_local }}"
        )
        assert template.render(d=date(2026, 12, 7)) == "94,3\xa0% 7,62 07/12/2026"
