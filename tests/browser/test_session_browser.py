"""Sessions in a real browser: a form another site submits is refused without signing the
user out."""

from __future__ import annotations

from tests.factories import create_member, create_round, create_user

PASSWORD = "correct horse 1"
ELSEWHERE = "http://elsewhere.example/"


def test_a_cross_site_form_is_refused_and_the_user_stays_signed_in(chromium, live_server):
    with live_server.factory.begin() as session:
        round_ = create_round(session)
        round_.mode = "interviewer"
        create_member(session, round_)
        create_user(session, "lan")
    context = chromium.new_context(locale="vi-VN")
    page = context.new_page()
    page.goto(f"{live_server.url}/login")
    page.get_by_test_id("login-username").fill("lan")
    page.get_by_test_id("login-password").fill(PASSWORD)
    page.get_by_test_id("login-submit").click()
    page.wait_for_url(f"{live_server.url}/console")

    # Another site's page posts a form to the console as soon as it is opened.
    attack = (
        f'<form method="post" action="{live_server.url}/console/next"></form>'
        "<script>document.forms[0].submit()</script>"
    )
    context.route(ELSEWHERE, lambda route: route.fulfill(body=attack, content_type="text/html"))
    with page.expect_navigation(url=f"{live_server.url}/console/next") as navigation:
        page.goto(ELSEWHERE)
    refused = navigation.value
    assert refused.status == 400
    assert "Biểu mẫu đã hết hạn hoặc không hợp lệ" in page.content()

    page.goto(f"{live_server.url}/console")
    assert page.url == f"{live_server.url}/console"  # not sent to the login page
    assert page.get_by_test_id("current-user").is_visible()
    context.close()
