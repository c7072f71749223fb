"""The manager's round page in a real browser: figures, warnings and a drawn chart."""

from __future__ import annotations

from cati.models import Answer
from cati.services.scheduler import (
    JOB_NAMES,
    LEADER,
    NodeInfo,
    beat,
    record_job_run,
    register_jobs,
)
from tests.browser.test_manager_browser import chart_drawn
from tests.conftest import NOW
from tests.factories import create_member, create_round, create_user

PASSWORD = "correct horse 1"
SCORES = ["9", "8", "8", "7", "9", "6", "9", "8"]


def sign_in_as_manager(page, base_url: str) -> None:
    page.goto(f"{base_url}/login")
    page.get_by_test_id("login-username").fill("minh")
    page.get_by_test_id("login-password").fill(PASSWORD)
    page.get_by_test_id("login-submit").click()
    page.wait_for_url(f"{base_url}/dashboard")


def test_round_page_screenshot(chromium, live_server, tmp_path):
    with live_server.factory.begin() as session:
        round_ = create_round(session)
        for i, score in enumerate(SCORES):
            member = create_member(session, round_, office_code="DH" if i % 2 else "HL")
            member.status, member.disposition = "final", "1.1"
            for question, value in (
                ("consent", "1"),
                ("overall", score),
                ("paid_without_receipt", "1" if i == 1 else "2"),
            ):
                session.add(
                    Answer(member_id=member.id, question_id=question, value=value, answered_at=NOW)
                )
        create_user(session, "minh", "manager")
        round_id = round_.id
    page = chromium.new_context(viewport={"width": 1366, "height": 768}).new_page()
    sign_in_as_manager(page, live_server.url)
    page.goto(f"{live_server.url}/dashboard/rounds/{round_id}")
    chart_drawn(page, "distribution-overall")
    path = tmp_path / "round.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 20_000  # a rendered page, not a blank one
    drawn = page.evaluate("""() => {
        const canvas = document.getElementById('distribution-overall');
        const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
        let painted = 0;
        for (let i = 3; i < pixels.length; i += 4) if (pixels[i] > 0) painted++;
        return painted;
    }""")
    assert drawn > 1000  # the bars were drawn
    bars = page.evaluate("Chart.getChart('distribution-overall').data.datasets[0].data")
    assert bars == [0, 0, 0, 0, 0, 1, 1, 3, 3]
    # One "yes" of four answers: too few to flag (CATI_REPORT_MIN_N), greyed instead.
    cell = page.get_by_test_id("paid_without_receipt-DH")
    assert cell.get_attribute("class") == "num low" and cell.inner_text() == "25,0\xa0%"
    page.screenshot(path="/tmp/cati-round.png", full_page=True)


def test_the_scheduler_panel_fits_a_small_laptop_screen(chromium, live_server, tmp_path):
    with live_server.factory.begin() as session:
        create_round(session)
        create_user(session, "minh", "admin")
        beat(session, NodeInfo("app-1:7:x", "app-1", 7, NOW), role=LEADER, now=NOW)
        register_jobs(session, JOB_NAMES)
        record_job_run(session, "retention", ran_at=NOW, next_run_at=NOW,
                       result="3 rounds erased: 1,204 members, 5,871 cases, 212 recordings "
                              "deleted (3 left for the next run), 14 opt-outs kept as hashes, "
                              "2 hotline messages " * 2)  # fmt: skip
    page = chromium.new_context(viewport={"width": 1024, "height": 640}).new_page()
    sign_in_as_manager(page, live_server.url)
    page.goto(f"{live_server.url}/admin/scheduler")  # the admins' page now
    assert page.get_by_test_id("scheduler-jobs").is_visible()
    # The long result wraps: nothing pushes the page sideways.
    assert page.evaluate("document.documentElement.scrollWidth") <= 1024
    page.screenshot(path=str(tmp_path / "rounds.png"), full_page=True)
