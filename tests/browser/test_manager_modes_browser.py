"""The round page of a round answered on the web and by IVR, with counter ratings in its week
(issue 15): the modes' table and the counter ratings' section fit a phone without the page
scrolling sideways."""

from __future__ import annotations

from types import SimpleNamespace

from tests.browser.test_console_people import no_sideways_scroll
from tests.browser.test_manager_browser import WIDTHS, shot, sign_in, width  # noqa: F401
from tests.factories import create_user
from tests.web.test_dashboard_modes import _ratings, _web_mode, _week_of_now
from tests.web.test_dashboard_pages import populate


def test_the_round_page_with_two_modes_fits_the_screen(
    chromium,
    live_server,
    settings,
    width,  # noqa: F811
):
    runtime = SimpleNamespace(settings=settings)
    with live_server.factory.begin() as session:
        round_id = populate(session, _week_of_now(runtime)).id
        _web_mode(session, "HL")
        _ratings(session, runtime)
        create_user(session, "minh", "manager")
    page = sign_in(chromium, live_server, width)
    page.goto(f"{live_server.url}/dashboard/rounds/{round_id}")
    page.wait_for_load_state("load")
    assert page.get_by_test_id("modes-table").is_visible()
    assert page.get_by_test_id("mode-web-overall").inner_text().startswith("8,67")
    assert page.get_by_test_id("counter-DH-kiosk-staff_attitude").inner_text() == "6,33"
    assert no_sideways_scroll(page)
    # Two modes side by side fit a phone: the question wraps, the table needs no scrolling.
    box = "document.querySelector('[data-testid=modes-table]').parentElement"
    assert page.evaluate(f"{box}.scrollWidth <= {box}.clientWidth")
    shot(page, "manager-round-modes", width)
