"""Closing the loop in the console, through the test client (CSRF on): the callbacks apart
from survey cases in the queue, the callback screen, its answer; and the contact question on
the case screen."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import select

from cati.models import Answer, FollowUp
from tests.conftest import NOW
from tests.factories import create_member, create_round
from tests.services.test_callbacks import resolved
from tests.services.test_console import COMPLETE
from tests.web.test_console_pages import post, signed_in, token
from tests.web.test_console_pages import web as web


@pytest.fixture
def flows(settings):
    from cati.services.flows import load_flows

    return load_flows(settings.flows_dir)


def test_the_queue_shows_callbacks_apart_and_one_is_made(web, session, flows):
    follow_up_id = resolved(session, flows)
    client = signed_in(web, session)
    queue = client.get("/console").get_data(as_text=True)
    assert 'data-testid="count-callbacks">1<' in queue and 'data-testid="count-due">0<' in queue
    assert "Gọi lại báo kết quả xử lý" in queue
    response = post(client, "/console", "/console/callbacks/next")
    assert response.headers["Location"] == f"/console/callback/{follow_up_id}"
    page = client.get(f"/console/callback/{follow_up_id}").get_data(as_text=True)
    assert "Đã hoàn lại 200.000 đồng" in page  # what was done, read as a script
    assert "anh/chị có hài lòng" in page.lower()
    assert 'data-testid="phone-number"' in page
    # the queue offers to continue it rather than take another
    assert 'data-testid="continue-callback"' in client.get("/console").get_data(as_text=True)
    # no answer chosen: refused, said beside the question
    refused = client.post(f"/console/callback/{follow_up_id}", data={"csrf_token": token(page)})
    assert refused.status_code == 422
    assert "Hãy chọn Hài lòng hoặc Không hài lòng" in refused.get_data(as_text=True)
    done = client.post(f"/console/callback/{follow_up_id}",
                       data={"csrf_token": token(page), "satisfied": "yes"})  # fmt: skip
    assert done.status_code == 302 and done.headers["Location"] == "/console"
    session.expire_all()
    row = session.get(FollowUp, follow_up_id)
    assert (row.callback_satisfied, row.callback_at) == (True, NOW)
    assert client.get(f"/console/callback/{follow_up_id}").status_code == 404
    assert 'data-testid="count-callbacks">0<' in client.get("/console").get_data(as_text=True)


def test_an_unreached_citizen_is_returned_to_the_queue(web, session, flows):
    follow_up_id = resolved(session, flows)
    client = signed_in(web, session)
    post(client, "/console", "/console/callbacks/next")
    response = post(client, f"/console/callback/{follow_up_id}",
                    f"/console/callback/{follow_up_id}/release")  # fmt: skip
    assert response.status_code == 302
    session.expire_all()
    assert session.get(FollowUp, follow_up_id).callback_claimed_by is None
    assert 'data-testid="next-callback"' in client.get("/console").get_data(as_text=True)


def test_another_interviewers_callback_is_gone(web, session, flows):
    follow_up_id = resolved(session, flows)
    lan = signed_in(web, session)
    post(lan, "/console", "/console/callbacks/next")
    minh = signed_in(web, session, "minh")
    assert minh.get(f"/console/callback/{follow_up_id}").status_code == 404
    assert "Hiện không có người dân nào cần gọi lại" in minh.get("/console").get_data(as_text=True)


def test_the_office_sees_the_citizens_answer(web, session, flows):
    from tests.web.test_followups_pages import signed_in as office_signed_in

    follow_up_id = resolved(session, flows)
    row = session.get(FollowUp, follow_up_id)
    client, _ = office_signed_in(web, session, "quanly", "manager")
    page = client.get(f"/followups/{follow_up_id}").get_data(as_text=True)
    assert "Chờ gọi lại" in page
    row.callback_satisfied, row.callback_at = False, NOW
    session.flush()
    page = client.get(f"/followups/{follow_up_id}").get_data(as_text=True)
    assert "Không hài lòng với cách giải quyết" in page


def test_the_case_screen_has_the_contact_question(web, session):
    round_ = create_round(session)
    round_.mode = "interviewer"
    create_member(session, round_)
    client = signed_in(web, session)
    case_url = post(client, "/console", "/console/next").headers["Location"]
    page = client.get(case_url).get_data(as_text=True)
    assert 'data-testid="contact-consent"' in page and 'data-raised="false"' in page
    assert "Anh/chị có đồng ý để Sở Nội vụ liên hệ lại" in page
    rules = json.loads(re.search(r'id="follow-up-keys">([^<]*)<', page).group(1))
    assert rules["overall"] == ["1", "2", "3"] and rules["comment"] == ["1"]
    form = {f"answer-{k}": v for k, v in {**COMPLETE, "overall": "2"}.items()}
    response = client.post(case_url + "/save", data={"csrf_token": token(page), **form,
                           "answer-contact_consent": "1"})  # fmt: skip
    assert response.status_code == 302
    page = client.get(case_url).get_data(as_text=True)
    assert 'data-raised="true"' in page
    assert re.search(r'value="1"\s+data-testid="answer-contact_consent" checked', page)
    session.expire_all()
    assert session.scalar(select(FollowUp.contact_allowed)) is True
    assert session.scalar(select(Answer.value).where(Answer.question_id == "contact_consent"))


def test_an_office_user_cannot_reach_callbacks(web, session, flows):
    from tests.web.test_followups_pages import signed_in as office_signed_in

    follow_up_id = resolved(session, flows)
    client, _ = office_signed_in(web, session, "motcua.dh", "office", "DH")
    assert client.get(f"/console/callback/{follow_up_id}").status_code == 403
    page = client.get("/followups").get_data(as_text=True)
    assert (
        client.post("/console/callbacks/next", data={"csrf_token": token(page)}).status_code == 403
    )
