"""The manager's pages never pool modes silently (issue 15): each question per mode side by
side when a round was answered by more than one, and the counter ratings (kiosk, QR) in their
own section, apart from the sampled figures and the AAPOR rates."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from cati.models import Member, Office
from tests.conftest import NOW
from tests.services.test_reports import web_then_ivr  # noqa: F401
from tests.web.test_console_pages import signed_in
from tests.web.test_dashboard_pages import page_of, populate, web  # noqa: F401

COUNTER = "Đánh giá tại quầy và qua mã QR (tự nguyện, không phải mẫu ngẫu nhiên)"


def _cell(page: str, testid: str) -> str:
    match = re.search(rf'data-testid="{testid}"[^>]*>(.*?)</td>', page, re.S)
    assert match, testid
    return re.sub(r"<[^>]+>", " ", match.group(1)).replace("\u00a0", " ").split()


def _web_mode(session, code: str) -> None:
    office = session.scalar(select(Office).where(Office.code == code))
    for member in session.scalars(select(Member).where(Member.office_id == office.id)):
        member.mode = "web"
    session.flush()


def test_two_modes_are_shown_side_by_side_and_the_pooling_is_said(web, session):  # noqa: F811
    """Hải Lăng answered on the web (overall 9 9 9 9 8 8 → 8,67; on time 6/6), Đông Hà and Gio
    Linh by IVR (7 7 7 7 7 6 9 → 50 / 7 = 7,14; on time 6/7 = 85,7 %)."""
    round_ = populate(session)
    _web_mode(session, "HL")
    client = signed_in(web, session, "minh", "manager")
    page = page_of(client, f"/dashboard/rounds/{round_.id}")
    assert 'data-testid="modes-table"' in page and 'data-testid="one-mode"' not in page
    assert "Dillman" in page and "gộp các hình thức" in page
    assert _cell(page, "mode-ivr-overall") == ["7,14", "n", "=", "7"]
    assert _cell(page, "mode-web-overall") == ["8,67", "n", "=", "6"]
    assert _cell(page, "mode-ivr-on_time") == ["85,7", "%", "n", "=", "7"]
    assert _cell(page, "mode-web-on_time") == ["100,0", "%", "n", "=", "6"]
    # The columns come in a fixed order, IVR before web, each named with its completes.
    assert page.index('data-testid="mode-ivr"') < page.index('data-testid="mode-web"')
    # The round's own figures still pool every mode: 13 completes.
    assert re.search(r'data-testid="card-complete-value">13<', page)


def test_one_mode_is_named_in_one_line_without_a_table(web, session):  # noqa: F811
    round_ = populate(session)
    client = signed_in(web, session, "minh", "manager")
    page = page_of(client, f"/dashboard/rounds/{round_.id}")
    assert "Mọi phiếu hoàn thành của đợt đều qua một hình thức: tổng đài tự động." in page
    assert 'data-testid="modes-table"' not in page


def _ratings(session, runtime, scores=("9", "8", "2")):
    """Three kiosk ratings at Đông Hà in NOW's week (staff attitude 9 8 2 → 6,33, n = 3)."""
    from cati.services.counter import add_kiosk, answer_rating, start_rating
    from cati.services.flows import find_flow

    flow = find_flow("mscore", runtime.settings.flows_dir)
    office = session.scalar(select(Office).where(Office.code == "DH"))
    kiosk, _ = add_kiosk(session, "DH", None, NOW)
    for i, score in enumerate(scores):
        when = NOW + timedelta(minutes=10 * i)  # 10:00, 10:10, … local: opening hours
        rating = start_rating(session, flow, office_id=office.id, kiosk_id=kiosk.id,
                              mode="kiosk", language="vi", now=when)  # fmt: skip
        answer_rating(session, flow, rating, question_id="staff_attitude", value=score,
                      text=None, now=rating.started_at, settings=runtime.settings)  # fmt: skip
    session.flush()


def _week_of_now(runtime) -> str:
    return NOW.astimezone(runtime.settings.timezone).strftime("%G-W%V")


def test_the_round_page_shows_its_weeks_counter_ratings_after_the_sampled_figures(
    web,  # noqa: F811
    session,
    runtime,
):
    round_ = populate(session, week=_week_of_now(runtime))
    _ratings(session, runtime)
    client = signed_in(web, session, "minh", "manager")
    page = page_of(client, f"/dashboard/rounds/{round_.id}")
    assert COUNTER in page
    # After the sampled figures (offices, officers), before the comments.
    where = [page.index(f'id="h-{name}"') for name in ("officers", "counter", "comments")]
    assert where == sorted(where)
    row = re.search(r'<tr class="(low)?" data-testid="counter-DH-kiosk">(.*?)</tr>', page, re.S)
    assert row and row.group(1) == "low"  # 3 ratings: fewer than CATI_REPORT_MIN_N = 5
    assert "Máy tại quầy" in row.group(2) and "UBND thành phố Đông Hà" in row.group(2)
    assert _cell(page, "counter-DH-kiosk-staff_attitude") == ["6,33"]
    assert _cell(page, "counter-DH-kiosk-flagged") == ["0"]
    assert 'class="num low" data-testid="counter-DH-kiosk-staff_attitude"' in page
    # Never in the sampled figures: still 13 completes, the offices' table unchanged.
    assert re.search(r'data-testid="card-complete-value">13<', page)
    offices = page.split('data-testid="offices"')[1].split("</table>")[0]
    assert "Máy tại quầy" not in offices


def test_the_trend_page_has_the_counter_ratings_of_its_weeks(web, session, runtime):  # noqa: F811
    week = _week_of_now(runtime)
    populate(session, week=week)
    _ratings(session, runtime, scores=("9", "8", "9", "7", "9"))
    client = signed_in(web, session, "minh", "manager")
    page = page_of(client, f"/dashboard/trend?from={week}&to={week}")
    assert COUNTER in page and "không tính vào kết quả khảo sát ngẫu nhiên" in page
    assert _cell(page, "counter-DH-kiosk-staff_attitude") == ["8,40"]  # 42 / 5, not greyed
    assert _cell(page, "counter-DH-kiosk-flagged") == ["0"]
    assert 'class="num" data-testid="counter-DH-kiosk-staff_attitude"' in page
    earlier = page_of(client, "/dashboard/trend?from=2026-W40&to=2026-W41")
    assert COUNTER in earlier and 'data-testid="counter-none"' in earlier


def _column(page: str, mode: str) -> list[str]:
    """A mode's column of the response table: its name, then each figure."""
    name = re.search(rf'data-testid="response-{mode}">(.*?)</th>', page, re.S)[1]
    keys = ("members", "attempts", "completes", "partials", "refusals", "rate")
    return [name, *(" ".join(_cell(page, f"response-{mode}-{key}")) for key in keys)]


def test_a_web_round_then_the_ivr_shows_each_modes_response(web, session, web_then_ivr):  # noqa: F811
    """The figures of tests/services/test_reports.py's web round followed by the IVR."""
    client = signed_in(web, session, "minh", "manager")
    page = page_of(client, f"/dashboard/rounds/{web_then_ivr.id}")
    table = page.split('data-testid="modes-response"')[1].split("</table>")[0]
    for label in ("Được mời hoặc gọi", "Số lượt", "Hoàn thành", "Trả lời một phần",
                  "Từ chối, bỏ dở", "Tỷ lệ trả lời"):  # fmt: skip
        assert f'<th scope="row">{label}' in table
    assert _column(page, "ivr") == ["Tổng đài tự động", "4", "5", "1", "0", "1", "25,0 %"]
    assert _column(page, "web") == ["Web", "8", "5", "1", "1", "1", "14,3 %"]
    assert table.index('data-testid="response-ivr"') < table.index('data-testid="response-web"')
    note = re.search(r'data-testid="modes-response-note">(.*?)</p>', page, re.S)[1]
    assert "AAPOR RR1" in note and "chỉ tính các cuộc gọi điện thoại" in note
    # The round's cards: calls are the IVR's (b and e reached of b, e, f, g dialled).
    assert re.search(r'data-testid="card-call_success_rate-value">50,0\xa0%<', page)


def test_a_round_with_no_attempts_has_no_modes_response_table(web, session):  # noqa: F811
    round_ = populate(session)
    client = signed_in(web, session, "minh", "manager")
    page = page_of(client, f"/dashboard/rounds/{round_.id}")
    assert 'data-testid="modes-response"' not in page
