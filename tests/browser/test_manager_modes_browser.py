"""The round page of a round answered on the web and by IVR, with counter ratings in its week
(issue 15): the modes' table and the counter ratings' section fit a phone without the page
scrolling sideways."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from sqlalchemy import select

from cati.models import Member
from tests.browser.test_console_people import AXE, axe_violations, no_sideways_scroll
from tests.browser.test_manager_browser import WIDTHS, shot, sign_in, width  # noqa: F401
from tests.factories import create_user
from tests.services.test_reports import attempt, web_round_then_ivr
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


def test_each_modes_response_fits_the_screen(chromium, live_server, width):  # noqa: F811
    """A web round followed by the IVR, and an interviewer for one the IVR could not reach:
    the table of each mode's response sits under the cards and its three modes read on a
    phone without scrolling."""
    with live_server.factory.begin() as session:
        round_ = web_round_then_ivr(session)
        unreached = select(Member).where(Member.round_id == round_.id, Member.disposition == "2.20")
        attempt(session, session.scalars(unreached).one(), "complete", mode="interviewer")
        round_id = round_.id
        create_user(session, "minh", "manager")
    page = sign_in(chromium, live_server, width)
    page.goto(f"{live_server.url}/dashboard/rounds/{round_id}")
    page.wait_for_load_state("load")
    table = page.get_by_test_id("modes-response")
    assert table.is_visible()
    assert page.get_by_test_id("response-web-rate").inner_text() == "14,3\xa0%"
    assert page.get_by_test_id("response-ivr-members").inner_text() == "4"
    assert page.get_by_test_id("response-interviewer-rate").inner_text() == "100,0\xa0%"
    assert no_sideways_scroll(page)
    box = "document.querySelector('[data-testid=modes-response]').parentElement"
    assert page.evaluate(f"{box}.scrollWidth <= {box}.clientWidth")
    shot(page, "manager-round-modes-response", width)


@pytest.mark.skipif(not AXE.exists(), reason="axe-core is not installed (scripts/test does it)")
def test_each_modes_response_passes_axe(chromium, live_server):
    with live_server.factory.begin() as session:
        round_id = web_round_then_ivr(session).id
        create_user(session, "minh", "manager")
    page = sign_in(chromium, live_server, 390, bypass_csp=True)
    page.goto(f"{live_server.url}/dashboard/rounds/{round_id}")
    assert axe_violations(page) == []
