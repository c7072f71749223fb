"""The pages under their Content Security Policy in a real browser: nothing is refused on the
login page, the console's queue and case screens or the dashboard, and the policy is enforced."""

from __future__ import annotations

from cati.models import Answer
from tests.conftest import NOW
from tests.factories import create_member, create_round, create_user

PASSWORD = "correct horse 1"

# Every violation the page reports, whatever the browser also logs on its console.
LISTEN = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (event) => {
  const where = `${event.sourceFile}:${event.lineNumber}`;
  window.__csp.push(`${event.violatedDirective} ${event.blockedURI} ${where}`);
});
"""


def test_no_page_breaks_its_content_security_policy(chromium, live_server):
    with live_server.factory.begin() as session:
        round_ = create_round(session)
        round_.mode = "interviewer"
        for i, score in enumerate(["9", "7", "8"]):
            member = create_member(session, round_, office_code="DH" if i % 2 else "HL")
            member.status, member.disposition = "final", "1.1"
            for question, value in (("consent", "1"), ("overall", score)):
                session.add(
                    Answer(member_id=member.id, question_id=question, value=value, answered_at=NOW)
                )
        create_member(session, round_)  # one left to call
        create_user(session, "an", "admin")
        round_id = round_.id

    context = chromium.new_context(viewport={"width": 1366, "height": 768}, locale="vi-VN")
    context.add_init_script(LISTEN)
    page = context.new_page()
    logged: list[str] = []
    page.on(
        "console",
        lambda message: (
            logged.append(message.text)
            if "Content Security Policy" in message.text
            or "Content-Security-Policy" in message.text
            else None
        ),
    )
    visited: dict[str, list[str]] = {}

    def check(name: str) -> None:
        page.wait_for_load_state("load")
        page.wait_for_timeout(100)  # a violation event is dispatched after the fact
        visited[name] = page.evaluate("window.__csp")

    response = page.goto(f"{live_server.url}/login")
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "style-src 'self'" in policy
    check("login")
    page.get_by_test_id("login-username").fill("an")
    page.get_by_test_id("login-password").fill(PASSWORD)
    page.get_by_test_id("login-submit").click()
    page.wait_for_url(f"{live_server.url}/dashboard")
    check("dashboard")
    page.goto(f"{live_server.url}/dashboard/rounds/{round_id}")
    page.wait_for_load_state("load")  # (wait_for_function polls with eval, which CSP forbids)
    assert page.evaluate("!!(window.Chart && Chart.getChart('distribution-overall'))")
    check("round")
    page.goto(f"{live_server.url}/dashboard/trend?from=2026-W46&to=2026-W48")
    assert page.evaluate("!!(window.Chart && Chart.getChart('trend-chart'))")
    check("trend")
    page.goto(f"{live_server.url}/dashboard/counter/flagged")
    check("flagged")
    for name in ("users", "scheduler"):
        page.goto(f"{live_server.url}/admin/{name}")
        check(name)
    page.goto(f"{live_server.url}/console")
    check("queue")
    page.get_by_test_id("next-case").click()
    page.wait_for_url("**/console/case/*")
    page.locator("#answer-consent-1").focus()
    page.keyboard.type("1")  # an autosave through console.js
    page.wait_for_selector(".autosave.ok")
    check("case")

    assert visited == {name: [] for name in visited}
    assert logged == []
    # The check itself works: an inline script is refused and reported.
    page.evaluate("""() => {
        const script = document.createElement("script");
        script.textContent = "window.__ran = true";
        document.body.appendChild(script);
    }""")
    page.wait_for_timeout(100)
    assert page.evaluate("window.__ran") is None
    assert any(v.startswith("script-src") for v in page.evaluate("window.__csp"))
    assert any("Content Security Policy" in text for text in logged)
    context.close()
