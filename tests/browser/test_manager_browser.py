"""The manager's pages in Chromium at a laptop's and a phone's width (issue 14): the round
page, trends chosen with the form, downloads, Vietnamese numbers and dates in the page and on
the chart axes, no sideways scrolling, and axe-core on every dashboard page."""

from __future__ import annotations

import pytest

from tests.browser.test_console_people import AXE, SHOTS, axe_violations, no_sideways_scroll
from tests.factories import create_user
from tests.web.test_dashboard_pages import populate

WIDTHS = {"laptop": 1366, "phone": 390}
PASSWORD = "correct horse 1"


@pytest.fixture(params=list(WIDTHS), ids=list(WIDTHS))
def width(request):
    return WIDTHS[request.param]


@pytest.fixture
def rounds(live_server):
    with live_server.factory.begin() as session:
        closed = populate(session, "2026-W46", status="closed").id
        open_ = populate(session, "2026-W47").id
        create_user(session, "minh", "manager")
        create_user(session, "an", "admin")
    return closed, open_


def sign_in(chromium, live_server, width, username="minh", **options):
    context = chromium.new_context(
        viewport={"width": width, "height": 900}, locale="vi-VN", accept_downloads=True, **options
    )
    page = context.new_page()
    page.goto(f"{live_server.url}/login")
    page.get_by_test_id("login-username").fill(username)
    page.get_by_test_id("login-password").fill(PASSWORD)
    page.get_by_test_id("login-submit").click()
    page.wait_for_url(f"{live_server.url}/dashboard")
    return page


def chart_drawn(page, canvas_id):
    """The page's deferred scripts have run and drawn the chart (`wait_for_function` would
    poll with eval, which the pages' CSP forbids)."""
    page.wait_for_load_state("load")
    assert page.evaluate(f"!!(window.Chart && Chart.getChart('{canvas_id}'))")


def shot(page, name, width):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)


def test_the_round_page_reads_in_ten_seconds(chromium, live_server, rounds, width):
    page = sign_in(chromium, live_server, width)
    page.get_by_test_id(f"round-link-{rounds[1]}").click()
    chart_drawn(page, "distribution-overall")
    assert page.get_by_test_id("card-response_rate").inner_text().startswith("Tỷ lệ trả lời")
    assert page.get_by_test_id("card-response_rate-value").inner_text() == "100,0\xa0%"
    assert page.get_by_test_id("mean-overall").inner_text() == "7,85"
    assert page.get_by_test_id("satisfied-overall").inner_text().endswith("92,3\xa0% (12/13)")
    assert "07/12/2026" in page.get_by_test_id("round-open").inner_text()
    assert page.get_by_test_id("paid_without_receipt-DH").get_attribute("class") == "num warn"
    assert page.get_by_test_id("paid_without_receipt-GL").get_attribute("class") == "num low"
    bars = page.evaluate("Chart.getChart('distribution-overall').data.datasets[0].data")
    assert bars == [0, 0, 0, 0, 0, 1, 5, 2, 5]
    assert page.evaluate("Chart.getChart('distribution-overall').options.locale") == "vi-VN"
    # Wide tables scroll inside their box; the page itself never scrolls sideways.
    assert no_sideways_scroll(page)
    shot(page, "manager-round", width)


def test_trends_are_chosen_with_the_form(chromium, live_server, rounds, width):
    page = sign_in(chromium, live_server, width)
    page.get_by_test_id("menu-dashboard-trend").click()
    page.get_by_test_id("trend-from").fill("2026-W45")
    page.get_by_test_id("trend-to").fill("2026-W48")
    page.get_by_test_id("trend-question").select_option("paid_without_receipt")
    page.get_by_test_id("trend-office").select_option("DH")
    page.get_by_test_id("trend-submit").click()
    chart_drawn(page, "trend-chart")
    assert "from=2026-W45" in page.url and "office=DH" in page.url
    chart = page.evaluate("""() => {
        const c = Chart.getChart('trend-chart');
        return {labels: c.data.labels, ticks: c.scales.y.ticks.map(t => t.label),
                tick: c.options.scales.y.ticks.callback(0.167),
                hollow: c.data.datasets[1].pointBackgroundColor};
    }""")
    assert chart["labels"] == ["46/2026", "47/2026 *"]
    assert "10\xa0%" in chart["ticks"] and chart["tick"] == "16,7\xa0%"  # vi-VN on the axis
    assert page.get_by_test_id("trend").inner_text().count("16,7\xa0%") == 2
    assert no_sideways_scroll(page)
    shot(page, "manager-trend", width)
    page.goto(f"{live_server.url}/dashboard/trend?from=2026-W46&to=2026-W47&office=GL")
    chart_drawn(page, "trend-chart")
    hollow = page.evaluate("Chart.getChart('trend-chart').data.datasets[1].pointBackgroundColor")
    assert hollow == ["#ffffff", "#ffffff"]  # one answer a week: hollow points


def test_downloads_from_the_page(chromium, live_server, rounds, width):
    page = sign_in(chromium, live_server, width)
    page.goto(f"{live_server.url}/dashboard/rounds/{rounds[1]}")
    for testid, suffix in (("download-report-xlsx", ".xlsx"), ("download-export-csv", ".csv")):
        with page.expect_download() as info:
            page.get_by_test_id(testid).click()
        download = info.value
        assert download.suggested_filename.endswith(suffix)
        assert download.path().stat().st_size > 100
    assert no_sideways_scroll(page)
    shot(page, "manager-downloads", width)


def test_admin_pages(chromium, live_server, rounds, width):
    page = sign_in(chromium, live_server, width, username="an")
    page.get_by_test_id("menu-admin-users").click()
    page.locator("#username").fill("hoa")
    page.locator("#role").select_option("interviewer")
    page.locator("#password").fill("mật khẩu dài 1")
    page.locator("#password_again").fill("mật khẩu dài 1")
    page.get_by_test_id("add-user-submit").click()
    assert "Đã thêm tài khoản hoa." in page.get_by_test_id("flash").inner_text()
    assert no_sideways_scroll(page)
    shot(page, "admin-users", width)
    page.get_by_test_id("menu-admin-scheduler").click()
    assert no_sideways_scroll(page)
    shot(page, "admin-scheduler", width)


@pytest.mark.skipif(not AXE.exists(), reason="axe-core is not installed (scripts/test does it)")
def test_dashboard_pages_pass_axe(chromium, live_server, rounds, width):
    # bypass_csp: axe is injected as an inline script (see test_console_people).
    page = sign_in(chromium, live_server, width, username="an", bypass_csp=True)
    for path in (
        "/dashboard",
        f"/dashboard/rounds/{rounds[1]}",
        "/dashboard/trend?from=2026-W45&to=2026-W48&office=DH",
        "/admin/users",
        "/admin/scheduler",
    ):
        page.goto(f"{live_server.url}{path}")
        assert axe_violations(page) == [], path
