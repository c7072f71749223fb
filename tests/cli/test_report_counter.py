"""`cati report --format text|pdf` shows the counter ratings apart (issue 15): of the weeks with
--weeks, of the round's week with a round; and the JSON names each office."""

from __future__ import annotations

import json
import re

from tests.factories import create_office, create_round
from tests.web.test_dashboard_modes import COUNTER, _ratings, _week_of_now


def test_weeks_text_has_the_counter_ratings_in_their_own_section(cli, session, runtime):
    create_office(session, "DH", "Bộ phận một cửa Đông Hà")
    _ratings(session, runtime)
    week = _week_of_now(runtime)
    text = cli("report", "--weeks", f"{week}..{week}", "--format", "text")
    assert text.exit_code == 0, text.output
    section = text.stdout.split(f"== {COUNTER}")[1]
    row = next(line for line in section.splitlines() if "Đông Hà" in line)
    # n 3, flagged 0; staff attitude (9 8 2) 6,33, greyed: fewer than 5 ratings
    assert re.search(r"máy tại quầy +3 +0 +6,33\*", row), row
    data = json.loads(cli("report", "--weeks", f"{week}..{week}").stdout)
    assert data["self_selected"][0]["office_name"] == "Bộ phận một cửa Đông Hà"


def test_a_rounds_text_has_its_weeks_counter_ratings(cli, session, runtime):
    create_office(session, "DH", "Bộ phận một cửa Đông Hà")
    round_ = create_round(session, week=_week_of_now(runtime))
    _ratings(session, runtime)
    text = cli("report", str(round_.id), "--format", "text")
    assert text.exit_code == 0, text.output
    assert f"== {COUNTER}" in text.stdout and "6,33*" in text.stdout
    other = create_round(session, week="2026-W40", flow="mscore")
    assert "Không có đánh giá tại quầy" in cli("report", str(other.id), "--format", "text").stdout
