"""The counter rating pages: a kiosk (`/k/<token>`) and an office's QR page (`/q/<token>`)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from cati.models import CounterAnswer, CounterRating, FollowUp, FollowUpReason
from cati.services.counter import add_kiosk, office_token
from tests.conftest import NOW
from tests.factories import create_case, create_office

ANSWERS = [("staff_attitude", "9"), ("guidance_quality", "8"), ("on_time", "1"),
           ("asked_to_return", "2"), ("paid_without_receipt", "2"), ("overall", "9")]  # fmt: skip


@pytest.fixture
def kiosk(session, runtime):
    create_office(session, "DH", "Bộ phận một cửa Đông Hà")
    create_case(session, officer="Lê Văn Cường", received_at=NOW - timedelta(days=3))
    create_case(session, officer="Cán bộ Cũ", received_at=NOW - timedelta(days=90),
                returned_at=NOW - timedelta(days=80))  # fmt: skip
    _, token = add_kiosk(session, "DH", "Quầy 1", NOW)
    return f"/k/{token}"


@pytest.fixture
def qr(session, runtime):
    create_office(session, "DH", "Bộ phận một cửa Đông Hà")
    _, token = office_token(session, "DH", runtime.settings.secret_key, NOW)
    return f"/q/{token}"


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html)[1]


def start(client, url, **fields):
    page = client.get(url).get_data(as_text=True)
    return client.post(f"{url}/start", data={"csrf_token": csrf_of(page), **fields})


def post(client, url, question, answer=None, comment=None):
    page = client.get(url).get_data(as_text=True)
    data = {"csrf_token": csrf_of(page), "question": question}
    if answer is not None:
        data["answer"] = answer
    if comment is not None:
        data["comment"] = comment
    return client.post(url, data=data)


def test_the_welcome_screen_changes_nothing_and_offers_recent_officers(client, kiosk, session):
    html = client.get(kiosk).get_data(as_text=True)
    assert 'data-testid="counter-welcome"' in html and "Bộ phận một cửa Đông Hà" in html
    assert "Lê Văn Cường" in html and "Cán bộ Cũ" not in html  # the last 30 days only
    assert "Nguyễn Văn An" not in html  # no citizen's name, ever
    assert session.query(CounterRating).count() == 0


def test_a_kiosk_rating_runs_the_flow_without_the_consent_question(client, kiosk, session):
    assert start(client, kiosk, officer="Lê Văn Cường").status_code == 303
    html = client.get(kiosk).get_data(as_text=True)
    assert 'data-testid="answer-staff_attitude"' in html and "Câu 1/7" in html
    assert 'data-testid="counter-stop"' in html and 'data-reset-after="30"' in html
    assert '<meta http-equiv="refresh" content="30;url=' in html
    for question, key in ANSWERS:
        assert post(client, kiosk, question, key).status_code == 303
    post(client, kiosk, "comment", comment="Tốt")
    html = client.get(kiosk).get_data(as_text=True)
    assert 'data-testid="survey-done"' in html
    rating = session.query(CounterRating).one()
    assert (rating.mode, rating.officer, rating.finished_at) == ("kiosk", "Lê Văn Cường", NOW)
    answers = {a.question_id: (a.value, a.text) for a in session.query(CounterAnswer)}
    assert answers["consent"] == ("1", None) and answers["overall"] == ("9", None)
    assert answers["comment"] == ("1", "Tốt")


def test_a_low_score_asks_what_went_wrong_without_insisting(client, kiosk, session):
    start(client, kiosk)
    post(client, kiosk, "staff_attitude", "2")
    html = client.get(kiosk).get_data(as_text=True)
    assert 'data-testid="counter-reason"' in html and "Điều gì chưa tốt?" in html
    post(client, kiosk, "reason:staff_attitude", comment="")  # passed over: fine
    assert 'data-testid="answer-guidance_quality"' in client.get(kiosk).get_data(as_text=True)
    post(client, kiosk, "guidance_quality", "1")
    post(client, kiosk, "reason:guidance_quality", comment="Chờ lâu quá")
    texts = {a.question_id: a.text for a in session.query(CounterAnswer)}
    assert texts["staff_attitude"] == "" and texts["guidance_quality"] == "Chờ lâu quá"
    # What went wrong, typed, becomes the rating's one follow-up for the office (issue 16).
    post(client, kiosk, "on_time", "1")
    rating = session.query(CounterRating).one()
    follow_up = session.query(FollowUp).filter_by(counter_rating_id=rating.id).one()
    assert follow_up.office_id == rating.office_id and follow_up.member_id is None
    assert [r.reason for r in session.query(FollowUpReason)] == ["comment"]


def test_an_office_reads_the_comment_of_a_counter_rating(client, kiosk, session):
    from cati.services.follow_ups import get_follow_up

    start(client, kiosk)
    post(client, kiosk, "staff_attitude", "1")
    post(client, kiosk, "reason:staff_attitude", comment="Cán bộ nói chuyện điện thoại riêng")
    post(client, kiosk, "reason:staff_attitude", comment="Cán bộ nói chuyện điện thoại riêng")
    follow_up = session.query(FollowUp).one()  # raised once, however often it is typed
    view = get_follow_up(
        session, follow_up.id, now=NOW, office_id=follow_up.office_id, manager=False
    )
    assert view.kind == "counter" and view.comments == ["Cán bộ nói chuyện điện thoại riêng"]
    assert view.dossier_code is None and view.phone is None


def test_stop_and_reset_keep_a_partial_rating(client, kiosk, session):
    start(client, kiosk)
    post(client, kiosk, "staff_attitude", "8")
    page = client.get(kiosk).get_data(as_text=True)
    stopped = client.post(f"{kiosk}/stop", data={"csrf_token": csrf_of(page)})
    assert 'data-testid="survey-done"' in stopped.get_data(as_text=True)
    assert 'data-testid="counter-welcome"' in client.get(kiosk).get_data(as_text=True)
    start(client, kiosk)
    post(client, kiosk, "staff_attitude", "7")
    assert client.get(f"{kiosk}/welcome").status_code == 303
    assert 'data-testid="counter-welcome"' in client.get(kiosk).get_data(as_text=True)
    ratings = session.query(CounterRating).order_by(CounterRating.id).all()
    assert [r.finished_at for r in ratings] == [None, None]
    assert session.query(CounterAnswer).filter_by(question_id="staff_attitude").count() == 2


@pytest.mark.parametrize(
    ("code", "check"),
    [("known", "ok"), ("HS-NOPE", "unknown"), ("online", "online"), ("other", "other_office"),
     ("immediate", "immediate_result")],
)  # fmt: skip
def test_a_qr_rating_checks_the_dossier_code_and_keeps_it_either_way(
    client, qr, session, code, check
):
    cases = {
        "known": create_case(session),
        "online": create_case(session, channel="online"),
        "other": create_case(session, office_code="CL"),
        "immediate": create_case(session, immediate_result=True),
    }
    given = cases[code].dossier_code.lower() if code in cases else code
    assert start(client, qr, dossier_code=f" {given} ").status_code == 303
    html = client.get(qr).get_data(as_text=True)
    assert 'data-testid="answer-staff_attitude"' in html and "data-reset-after" not in html
    rating = session.query(CounterRating).one()
    assert (rating.mode, rating.kiosk_id, rating.dossier_check) == ("qr", None, check)
    assert rating.dossier_code == given.upper()


def test_the_qr_page_offers_no_officer(client, qr):
    html = client.get(qr).get_data(as_text=True)
    assert 'data-testid="counter-dossier-code"' in html and "counter-officer" not in html


@pytest.mark.parametrize("path", ["/k/{}", "/q/{}"])
def test_unknown_tokens_and_disabled_kiosks_are_404(client, kiosk, session, path):
    from cati.models import Kiosk

    assert client.get(path.format("A" * 23)).status_code == 404
    assert client.get(path.format("bad_token")).status_code == 404
    page = client.get(kiosk).get_data(as_text=True)
    stale = client.post(path.format("A" * 23), data={"csrf_token": csrf_of(page), "question": "x"})
    assert stale.status_code == 404
    session.query(Kiosk).one().active = False
    session.flush()
    assert client.get(kiosk).status_code == 404


def test_a_dossier_code_rated_twice_is_flagged_on_both(client, kiosk, session):
    case = create_case(session)
    for _ in range(2):
        start(client, kiosk, dossier_code=case.dossier_code)
        post(client, kiosk, "staff_attitude", "9")
        client.get(f"{kiosk}/welcome")
    flags = [r.flags for r in session.query(CounterRating).order_by(CounterRating.id)]
    assert all("dossier_twice" in (f or "") for f in flags)
