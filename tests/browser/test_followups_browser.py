"""`/followups` in a real browser at 1366 and 390 px: an office clerk reads the list, opens an
overdue follow-up and closes it with a note; nothing overflows the screen."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cati.services.flows import load_flows
from cati.services.follow_ups import raise_for_answer
from tests.conftest import NOW
from tests.factories import create_member, create_office, create_round, create_user

PASSWORD = "correct horse 1"
LAND = "Cấp giấy chứng nhận quyền sử dụng đất"


@pytest.mark.parametrize(("width", "height"), [(1366, 768), (390, 844)])
def test_an_office_clerk_closes_a_follow_up(chromium, live_server, settings, width, height):
    mscore = load_flows(settings.flows_dir)["mscore"]
    with live_server.factory.begin() as session:
        round_ = create_round(session)
        ids = []
        answers = [("paid_without_receipt", "1"), ("overall", "2"), ("on_time", "2")]
        for i, (question, value) in enumerate(answers):
            member = create_member(session, round_, office_code="DH", procedure_name=LAND)
            raised_at = NOW - timedelta(days=10) if i == 0 else NOW
            ids.append(raise_for_answer(session, mscore, member.id, question, value, raised_at))
            if i == 1:
                raise_for_answer(session, mscore, member.id, "comment", "1", NOW)
        clerk = create_user(session, "motcua.dh", "office")
        clerk.office_id = create_office(session, "DH").id
    page = chromium.new_context(viewport={"width": width, "height": height}).new_page()
    page.goto(f"{live_server.url}/login")
    page.get_by_test_id("login-username").fill("motcua.dh")
    page.get_by_test_id("login-password").fill(PASSWORD)
    page.get_by_test_id("login-submit").click()
    page.wait_for_url(f"{live_server.url}/followups")
    assert page.get_by_test_id(f"followup-{ids[0]}").get_attribute("class") == "followup overdue"
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.screenshot(path=f"/tmp/cati-followups-{width}.png", full_page=True)

    page.get_by_test_id(f"followup-{ids[0]}").get_by_role("link").click()
    page.get_by_test_id("identity-hidden").wait_for()
    page.get_by_test_id("new-status").select_option("resolved")
    page.get_by_test_id("update-submit").click()
    assert page.get_by_test_id("update-error").is_visible()  # a note is needed
    page.get_by_test_id("note").fill("Đã kiểm tra, hoàn lại 50.000 đồng cho người dân.")
    page.get_by_test_id("new-status").select_option("resolved")
    page.get_by_test_id("update-submit").click()
    page.get_by_test_id("flash").wait_for()
    assert page.get_by_test_id("status").inner_text() == "Đã giải quyết"
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.screenshot(path=f"/tmp/cati-followup-{width}.png", full_page=True)
