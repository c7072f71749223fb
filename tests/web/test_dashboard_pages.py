"""The manager's pages through the test client: the round page read in ten seconds, trends,
downloads, formats the Vietnamese way, and who may open what."""

from __future__ import annotations

import csv
import io
import re

import openpyxl
import pytest
from sqlalchemy import select

from cati.models import Answer, AuditEvent, Round
from cati.web import create_app
from cati.web.dashboard import figures
from tests.conftest import NOW
from tests.factories import create_member, create_round
from tests.web.test_console_pages import post, signed_in

COMMENT = "Cán bộ hướng dẫn rất tận tình."
RECORDING = "https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE1"
# Per office: (code, name, [(staff_attitude, on_time, paid_without_receipt, overall), ...]).
OFFICES = [
    ("HL", "UBND huyện Hải Lăng", [("9", "1", "2", "9")] * 4 + [("8", "1", "2", "8")] * 2),
    ("DH", "UBND thành phố Đông Hà", [("7", "1", "2", "7")] * 5 + [("6", "2", "1", "6")]),
    ("GL", "UBND huyện Gio Linh", [("9", "1", "1", "9")]),  # one complete: too few to judge
]


def populate(session, week="2026-W47", *, status="open"):
    """A round of three offices, answered; one typed comment and one recorded."""
    from cati.models import Case, Office

    round_ = create_round(session, week=week)
    round_.status = status
    for code, name, answers in OFFICES:
        for i, (staff, on_time, unpaid, overall) in enumerate(answers):
            member = create_member(session, round_, office_code=code, officer=f"Cán bộ {code}")
            member.status, member.disposition = "final", "1.1"
            for question, value in (
                ("consent", "1"),
                ("staff_attitude", staff),
                ("guidance_quality", staff),
                ("on_time", on_time),
                ("asked_to_return", "2"),
                ("paid_without_receipt", unpaid),
                ("overall", overall),
            ):
                session.add(
                    Answer(member_id=member.id, question_id=question, value=value, answered_at=NOW)
                )
            if code == "DH" and i == 0:
                session.add(Answer(member_id=member.id, question_id="comment", value="1",
                                   text=COMMENT, answered_at=NOW))  # fmt: skip
            if code == "HL" and i == 0:
                session.add(Answer(member_id=member.id, question_id="comment", value="1",
                                   recording_url=RECORDING, answered_at=NOW))  # fmt: skip
        office = session.scalar(select(Office).where(Office.code == code))
        office.name = name
    session.flush()
    assert session.scalar(select(Case.id)) is not None
    return round_


@pytest.fixture
def web(runtime):
    return create_app(runtime, {"TESTING": True, "WTF_CSRF_ENABLED": True})


def page_of(client, url):
    response = client.get(url)
    assert response.status_code == 200, url
    return response.get_data(as_text=True)


def test_the_round_page_shows_cards_with_plain_names_and_aapor_codes(web, session):
    round_ = populate(session)
    client = signed_in(web, session, "minh", "manager")
    page = page_of(client, f"/dashboard/rounds/{round_.id}")
    for name, code in (("Tỷ lệ trả lời", "AAPOR RR1"), ("Tỷ lệ gọi thành công", "M.Score"),
                       ("Hoàn thành", "AAPOR I (1.1)"), ("Gặp được", "CON1")):  # fmt: skip
        assert name in page and code in page
    assert 'data-testid="card-complete-value">13<' in page
    assert 'data-testid="card-response_rate-value">100,0\xa0%<' in page
    # Open: still calling, with the end of its calling period (07/12/2026 local).
    assert "Đang gọi, đến hết 07/12/2026" in page
    assert "Tuần 47/2026 (16/11–22/11/2026)" in page
    for raw in ("rr1", "completion_rate", "95 % CI", ">coop1<"):
        assert raw not in page
    assert "Khoảng tin cậy 95 %" in page


def test_the_round_page_shows_every_question_and_the_satisfied_share(web, session):
    round_ = populate(session)
    client = signed_in(web, session, "minh", "manager")
    page = page_of(client, f"/dashboard/rounds/{round_.id}")
    # overall: 9×5 + 8×2 + 7×5 + 6 = 102 over 13 → 7,85; 12 of 13 at 7 or more → 92,3 %.
    assert 'data-testid="mean-overall">7,85<' in page
    assert re.search(r'data-testid="satisfied-overall">Hài lòng \(từ 7 đến 9 điểm\):\s*'
                     r"<strong>92,3\xa0%</strong>", page)  # fmt: skip
    # yes/no as shares: paid without receipt 2 of 13 → 15,4 %.
    assert 'data-testid="share-paid_without_receipt">15,4\xa0%<' in page
    assert 'id="distribution-staff_attitude"' in page
    assert "Thái độ cán bộ" in page and "Nộp tiền không có biên lai" in page


def test_the_round_page_shows_the_follow_ups_per_office(web, session, settings):
    from cati.models import Member, Office
    from cati.services.flows import load_flows
    from cati.services.follow_ups import raise_for_answer

    round_ = populate(session)
    client = signed_in(web, session, "minh", "manager")
    assert 'data-testid="follow-ups"' not in page_of(client, f"/dashboard/rounds/{round_.id}")
    flow = load_flows(settings.flows_dir)["mscore"]
    gio_linh = session.scalar(
        select(Member.id).join(Office, Office.id == Member.office_id).where(Office.code == "GL")
    )
    raise_for_answer(session, flow, gio_linh, "paid_without_receipt", "1", NOW)
    session.flush()
    page = page_of(client, f"/dashboard/rounds/{round_.id}")
    assert 'data-testid="follow-ups"' in page and "Phản ánh cần cơ quan xử lý" in page
    row = re.search(r'data-testid="follow-ups-GL">(.*?)</tr>', page, re.S)[1]
    assert "UBND huyện Gio Linh" in row
    assert re.findall(r'<td class="num[^"]*">([^<]*)</td>', row) == ["1", "1", "0", "–", "–"]
    assert "5.2 và 5.3" in page and 'href="/followups"' in page


def test_the_trend_page_shows_the_follow_ups_raised_in_its_weeks(web, session, settings):
    from cati.models import Member, Office
    from cati.services.flows import load_flows
    from cati.services.follow_ups import raise_for_answer

    round_ = populate(session)
    flow = load_flows(settings.flows_dir)["mscore"]
    member = session.scalar(
        select(Member.id).join(Office, Office.id == Member.office_id).where(Office.code == "DH")
    )
    raise_for_answer(session, flow, member, "asked_to_return", "1", NOW)  # NOW is in 2026-W48
    session.flush()
    client = signed_in(web, session, "minh", "manager")
    page = page_of(client, "/dashboard/trend?from=2026-W47&to=2026-W48")
    assert "<title>" in page and "Phản ánh cần cơ quan xử lý" not in page.split("</title>")[0]
    row = re.search(r'data-testid="follow-ups-DH">(.*?)</tr>', page, re.S)[1]
    assert re.findall(r'<td class="num[^"]*">([^<]*)</td>', row) == ["1", "1", "0", "–", "–"]
    earlier = page_of(client, "/dashboard/trend?from=2026-W45&to=2026-W47")
    assert 'data-testid="follow-ups"' not in earlier and round_.week == "2026-W47"


def test_offices_are_ranked_low_n_greyed_never_flagged_not_ranked(web, session):
    round_ = populate(session)
    client = signed_in(web, session, "minh", "manager")
    page = page_of(client, f"/dashboard/rounds/{round_.id}")
    order = [m for m in re.findall(r'data-testid="office-(\w+)"', page)]
    assert order == ["HL", "DH", "GL"]
    assert 'data-testid="rank-HL">1<' in page and 'data-testid="rank-DH">2<' in page
    assert 'data-testid="rank-GL">–<' in page
    # Gio Linh: one citizen paid without receipt (100 %), but one answer: grey, no warning.
    assert re.search(r'class="num low" data-testid="paid_without_receipt-GL"', page)
    # Đông Hà: 1 of 6 (16,7 %) is past 1 % with enough answers: flagged.
    assert re.search(r'class="num warn" data-testid="paid_without_receipt-DH">16,7\xa0%', page)
    legend = page[page.index('data-testid="legend"') :]
    assert "cảnh báo khi tỷ lệ “Có” trên 1\xa0%" in legend
    assert "CATI_WARN_PAID_WITHOUT_RECEIPT" in legend and "CATI_WARN_ON_TIME_BELOW" in legend
    assert "dưới 5 câu trả lời" in legend


def test_min_n_comes_from_the_settings_when_they_have_it():
    class Settings:
        report_min_n = 10

    assert figures.min_n_of(Settings()) == 10
    assert figures.min_n_of(object()) == 5


def test_ranking_ties_share_a_rank_and_low_n_rows_follow():
    column = figures.Column("overall", "scale", "Hài lòng chung", (1, 9))
    groups = [
        ("A", "An", 5, {"overall": {"n": 5, "mean": 8.0}}),
        ("B", "Bình", 6, {"overall": {"n": 6, "mean": 8.0}}),
        ("C", "Cam", 1, {"overall": {"n": 1, "mean": 9.0}}),
        ("D", "Đào", 7, {"overall": {"n": 7, "mean": 7.5}}),
    ]
    rows = figures.ranked_rows(groups, [column], min_n=5, thresholds={})
    assert [(r.key, r.rank, r.low) for r in rows] == [
        ("A", 1, False), ("B", 1, False), ("D", 3, False), ("C", None, True),
    ]  # fmt: skip


def test_officers_and_comments(web, session):
    round_ = populate(session)
    client = signed_in(web, session, "minh", "manager")
    page = page_of(client, f"/dashboard/rounds/{round_.id}")
    officers = page[page.index('data-testid="officers"') :]
    assert (
        "Cán bộ HL" in officers and "Thái độ cán bộ" in officers and "Hướng dẫn hồ sơ" in officers
    )
    assert "Cán bộ hướng dẫn rất tận tình." in page
    answer_id = session.scalar(select(Answer.id).where(Answer.recording_url.is_not(None)))
    assert f'<audio controls preload="none" src="/dashboard/recordings/{answer_id}"' in page
    response = client.get(f"/dashboard/recordings/{answer_id}")
    assert response.status_code == 302 and response.headers["Location"].endswith("/RE1")
    audit = session.scalar(select(AuditEvent).where(AuditEvent.action == "recording_played"))
    assert audit is not None and audit.user_id is not None
    assert client.get("/dashboard/recordings/999999").status_code == 404


def test_english_pages_write_numbers_the_english_way(web, session):
    round_ = populate(session)
    client = signed_in(web, session, "minh", "manager")
    post(client, "/dashboard", "/language", language="en")
    page = page_of(client, f"/dashboard/rounds/{round_.id}")
    assert 'data-testid="mean-overall">7.85<' in page and "Response rate" in page
    assert "Still calling, until 7 Dec 2026" in page


def test_the_round_list_reads_as_people_say_it(web, session):
    populate(session)
    client = signed_in(web, session, "minh", "manager")
    page = page_of(client, "/dashboard")
    assert "Đợt" in page and "Tuần 47/2026" in page and "Dân chấm điểm cơ quan hành chính" in page
    assert "Hoàn thành: 13/13" in page and "(100\xa0%)" in page
    assert ">JSON<" not in page and "mscore" not in page


# Trends


def test_trends_follow_a_question_for_the_province_and_an_office(web, session):
    populate(session, "2026-W46", status="closed")
    populate(session, "2026-W47")
    client = signed_in(web, session, "minh", "manager")
    page = page_of(client, "/dashboard/trend?from=2026-W45&to=2026-W48&question=overall&office=DH")
    assert '<input type="week" id="trend-from" name="from" value="2026-W45"' in page
    assert "Tuần 46/2026" in page and "Tuần 47/2026" in page
    data = re.search(r'<script type="application/json" id="chart-data">(.*?)</script>', page, re.S)
    import json

    series = json.loads(data.group(1))
    assert series["locale"] == "vi-VN" and series["kind"] == "scale"
    assert series["labels"] == ["46/2026", "47/2026 *"]  # the open round marked
    assert [s["label"] for s in series["series"]] == ["Toàn tỉnh", "UBND thành phố Đông Hà"]
    assert series["series"][1]["low"] == [False, False]
    # The low-n office (one answer) is hollow.
    gl = json.loads(
        re.search(
            r'id="chart-data">(.*?)</script>',
            page_of(client, "/dashboard/trend?from=2026-W46&to=2026-W47&office=GL"),
            re.S,
        ).group(1)
    )
    assert gl["series"][1]["low"] == [True, True]
    assert 'data-testid="trend-open-' in page


def test_trend_form_errors_are_said_not_crashed(web, session):
    client = signed_in(web, session, "minh", "manager")
    response = client.get("/dashboard/trend?from=2026-W48&to=2026-W40")
    assert response.status_code == 400
    assert "Tuần bắt đầu nằm sau tuần kết thúc" in response.get_data(as_text=True)
    response = client.get("/dashboard/trend?from=abc")
    assert response.status_code == 400 and "Không đọc được tuần" in response.get_data(as_text=True)


# Downloads


def test_report_downloads_are_the_commands_tables(web, session, cli):
    round_ = populate(session)
    client = signed_in(web, session, "minh", "manager")
    response = client.get(f"/dashboard/rounds/{round_.id}/report.csv")
    assert response.status_code == 200 and response.is_streamed
    assert response.headers["Content-Disposition"].endswith('.csv"')
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    command = cli("report", str(round_.id), "--format", "csv")
    assert list(csv.reader(io.StringIO(command.output))) == rows  # the same table
    assert rows[0][:3] == ["scope", "key", "name"] and rows[1][0] == "round"
    response = client.get(f"/dashboard/rounds/{round_.id}/report.xlsx")
    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(response.get_data()))
    sheet = book.active
    assert [c.value for c in sheet[1]][:3] == ["scope", "key", "name"]
    assert client.get("/dashboard/rounds/999999/report.csv").status_code == 404


def test_the_report_as_a_pdf_from_the_page(web, session):
    from pypdf import PdfReader

    round_ = populate(session)
    client = signed_in(web, session, "minh", "manager")
    assert f'href="/dashboard/rounds/{round_.id}/report.pdf"' in page_of(
        client, f"/dashboard/rounds/{round_.id}"
    )
    response = client.get(f"/dashboard/rounds/{round_.id}/report.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"].endswith('-report.pdf"')
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(response.data)).pages)
    assert "Báo cáo kết quả khảo sát" in text and "Tỷ lệ trả lời" in text
    from cati.models import Office

    office = session.scalar(select(Office.name).where(Office.code == "HL"))
    assert office.split()[-1] in text
    assert client.get("/dashboard/rounds/999999/report.pdf").status_code == 404
    interviewer = signed_in(web, session, "lan", "interviewer")
    assert interviewer.get(f"/dashboard/rounds/{round_.id}/report.pdf").status_code == 403


def test_export_downloads_stream_one_row_per_member(web, session):
    round_ = populate(session)
    client = signed_in(web, session, "minh", "manager")
    response = client.get(f"/dashboard/rounds/{round_.id}/export.csv")
    assert response.status_code == 200 and response.is_streamed
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][0] == "dossier_code" and len(rows) == 1 + 13
    assert "Cán bộ hướng dẫn rất tận tình." in {c for r in rows for c in r}
    xlsx = client.get(f"/dashboard/rounds/{round_.id}/export.xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.get_data())).active
    assert sheet.max_row == 14
    trend = client.get("/dashboard/trend/download.csv?from=2026-W46&to=2026-W48")
    assert trend.status_code == 200 and "2026-W47" in trend.get_data(as_text=True)


# Who may open what: every role against every page.

ROLES = ("interviewer", "manager", "admin", "office")
ROUTES = [
    # (path, roles answered 200; the others get 403)
    ("/dashboard", {"manager", "admin"}),
    ("/dashboard/rounds/{round}", {"manager", "admin"}),
    ("/dashboard/trend", {"manager", "admin"}),
    ("/dashboard/rounds/{round}/report.csv", {"manager", "admin"}),
    ("/dashboard/rounds/{round}/report.xlsx", {"manager", "admin"}),
    ("/dashboard/rounds/{round}/export.csv", {"manager", "admin"}),
    ("/dashboard/rounds/{round}/export.xlsx", {"manager", "admin"}),
    ("/dashboard/trend/download.csv", {"manager", "admin"}),
    ("/dashboard/trend/download.xlsx", {"manager", "admin"}),
    ("/dashboard/counter/flagged", {"manager", "admin"}),
    ("/dashboard/counter/flagged?show=accepted", {"manager", "admin"}),
    ("/dashboard/counter/flagged/accept?all=1", {"manager", "admin"}),
    ("/admin/users", {"admin"}),
    ("/admin/users/{user}/password", {"admin"}),
    ("/admin/scheduler", {"admin"}),
    ("/console", {"interviewer", "admin"}),
    ("/console/stats", {"interviewer", "manager", "admin"}),
    ("/followups", {"office", "manager", "admin"}),
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("path", "allowed"), ROUTES, ids=[p for p, _ in ROUTES])
def test_every_role_against_every_route(web, session, role, path, allowed):
    from tests.factories import create_office, create_user

    round_ = create_round(session)
    create_member(session, round_)
    user = create_user(session, "nguoi", role)
    if role == "office":
        user.office_id = create_office(session, "DH").id
    session.flush()
    client = signed_in_as(web, "nguoi")
    url = path.format(round=round_.id, user=user.id)
    assert client.get(url).status_code == (200 if role in allowed else 403)


def signed_in_as(web, username):
    from tests.web.test_console_pages import token

    client = web.test_client()
    page = client.get("/login").get_data(as_text=True)
    response = client.post(
        "/login",
        data={"username": username, "password": "correct horse 1", "csrf_token": token(page)},
    )
    assert response.status_code == 302
    return client


@pytest.mark.parametrize(
    ("role", "entries"),
    [
        ("interviewer", ["/console", "/console/stats"]),
        ("manager", ["/dashboard", "/dashboard/trend", "/dashboard/counter/flagged",
                     "/console/stats", "/followups"]),
        ("admin", ["/dashboard", "/dashboard/trend", "/dashboard/counter/flagged",
                   "/console/stats", "/followups", "/admin/users", "/admin/scheduler"]),
        ("office", ["/followups"]),
    ],
)  # fmt: skip
def test_the_menu_shows_the_pages_of_the_role(web, session, role, entries):
    from tests.factories import create_office

    user = signed_in(web, session, "nguoi", role)
    if role == "office":
        from cati.models import User

        session.scalar(select(User).where(User.username == "nguoi")).office_id = create_office(
            session, "DH"
        ).id
        session.flush()
    page = page_of(user, entries[0])
    menu = page[page.index('data-testid="menu"') : page.index("</nav>")]
    assert re.findall(r'<a href="([^"]+)"', menu) == entries
    assert 'aria-current="page"' in menu


def test_round_not_found_and_closed_rounds(web, session):
    round_ = populate(session, status="closed")
    client = signed_in(web, session, "minh", "manager")
    page = page_of(client, f"/dashboard/rounds/{round_.id}")
    assert "Đã kết thúc" in page and "Đang gọi" not in page
    assert client.get("/dashboard/rounds/424242").status_code == 404
    assert session.get(Round, round_.id) is not None
