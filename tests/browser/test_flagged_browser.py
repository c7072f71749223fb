"""The flagged counter ratings in Chromium at a laptop's and a phone's width (issue 15): a
manager finds them from the menu, reads a burst together, accepts it after the confirmation,
sees the office's figures change, undoes one; no sideways scrolling; axe-core on each page."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cati.services.flows import load_flows
from tests.browser.test_console_people import AXE, axe_violations, no_sideways_scroll
from tests.browser.test_manager_browser import WIDTHS, shot, sign_in
from tests.conftest import NOW
from tests.factories import create_user
from tests.services.test_counter import counter_ratings, identical_ratings

WEEK = "2026-W48"  # NOW's week


@pytest.fixture(params=list(WIDTHS), ids=list(WIDTHS))
def width(request):
    return WIDTHS[request.param]


@pytest.fixture
def counter(live_server, settings):
    """The service tests' ratings, and three complete ones with the same answers at the
    kiosk in the afternoon (a run of identical answers)."""
    flow = load_flows(settings.flows_dir)["mscore"]
    afternoon = NOW + timedelta(hours=4)  # 14:00 local
    with live_server.factory.begin() as session:
        ratings = counter_ratings(session, settings, flow)
        ratings["same"] = identical_ratings(session, settings, flow,
                                            [afternoon + timedelta(minutes=10 * i)
                                             for i in range(3)])  # fmt: skip
        create_user(session, "minh", "manager")
    return ratings


def answers_shown(page, rating_id):
    """A rating's answers as seen (the words for screen readers left out)."""
    return page.evaluate(
        """id => {
            const cell = document.querySelector(`[data-testid="answers-${id}"]`).cloneNode(true);
            cell.querySelectorAll(".visually-hidden, .tag").forEach(e => e.remove());
            return cell.textContent.replace(/\\s+/g, " ").trim();
        }""",
        rating_id,
    )


def counter_cell(page, testid):
    return page.get_by_test_id(testid).inner_text().strip()


def test_a_manager_accepts_a_burst_and_the_figures_change(chromium, live_server, counter, width):
    page = sign_in(chromium, live_server, width)
    base = live_server.url
    page.goto(f"{base}/dashboard/trend?from={WEEK}&to={WEEK}")
    assert counter_cell(page, "counter-DH-kiosk-n") == "1"
    assert counter_cell(page, "counter-DH-kiosk-flagged") == "9"
    # From the counter section's flagged count to the list, filtered to the office and week.
    page.get_by_test_id("counter-DH-kiosk-flagged").get_by_role("link").click()
    assert page.get_by_test_id("flagged-office").input_value() == "DH"
    assert page.get_by_test_id("tab-pending").inner_text() == "Chờ xem xét (10)"
    burst = counter["burst"]
    row = page.get_by_test_id(f"flagged-{burst[0]}").inner_text()
    assert "23/11/2026 10:00" in row and "Nhiều lượt đánh giá trong 2 phút" in row
    night = page.get_by_test_id(f"flagged-{counter['night']}").inner_text()
    assert "Ngoài giờ làm việc" in night and "Mã QR" in night and "Hợp lệ" in night
    same = page.get_by_test_id(f"flagged-{counter['same'][0]}").inner_text()
    assert "Trùng mẫu trả lời" in same and "Chưa trả lời hết" not in same
    assert page.get_by_test_id(f"accept-group-{counter['same'][0]}").is_visible()
    assert answers_shown(page, counter["same"][0]) == "9 · 8 · Có · Không · Không · 9"
    assert no_sideways_scroll(page)
    shot(page, "flagged-list", width)
    page.get_by_test_id(f"accept-group-{burst[0]}").click()
    assert page.locator("h1").inner_text() == "Chấp nhận 6 phiếu?"
    assert no_sideways_scroll(page)
    shot(page, "flagged-confirm", width)
    page.get_by_test_id("confirm-accept").click()
    assert "Đã chấp nhận 6 phiếu" in page.get_by_test_id("flash").inner_text()
    assert page.get_by_test_id(f"flagged-{burst[0]}").count() == 0
    assert page.get_by_test_id(f"flagged-{counter['night']}").is_visible()
    # The office's figures count the burst now.
    page.get_by_test_id("menu-dashboard-trend").click()
    page.get_by_test_id("trend-from").fill(WEEK)
    page.get_by_test_id("trend-to").fill(WEEK)
    page.get_by_test_id("trend-submit").click()
    assert counter_cell(page, "counter-DH-kiosk-n") == "7"
    assert counter_cell(page, "counter-DH-kiosk-flagged") == "3"
    # The accepted ones, who and when; one leaves the figures again.
    page.goto(f"{base}/dashboard/counter/flagged?from={WEEK}&to={WEEK}&show=accepted")
    assert "minh, lúc" in page.get_by_test_id(f"flagged-{burst[2]}").inner_text()
    assert no_sideways_scroll(page)
    shot(page, "flagged-accepted", width)
    page.get_by_test_id(f"undo-{burst[2]}").click()
    assert "Đã hủy chấp nhận" in page.get_by_test_id("flash").inner_text()
    assert page.get_by_test_id("tab-accepted").inner_text() == "Đã chấp nhận (5)"
    page.context.close()


@pytest.mark.skipif(not AXE.exists(), reason="axe-core is not installed (scripts/test does it)")
def test_the_flagged_pages_pass_axe(chromium, live_server, counter, width):
    page = sign_in(chromium, live_server, width, bypass_csp=True)
    for path in (
        f"/dashboard/counter/flagged?from={WEEK}&to={WEEK}",
        f"/dashboard/counter/flagged/accept?all=1&from={WEEK}&to={WEEK}",
    ):
        page.goto(f"{live_server.url}{path}")
        assert axe_violations(page) == [], path
    page.get_by_test_id("confirm-accept").click()
    page.get_by_test_id("tab-accepted").click()
    assert axe_violations(page) == [], "accepted"
    page.context.close()
