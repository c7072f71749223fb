"""The personal survey page in Chromium at a phone's width (390 px), as a citizen uses it:
completing, resuming from the same link in a new browser, declining in one tap, the whole
survey with JavaScript disabled, no sideways scrolling, and axe-core's check."""

from __future__ import annotations

import pytest

from cati.models import Attempt, Member, OptOut
from tests.browser.test_console_people import AXE, axe_violations, no_sideways_scroll, shot
from tests.factories import create_web_member

ANSWERS = [("consent", "1"), ("staff_attitude", "9"), ("guidance_quality", "8"),
           ("on_time", "1"), ("asked_to_return", "2"), ("paid_without_receipt", "2"),
           ("overall", "9")]  # fmt: skip
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def link(live_server, settings):
    with live_server.factory.begin() as session:
        member, token = create_web_member(
            session, settings.secret_key, procedure_name="Đăng ký khai sinh",
            office_code="DH", citizen_name="Trần Thị Bình",
        )  # fmt: skip
        member_id = member.id
    return member_id, f"{live_server.url}/s/{token}"


def phone(chromium, **options):
    context = chromium.new_context(viewport=PHONE, locale="vi-VN", is_mobile=True,
                                   has_touch=True, **options)  # fmt: skip
    return context, context.new_page()


def answer(page, question, key):
    """Tap the labelled option, then "Tiếp tục", as a finger does."""
    page.locator(f"label[for='answer-{question}-{key}']").tap()
    assert page.locator(f"[data-testid='answer-{question}'][value='{key}']").is_checked()
    go_on(page)


def go_on(page, testid="survey-next"):
    with page.expect_navigation():
        page.get_by_test_id(testid).tap()


def member_of(live_server, member_id):
    with live_server.factory() as session:
        member = session.get(Member, member_id)
        attempts = [
            (a.mode, a.outcome)
            for a in session.query(Attempt).filter_by(member_id=member_id).order_by(Attempt.id)
        ]
        opted_out = session.query(OptOut).filter_by(phone=member.phone).count()
        return member.status, member.disposition, attempts, opted_out


def test_a_citizen_completes_the_survey_on_a_phone(chromium, live_server, link):
    member_id, url = link
    context, page = phone(chromium)
    page.goto(url)
    assert no_sideways_scroll(page)
    shot(page, "survey-consent", 390)
    text = page.locator("main").inner_text()
    assert "Đăng ký khai sinh" in text and "tự nguyện" in text and "bấm" not in text.lower()
    answer(page, "consent", "1")
    assert page.get_by_test_id("survey-progress").inner_text() == "Câu 1/7"
    shot(page, "survey-scale", 390)
    assert no_sideways_scroll(page)
    for question, key in ANSWERS[1:3]:
        answer(page, question, key)
    shot(page, "survey-yes-no", 390)
    for question, key in ANSWERS[3:]:
        answer(page, question, key)
    assert page.get_by_test_id("survey-progress").inner_text() == "Câu 7/7"
    page.locator("#comment").fill("Cán bộ rất nhiệt tình.")
    shot(page, "survey-comment", 390)
    go_on(page)
    # A comment is followed up: the last question asks whether the Sở may contact them.
    assert "Câu" not in page.get_by_test_id("survey-progress").inner_text()  # not numbered
    shot(page, "survey-contact", 390)
    answer(page, "contact_consent", "2")
    page.get_by_test_id("survey-done").wait_for()
    shot(page, "survey-done", 390)
    assert member_of(live_server, member_id)[:3] == ("final", "1.1", [("web", "complete")])
    page.goto(url)  # the link now shows only the thank-you page
    assert page.get_by_test_id("survey-done").is_visible()
    context.close()


def test_resuming_from_the_same_link_in_another_browser(chromium, live_server, link):
    member_id, url = link
    context, page = phone(chromium)
    page.goto(url)
    for question, key in ANSWERS[:4]:
        answer(page, question, key)
    context.close()
    context, page = phone(chromium)  # no cookie: another phone, or the cookie cleared
    page.goto(url)
    assert page.get_by_test_id("survey-progress").inner_text() == "Câu 4/7"
    go_on(page, "survey-back")
    assert page.locator("[data-testid='answer-on_time'][value='1']").is_checked()
    go_on(page)
    for question, key in ANSWERS[4:]:
        answer(page, question, key)
    page.get_by_test_id("survey-next").tap()  # no comment
    page.get_by_test_id("survey-done").wait_for()
    assert member_of(live_server, member_id)[:2] == ("final", "1.1")
    context.close()


def test_declining_is_one_tap(chromium, live_server, link):
    member_id, url = link
    context, page = phone(chromium)
    page.goto(url)
    page.get_by_role("button", name="Tôi không muốn tham gia").tap()
    page.get_by_test_id("survey-done").wait_for()
    shot(page, "survey-declined", 390)
    status, disposition, attempts, opted_out = member_of(live_server, member_id)
    assert (status, disposition, attempts, opted_out) == ("final", "2.11", [("web", "refused")], 1)
    context.close()


def test_the_whole_survey_without_javascript(chromium, live_server, link):
    member_id, url = link
    context, page = phone(chromium, java_script_enabled=False)
    page.goto(url)
    go_on(page)  # nothing chosen: asked again, nothing saved
    assert page.get_by_test_id("survey-error").is_visible()
    for question, key in ANSWERS:
        answer(page, question, key)
    page.locator("#comment").fill("Không có")
    go_on(page)
    answer(page, "contact_consent", "1")  # without JavaScript too
    page.get_by_test_id("survey-done").wait_for()
    assert member_of(live_server, member_id)[:2] == ("final", "1.1")
    context.close()


def test_english_at_a_tap(chromium, live_server, link):
    _, url = link
    context, page = phone(chromium)
    page.goto(url)
    go_on(page, "language-en")
    assert page.get_by_role("button", name="I do not want to take part").is_visible()
    context.close()


@pytest.mark.skipif(not AXE.exists(), reason="axe-core is not installed (scripts/test does it)")
def test_survey_pages_pass_axe(chromium, live_server, link):
    _, url = link
    context, page = phone(chromium, bypass_csp=True)
    page.goto(url)
    assert axe_violations(page) == []
    answer(page, "consent", "1")
    assert axe_violations(page) == []
    go_on(page)
    assert axe_violations(page) == []  # with the error shown
    page.goto(url.replace(url.rsplit("/", 1)[1], "0" * 23))
    assert axe_violations(page) == []
    context.close()
