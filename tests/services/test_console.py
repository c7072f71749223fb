"""The console's use cases: claims and leases, the script through the flow engine, outcomes."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from cati.models import Answer, Attempt, AuditEvent, Member
from cati.services.console import (
    LEASE,
    ConsoleError,
    claim_next_case,
    get_case,
    interviewer_stats,
    queue_counts,
    record_outcome,
    release_case,
    reveal_phone,
    save_answers,
)
from cati.services.flows import load_flows
from cati.services.users import LOGIN, LOGOUT, record_audit
from tests.conftest import NOW, TZ, fresh_session_factory
from tests.factories import create_member, create_round, create_user, local

COMPLETE = {
    "consent": "1", "staff_attitude": "9", "guidance_quality": "8", "on_time": "1",
    "asked_to_return": "2", "paid_without_receipt": "2", "overall": "9", "comment": "",
}  # fmt: skip


@pytest.fixture
def flows(settings):
    return load_flows(settings.flows_dir)


@pytest.fixture
def queue(session):
    round_ = create_round(session)
    round_.mode = "interviewer"
    return [create_member(session, round_) for _ in range(3)]


@pytest.fixture
def lan(session):
    return create_user(session, "lan")


def outcome(session, member, user, flows, settings, what, now=NOW, **kwargs):
    kwargs.setdefault("appointment_at", None)
    kwargs.setdefault("notes", None)
    return record_outcome(session, member.id, user.id, what, flows=flows, tz=TZ, now=now,
                          policy=settings.calling_policy, **kwargs)  # fmt: skip


def test_claim_gives_one_case_with_a_lease_and_counts_follow(session, queue, lan):
    assert queue_counts(session, lan.id, NOW, TZ) == {
        "due": 3, "appointments_today": 0, "in_progress": 0}  # fmt: skip
    member_id = claim_next_case(session, lan.id, NOW)
    assert member_id == queue[0].id
    member = session.get(Member, member_id)
    assert (member.status, member.claimed_by, member.lease_expires_at) == (
        "in_progress", lan.id, NOW + LEASE)  # fmt: skip
    assert claim_next_case(session, lan.id, NOW) == member_id  # finish yours first
    assert queue_counts(session, lan.id, NOW, TZ) == {
        "due": 2, "appointments_today": 0, "in_progress": 1}  # fmt: skip


def test_an_ivr_round_is_not_in_the_console_queue(session, lan):
    create_member(session)  # round mode ivr
    assert claim_next_case(session, lan.id, NOW) is None


def test_another_interviewers_case_is_invisible(session, queue, lan, flows):
    minh = create_user(session, "minh")
    member_id = claim_next_case(session, lan.id, NOW)
    with pytest.raises(ConsoleError):
        get_case(session, member_id, minh.id, flows, TZ, NOW)
    assert claim_next_case(session, minh.id, NOW) == queue[1].id


def test_an_abandoned_lease_returns_the_case(session, queue, lan, flows):
    minh = create_user(session, "minh")
    member_id = claim_next_case(session, lan.id, NOW)
    later = NOW + LEASE + timedelta(seconds=1)
    assert claim_next_case(session, minh.id, later) == member_id
    assert session.scalar(select(Attempt).where(Attempt.user_id == lan.id)) is None


def test_the_script_saves_answers_through_the_flow_engine(session, queue, lan, flows):
    member_id = claim_next_case(session, lan.id, NOW)
    assert save_answers(session, member_id, lan.id, {"consent": "1", "staff_attitude": "7"},
                        flows, TZ, NOW) == ["consent", "staff_attitude"]  # fmt: skip
    view = get_case(session, member_id, lan.id, flows, TZ, NOW)
    assert view.next_question == "guidance_quality"
    assert view.answers == {"consent": "1", "staff_attitude": "7"}
    for bad, message in [
        ({"guidance_quality": "x"}, "guidance_quality: 'x' is not an answer"),
        ({"nonsense": "1"}, "nonsense: no such question"),
        ({"on_time": "3", "guidance_quality": "5"}, "on_time: '3' is not an answer"),
    ]:
        with pytest.raises(ConsoleError, match=message):
            save_answers(session, member_id, lan.id, bad, flows, TZ, NOW)
    assert len(session.scalars(select(Answer)).all()) == 2  # nothing half-written


def test_complete_needs_the_end_and_closes_the_case(session, queue, lan, flows, settings):
    member_id = claim_next_case(session, lan.id, NOW)
    member = session.get(Member, member_id)
    save_answers(session, member_id, lan.id, {"consent": "1"}, flows, TZ, NOW)
    with pytest.raises(ConsoleError, match="not finished"):
        outcome(session, member, lan, flows, settings, "complete")
    save_answers(session, member_id, lan.id, COMPLETE, flows, TZ, NOW)
    assert outcome(session, member, lan, flows, settings, "complete",
                   now=NOW + timedelta(minutes=4)) == "complete"  # fmt: skip
    member = session.get(Member, member_id)
    assert (member.status, member.disposition, member.claimed_by) == ("final", "1.1", None)
    [stats] = interviewer_stats(session, TZ)
    assert (stats.username, stats.calls, stats.contacts, stats.completes) == ("lan", 1, 1, 1)
    # per hour signed in (not per hour on the phone: 1 complete in 4 minutes is not 15/h)
    assert stats.average_interview_s == 240 and stats.completes_per_hour is None
    record_audit(session, lan.id, LOGIN, now=NOW - timedelta(minutes=56))
    [stats] = interviewer_stats(session, TZ, now=NOW + timedelta(minutes=4))
    assert (stats.signed_in_s, stats.completes_per_hour) == (3600, 1.0)


def test_an_appointment_is_called_back_first(session, queue, lan, flows, settings):
    member_id = claim_next_case(session, lan.id, NOW)
    member = session.get(Member, member_id)
    at = local(2026, 11, 24, 14, 0)
    for bad in (local(2026, 11, 24, 12, 0), NOW - timedelta(hours=1), None):
        with pytest.raises(ConsoleError):
            outcome(session, member, lan, flows, settings, "appointment", appointment_at=bad)
    outcome(session, member, lan, flows, settings, "appointment", appointment_at=at,
            notes="gọi lại sau 14 giờ")  # fmt: skip
    member = session.get(Member, member_id)
    assert (member.status, member.next_call_at, member.notes) == (
        "pending",
        at,
        "gọi lại sau 14 giờ",
    )
    minh = create_user(session, "minh")
    assert claim_next_case(session, minh.id, at) == member_id  # ahead of the others


@pytest.mark.parametrize(
    ("what", "status", "disposition"),
    [("refused", "final", "2.11"), ("not_eligible", "final", "4.70"),
     ("no_answer", "pending", None), ("invalid_number", "final", "2.20"),
     ("interrupted", "pending", None)],
)  # fmt: skip
def test_outcomes_map_to_dispositions(session, queue, lan, flows, settings, what, status,
                                      disposition):  # fmt: skip
    member_id = claim_next_case(session, lan.id, NOW)
    member = session.get(Member, member_id)
    outcome(session, member, lan, flows, settings, what)
    member = session.get(Member, member_id)
    assert (member.status, member.disposition) == (status, disposition)


def test_showing_the_number_and_saving_are_audited(session, queue, lan, flows):
    member_id = claim_next_case(session, lan.id, NOW)
    assert reveal_phone(session, member_id, lan.id, NOW) == queue[0].phone
    save_answers(session, member_id, lan.id, {"consent": "1"}, flows, TZ, NOW)
    release_case(session, member_id, lan.id, NOW)
    actions = session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions[-3:] == ["show_number", "save_answers", "release_case"]
    assert session.get(Member, member_id).status == "pending"


def test_two_interviewers_clicking_at_once_get_different_cases(tmp_path):
    with fresh_session_factory(tmp_path) as factory:
        with factory.begin() as session:
            round_ = create_round(session)
            round_.mode = "interviewer"
            for _ in range(2):
                create_member(session, round_)
            users = [create_user(session, name).id for name in ("lan", "minh")]
        barrier = threading.Barrier(2)
        got = []

        def click(user_id):
            with factory() as session:
                barrier.wait()
                got.append(claim_next_case(session, user_id, NOW))
                session.commit()

        threads = [threading.Thread(target=click, args=(u,)) for u in users]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert None not in got and len(set(got)) == 2


def test_saves_of_one_case_overlapping_are_taken_one_after_the_other(tmp_path, settings):
    """The page saves each answer as it is typed: a quick typist's saves overlap. The second
    waits for the first and sees its answers (seen: a duplicate answer refused, a 500)."""
    flows = load_flows(settings.flows_dir)
    with fresh_session_factory(tmp_path) as factory:
        with factory.begin() as session:
            round_ = create_round(session)
            round_.mode = "interviewer"
            create_member(session, round_)
            lan_id = create_user(session, "lan").id
        with factory.begin() as session:
            member_id = claim_next_case(session, lan_id, NOW)
        first_saved, errors = threading.Event(), []

        def save(answers, hold):
            try:
                with factory() as session:
                    if not hold:
                        first_saved.wait(5)
                    save_answers(session, member_id, lan_id, answers, flows, TZ, NOW)
                    if hold:
                        first_saved.set()
                        threading.Event().wait(0.5)  # the other save arrives meanwhile
                    session.commit()
            except Exception as exc:  # the test reports what went wrong
                errors.append(exc)

        threads = [
            threading.Thread(target=save, args=({"consent": "1"}, True)),
            threading.Thread(target=save, args=({"consent": "1", "staff_attitude": "7"}, False)),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        with factory() as session:
            saved = session.execute(
                select(Answer.question_id, Answer.value).where(Answer.member_id == member_id)
            ).all()
    assert errors == []
    assert sorted(saved) == [("consent", "1"), ("staff_attitude", "7")]


# --------------------------------------------------------------------------------------------
# Issue 13: the console made for people
# --------------------------------------------------------------------------------------------

FIRST_SEVEN = {k: v for k, v in COMPLETE.items() if k != "comment"}


def claimed(session, lan):
    return claim_next_case(session, lan.id, NOW)


def comment_row(session, member_id):
    return session.execute(
        select(Answer.value, Answer.text).where(
            Answer.member_id == member_id, Answer.question_id == "comment")
    ).one_or_none()  # fmt: skip


def test_a_typed_comment_is_kept_changed_and_cleared(session, queue, lan, flows, settings):
    from cati.services.exports import export_columns, export_rows
    from cati.services.members import member_report

    member_id = claimed(session, lan)
    saved = save_answers(session, member_id, lan.id,
                         {**FIRST_SEVEN, "comment": " Phải chờ lâu. "}, flows, TZ, NOW)  # fmt: skip
    assert saved[-1] == "comment" and comment_row(session, member_id) == ("1", "Phải chờ lâu.")
    save_answers(session, member_id, lan.id, {"comment": "Chờ lâu quá."}, flows, TZ, NOW)
    assert comment_row(session, member_id) == ("1", "Chờ lâu quá.")
    view = get_case(session, member_id, lan.id, flows, TZ, NOW)
    assert view.comments == {"comment": "Chờ lâu quá."}
    member = session.get(Member, member_id)
    assert outcome(session, member, lan, flows, settings, "complete") == "complete"
    report = member_report(session, member.case.dossier_code, TZ)
    assert report["comments"] == {"comment": "Chờ lâu quá."}
    columns = export_columns(flows["mscore"])
    assert columns[-2:] == ("comment_text", "phone_hash")
    rows = {r[0]: dict(zip(columns, r, strict=True))
            for r in export_rows(session, member.round_id, flows, TZ, "k")}  # fmt: skip
    row = rows[member.case.dossier_code]
    assert (row["comment"], row["comment_text"]) == ("1", "Chờ lâu quá.")


def test_an_empty_comment_is_no_comment_and_a_complete(session, queue, lan, flows, settings):
    member_id = claimed(session, lan)
    save_answers(session, member_id, lan.id, {**FIRST_SEVEN, "comment": ""}, flows, TZ, NOW)
    assert comment_row(session, member_id) == (None, None)
    member = session.get(Member, member_id)
    assert outcome(session, member, lan, flows, settings, "complete") == "complete"
    assert session.get(Member, member_id).disposition == "1.1"


def test_clearing_a_typed_comment_leaves_no_comment(session, queue, lan, flows):
    member_id = claimed(session, lan)
    save_answers(session, member_id, lan.id, {**FIRST_SEVEN, "comment": "Tốt"}, flows, TZ, NOW)
    save_answers(session, member_id, lan.id, {"comment": ""}, flows, TZ, NOW)
    assert comment_row(session, member_id) == (None, None)


def test_the_comment_left_blank_never_blocks_complete(session, queue, lan, flows, settings):
    # the case: seven answers, the comment never touched, outcome complete
    member_id = claimed(session, lan)
    save_answers(session, member_id, lan.id, FIRST_SEVEN, flows, TZ, NOW)
    member = session.get(Member, member_id)
    assert outcome(session, member, lan, flows, settings, "complete") == "complete"
    assert comment_row(session, member_id) == (None, None)  # saved as no comment


def test_a_question_gone_past_is_saved_as_skipped(session, queue, lan, flows, settings):
    member_id = claimed(session, lan)
    answers = {"consent": "1", "staff_attitude": "7", "on_time": "1"}
    save_answers(session, member_id, lan.id, answers, flows, TZ, NOW)
    view = get_case(session, member_id, lan.id, flows, TZ, NOW)
    assert view.answers == {"consent": "1", "staff_attitude": "7", "guidance_quality": None,
                            "on_time": "1"}  # fmt: skip
    assert view.next_question == "asked_to_return"
    save_answers(session, member_id, lan.id, {"guidance_quality": "5"}, flows, TZ, NOW)
    assert get_case(session, member_id, lan.id, flows, TZ, NOW).answers["guidance_quality"] == "5"


@pytest.mark.parametrize(
    ("submitted", "key", "field"),
    [
        ({"staff_attitude": "7"}, "console.error.answer_first", "consent"),
        ({"consent": "2", "staff_attitude": "7"}, "console.error.not_asked", "staff_attitude"),
        ({"consent": "1", "on_time": "5"}, "console.error.bad_answer", "on_time"),
        ({"nonsense": "1"}, "console.error.no_question", None),
    ],
    ids=["consent-first", "after-a-refusal", "bad-key", "unknown-question"],
)
def test_refusals_name_their_question_and_save_nothing(session, queue, lan, flows, submitted,
                                                       key, field):  # fmt: skip
    member_id = claimed(session, lan)
    with pytest.raises(ConsoleError) as info:
        save_answers(session, member_id, lan.id, submitted, flows, TZ, NOW)
    assert (info.value.key, info.value.field, info.value.gone) == (key, field, False)
    assert session.scalars(select(Answer)).all() == []


def test_complete_with_too_few_answers_names_the_first_empty_question(
    session, queue, lan, flows, settings
):
    member_id = claimed(session, lan)
    save_answers(session, member_id, lan.id, {"consent": "1", "staff_attitude": "4"},
                 flows, TZ, NOW)  # fmt: skip
    member = session.get(Member, member_id)
    with pytest.raises(ConsoleError) as info:
        outcome(session, member, lan, flows, settings, "complete")
    assert (info.value.key, info.value.field) == ("console.error.not_finished", "guidance_quality")
    assert len(session.scalars(select(Answer)).all()) == 2  # no skips written
    # three of five core answers is enough: the rest are skipped
    save_answers(session, member_id, lan.id, {"guidance_quality": "4", "on_time": "2"},
                 flows, TZ, NOW)  # fmt: skip
    assert outcome(session, member, lan, flows, settings, "complete") == "complete"
    skipped = session.scalars(select(Answer.question_id).where(Answer.value.is_(None))).all()
    assert sorted(skipped) == ["asked_to_return", "comment", "overall", "paid_without_receipt"]


def test_a_case_that_is_gone_says_so(session, queue, lan, flows):
    member_id = claimed(session, lan)
    release_case(session, member_id, lan.id, NOW)
    for call in (
        lambda: get_case(session, member_id, lan.id, flows, TZ, NOW),
        lambda: save_answers(session, member_id, lan.id, {"consent": "1"}, flows, TZ, NOW),
        lambda: reveal_phone(session, member_id, lan.id, NOW),
    ):
        with pytest.raises(ConsoleError) as info:
            call()
        assert (info.value.gone, info.value.key) == (True, "console.error.gone")


def test_the_case_view_has_the_script_in_the_language_asked(session, queue, lan, flows, settings):
    member_id = claimed(session, lan)
    view = get_case(session, member_id, lan.id, flows, TZ, NOW, language="en",
                    interviewer="Lan", max_attempts=5)  # fmt: skip
    assert view.opening.startswith("Hello, my name is Lan")
    staff = view.questions[1]
    assert (staff.label, staff.low, staff.high) == (
        "Question 2 (Staff attitude)", "Very dissatisfied", "Very satisfied")  # fmt: skip
    assert [c.key for c in staff.choices] == list("123456789")
    consent = view.questions[0]
    assert [(c.key, c.label, c.end) for c in consent.choices] == [
        ("1", "Agree", None), ("2", "Decline", "refused"),
        ("3", "Did not do this procedure", "not_eligible"),
        ("9", "Call back another time", "handover")]  # fmt: skip
    assert (view.attempt_number, view.max_attempts) == (1, 5)
    vi = get_case(session, member_id, lan.id, flows, TZ, NOW, interviewer="Lan")
    assert vi.questions[1].text.startswith("Anh/chị đánh giá thái độ của cán bộ")


def test_earlier_attempts_say_who_called_and_the_notes(session, queue, lan, flows, settings):
    member_id = claimed(session, lan)
    member = session.get(Member, member_id)
    outcome(session, member, lan, flows, settings, "no_answer", notes="Không ai nghe máy")
    later = session.get(Member, member_id).next_call_at
    for other in queue[1:]:
        other.next_call_at = later + timedelta(days=1)
    session.flush()
    assert claim_next_case(session, lan.id, later) == member_id
    view = get_case(session, member_id, lan.id, flows, TZ, later, max_attempts=5)
    assert [(a["number"], a["by"], a["outcome"], a["notes"]) for a in view.attempts] == [
        (1, "lan", "no_answer", "Không ai nghe máy")]  # fmt: skip
    assert view.attempt_number == 2


@pytest.mark.parametrize(
    ("e164", "shown"),
    [("+84912345678", "0912 345 678"), ("+842433852123", "024 3385 2123"),
     ("+842333852123", "0233 385 2123"), ("+4915112345678", "+4915112345678"), (None, "")],
)  # fmt: skip
def test_numbers_are_shown_the_national_way(e164, shown):
    from cati.services.console import national_phone

    assert national_phone(e164) == shown


def test_the_queue_says_why_nothing_can_be_taken(session, queue, lan, settings):
    from cati.services.console import queue_outlook

    policy = settings.calling_policy
    lunch = local(2026, 11, 23, 12, 0)
    outlook = queue_outlook(session, lan.id, lunch, policy)
    assert (outlook.callable_now, outlook.next_window) == (False, local(2026, 11, 23, 13, 30))
    for member in queue:
        member.next_call_at = local(2026, 11, 23, 15, 0)
    session.flush()
    outlook = queue_outlook(session, lan.id, local(2026, 11, 23, 14, 0), policy)
    assert (outlook.callable_now, outlook.next_due) == (True, local(2026, 11, 23, 15, 0))


def test_my_appointments_are_listed(session, queue, lan, flows, settings):
    from cati.services.console import queue_outlook

    member_id = claimed(session, lan)
    member = session.get(Member, member_id)
    at = local(2026, 11, 24, 14, 0)
    outcome(session, member, lan, flows, settings, "appointment", appointment_at=at)
    [mine] = queue_outlook(session, lan.id, NOW, settings.calling_policy).my_appointments
    assert (mine["at"], mine["dossier_code"]) == (at, member.case.dossier_code)
    minh = create_user(session, "minh")
    assert queue_outlook(session, minh.id, NOW, settings.calling_policy).my_appointments == []


def test_todays_figures_count_per_hour_signed_in(session, queue, lan, flows, settings):
    from cati.services.console import today_figures

    record_audit(session, lan.id, LOGIN, now=NOW - timedelta(hours=2))
    record_audit(session, lan.id, LOGOUT, now=NOW - timedelta(hours=1))
    record_audit(session, lan.id, LOGIN, now=NOW - timedelta(minutes=30))
    from cati.models import Round

    create_member(session, session.get(Round, queue[0].round_id))
    outcomes = ["complete", "no_answer", "refused", "busy"]
    for i, what in enumerate(outcomes):
        now = NOW + timedelta(minutes=i)
        member_id = claim_next_case(session, lan.id, now)
        member = session.get(Member, member_id)
        if what == "complete":
            save_answers(session, member_id, lan.id, COMPLETE, flows, TZ, now)
        outcome(session, member, lan, flows, settings, what, now=now)
    day = today_figures(session, lan.id, NOW + timedelta(minutes=30), TZ)
    assert (day.calls, day.contacts, day.completes) == (4, 2, 1)  # reached: complete, refused
    assert day.signed_in_s == 7200  # 1 h, then 1 h since 10:30
    assert day.completes_per_hour == 0.5 and day.success_rate == 0.5
