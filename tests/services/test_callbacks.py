"""The citizen's choice to be contacted (IVR and console), and closing the loop: a resolved
follow-up whose citizen agreed becomes a callback, claimed like a case, its answer recorded
and counted in indicator 5.3 (`satisfied_share`)."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from cati.db import make_engine, make_session_factory
from cati.migrate import upgrade
from cati.models import Answer, AuditEvent, FollowUp, Member
from cati.services.console import claim_next_case, get_case, record_outcome, save_answers
from cati.services.flows import load_flows
from cati.services.follow_ups import (
    CALLBACK_LEASE,
    CallbackError,
    callbacks_due,
    claim_next_callback,
    follow_up_figures,
    get_callback,
    held_callback,
    parse_satisfied,
    raise_for_answer,
    record_callback,
    release_callback,
    update_status,
)
from cati.services.ivr import save_answer
from tests.conftest import NOW, TZ, fresh_database
from tests.factories import create_attempt, create_round, create_user
from tests.factories import create_member as _create_member


@pytest.fixture
def flows(settings):
    return load_flows(settings.flows_dir)


@pytest.fixture
def lan(session):
    return create_user(session, "lan")


def create_member(session, round_=None, **values):
    """A member of the given round, or of the one IVR round of the test."""
    if round_ is None:
        round_ = session.info.get("test_round") or create_round(session)
        session.info["test_round"] = round_
    return _create_member(session, round_, **values)


def follow_up_of(session, member) -> FollowUp:
    session.expire_all()
    return session.scalar(select(FollowUp).where(FollowUp.member_id == member.id))


# --------------------------------------------------------------------------------------------
# The citizen's choice, as saved by the IVR (save_answer) and the console (save_answers)
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "allowed"), [("1", True), ("2", False), (None, None)])
def test_the_ivr_answer_to_the_contact_question_is_recorded_on_the_follow_up(
    session, flows, value, allowed
):
    member = create_member(session)
    attempt = create_attempt(session, member)
    mscore = flows["mscore"]
    save_answer(session, member.id, attempt.id, "overall", "2", NOW, exists=False, flow=mscore)
    save_answer(session, member.id, attempt.id, "contact_consent", value, NOW, exists=False,
                flow=mscore)  # fmt: skip
    assert follow_up_of(session, member).contact_allowed is allowed


def _interviewer_case(session, lan):
    round_ = create_round(session, week="2026-W48")
    round_.mode = "interviewer"
    member = create_member(session, round_)
    assert claim_next_case(session, lan.id, NOW) == member.id
    return member


GOOD = {
    "consent": "1", "staff_attitude": "9", "guidance_quality": "8", "on_time": "1",
    "asked_to_return": "2", "paid_without_receipt": "2", "overall": "9", "comment": "",
}  # fmt: skip


def saved(session, member) -> dict:
    session.expire_all()
    return dict(session.execute(select(Answer.question_id, Answer.value)
                                .where(Answer.member_id == member.id)).all())  # fmt: skip


def test_the_console_ignores_the_contact_answer_when_no_reason_is_raised(session, flows, lan):
    member = _interviewer_case(session, lan)
    save_answers(session, member.id, lan.id, {**GOOD, "contact_consent": "1"}, flows, TZ, NOW)
    assert "contact_consent" not in saved(session, member)
    assert follow_up_of(session, member) is None
    view = get_case(session, member.id, lan.id, flows, TZ, NOW)
    assert view.asks_contact is False and view.contact_text.startswith("Ý kiến của anh/chị")


def test_the_console_saves_the_contact_answer_once_the_questions_are_done(session, flows, lan):
    member = _interviewer_case(session, lan)
    # chosen early (the overall score still to come): kept aside, saved at the end
    early = {k: v for k, v in GOOD.items() if k not in ("overall", "comment")}
    save_answers(session, member.id, lan.id, {**early, "on_time": "2", "contact_consent": "1"},
                 flows, TZ, NOW)  # fmt: skip
    assert "contact_consent" not in saved(session, member)
    assert get_case(session, member.id, lan.id, flows, TZ, NOW).asks_contact is True
    save_answers(session, member.id, lan.id, {**GOOD, "on_time": "2", "contact_consent": "1"},
                 flows, TZ, NOW)  # fmt: skip
    assert saved(session, member)["contact_consent"] == "1"
    assert follow_up_of(session, member).contact_allowed is True
    # a correction (the citizen changed their mind)
    save_answers(session, member.id, lan.id, {"contact_consent": "2"}, flows, TZ, NOW)
    assert follow_up_of(session, member).contact_allowed is False


def test_the_console_refuses_another_value_for_the_contact_question(session, flows, lan):
    from cati.services.console import ConsoleError

    member = _interviewer_case(session, lan)
    with pytest.raises(ConsoleError) as error:
        save_answers(session, member.id, lan.id, {**GOOD, "overall": "1", "contact_consent": "0"},
                     flows, TZ, NOW)  # fmt: skip
    assert (error.value.key, error.value.field) == ("console.error.bad_answer", "contact_consent")
    assert saved(session, member) == {}


def test_complete_without_the_contact_answer_leaves_the_choice_unknown(session, flows, lan,
                                                                       settings):  # fmt: skip
    member = _interviewer_case(session, lan)
    save_answers(session, member.id, lan.id, {**GOOD, "on_time": "2"}, flows, TZ, NOW)
    stored = record_outcome(session, member.id, lan.id, "complete", appointment_at=None,
                            notes=None, flows=flows, policy=settings.calling_policy, tz=TZ,
                            now=NOW)  # fmt: skip
    assert stored == "complete"
    assert "contact_consent" not in saved(session, member)
    assert follow_up_of(session, member).contact_allowed is None


# --------------------------------------------------------------------------------------------
# Closing the loop
# --------------------------------------------------------------------------------------------


def resolved(session, flows, *, contact=True, note="Đã hoàn lại 200.000 đồng", phone=True):
    """A member's follow-up, resolved with a note, the citizen's choice as given."""
    member = create_member(session)
    if not phone:
        member.phone = None
    follow_up_id = raise_for_answer(session, flows["mscore"], member.id, "overall", "1", NOW)
    if contact is not None:
        session.get(FollowUp, follow_up_id).contact_allowed = contact
    update_status(session, follow_up_id, "resolved", note, user_id=None,
                  now=NOW + timedelta(days=1))  # fmt: skip
    return follow_up_id


def test_only_resolved_follow_ups_of_citizens_who_agreed_are_called_back(session, flows, lan):
    wanted = resolved(session, flows)
    resolved(session, flows, contact=False)
    resolved(session, flows, contact=None)  # never asked
    resolved(session, flows, phone=False)
    still_open = raise_for_answer(session, flows["mscore"], create_member(session).id,
                                  "overall", "1", NOW)  # fmt: skip
    session.get(FollowUp, still_open).contact_allowed = True
    session.flush()
    assert callbacks_due(session, NOW) == 1
    assert claim_next_callback(session, lan.id, NOW) == wanted
    assert claim_next_callback(session, create_user(session, "minh").id, NOW) is None
    assert callbacks_due(session, NOW) == 0


def test_a_claim_has_a_lease_and_a_lapsed_one_goes_to_the_next_interviewer(session, flows, lan):
    follow_up_id = resolved(session, flows)
    minh = create_user(session, "minh")
    assert claim_next_callback(session, lan.id, NOW) == follow_up_id
    row = session.get(FollowUp, follow_up_id)
    assert row.callback_claimed_by == lan.id
    assert row.callback_lease_expires_at == NOW + CALLBACK_LEASE
    assert claim_next_callback(session, lan.id, NOW) == follow_up_id  # finish yours first
    assert held_callback(session, lan.id, NOW) == follow_up_id
    assert claim_next_callback(session, minh.id, NOW + timedelta(minutes=5)) is None
    later = NOW + CALLBACK_LEASE + timedelta(seconds=1)
    assert claim_next_callback(session, minh.id, later) == follow_up_id
    with pytest.raises(CallbackError):
        record_callback(session, follow_up_id, lan.id, True, later)
    actions = session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions.count("claim_callback") == 2


def test_outside_calling_hours_no_callback_is_handed_out(session, flows, lan):
    resolved(session, flows)
    assert claim_next_callback(session, lan.id, NOW, callable_now=False) is None


def test_the_callback_shows_what_was_done_and_records_the_answer(session, flows, lan):
    follow_up_id = resolved(session, flows)
    claim_next_callback(session, lan.id, NOW)
    view = get_callback(session, follow_up_id, lan.id, NOW)
    member = session.get(Member, session.get(FollowUp, follow_up_id).member_id)
    assert (view.note, view.phone, view.reasons) == ("Đã hoàn lại 200.000 đồng", member.phone,
                                                     ["low_score"])  # fmt: skip
    assert view.citizen_name == member.case.citizen_name
    record_callback(session, follow_up_id, lan.id, parse_satisfied("no"), NOW + timedelta(hours=1))
    row = session.get(FollowUp, follow_up_id)
    assert (row.callback_satisfied, row.callback_at, row.callback_claimed_by) == (
        False, NOW + timedelta(hours=1), None)  # fmt: skip
    assert callbacks_due(session, NOW) == 0
    with pytest.raises(CallbackError):  # done: nobody's to make again
        get_callback(session, follow_up_id, lan.id, NOW)
    [audit] = session.scalars(select(AuditEvent).where(AuditEvent.action == "record_callback"))
    assert audit.member_id == member.id and '"satisfied": "no"' in audit.details


@pytest.mark.parametrize("text", ["", "maybe", None])
def test_the_answer_is_yes_or_no(text):
    with pytest.raises(CallbackError):
        parse_satisfied(text)


def test_a_released_callback_goes_back_to_the_queue(session, flows, lan):
    follow_up_id = resolved(session, flows)
    claim_next_callback(session, lan.id, NOW)
    release_callback(session, follow_up_id, lan.id, NOW)
    assert held_callback(session, lan.id, NOW) is None
    assert claim_next_callback(session, create_user(session, "minh").id, NOW) == follow_up_id


def test_indicator_5_3_counts_the_citizens_called_back(session, flows, lan):
    ids = [resolved(session, flows) for _ in range(3)]
    assert follow_up_figures(session, now=NOW)["satisfied_share"] is None
    for answer in (True, False):
        follow_up_id = claim_next_callback(session, lan.id, NOW)
        record_callback(session, follow_up_id, lan.id, answer, NOW)
    figures = follow_up_figures(session, now=NOW)
    assert figures["satisfied_share"] == 0.5  # 1 of the 2 who answered; the third not called
    assert figures["offices"][0]["satisfied_share"] == 0.5
    assert len(ids) == figures["raised"] == 3


def test_two_interviewers_clicking_at_once_get_different_callbacks(tmp_path, settings):
    flows = load_flows(settings.flows_dir)
    with fresh_database(tmp_path) as url:
        upgrade(url)
        engines = [make_engine(url), make_engine(url)]  # two processes' worth of connections
        factories = [make_session_factory(engine) for engine in engines]
        with factories[0].begin() as session:
            for _ in range(2):
                resolved(session, flows)
            users = [create_user(session, name).id for name in ("lan", "minh")]
        barrier = threading.Barrier(2)
        got = []

        def click(factory, user_id):
            with factory() as session:
                barrier.wait()
                got.append(claim_next_callback(session, user_id, NOW))
                session.commit()

        pairs = zip(factories, users, strict=True)
        threads = [threading.Thread(target=click, args=pair) for pair in pairs]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for engine in engines:
            engine.dispose()
    assert None not in got and len(set(got)) == 2
