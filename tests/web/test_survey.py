"""The personal survey page `/s/<token>` (issue 15, web mode): one question per screen, each
answer saved as given through the IVR's save_answer, resumable, a last page that changes
nothing, GET that changes nothing, CSRF without a prior cookie, refusals and opt-outs,
unknown, tampered and expired links."""

from __future__ import annotations

import dataclasses
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from cati.models import Answer, Attempt, FollowUp, FollowUpReason, Member, OptOut, Round
from cati.services.members import member_report
from cati.web import create_app
from tests.conftest import NOW, TZ
from tests.factories import create_web_member

ALL = [("consent", "1"), ("staff_attitude", "9"), ("guidance_quality", "8"), ("on_time", "1"),
       ("asked_to_return", "2"), ("paid_without_receipt", "2"), ("overall", "9")]  # fmt: skip


@pytest.fixture
def web(session, runtime):
    member, token = create_web_member(
        session, runtime.settings.secret_key, procedure_name="Đăng ký khai sinh"
    )
    return member, token


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html)[1]


def post(client, token, question, answer=None, comment=None):
    page = client.get(f"/s/{token}").get_data(as_text=True)
    data = {"csrf_token": csrf_of(page), "question": question}
    if answer is not None:
        data["answer"] = answer
    if comment is not None:
        data["comment"] = comment
    return client.post(f"/s/{token}", data=data)


def answer_all(client, token, answers=ALL, comment=""):
    for question, key in answers:
        response = post(client, token, question, key)
        assert response.status_code == 303, response.get_data(as_text=True)
    return post(client, token, "comment", comment=comment)


def test_the_first_screen_is_consent_with_a_plain_decline_and_changes_nothing(client, web, session):
    _member, token = web
    response = client.get(f"/s/{token}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'data-testid="answer-consent"' in html and 'data-testid="survey-next"' in html
    assert "Tôi không muốn tham gia" in html
    assert "Đăng ký khai sinh" in html and "tự nguyện" in html
    assert "bấm" not in html.lower().replace("bấm “tiếp tục”", "")  # no keypad words
    assert session.scalar(select(func.count()).select_from(Attempt)) == 0
    assert response.headers["Set-Cookie"].startswith("session=")  # the GET opens the session


def test_a_whole_survey_completes_as_1_1_with_a_web_attempt(client, web, session):
    member, token = web
    page = client.get(f"/s/{token}").get_data(as_text=True)
    assert "Câu" not in page.split("<main")[1].split("<form")[0]  # consent is not numbered
    post(client, token, "consent", "1")
    page = client.get(f"/s/{token}").get_data(as_text=True)
    assert "Câu 1/7" in page and "Ông/Bà đánh giá thái độ" in page
    response = answer_all(client, token, ALL[1:], comment="Nên có thêm ghế chờ")
    assert response.status_code == 303
    # A comment raises a follow-up: the contact question comes last, then the thank-you page.
    contact = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'data-testid="answer-contact_consent"' in contact and "Sở Nội vụ" in contact
    response = post(client, token, "contact_consent", "1")
    assert response.status_code == 303
    done = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'data-testid="survey-done"' in done
    session.expire_all()
    member = session.get(Member, member.id)
    assert (member.status, member.disposition, member.attempt_count) == ("final", "1.1", 0)
    report = member_report(session, member.case.dossier_code, TZ)
    assert [(a["mode"], a["outcome"]) for a in report["attempts"]] == [("web", "complete")]
    assert report["answers"]["overall"] == "9"
    assert report["comments"] == {"comment": "Nên có thêm ghế chờ"}
    # the comment raised its follow-up, as on the phone
    reasons = session.scalars(
        select(FollowUpReason.reason)
        .join(FollowUp, FollowUp.id == FollowUpReason.follow_up_id)
        .where(FollowUp.member_id == member.id)
    ).all()
    assert reasons == ["comment"]
    # the citizen agreed to be contacted, on the visit that completed the survey
    assert session.scalar(select(FollowUp.contact_allowed).where(FollowUp.member_id == member.id))
    assert session.scalar(select(func.count()).select_from(Attempt)) == 1


def test_the_contact_question_declined_or_left_keeps_the_complete(client, web, session):
    member, token = web
    answer_all(client, token, comment="Phải chờ lâu")
    session.expire_all()
    assert session.get(Member, member.id).disposition == "1.1"  # left here: still a complete
    page = client.get(f"/s/{token}").get_data(as_text=True)
    assert 'data-testid="answer-contact_consent"' in page and "Không rõ" not in page
    assert post(client, token, "contact_consent", "0").status_code == 422  # yes or no only
    assert post(client, token, "contact_consent", "2").status_code == 303
    allowed = select(FollowUp.contact_allowed).where(FollowUp.member_id == member.id)
    assert session.scalar(allowed) is False
    before = dump(session)
    post_to(client, token, "contact_consent", "1", page)  # asked once: a second changes nothing
    assert dump(session) == before


def test_after_the_last_page_the_link_shows_only_it_and_changes_nothing(client, web, session):
    _member, token = web
    page = client.get(f"/s/{token}").get_data(as_text=True)
    answer_all(client, token)
    before = dump(session)
    response = post_to(client, token, "overall", "1", page)
    assert response.status_code == 303
    assert 'data-testid="survey-done"' in client.get(f"/s/{token}").get_data(as_text=True)
    assert client.get(f"/s/{token}?q=consent").get_data(as_text=True).count("survey-done") == 1
    assert dump(session) == before


def test_declining_is_one_tap_a_refusal_and_an_opt_out(client, web, session):
    member, token = web
    response = post(client, token, "consent", "2")
    assert response.status_code == 303
    html = client.get(f"/s/{token}").get_data(as_text=True)
    assert 'data-testid="survey-done"' in html and "không muốn tham gia" in html
    session.expire_all()
    member = session.get(Member, member.id)
    assert (member.status, member.disposition) == ("final", "2.11")
    assert session.scalar(select(OptOut.id).where(OptOut.phone == member.phone)) is not None
    attempt = session.scalar(select(Attempt).where(Attempt.member_id == member.id))
    assert (attempt.mode, attempt.outcome) == ("web", "refused")


def test_left_half_way_is_a_partial_then_resumed_from_the_same_link(client, web, session):
    member, token = web
    for question, key in ALL[:5]:
        post(client, token, question, key)
    session.expire_all()
    attempt = session.scalar(select(Attempt).where(Attempt.member_id == member.id))
    assert (attempt.mode, attempt.outcome, attempt.status) == ("web", "partial", "in-progress")
    assert session.get(Member, member.id).status == "pending"
    html = client.get(f"/s/{token}").get_data(as_text=True)
    assert "Câu 5/7" in html and 'name="question" value="paid_without_receipt"' in html


def test_a_break_off_by_the_phone_rule(client, web, session):
    member, token = web
    post(client, token, "consent", "1")
    post(client, token, "staff_attitude", "5")
    session.expire_all()
    attempt = session.scalar(select(Attempt).where(Attempt.member_id == member.id))
    assert attempt.outcome == "break_off"


def test_a_later_visit_is_a_new_attempt(app, client, web, session, runtime):
    member, token = web
    post(client, token, "consent", "1")
    later = dataclasses.replace(runtime, clock=lambda: NOW + timedelta(hours=5))
    client2 = create_app(later, {"TESTING": True}).test_client()
    post(client2, token, "staff_attitude", "7")
    session.expire_all()
    attempts = session.scalars(
        select(Attempt).where(Attempt.member_id == member.id).order_by(Attempt.id)
    ).all()
    assert [(a.mode, a.status) for a in attempts] == [("web", "completed"), ("web", "in-progress")]


def test_back_shows_the_answer_given_and_changing_it_goes_forward(client, web, session):
    _member, token = web
    for question, key in ALL[:4]:
        post(client, token, question, key)
    html = client.get(f"/s/{token}").get_data(as_text=True)
    assert f'href="/s/{token}?q=on_time"' in html
    back = client.get(f"/s/{token}?q=guidance_quality").get_data(as_text=True)
    assert re.search(r'value="8"\s+data-testid="answer-guidance_quality" checked', back)
    response = post_to(client, token, "guidance_quality", "3", page=back)
    assert response.headers["Location"].endswith("?q=on_time")
    session.expire_all()
    value = session.scalar(select(Answer.value).where(Answer.question_id == "guidance_quality"))
    assert value == "3"
    assert session.scalar(select(func.count()).select_from(FollowUp)) == 1  # low score


def post_to(client, token, question, answer, page):
    data = {"csrf_token": csrf_of(page), "question": question, "answer": answer}
    return client.post(f"/s/{token}", data=data)


def test_dont_know_is_an_answer_and_nothing_chosen_is_asked_again(client, web, session):
    _member, token = web
    post(client, token, "consent", "1")
    response = post(client, token, "staff_attitude")
    assert response.status_code == 422
    assert "Xin chọn một câu trả lời" in response.get_data(as_text=True)
    post(client, token, "staff_attitude", "0")
    assert session.scalar(select(Answer.value).where(Answer.question_id == "staff_attitude")) == "0"
    assert post(client, token, "consent", "0").status_code == 422  # consent has no don't know


def test_a_form_for_a_question_not_asked_changes_nothing(client, web, session):
    _member, token = web
    response = post(client, token, "overall", "9")
    assert response.status_code == 303
    assert session.scalar(select(func.count()).select_from(Answer)) == 0


def test_a_comment_too_long_is_refused_and_kept_in_the_box(client, web, session):
    _member, token = web
    for question, key in ALL:
        post(client, token, question, key)
    response = post(client, token, "comment", comment="x" * 2001)
    assert response.status_code == 422
    assert "x" * 2001 in response.get_data(as_text=True)
    assert session.scalar(select(Answer.id).where(Answer.question_id == "comment")) is None


def test_a_post_without_a_session_shows_the_question_again_then_works(client, web, session):
    _member, token = web
    fresh = client.application.test_client()
    response = fresh.post(f"/s/{token}", data={"question": "consent", "answer": "1"})
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and "Xin chọn lại câu trả lời" in html
    assert session.scalar(select(func.count()).select_from(Answer)) == 0
    again = fresh.post(f"/s/{token}", data={"csrf_token": csrf_of(html), "question": "consent",
                                            "answer": "1"})  # fmt: skip
    assert again.status_code == 303
    assert session.scalar(select(func.count()).select_from(Answer)) == 1


def test_english_on_request(client, web):
    _member, token = web
    html = client.get(f"/s/{token}?lang=en").get_data(as_text=True)
    assert "I do not want to take part" in html and "Next" in html
    assert "Do you agree to answer the survey?" in html
    assert "I do not want" in client.get(f"/s/{token}").get_data(as_text=True)  # kept


@pytest.mark.parametrize("kind", ["unknown", "tampered", "short", "symbols"])
def test_unknown_or_tampered_links_are_a_404_page(client, web, kind, session):
    _member, token = web
    bad = {
        "unknown": "A" * 23,
        "tampered": token[:-1] + ("a" if token[-1] != "a" else "b"),
        "short": token[:-2],
        "symbols": token[:-1] + "_",
    }[kind]
    for response in (client.get(f"/s/{bad}"), client.post(f"/s/{bad}", data={})):
        html = response.get_data(as_text=True)
        assert response.status_code in (404, 400)
        assert "Không tìm thấy khảo sát" in html and "Traceback" not in html
    assert client.get(f"/s/{bad}").status_code == 404
    assert client.get("/s/").status_code == 404


def test_an_expired_link_says_so(client, web, session):
    member, token = web
    page = client.get(f"/s/{token}").get_data(as_text=True)
    session.get(Round, member.round_id).calling_ends_at = NOW - timedelta(minutes=1)
    session.flush()
    response = client.get(f"/s/{token}")
    assert response.status_code == 404 and "hết hạn" in response.get_data(as_text=True)
    assert post_to(client, token, "consent", "1", page).status_code == 404
    assert session.scalar(select(func.count()).select_from(Answer)) == 0


def test_a_member_on_a_call_right_now_is_told_to_wait(client, web, session):
    member, token = web
    member.status = "in_progress"
    session.flush()
    response = client.get(f"/s/{token}")
    assert response.status_code == 409
    assert session.scalar(select(func.count()).select_from(Answer)) == 0


def dump(session) -> dict[str, list]:
    """Every row of every table: what "changes nothing" is checked against."""
    session.flush()
    tables = [
        "answers", "attempts", "members", "opt_outs", "follow_ups", "follow_up_reasons",
        "follow_up_changes",
        "web_links", "rounds", "audit_events",
    ]  # fmt: skip
    return {
        name: sorted(map(tuple, session.execute(text(f"SELECT * FROM {name}")).all()), key=repr)
        for name in tables
    }


def test_get_changes_nothing_on_any_page_of_a_link(client, web, session):
    _member, token = web
    for question, key in ALL[:3]:
        post(client, token, question, key)
    before = dump(session)
    pages = ["", "?q=consent", "?q=staff_attitude", "?q=guidance_quality", "?q=on_time",
             "?q=overall", "?q=nonsense", "?lang=en", "?lang=vi&q=consent"]  # fmt: skip
    for suffix in pages:
        assert client.get(f"/s/{token}{suffix}").status_code == 200
        assert client.head(f"/s/{token}{suffix}").status_code == 200
    assert dump(session) == before
    # and after the end too
    for question, key in ALL[3:]:
        post(client, token, question, key)
    post(client, token, "comment", comment="")
    before = dump(session)
    for suffix in pages:
        client.get(f"/s/{token}{suffix}")
    assert dump(session) == before


def test_the_page_has_no_script_and_stays_small(client, web):
    _member, token = web
    html = client.get(f"/s/{token}").get_data(as_text=True)
    assert "<script" not in html and "style=" not in html
    assert len(html.encode()) < 12_000
    css = client.get("/static/survey.css")
    assert len(css.get_data()) < 6_000
