"""Counter ratings in Chromium at a phone's width (390 px): a kiosk rating, its reset to the
welcome screen after CATI_KIOSK_RESET_S without a touch (kept as a partial), and a QR rating
on the citizen's own phone with a dossier code; every screen on a phone, a counter tablet
(1280 × 800) and a laptop (1366 px), large enough to touch and checked by axe-core."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from cati.models import CounterAnswer, CounterRating
from cati.services.counter import add_kiosk, office_token
from tests.browser.test_console_people import AXE, axe_violations, no_sideways_scroll, shot
from tests.browser.test_survey_browser import PHONE, answer, go_on
from tests.conftest import NOW
from tests.factories import create_case, create_office

ANSWERS = [("staff_attitude", "9"), ("guidance_quality", "8"), ("on_time", "1"),
           ("asked_to_return", "2"), ("paid_without_receipt", "2"), ("overall", "9")]  # fmt: skip


@pytest.fixture
def settings(settings, request):
    """A short reset for the test of the reset (2 s); `indirect` parametrization gives a
    test that looks at each screen longer."""
    return dataclasses.replace(settings, kiosk_reset_s=getattr(request, "param", 2))


@pytest.fixture
def places(live_server, settings):
    with live_server.factory.begin() as session:
        create_office(session, "DH", "Bộ phận một cửa Đông Hà")
        case = create_case(session, officer="Lê Văn Cường", received_at=NOW - timedelta(days=2))
        _, kiosk = add_kiosk(session, "DH", "Quầy 1", NOW)
        _, qr = office_token(session, "DH", settings.secret_key, NOW)
        code = case.dossier_code
    return f"{live_server.url}/k/{kiosk}", f"{live_server.url}/q/{qr}", code


def phone(chromium, **options):
    context = chromium.new_context(viewport=PHONE, locale="vi-VN", is_mobile=True,
                                   has_touch=True, **options)  # fmt: skip
    return context, context.new_page()


def ratings(live_server):
    with live_server.factory() as session:
        rows = session.query(CounterRating).order_by(CounterRating.id).all()
        answers = {
            (a.rating_id, a.question_id): (a.value, a.text) for a in session.query(CounterAnswer)
        }
        return rows, answers


def test_a_kiosk_rating_then_the_reset_keeps_a_partial(chromium, live_server, places):
    kiosk, _, _ = places
    context, page = phone(chromium)
    page.goto(kiosk)
    assert no_sideways_scroll(page)
    shot(page, "kiosk-welcome", 390)
    text = page.locator("main").inner_text()
    assert "tự nguyện và ẩn danh" in text and "Nguyễn Văn An" not in text
    page.get_by_test_id("counter-officer").select_option("Lê Văn Cường")
    go_on(page, "counter-start")
    assert page.get_by_test_id("survey-progress").inner_text() == "Câu 1/7"
    shot(page, "kiosk-scale", 390)
    answer(page, "staff_attitude", "3")  # a low score: what went wrong, not insisting
    assert page.get_by_test_id("counter-reason").is_visible()
    shot(page, "kiosk-reason", 390)
    page.get_by_test_id("counter-reason").fill("Phải chờ lâu")
    go_on(page)
    for question, key in ANSWERS[1:]:
        answer(page, question, key)
    page.get_by_test_id("answer-comment").fill("Cảm ơn")
    go_on(page)
    assert page.get_by_test_id("survey-done").is_visible()
    shot(page, "kiosk-thanks", 390)
    # Back to the welcome screen by itself, for the next citizen.
    page.wait_for_selector("[data-testid='counter-welcome']", timeout=10_000)
    rows, answers = ratings(live_server)
    assert len(rows) == 1 and rows[0].finished_at is not None
    assert rows[0].officer == "Lê Văn Cường" and rows[0].mode == "kiosk"
    assert answers[(rows[0].id, "staff_attitude")] == ("3", "Phải chờ lâu")
    # The next citizen answers one question and walks away: the kiosk resets, kept as partial.
    go_on(page, "counter-start")
    answer(page, "staff_attitude", "8")
    page.locator("label[for='answer-guidance_quality-7']").tap()  # a touch, then nothing
    page.wait_for_selector("[data-testid='counter-welcome']", timeout=10_000)
    rows, answers = ratings(live_server)
    assert len(rows) == 2 and rows[1].finished_at is None
    assert answers[(rows[1].id, "staff_attitude")] == ("8", None)
    assert (rows[1].id, "guidance_quality") not in answers
    context.close()


def test_a_qr_rating_on_the_citizens_phone_with_a_dossier_code(chromium, live_server, places):
    _, qr, code = places
    context, page = phone(chromium)
    page.goto(qr)
    assert page.get_by_test_id("counter-officer").count() == 0
    page.get_by_test_id("counter-dossier-code").fill(code.lower())
    shot(page, "qr-welcome", 390)
    go_on(page, "counter-start")
    for question, key in ANSWERS:
        answer(page, question, key)
    assert no_sideways_scroll(page)
    go_on(page)  # no comment
    assert page.get_by_test_id("survey-done").is_visible()
    shot(page, "qr-thanks", 390)
    rows, answers = ratings(live_server)
    assert [(r.mode, r.kiosk_id, r.dossier_code, r.dossier_check) for r in rows] == [
        ("qr", None, code, "ok")
    ]
    assert rows[0].finished_at is not None and answers[(rows[0].id, "overall")] == ("9", None)
    context.close()


# Every screen at each size: the kiosk on a counter tablet (landscape) and on a laptop, the
# QR page on a phone and a laptop; axe-core on each (bypass_csp: axe is injected inline).
SIZES = {"phone": (390, 844), "tablet": (1280, 800), "laptop": (1366, 768)}
MIN_TARGET = 44  # px: the smallest touch target WCAG 2.5.5 asks for


def screen_checks(page, name, size):
    """No sideways scrolling, every button, link, option and field at least MIN_TARGET
    high, axe; a screenshot."""
    assert no_sideways_scroll(page), name
    small = page.evaluate(
        """min => [...document.querySelectorAll(
                "button, a, label.s-option, select, input[type=text], textarea")]
            .filter(e => e.getBoundingClientRect().height < min)
            .map(e => e.outerHTML.slice(0, 80))""",
        MIN_TARGET,
    )
    assert small == [], name
    if AXE.exists():
        assert axe_violations(page) == [], name
    shot(page, f"{name}", size)


@pytest.mark.parametrize("settings", [60], indirect=True)
@pytest.mark.parametrize(("mode", "size"), [("kiosk", "tablet"), ("kiosk", "laptop"),
                                            ("kiosk", "phone"), ("qr", "phone"),
                                            ("qr", "laptop")])  # fmt: skip
def test_every_counter_screen_at_its_sizes(chromium, live_server, places, mode, size):
    kiosk, qr, code = places
    width, height = SIZES[size]
    touch = size != "laptop"
    context = chromium.new_context(viewport={"width": width, "height": height}, locale="vi-VN",
                                   is_mobile=size == "phone", has_touch=touch,
                                   bypass_csp=True)  # fmt: skip
    page = context.new_page()
    name = f"{mode}-{size}"
    page.goto(kiosk if mode == "kiosk" else qr)
    screen_checks(page, f"{name}-welcome", width)
    if mode == "qr":
        page.get_by_test_id("counter-dossier-code").fill(code)
    with page.expect_navigation():
        page.get_by_test_id("counter-start").click()
    screen_checks(page, f"{name}-scale", width)
    page.locator("label[for='answer-staff_attitude-2']").click()
    with page.expect_navigation():
        page.get_by_test_id("survey-next").click()
    assert page.get_by_test_id("counter-reason").is_visible()
    screen_checks(page, f"{name}-reason", width)
    with page.expect_navigation():
        page.get_by_test_id("survey-next").click()
    for question, key in ANSWERS[1:3]:
        page.locator(f"label[for='answer-{question}-{key}']").click()
        with page.expect_navigation():
            page.get_by_test_id("survey-next").click()
    screen_checks(page, f"{name}-yes-no", width)
    for question, key in ANSWERS[3:]:
        page.locator(f"label[for='answer-{question}-{key}']").click()
        with page.expect_navigation():
            page.get_by_test_id("survey-next").click()
    screen_checks(page, f"{name}-comment", width)
    with page.expect_navigation():
        page.get_by_test_id("survey-next").click()
    assert page.get_by_test_id("survey-done").is_visible()
    screen_checks(page, f"{name}-thanks", width)
    context.close()
