"""`/followups` through the test client, CSRF on: an office's isolation, identity only with
consent, managers see all, closing needs a note."""

from __future__ import annotations

import re

import pytest

from cati.models import FollowUp
from cati.services.flows import load_flows
from cati.services.follow_ups import raise_for_answer
from cati.web import create_app
from tests.conftest import NOW
from tests.factories import create_member, create_office, create_round, create_user

PASSWORD = "correct horse 1"


@pytest.fixture
def web(runtime):
    return create_app(runtime, {"TESTING": True, "WTF_CSRF_ENABLED": True})


@pytest.fixture
def raised(session, settings):
    """DH's follow-up (no consent asked) and HL's, with a citizen's name and number."""
    mscore = load_flows(settings.flows_dir)["mscore"]
    round_ = create_round(session)
    dh = create_member(session, round_, office_code="DH", citizen_name="Trần Thị Bình",
                       procedure_name="Đăng ký khai sinh")  # fmt: skip
    hl = create_member(session, round_, office_code="HL", citizen_name="Lê Văn Cường")
    ids = [
        raise_for_answer(session, mscore, dh.id, "paid_without_receipt", "1", NOW),
        raise_for_answer(session, mscore, hl.id, "overall", "1", NOW),
    ]
    session.flush()
    return ids, (dh, hl)


def token(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def signed_in(web, session, username, role, office_code=None):
    user = create_user(session, username, role)
    if office_code:
        user.office_id = create_office(session, office_code).id
        session.flush()
    client = web.test_client()
    page = client.get("/login").get_data(as_text=True)
    response = client.post(
        "/login", data={"username": username, "password": PASSWORD, "csrf_token": token(page)}
    )
    assert response.status_code == 302
    return client, response.headers["Location"]


def test_an_office_lands_on_its_follow_ups_and_sees_only_its_own(web, session, raised):
    (dh_id, hl_id), (dh, _) = raised
    client, home = signed_in(web, session, "motcua.dh", "office", "DH")
    assert home == "/followups"
    page = client.get("/followups").get_data(as_text=True)
    assert f'data-testid="followup-{dh_id}"' in page
    assert f'data-testid="followup-{hl_id}"' not in page
    assert "Nộp tiền không có biên lai" in page  # Vietnamese by default
    assert "Trần Thị Bình" not in page and dh.phone not in page
    assert client.get(f"/followups/{hl_id}").status_code == 404
    other = client.post(f"/followups/{hl_id}", data={"csrf_token": token(page),
                        "status": "in_progress"})  # fmt: skip
    assert other.status_code == 404
    assert session.get(FollowUp, hl_id).status == "new"


def test_an_office_sees_no_identity_without_consent(web, session, raised):
    (dh_id, _), (dh, _) = raised
    client, _ = signed_in(web, session, "motcua.dh", "office", "DH")
    page = client.get(f"/followups/{dh_id}").get_data(as_text=True)
    assert 'data-testid="identity-hidden"' in page
    assert "Trần Thị Bình" not in page and dh.phone not in page
    assert dh.case.dossier_code not in page
    session.get(FollowUp, dh_id).contact_allowed = True
    session.flush()
    page = client.get(f"/followups/{dh_id}").get_data(as_text=True)
    assert "Trần Thị Bình" in page and dh.phone in page


@pytest.mark.parametrize("path", ["/dashboard", "/console"])
def test_an_office_never_sees_survey_data(web, session, raised, path):
    client, _ = signed_in(web, session, "motcua.dh", "office", "DH")
    assert client.get(path).status_code == 403


def test_an_interviewer_cannot_open_follow_ups(web, session, raised):
    client, _ = signed_in(web, session, "lan", "interviewer")
    assert client.get("/followups").status_code == 403


def test_a_manager_sees_every_office_with_identity(web, session, raised):
    (dh_id, hl_id), _ = raised
    client, _ = signed_in(web, session, "quanly", "manager")
    page = client.get("/followups").get_data(as_text=True)
    assert f'data-testid="followup-{dh_id}"' in page and f'data-testid="followup-{hl_id}"' in page
    detail = client.get(f"/followups/{hl_id}").get_data(as_text=True)
    assert "Lê Văn Cường" in detail


def test_closing_needs_a_note_then_is_audited(web, session, raised):
    (dh_id, _), _ = raised
    client, _ = signed_in(web, session, "motcua.dh", "office", "DH")
    page = client.get(f"/followups/{dh_id}").get_data(as_text=True)
    refused = client.post(f"/followups/{dh_id}", data={"csrf_token": token(page),
                          "status": "resolved", "note": " "})  # fmt: skip
    assert refused.status_code == 422
    assert "Cần ghi rõ nội dung đã xử lý" in refused.get_data(as_text=True)
    assert session.get(FollowUp, dh_id).status == "new"
    done = client.post(f"/followups/{dh_id}", data={"csrf_token": token(page),
                       "status": "resolved", "note": "Đã hoàn lại tiền"})  # fmt: skip
    assert done.status_code == 302
    session.expire_all()
    assert session.get(FollowUp, dh_id).status == "resolved"
    history = client.get(f"/followups/{dh_id}").get_data(as_text=True)
    assert "motcua.dh" in history and "Đã hoàn lại tiền" in history


def test_no_inline_scripts_or_styles(web, session, raised):
    (dh_id, _), _ = raised
    client, _ = signed_in(web, session, "quanly", "manager")
    for path in ("/followups", f"/followups/{dh_id}"):
        html = client.get(path).get_data(as_text=True)
        assert "<script" not in html and "<style" not in html and " style=" not in html


@pytest.mark.parametrize(
    ("status", "note"),
    [("not_responsible", ""), ("resolved", "Đã kiểm tra, " + "x" * 4000)],
    ids=["no note", "note too long"],
)
def test_a_refused_change_keeps_the_status_picked_and_the_note_typed(
    web, session, raised, status, note
):
    (dh_id, _), _ = raised
    client, _ = signed_in(web, session, "motcua.dh", "office", "DH")
    page = client.get(f"/followups/{dh_id}").get_data(as_text=True)
    assert re.search(r'<option value="in_progress" selected>', page) is None
    refused = client.post(f"/followups/{dh_id}", data={"csrf_token": token(page),
                          "status": status, "note": note})  # fmt: skip
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert re.findall(r'<option value="(\w+)" selected>', html) == [status]
    assert f">{note}</textarea>" in html
    assert session.get(FollowUp, dh_id).status == "new"
