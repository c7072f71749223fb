"""The console's pages through the test client, CSRF on: roles, the queue, a case worked."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from cati.domain.job_results import JobResult
from cati.models import Answer, Attempt, AuditEvent, Member
from cati.services.scheduler import (
    JOB_NAMES,
    LEADER,
    NodeInfo,
    beat,
    record_job_run,
    register_jobs,
)
from cati.web import create_app
from tests.conftest import NOW
from tests.factories import create_member, create_round, create_user
from tests.services.test_console import COMPLETE

PASSWORD = "correct horse 1"


@pytest.fixture
def web(runtime):
    return create_app(runtime, {"TESTING": True, "WTF_CSRF_ENABLED": True})


@pytest.fixture
def members(session):
    round_ = create_round(session)
    round_.mode = "interviewer"
    return [create_member(session, round_, procedure_name="Đăng ký khai sinh") for _ in range(2)]


def token(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def signed_in(web, session, username="lan", role="interviewer"):
    create_user(session, username, role)
    client = web.test_client()
    page = client.get("/login").get_data(as_text=True)
    response = client.post(
        "/login", data={"username": username, "password": PASSWORD, "csrf_token": token(page)}
    )
    assert response.status_code == 302
    return client


def post(client, page_url: str, action: str, **data):
    page = client.get(page_url).get_data(as_text=True)
    return client.post(action, data={"csrf_token": token(page), **data})


def test_an_interviewer_works_a_case_from_the_queue(web, session, members):
    client = signed_in(web, session)
    queue = client.get("/console").get_data(as_text=True)
    assert 'data-testid="next-case"' in queue and 'data-testid="count-due">2<' in queue
    response = post(client, "/console", "/console/next")
    case_url = response.headers["Location"]
    assert re.fullmatch(r"/console/case/\d+", case_url)
    page = client.get(case_url).get_data(as_text=True)
    for testid in (
        "show-number",
        "answer-consent",
        "answer-overall",
        "attempt-outcome",
        "appointment-at",
        "save-case",
        "release-case",
    ):
        assert f'data-testid="{testid}"' in page
    assert members[0].phone not in page and "Đăng ký khai sinh" in page
    shown = post(client, case_url, f"{case_url}/show-number").get_data(as_text=True)
    assert members[0].phone in shown
    answers = {f"answer-{question}": key for question, key in COMPLETE.items()}
    done = post(client, case_url, f"{case_url}/save", outcome="complete", **answers)
    assert done.status_code == 302 and done.headers["Location"] == "/console"
    session.expire_all()
    member = session.get(Member, members[0].id)
    assert (member.status, member.disposition) == ("final", "1.1")
    actions = session.scalars(select(AuditEvent.action)).all()
    assert {"show_number", "save_answers", "record_outcome"} <= set(actions)
    assert client.get(case_url).status_code == 404  # closed: no longer on this screen


def test_a_bad_answer_is_shown_and_nothing_is_saved(web, session, members):
    client = signed_in(web, session)
    case_url = post(client, "/console", "/console/next").headers["Location"]
    response = post(client, case_url, f"{case_url}/save", **{"answer-consent": "7"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    # in the page's language, by the field, the question named by its label
    assert re.search(
        r'<fieldset class="choices choices-choice" aria-describedby="error-consent">.*'
        r'<p class="field-error" id="error-consent" role="alert" data-testid="error-consent">'
        r"Câu 1 \(Đồng ý tham gia\): “7” không phải là câu trả lời hợp lệ.</p>",
        page,
        re.S,
    )
    assert "is not an answer" not in page


def test_autosave_answers_json(web, session, members):
    client = signed_in(web, session)
    case_url = post(client, "/console", "/console/next").headers["Location"]
    page = client.get(case_url).get_data(as_text=True)
    response = client.post(
        f"{case_url}/save",
        data={"answer-consent": "1"},
        headers={"Accept": "application/json", "X-CSRFToken": token(page)},
    )
    assert response.status_code == 200 and response.json == {"saved": True}


def test_forms_without_a_csrf_token_are_refused(web, session, members):
    client = signed_in(web, session)
    assert client.post("/console/next").status_code == 400


@pytest.mark.parametrize(("role", "status"), [("manager", 403), ("admin", 200)])
def test_only_interviewers_and_admins_use_the_console(web, session, role, status):
    client = signed_in(web, session, "minh", role)
    assert client.get("/console").status_code == status


def test_someone_elses_case_is_not_found(web, session, members):
    first = signed_in(web, session, "lan")
    case_url = post(first, "/console", "/console/next").headers["Location"]
    second = signed_in(web, session, "minh")
    assert second.get(case_url).status_code == 404


def test_stats_page(web, session, members):
    client = signed_in(web, session)
    case_url = post(client, "/console", "/console/next").headers["Location"]
    post(client, case_url, f"{case_url}/save", outcome="busy")
    page = client.get("/console/stats").get_data(as_text=True)
    assert 'data-testid="stats"' in page and "23/11/2026" in page and "lan" in page


@pytest.mark.parametrize(("role", "status"), [("manager", 200), ("interviewer", 401)])
def test_the_report_api_takes_a_managers_session(web, session, members, role, status):
    client = signed_in(web, session, "minh", role)
    assert client.get(f"/api/rounds/{members[0].round_id}/report").status_code == status


def test_the_dashboard_lists_rounds_and_shows_a_round(web, session, members):
    client = signed_in(web, session, "minh", "manager")
    page = client.get("/dashboard").get_data(as_text=True)
    round_id = members[0].round_id
    assert 'data-testid="rounds"' in page
    assert f'data-testid="progress-{round_id}-complete"' in page and "0/2" in page
    detail = client.get(f"/dashboard/rounds/{round_id}")
    assert detail.status_code == 200 and 'data-testid="offices"' in detail.get_data(as_text=True)
    assert client.get("/dashboard/rounds/424242").status_code == 404


def test_the_dashboard_says_whether_the_scheduler_runs(web, session):
    client = signed_in(web, session, "minh", "manager")
    page = client.get("/dashboard").get_data(as_text=True)
    # One line on the dashboard; the scheduler's state is the admins' page.
    assert 'data-testid="scheduler-down"' in page and "không gọi điện" in page
    assert 'data-testid="scheduler-jobs"' not in page
    admin = signed_in(web, session, "an", "admin")
    beat(session, NodeInfo("app-1:7:x", "app-1", 7, NOW), role=LEADER, now=NOW)
    register_jobs(session, JOB_NAMES)
    sampled = JobResult("sampled", week="2026-W47", rounds=[{"flow": "mscore", "id": 1,
                                                             "members": 431}])  # fmt: skip
    record_job_run(session, "sampling", ran_at=NOW - timedelta(hours=3), result=sampled,
                   next_run_at=NOW + timedelta(days=7))  # fmt: skip
    record_job_run(session, "closing", ran_at=NOW, result="a line of an older version",
                   next_run_at=None)  # fmt: skip
    session.flush()
    assert 'data-testid="scheduler-down"' not in client.get("/dashboard").get_data(as_text=True)
    page = admin.get("/admin/scheduler").get_data(as_text=True)
    assert "Đang chạy trên máy app-1 (pid 7) từ 23/11/2026 10:00." in page  # local time
    assert "Lấy mẫu hằng tuần</td><td>23/11/2026 07:00</td>" in page
    # The result in the page's language; a plain line (no figures kept) as it is.
    assert "<td>30/11/2026 10:00</td><td>2026-W47: mscore đợt 1 đã chọn 431 người</td>" in page
    assert "<td>a line of an older version</td>" in page
    assert post(admin, "/admin/scheduler", "/language", language="en").status_code == 302
    page = admin.get("/admin/scheduler").get_data(as_text=True)
    assert "<td>2026-W47: mscore round 1 sampled, 431 members</td>" in page


def test_interviewers_cannot_open_the_dashboard(web, session):
    client = signed_in(web, session, "lan", "interviewer")
    assert client.get("/dashboard").status_code == 403


def test_dashboard_highlights_offices_past_the_thresholds(web, session, members):
    from cati.models import Answer, Round
    from tests.conftest import NOW

    round_ = session.get(Round, members[0].round_id)
    more = [create_member(session, round_) for _ in range(3)]
    for member, key in zip([*members, *more], ["1", "2", "2", "2", "2"], strict=True):
        session.add(
            Answer(
                member_id=member.id, question_id="paid_without_receipt", value=key, answered_at=NOW
            )
        )
    session.flush()
    client = signed_in(web, session, "minh", "manager")
    page = client.get(f"/dashboard/rounds/{members[0].round_id}").get_data(as_text=True)
    assert re.search(r'class="num warn" data-testid="paid_without_receipt-DH">20,0\xa0%', page)


def test_the_dashboard_interval_stays_on_the_scale(web, session, members):
    from cati.models import Answer

    for member, key in zip(members, ["6", "8"], strict=True):
        session.add(Answer(member_id=member.id, question_id="overall", value=key, answered_at=NOW))
    session.flush()
    client = signed_in(web, session, "minh", "manager")
    page = client.get(f"/dashboard/rounds/{members[0].round_id}").get_data(as_text=True)
    assert 'data-testid="mean-overall">7,00<' in page
    assert 'data-testid="ci-overall">1,00–9,00<' in page  # not -5,71–19,71


def test_the_trend_page_compares_weeks(web, session, members):
    client = signed_in(web, session, "minh", "manager")
    page = client.get("/dashboard/trend?to=2026-W48&weeks=4").get_data(as_text=True)
    assert 'data-testid="trend"' in page and "Tuần 47/2026 (16/11–22/11/2026)" in page
    assert 'name="from" value="2026-W45"' in page and 'name="to" value="2026-W48"' in page
    assert client.get("/dashboard/trend?to=nonsense").status_code == 400


def test_notes_over_the_limit_are_refused_in_vietnamese_and_the_form_comes_back(
    web, session, members
):
    client = signed_in(web, session)
    case_url = post(client, "/console", "/console/next").headers["Location"]
    notes = "gọi lại sau <14 giờ> " + "x" * 2000
    response = post(
        client, case_url, f"{case_url}/save",
        outcome="busy", notes=notes, appointment_at="2026-11-23T15:00", **{"answer-consent": "1"},
    )  # fmt: skip
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert f"Ghi chú dài {len(notes.strip())} ký tự, vượt quá giới hạn 2000 ký tự" in page
    # What was typed is all there to shorten and save again.
    assert "gọi lại sau &lt;14 giờ&gt; " + "x" * 2000 + "</textarea>" in page
    assert '<option value="busy" selected>' in page
    assert 'value="2026-11-23T15:00"' in page
    assert re.search(r'name="answer-consent"[^>]*value="1"', page)
    # And nothing was written: no answer, no outcome, no notes.
    session.expire_all()
    member = session.get(Member, members[0].id)
    assert (member.status, member.notes) == ("in_progress", None)
    assert session.scalars(select(Answer)).all() == []
    assert session.scalars(select(Attempt.outcome)).all() == [None]

    ok = post(client, case_url, f"{case_url}/save", outcome="busy", notes="y" * 2000)
    assert ok.status_code == 302
    session.expire_all()
    assert session.get(Member, members[0].id).notes == "y" * 2000


def test_the_notes_limit_is_said_in_english_too(web, session, members):
    client = signed_in(web, session)
    post(client, "/console", "/language", language="en", next="/console")
    case_url = post(client, "/console", "/console/next").headers["Location"]
    response = post(client, case_url, f"{case_url}/save", outcome="busy", notes="z" * 2001)
    assert response.status_code == 422
    assert "The notes are 2001 characters long, over the limit of 2000" in response.get_data(
        as_text=True
    )
    page = client.get(case_url).get_data(as_text=True)
    json = client.post(
        f"{case_url}/save",
        data={"outcome": "busy", "notes": "z" * 2001},
        headers={"Accept": "application/json", "X-CSRFToken": token(page)},
    )
    assert json.status_code == 422 and "over the limit of 2000" in json.json["error"]


def test_a_refused_value_is_quoted_back_cut_short(web, session, members):
    client = signed_in(web, session)
    case_url = post(client, "/console", "/console/next").headers["Location"]
    for field, shown in (("answer-consent", "consent"), ("appointment_at", "appointment_at")):
        data = {field: "7" * 100_000, "outcome": "appointment" if field == "appointment_at" else ""}
        response = post(client, case_url, f"{case_url}/save", **data)
        assert response.status_code == 422
        page = response.get_data(as_text=True)
        error = re.search(rf'data-testid="error-{shown}">([^<]*)<', page)[1]
        assert "7" * 39 + "…" in error and len(error) < 200


def test_a_vanished_case_is_a_page_in_the_users_language(web, session, members):
    client = signed_in(web, session)
    case_url = post(client, "/console", "/console/next").headers["Location"]
    post(client, case_url, f"{case_url}/release")
    for response in (client.get(case_url), post(client, "/console", f"{case_url}/save")):
        page = response.get_data(as_text=True)
        assert response.status_code == 404 and 'data-testid="case-gone"' in page
        assert "Hồ sơ không còn" in page and 'href="/console"' in page and "Not Found" not in page


def test_the_number_is_revealed_as_json_the_national_way(web, session, members):
    client = signed_in(web, session)
    case_url = post(client, "/console", "/console/next").headers["Location"]
    page = client.get(case_url).get_data(as_text=True)
    response = client.post(f"{case_url}/show-number", data={"csrf_token": token(page)},
                           headers={"Accept": "application/json"})  # fmt: skip
    phone = members[0].phone
    assert response.json == {"phone": phone, "display": f"0{phone[3:6]} {phone[6:9]} {phone[9:]}"}


def test_a_refused_save_comes_back_with_everything_typed(web, session, members):
    client = signed_in(web, session)
    case_url = post(client, "/console", "/console/next").headers["Location"]
    post(client, case_url, f"{case_url}/show-number")
    response = post(client, case_url, f"{case_url}/save", **{
        "answer-consent": "1", "answer-staff_attitude": "x", "outcome": "appointment",
        "appointment_at": "24/11/2026 14:30", "notes": "Gọi lại buổi chiều", "phone_revealed": "1",
    })  # fmt: skip
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'data-testid="error-staff_attitude"' in page and "Câu 2 (Thái độ cán bộ)" in page
    assert re.search(r'id="answer-consent-1"[^>]*\schecked>', page)  # consent still chosen
    assert '<option value="appointment" selected>' in page
    assert 'value="24/11/2026 14:30"' in page and "Gọi lại buổi chiều</textarea>" in page
    assert 'data-testid="phone-number"' in page and f"tel:{members[0].phone}" in page
    typed = {"answer-consent": "1", "outcome": "appointment", "appointment_at": "mai 3 giờ"}
    wrong_time = post(client, case_url, f"{case_url}/save", **typed)
    page = wrong_time.get_data(as_text=True)
    assert 'data-testid="error-appointment_at"' in page and "“mai 3 giờ”" in page


def test_the_queue_explains_itself(web, session, members, runtime):
    from datetime import UTC, datetime

    client = signed_in(web, session)
    page = client.get("/console").get_data(as_text=True)
    assert 'data-testid="today-calls">0<' in page and 'data-testid="why-nothing"' not in page
    runtime.clock = lambda: datetime(2026, 11, 23, 5, 0, tzinfo=UTC)  # 12:00 local
    page = client.get("/console").get_data(as_text=True)
    assert "Đang ngoài giờ gọi. Giờ gọi tiếp theo bắt đầu lúc 13:30 23/11/2026." in page
    flashed = client.post("/console/next", data={"csrf_token": token(page)}, follow_redirects=True)
    assert "Đang ngoài giờ gọi" in flashed.get_data(as_text=True)
