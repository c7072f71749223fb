"""The manager's page of flagged counter ratings (issue 15): read a burst together, accept
one, a group or all shown after a confirmation, undo; the office's figures change with it;
managers and admins only, CSRF on every change."""

from __future__ import annotations

import html
import json
import re
from urllib.parse import parse_qs, urlsplit

import pytest

from cati.models import AuditEvent, Case, CounterRating
from cati.services.counter import COUNTER_ACCEPTED
from tests.conftest import NOW
from tests.services.test_counter import counter, mscore  # noqa: F401
from tests.web.test_console_pages import signed_in, token
from tests.web.test_dashboard_modes import _cell
from tests.web.test_dashboard_pages import page_of, populate, web  # noqa: F401

WEEK = "2026-W48"  # NOW's week
LIST = f"/dashboard/counter/flagged?from={WEEK}&to={WEEK}"


def rows_of(page: str) -> list[int]:
    return [int(i) for i in re.findall(r'data-testid="flagged-(\d+)"', page)]


def row_text(page: str, rating_id: int) -> str:
    match = re.search(rf'data-testid="flagged-{rating_id}">(.*?)</tr>', page, re.S)
    assert match, rating_id
    return " ".join(re.sub(r"<[^>]+>", " ", html.unescape(match.group(1))).split())


def answers_shown(page: str, rating_id: int) -> str:
    """The answers as seen on the screen (the words for screen readers left out)."""
    cell = page.split(f'data-testid="answers-{rating_id}">')[1].split('<span class="tag"')[0]
    cell = re.sub(r'<span class="visually-hidden">[^<]*</span>', "", cell)
    return " ".join(re.sub(r"<[^>]+>", "", html.unescape(cell)).split())


def href(page: str, testid: str) -> str:
    match = re.search(rf'href="([^"]+)"\s+data-testid="{testid}"', page)
    assert match, testid
    return html.unescape(match.group(1))


def confirmed(client, confirm_url: str, **data):
    page = page_of(client, confirm_url)
    ids = re.findall(r'name="rating" value="(\d+)"', page)
    fields = re.findall(r'<input type="hidden" name="(from|to|office)" value="([^"]*)">', page)
    data = {"csrf_token": token(page), "rating": ids, **dict(fields), **data}
    return client.post("/dashboard/counter/flagged/accept", data=data)


def test_a_manager_reads_the_flagged_ratings_a_burst_together(web, session, counter):  # noqa: F811
    client = signed_in(web, session, "minh", "manager")
    page = page_of(client, LIST)
    assert "Phiếu đánh giá tại quầy bị nghi vấn" in page
    # Cam Lộ first (by name), then Đông Hà's burst of six together, then its QR rating.
    assert rows_of(page) == [counter["elsewhere"], *counter["burst"], counter["night"]]
    group = page.split(f'data-testid="flag-group-{counter["burst"][0]}"')[1].split("</tbody>")[0]
    assert rows_of(group) == counter["burst"]
    assert ("6 phiếu liền nhau · Máy tại quầy · Quầy 1 · Bộ phận một cửa Đông Hà · "
            "23/11/2026, 10:00–10:01") in html.unescape(group)  # fmt: skip
    row = row_text(page, counter["burst"][1])
    assert row.startswith(
        "23/11/2026 10:00 Bộ phận một cửa Đông Hà Máy tại quầy · Quầy 1 "
        "Nhiều lượt đánh giá trong 2 phút Thái độ cán bộ: 9"
    )
    assert row.endswith("Chưa trả lời hết Không nhập Chấp nhận")
    # Each answer keeps its place (– not reached), named for a screen reader.
    assert answers_shown(page, counter["burst"][1]) == "9 · – · – · – · – · –"
    assert "Hài lòng chung: –" in row
    night = row_text(page, counter["night"])
    assert night.startswith("23/11/2026 22:00 Bộ phận một cửa Đông Hà Mã QR Ngoài giờ làm việc")
    assert night.endswith(f"{counter['code']} Hợp lệ Chấp nhận")
    assert "Chờ xem xét (8)" in page and "Đã chấp nhận (0)" in page
    assert counter["left"] not in rows_of(page)  # opened and left: not in the figures either
    phone = session.query(Case.phone).filter_by(dossier_code=counter["code"]).scalar()
    assert phone[-9:] not in page and "Nguyễn Văn An" not in page
    # One office; no weeks given: the last eight, NOW's among them.
    assert rows_of(page_of(client, f"{LIST}&office=CL")) == [counter["elsewhere"]]
    assert len(rows_of(page_of(client, "/dashboard/counter/flagged"))) == 8
    earlier = page_of(client, "/dashboard/counter/flagged?from=2026-W40&to=2026-W41")
    assert rows_of(earlier) == [] and 'data-testid="flagged-none"' in earlier
    bad = client.get("/dashboard/counter/flagged?from=2026-W99")
    assert bad.status_code == 400 and 'data-testid="flagged-error"' in bad.get_data(as_text=True)


def test_accepting_a_burst_after_confirming_counts_it_in_the_offices_figures(
    web,  # noqa: F811
    session,
    counter,  # noqa: F811
):
    populate(session, week=WEEK)
    client = signed_in(web, session, "minh", "manager")
    trend = f"/dashboard/trend?from={WEEK}&to={WEEK}"
    before = page_of(client, trend)
    assert _cell(before, "counter-DH-kiosk-n") == ["1"]
    assert _cell(before, "counter-DH-kiosk-flagged") == ["6"]
    assert _cell(before, "counter-DH-kiosk-staff_attitude") == ["8,00"]
    listed = page_of(client, LIST)
    confirm = href(listed, f"accept-group-{counter['burst'][0]}")
    page = page_of(client, confirm)
    assert "Chấp nhận 6 phiếu?" in page and rows_of(page) == counter["burst"]
    assert session.query(CounterRating).filter(CounterRating.accepted_by.is_not(None)).count() == 0
    # Without the form's token nothing happens.
    refused = client.post("/dashboard/counter/flagged/accept", data={"rating": counter["burst"]})
    assert refused.status_code == 400
    assert session.query(CounterRating).filter(CounterRating.accepted_by.is_not(None)).count() == 0
    response = confirmed(client, confirm)
    assert response.status_code == 302
    back = urlsplit(response.headers["Location"])
    assert back.path == "/dashboard/counter/flagged"
    assert parse_qs(back.query) == {"from": [WEEK], "to": [WEEK]}
    after = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Đã chấp nhận 6 phiếu" in after
    assert rows_of(after) == [counter["elsewhere"], counter["night"]]
    accepted = page_of(client, f"{LIST}&show=accepted")
    assert rows_of(accepted) == counter["burst"]
    assert "minh, lúc 23/11/2026 10:00" in row_text(accepted, counter["burst"][0])
    audit = session.query(AuditEvent).filter_by(action=COUNTER_ACCEPTED).one()
    assert json.loads(audit.details) == {"ratings": counter["burst"]}
    # The office's figures count them now: 7 ratings (9 × 6 and 8 → 8,86), none flagged.
    now = page_of(client, trend)
    assert _cell(now, "counter-DH-kiosk-n") == ["7"]
    assert _cell(now, "counter-DH-kiosk-flagged") == ["0"]
    assert _cell(now, "counter-DH-kiosk-staff_attitude") == ["8,86"]


def test_accept_everything_shown_then_undo_one(web, session, counter):  # noqa: F811
    client = signed_in(web, session, "minh", "manager")
    listed = page_of(client, f"{LIST}&office=DH")
    assert "Chấp nhận cả 7 phiếu đang hiển thị" in listed
    response = confirmed(client, href(listed, "accept-all"))
    assert parse_qs(urlsplit(response.headers["Location"]).query)["office"] == ["DH"]
    assert rows_of(page_of(client, LIST)) == [counter["elsewhere"]]
    accepted = page_of(client, f"{LIST}&show=accepted")
    assert f'action="/dashboard/counter/flagged/{counter["night"]}/undo"' in accepted
    assert client.post(f"/dashboard/counter/flagged/{counter['night']}/undo").status_code == 400
    undone = client.post(
        f"/dashboard/counter/flagged/{counter['night']}/undo",
        data={"csrf_token": token(accepted), "from": WEEK, "to": WEEK},
    )
    assert undone.status_code == 302 and "show=accepted" in undone.headers["Location"]
    assert rows_of(page_of(client, LIST)) == [counter["elsewhere"], counter["night"]]
    assert session.get(CounterRating, counter["night"]).accepted_by is None
    again = client.post(
        f"/dashboard/counter/flagged/{counter['night']}/undo",
        data={"csrf_token": token(accepted)},
    )
    assert again.status_code == 404
    # Picking ratings nobody can accept any more says so, and changes nothing.
    gone = page_of(client, f"/dashboard/counter/flagged/accept?rating={counter['burst'][0]}")
    assert 'data-testid="confirm-none"' in gone
    assert client.get("/dashboard/counter/flagged/accept?rating=x").status_code == 404


@pytest.mark.parametrize("role", ["interviewer", "office"])
def test_other_roles_get_403_and_change_nothing(web, session, counter, role):  # noqa: F811
    client = signed_in(web, session, "nguoi", role)
    for path in (LIST, f"/dashboard/counter/flagged/accept?rating={counter['night']}"):
        assert client.get(path).status_code == 403
    home = {"interviewer": "/console", "office": "/followups"}[role]
    page = page_of(client, home)  # a page of theirs, with the form's token
    data = {"csrf_token": token(page), "rating": [counter["night"]]}
    assert client.post("/dashboard/counter/flagged/accept", data=data).status_code == 403
    assert session.get(CounterRating, counter["night"]).accepted_by is None
    assert client.post(f"/dashboard/counter/flagged/{counter['night']}/undo",
                       data=data).status_code == 403  # fmt: skip


def test_the_round_and_trend_pages_link_their_flagged_ratings(web, session, counter):  # noqa: F811
    round_ = populate(session, week=WEEK)
    client = signed_in(web, session, "minh", "manager")
    for url in (f"/dashboard/rounds/{round_.id}", f"/dashboard/trend?from={WEEK}&to={WEEK}"):
        page = page_of(client, url)
        cell = page.split('data-testid="counter-DH-kiosk-flagged"')[1].split("</td>")[0]
        link = urlsplit(html.unescape(re.search(r'href="([^"]+)"', cell)[1]))
        assert link.path == "/dashboard/counter/flagged"
        assert parse_qs(link.query) == {"office": ["DH"], "from": [WEEK], "to": [WEEK]}
        assert rows_of(page_of(client, f"{link.path}?{link.query}")) == [
            *counter["burst"], counter["night"]
        ]  # fmt: skip
        review = urlsplit(href(page, "counter-review"))
        assert parse_qs(review.query) == {"from": [WEEK], "to": [WEEK]}
    assert NOW.isocalendar()[1] == 48


def test_a_long_list_shows_the_first_ones_and_says_so(web, session, counter, monkeypatch):  # noqa: F811
    from cati.web.dashboard import flagged

    monkeypatch.setattr(flagged, "LIMIT", 4)
    client = signed_in(web, session, "minh", "manager")
    page = page_of(client, LIST)
    assert rows_of(page) == counter["burst"][:4]  # the earliest
    assert 'data-testid="flagged-more"' in page and "Chờ xem xét (4+)" in page
    confirm = page_of(client, href(page, "accept-all"))
    assert "Chấp nhận 4 phiếu?" in confirm and 'data-testid="confirm-more"' in confirm
    response = confirmed(client, href(page, "accept-all"))
    assert response.status_code == 302
    accepted = session.query(CounterRating).filter(CounterRating.accepted_by.is_not(None))
    assert sorted(r.id for r in accepted) == counter["burst"][:4]
