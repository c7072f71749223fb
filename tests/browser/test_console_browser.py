"""The console in a real browser (Playwright + Debian Chromium): from login to a completed
interview, an appointment, and two interviewers taking cases at the same moment."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from cati.models import Member
from tests.factories import create_member, create_round, create_user, local
from tests.services.test_console import COMPLETE

PASSWORD = "correct horse 1"


@pytest.fixture
def queue(live_server):
    with live_server.factory.begin() as session:
        round_ = create_round(session)
        round_.mode = "interviewer"
        ids = [create_member(session, round_).id for _ in range(3)]
        for name in ("lan", "minh"):
            create_user(session, name)
    return ids


def log_in(chromium, live_server, username):
    context = chromium.new_context(viewport={"width": 1366, "height": 768}, locale="vi-VN")
    page = context.new_page()
    page.goto(f"{live_server.url}/login")
    page.get_by_test_id("login-username").fill(username)
    page.get_by_test_id("login-password").fill(PASSWORD)
    page.get_by_test_id("login-submit").click()
    page.wait_for_url(f"{live_server.url}/console")
    return page


def members(live_server):
    with live_server.factory() as session:
        return {m.id: m for m in session.scalars(select(Member))}


def test_login_take_a_case_answer_by_keyboard_and_save_a_complete(
    chromium, live_server, queue, tmp_path
):
    page = log_in(chromium, live_server, "lan")
    page.get_by_test_id("next-case").click()
    page.wait_for_url("**/console/case/*")
    assert "*" in page.get_by_test_id("phone-masked").inner_text()
    page.get_by_test_id("show-number").click()
    assert page.get_by_test_id("phone-number").inner_text().startswith("09")
    page.get_by_test_id("answer-consent").first.focus()
    for key in COMPLETE.values():  # digits answer and move to the next question
        page.keyboard.type(key)
        page.wait_for_timeout(80)
    page.get_by_test_id("attempt-outcome").select_option("complete")
    page.screenshot(path="/tmp/cati-case.png", full_page=True)
    page.get_by_test_id("save-case").click()
    page.wait_for_url(f"{live_server.url}/console")
    assert "Hoàn thành" in page.content()
    done = [m for m in members(live_server).values() if m.status == "final"]
    assert [(m.disposition, m.claimed_by is None) for m in done] == [("1.1", True)]


def test_schedule_an_appointment(chromium, live_server, queue):
    page = log_in(chromium, live_server, "lan")
    page.get_by_test_id("next-case").click()
    page.wait_for_url("**/console/case/*")
    member_id = int(page.url.rsplit("/", 1)[1])
    page.get_by_test_id("attempt-outcome").select_option("appointment")
    page.get_by_test_id("appointment-at").fill("2026-11-24T14:30")
    page.get_by_test_id("save-case").click()
    page.wait_for_url(f"{live_server.url}/console")
    member = members(live_server)[member_id]
    assert (member.status, member.appointment_at) == ("pending", local(2026, 11, 24, 14, 30))


def test_two_browsers_taking_cases_at_once_get_different_members(chromium, live_server, queue):
    pages = [log_in(chromium, live_server, name) for name in ("lan", "minh")]
    # Both clicks are sent before either answer is awaited: the two claims race.
    for page in pages:
        page.get_by_test_id("next-case").click(no_wait_after=True)
    for page in pages:
        page.wait_for_url("**/console/case/*")
    assert len({page.url for page in pages}) == 2
    claimed = {m.claimed_by for m in members(live_server).values() if m.claimed_by}
    assert len(claimed) == 2
