"""Flagged counter ratings as a manager reviews them: a burst read together, accepting (one
audit row, who and when) counts them in the office's figures, undoing leaves them out again."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from cati.models import AuditEvent, CounterRating, Kiosk
from cati.services.counter import (
    COUNTER_ACCEPTED,
    COUNTER_UNACCEPTED,
    accept_rating,
    accept_ratings,
    add_kiosk,
    answer_rating,
    flagged_ratings,
    self_selected,
    start_rating,
    undo_acceptance,
)
from cati.services.flows import load_flows
from tests.conftest import NOW
from tests.factories import create_case, create_office, create_user

WINDOW = timedelta(minutes=2)
NIGHT = NOW.replace(hour=15)  # 22:00 in Vietnam: outside opening hours


@pytest.fixture
def mscore(settings):
    return load_flows(settings.flows_dir)["mscore"]


def rate(session, settings, flow, office, when, score="9", *, kiosk=None, code=None):
    rating = start_rating(session, flow, office_id=office.id, kiosk_id=kiosk,
                          mode="kiosk" if kiosk else "qr", language="vi", now=when,
                          dossier_code=code)  # fmt: skip
    if score is not None:
        answer_rating(session, flow, rating, question_id="staff_attitude", value=score,
                      text=None, now=when, settings=settings)  # fmt: skip
    return rating


def counter_ratings(session, settings, flow) -> dict:
    """At Đông Hà: a burst of six at the desk's kiosk from 10:00 (each 20 s after the one
    before), one rating there at 11:00, and at 22:00 a QR rating with a dossier code and one
    opened and left (flagged, but not in the figures: no answer). Cam Lộ: one at 22:00."""
    office = create_office(session, "DH", "Bộ phận một cửa Đông Hà")
    other = create_office(session, "CL", "Bộ phận một cửa Cam Lộ")
    kiosk, _ = add_kiosk(session, "DH", "Quầy 1", NOW)
    burst = [
        rate(session, settings, flow, office, NOW + timedelta(seconds=20 * i), kiosk=kiosk.id)
        for i in range(6)
    ]
    calm = rate(session, settings, flow, office, NOW + timedelta(hours=1), "8", kiosk=kiosk.id)
    left = rate(session, settings, flow, office, NIGHT - timedelta(minutes=5), None)
    code = create_case(session).dossier_code
    night = rate(session, settings, flow, office, NIGHT, "7", code=code)
    elsewhere = rate(session, settings, flow, other, NIGHT, "2")
    return {"burst": [r.id for r in burst], "calm": calm.id, "left": left.id,
            "night": night.id, "elsewhere": elsewhere.id, "code": code}  # fmt: skip


ANSWERS = [("staff_attitude", "9"), ("guidance_quality", "8"), ("on_time", "1"),
           ("asked_to_return", "2"), ("paid_without_receipt", "2"), ("overall", "9"),
           ("comment", None)]  # fmt: skip


def identical_ratings(session, settings, flow, times) -> list[int]:
    """Complete ratings with the same answers at Đông Hà's kiosk, at these times."""
    office = create_office(session, "DH")
    kiosk = session.scalar(select(Kiosk.id).where(Kiosk.office_id == office.id))
    ids = []
    for when in times:
        rating = rate(session, settings, flow, office, when, None, kiosk=kiosk)
        for question, key in ANSWERS:
            answer_rating(session, flow, rating, question_id=question, value=key, text=None,
                          now=when, settings=settings)  # fmt: skip
        ids.append(rating.id)
    return ids


@pytest.fixture
def counter(session, settings, mscore):
    return counter_ratings(session, settings, mscore)


def figures(session, flow):
    """(n counted, flagged, accepted) per office and mode, over the day."""
    rows = self_selected(session, flow, NOW - timedelta(hours=5), NOW + timedelta(hours=19))
    return {(r["office_code"], r["mode"]): (r["n"], r["flagged"], r["accepted"]) for r in rows}


def test_flagged_ratings_come_in_groups_a_burst_together(session, counter, mscore):
    batches = flagged_ratings(session, mscore, window=WINDOW)
    assert [[r.id for r in b] for b in batches] == [
        [counter["elsewhere"]],
        counter["burst"],
        [counter["night"]],
    ]  # by office name, then time; the rating opened and left is not there
    first = batches[1][0]
    assert (first.office_code, first.office_name, first.mode) == (
        "DH",
        "Bộ phận một cửa Đông Hà",
        "kiosk",
    )
    assert (first.kiosk_name, first.flags, first.answers) == (
        "Quầy 1",
        ("burst",),
        {"staff_attitude": "9"},
    )
    night = batches[2][0]
    assert (night.mode, night.kiosk_id, night.flags) == ("qr", None, ("outside_hours",))
    assert (night.dossier_code, night.dossier_check) == (counter["code"], "ok")
    assert night.finished is False and night.accepted_by is None
    assert session.get(CounterRating, counter["left"]).flags == "outside_hours"


def test_a_run_of_identical_answers_is_one_group(session, settings, counter, mscore):
    afternoon = NOW + timedelta(hours=4)  # 14:00, 14:10, 14:20 local
    run = identical_ratings(session, settings, mscore,
                            [afternoon + timedelta(minutes=10 * i) for i in range(3)])  # fmt: skip
    batches = flagged_ratings(session, mscore, window=WINDOW, office_code="DH")
    assert [[r.id for r in b] for b in batches] == [counter["burst"], run, [counter["night"]]]
    assert batches[1][0].flags == ("same_answers",) and batches[1][0].finished is True
    assert batches[1][0].answers == dict(ANSWERS)


def test_flagged_ratings_by_office_period_and_ids(session, counter, mscore):
    by_office = flagged_ratings(session, mscore, window=WINDOW, office_code="CL")
    assert [[r.id for r in b] for b in by_office] == [[counter["elsewhere"]]]
    evening = flagged_ratings(session, mscore, window=WINDOW, start=NOW + timedelta(hours=2),
                              end=NIGHT + timedelta(hours=1))  # fmt: skip
    assert [r.id for b in evening for r in b] == [counter["elsewhere"], counter["night"]]
    picked = flagged_ratings(session, mscore, window=WINDOW, ids=counter["burst"][:2])
    assert [[r.id for r in b] for b in picked] == [counter["burst"][:2]]
    first = flagged_ratings(session, mscore, window=WINDOW, limit=3)  # the earliest three
    assert [[r.id for r in b] for b in first] == [counter["burst"][:3]]


def test_accepting_counts_them_in_the_figures_with_who_when_and_an_audit_row(
    session, counter, mscore
):
    user = create_user(session, "minh", "manager")
    assert figures(session, mscore)[("DH", "kiosk")] == (1, 6, 0)
    wanted = [*counter["burst"], counter["calm"], 999_999]  # the calm one is not flagged
    accepted = accept_ratings(session, wanted, by="minh", user_id=user.id, now=NOW)
    assert accepted == counter["burst"]
    assert figures(session, mscore)[("DH", "kiosk")] == (7, 0, 6)
    assert figures(session, mscore)[("DH", "qr")] == (0, 1, 0)  # the others unchanged
    rating = session.get(CounterRating, counter["burst"][0])
    assert (rating.accepted_by, rating.accepted_at, rating.flags) == ("minh", NOW, "burst")
    assert session.get(CounterRating, counter["calm"]).accepted_by is None
    audit = session.scalars(select(AuditEvent).where(AuditEvent.action == COUNTER_ACCEPTED)).one()
    assert audit.user_id == user.id and json.loads(audit.details) == {"ratings": accepted}
    # Out of the list, into the accepted ones; accepting again changes nothing.
    assert [r.id for b in flagged_ratings(session, mscore, window=WINDOW) for r in b] == [
        counter["elsewhere"], counter["night"]
    ]  # fmt: skip
    done = flagged_ratings(session, mscore, window=WINDOW, accepted=True)
    assert [[r.id for r in b] for b in done] == [counter["burst"]]
    assert accept_ratings(session, counter["burst"], by="lan", user_id=None, now=NOW) == []
    assert session.query(AuditEvent).filter_by(action=COUNTER_ACCEPTED).count() == 1


def test_an_acceptance_is_undone_with_an_audit_row(session, counter, mscore):
    user = create_user(session, "minh", "manager")
    accept_ratings(session, [counter["night"]], by="minh", user_id=user.id, now=NOW)
    assert figures(session, mscore)[("DH", "qr")] == (1, 0, 1)
    later = NOW + timedelta(hours=1)
    assert undo_acceptance(session, counter["night"], user_id=user.id, now=later) is True
    assert figures(session, mscore)[("DH", "qr")] == (0, 1, 0)
    rating = session.get(CounterRating, counter["night"])
    assert (rating.accepted_by, rating.accepted_at) == (None, None)
    audit = session.scalars(select(AuditEvent).where(AuditEvent.action == COUNTER_UNACCEPTED)).one()
    assert (audit.user_id, audit.at) == (user.id, later)
    assert json.loads(audit.details) == {"ratings": [counter["night"]], "accepted_by": "minh"}
    assert undo_acceptance(session, counter["night"], user_id=user.id, now=later) is False
    assert undo_acceptance(session, 999_999, user_id=user.id, now=later) is False


def test_the_command_lines_accept_is_audited_too(session, counter):
    accept_rating(session, counter["night"], "lan", NOW)
    audit = session.scalars(select(AuditEvent).where(AuditEvent.action == COUNTER_ACCEPTED)).one()
    assert audit.user_id is None and json.loads(audit.details) == {"ratings": [counter["night"]]}
