"""Closing the loop in a real browser at 1366 and 390 px: the contact question appears on the
case screen only once an answer raises a follow-up; an interviewer takes a callback from the
queue, reads what was done, records the citizen's answer. Nothing scrolls sideways; axe-core
finds nothing serious on the callback screen."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cati.models import FollowUp
from cati.services.flows import load_flows
from cati.services.follow_ups import raise_for_answer, update_status
from tests.browser import test_console_people as people
from tests.browser.test_console_people import (
    ANSWERS,
    AXE,
    axe_violations,
    choose,
    log_in,
    no_sideways_scroll,
    shot,
    take_case,
)
from tests.conftest import NOW
from tests.factories import create_member, create_round, create_user

queue, width = people.queue, people.width  # the console tests' fixtures

NOTE = (
    "Bộ phận một cửa đã làm việc với cán bộ thu phí, hoàn lại 200.000 đồng cho ông/bà và "
    "nhắc nhở cán bộ phải cấp biên lai cho mọi khoản thu."
)


@pytest.fixture
def callback(live_server, settings):
    mscore = load_flows(settings.flows_dir)["mscore"]
    with live_server.factory.begin() as session:
        member = create_member(session, create_round(session, week="2026-W46"),
                               citizen_name="Nguyễn Thị Hoa",
                               procedure_name="Cấp giấy phép xây dựng nhà ở riêng lẻ")  # fmt: skip
        follow_up_id = raise_for_answer(session, mscore, member.id, "paid_without_receipt", "1",
                                        NOW - timedelta(days=6))  # fmt: skip
        session.get(FollowUp, follow_up_id).contact_allowed = True
        update_status(session, follow_up_id, "resolved", NOTE, user_id=None,
                      now=NOW - timedelta(days=2))  # fmt: skip
        create_user(session, "lan")
    return follow_up_id


def test_a_callback_from_the_queue(chromium, live_server, callback, width):
    page = log_in(chromium, live_server, width)
    assert page.get_by_test_id("count-callbacks").inner_text() == "1"
    shot(page, "queue-callbacks", width)
    assert no_sideways_scroll(page)
    page.get_by_test_id("next-callback").click()
    page.wait_for_url(f"**/console/callback/{callback}")
    assert "Nguyễn Thị Hoa" in page.locator("h1").inner_text()
    assert NOTE in page.get_by_test_id("callback-note").inner_text()
    assert "Em là lan" in page.get_by_test_id("callback-opening").inner_text()
    assert page.get_by_test_id("phone-number").inner_text().startswith("09")
    page.get_by_test_id("save-callback").click()  # nothing chosen: said beside the question
    assert page.get_by_test_id("error").is_visible()
    shot(page, "callback-refused", width)
    page.locator("label[for='satisfied-yes']").click()
    assert page.locator("#satisfied-yes").is_checked()
    shot(page, "callback", width)
    assert no_sideways_scroll(page)
    page.get_by_test_id("save-callback").click()
    page.wait_for_url(f"{live_server.url}/console")
    assert page.get_by_test_id("count-callbacks").inner_text() == "0"
    with live_server.factory() as session:
        row = session.get(FollowUp, callback)
        assert (row.callback_satisfied, row.callback_at) == (True, NOW)


@pytest.mark.skipif(not AXE.exists(), reason="axe-core is not installed (scripts/test does it)")
def test_the_callback_screen_passes_axe(chromium, live_server, callback, width):
    context = chromium.new_context(viewport={"width": width, "height": 800}, locale="vi-VN",
                                   bypass_csp=True)  # fmt: skip
    page = context.new_page()
    page.goto(f"{live_server.url}/login")
    page.get_by_test_id("login-username").fill("lan")
    page.get_by_test_id("login-password").fill("correct horse 1")
    page.get_by_test_id("login-submit").click()
    page.wait_for_url(f"{live_server.url}/console")
    assert axe_violations(page) == []
    page.get_by_test_id("next-callback").click()
    page.wait_for_url(f"**/console/callback/{callback}")
    assert axe_violations(page) == []


def test_the_contact_question_appears_once_a_follow_up_is_raised(
    chromium,
    live_server,
    queue,
    width,
):
    page = log_in(chromium, live_server, width)
    take_case(page)
    contact = page.get_by_test_id("contact-consent")
    for question, key in ANSWERS:
        choose(page, question, key)
    assert contact.is_hidden()  # nothing to follow up: not asked
    page.get_by_test_id("answer-comment").fill("Cán bộ thu tiền không đưa biên lai.")
    contact.wait_for(state="visible")  # a typed comment raises one at once
    page.get_by_test_id("answer-comment").fill("")
    contact.wait_for(state="hidden")
    choose(page, "overall", "2")  # a low score
    contact.wait_for(state="visible")
    choose(page, "contact_consent", "1")
    assert page.locator("#answer-contact_consent-1").is_checked()
    shot(page, "case-contact", width)
    assert no_sideways_scroll(page)
    page.get_by_test_id("save-case").click()
    page.wait_for_url(f"{live_server.url}/console")
    with live_server.factory() as session:
        from sqlalchemy import select

        assert session.scalar(select(FollowUp.contact_allowed)) is True
