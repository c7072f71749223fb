"""Follow-ups raised from saved answers and hotline messages, handled with an audit, counted."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from cati.domain.follow_ups import DeadlinePolicy, TransitionError
from cati.models import FollowUp, FollowUpChange, FollowUpReason
from cati.services.flows import load_flows
from cati.services.follow_ups import (
    FollowUpError,
    follow_up_figures,
    get_follow_up,
    list_follow_ups,
    raise_for_answer,
    update_status,
)
from cati.services.ivr import save_answer, save_hotline_message
from tests.conftest import NOW, TZ
from tests.factories import create_attempt, create_case, create_round, create_user, local
from tests.factories import create_member as _create_member


@pytest.fixture
def mscore(settings):
    return load_flows(settings.flows_dir)["mscore"]


def create_member(session, **values):
    """A member of the one round of the test (created on first use)."""
    round_ = session.info.setdefault("test_round", None) or create_round(session)
    session.info["test_round"] = round_
    return _create_member(session, round_, **values)


def answer(session, mscore, member, question_id, value, *, exists=False, now=NOW):
    attempt = create_attempt(session, member)
    save_answer(session, member.id, attempt.id, question_id, value, now, exists=exists,
                flow=mscore)  # fmt: skip
    session.flush()


def follow_ups(session):
    return session.scalars(select(FollowUp).order_by(FollowUp.id)).all()


def reasons(session, follow_up):
    return session.scalars(
        select(FollowUpReason.reason)
        .where(FollowUpReason.follow_up_id == follow_up.id)
        .order_by(FollowUpReason.id)
    ).all()


def test_an_answer_the_flow_flags_raises_one_follow_up_per_member(session, mscore):
    member = create_member(session)
    answer(session, mscore, member, "staff_attitude", "8")
    assert follow_ups(session) == []
    answer(session, mscore, member, "paid_without_receipt", "1")
    answer(session, mscore, member, "overall", "2")
    answer(session, mscore, member, "comment", "1")
    [raised] = follow_ups(session)
    assert (raised.member_id, raised.office_id, raised.status) == (
        member.id,
        member.office_id,
        "new",
    )
    assert raised.contact_allowed is None  # not asked yet
    assert reasons(session, raised) == ["paid_without_receipt", "low_score", "comment"]
    assert raised.raised_at == NOW
    # Monday 23/11 10:00 → the fifth working day after is Monday 30/11
    assert raised.due_at == local(2026, 11, 30, 23, 59).replace(second=59)
    [change] = session.scalars(select(FollowUpChange)).all()
    assert (change.from_status, change.to_status, change.user_id) == (None, "new", None)


def test_a_repeated_answer_or_webhook_raises_nothing_twice(session, mscore):
    member = create_member(session)
    answer(session, mscore, member, "on_time", "2")
    answer(session, mscore, member, "on_time", "2", exists=True)
    for _ in range(3):  # the same key delivered again, by another worker
        raise_for_answer(session, mscore, member.id, "on_time", "2", NOW + timedelta(seconds=1))
    [raised] = follow_ups(session)
    assert reasons(session, raised) == ["not_on_time"]
    assert raised.raised_at == NOW
    assert session.scalar(select(func.count()).select_from(FollowUpChange)) == 1


def test_two_members_two_follow_ups_and_dont_know_raises_none(session, mscore):
    first, second, third = (create_member(session) for _ in range(3))
    answer(session, mscore, first, "asked_to_return", "1")
    answer(session, mscore, second, "staff_attitude", "3")
    answer(session, mscore, third, "staff_attitude", "0")
    answer(session, mscore, third, "on_time", None)
    assert [f.member_id for f in follow_ups(session)] == [first.id, second.id]


def test_the_deadline_follows_the_policy_of_the_unit_of_work(session, mscore):
    # Friday 27/11 with Monday 30/11 a holiday and one working day: Tuesday 1/12
    session.info["follow_up_deadlines"] = DeadlinePolicy(1, frozenset({date(2026, 11, 30)}), TZ)
    member = create_member(session)
    answer(session, mscore, member, "overall", "1", now=local(2026, 11, 27, 15))
    assert follow_ups(session)[0].due_at.astimezone(TZ).date() == date(2026, 12, 1)


def test_a_hotline_message_raises_a_follow_up_for_the_callers_office(session):
    case = create_case(session, office_code="HL", phone="+84912000111")
    save_hotline_message(session, "CA-1", "0912 000 111", "https://rec/1", "20", now=NOW)
    save_hotline_message(session, "CA-1", "0912 000 111", "https://rec/1", "20", now=NOW)
    save_hotline_message(session, "CA-2", "+84999999999", None, None, now=NOW)
    first, second = follow_ups(session)
    assert first.office_id == case.office_id and reasons(session, first) == ["hotline_message"]
    assert second.office_id is None  # nobody's dossier: the managers see it


def test_handling_is_audited_and_closing_needs_a_note(session, mscore):
    clerk = create_user(session, "clerk", role="manager")
    member = create_member(session)
    answer(session, mscore, member, "paid_without_receipt", "1")
    [raised] = follow_ups(session)
    later = NOW + timedelta(days=2)
    update_status(session, raised.id, "in_progress", None, user_id=clerk.id, now=later)
    with pytest.raises(TransitionError, match="needs a note"):
        update_status(session, raised.id, "resolved", "  ", user_id=clerk.id, now=later)
    update_status(session, raised.id, "resolved", "Refunded", user_id=clerk.id, now=later)
    assert (raised.status, raised.closed_at, raised.note) == ("resolved", later, "Refunded")
    view = get_follow_up(session, raised.id, now=later)
    assert [(c["user"], c["from"], c["to"], c["note"]) for c in view.changes] == [
        (None, None, "new", None),
        ("clerk", "new", "in_progress", None),
        ("clerk", "in_progress", "resolved", "Refunded"),
    ]


def test_an_office_sees_only_its_own_and_no_identity_without_consent(session, mscore):
    mine = create_member(session, office_code="DH")
    theirs = create_member(session, office_code="HL")
    answer(session, mscore, mine, "overall", "1")
    answer(session, mscore, theirs, "overall", "1")
    own, other = follow_ups(session)
    office_id = mine.office_id
    listed = list_follow_ups(session, now=NOW, office_id=office_id, manager=False)
    assert [v.id for v in listed] == [own.id]
    assert listed[0].dossier_code is None and listed[0].citizen_name is None
    assert listed[0].phone is None
    with pytest.raises(FollowUpError):
        get_follow_up(session, other.id, now=NOW, office_id=office_id, manager=False)
    with pytest.raises(FollowUpError):
        update_status(session, other.id, "in_progress", None, user_id=None, now=NOW,
                      office_id=office_id, manager=False)  # fmt: skip
    own.contact_allowed = True
    shown = get_follow_up(session, own.id, now=NOW, office_id=office_id, manager=False)
    assert shown.citizen_name == "Nguyễn Văn An" and shown.phone == mine.phone
    manager_view = get_follow_up(session, other.id, now=NOW)
    assert manager_view.dossier_code is not None


def test_list_filters(session, mscore):
    members = [create_member(session, office_code=code) for code in ("DH", "DH", "HL")]
    for member in members:
        answer(session, mscore, member, "overall", "1")
    first, second, third = follow_ups(session)
    update_status(session, second.id, "resolved", "ok", user_id=None, now=NOW)
    later = NOW + timedelta(days=10)

    def ids(**filters):
        return [v.id for v in list_follow_ups(session, now=later, **filters)]

    assert ids() == [first.id, second.id, third.id]
    assert ids(office_code="DH") == [first.id, second.id]
    assert ids(status="open") == [first.id, third.id]
    assert ids(status="resolved") == [second.id]
    assert ids(overdue=True, office_code="HL") == [third.id]
    assert list_follow_ups(session, now=NOW, overdue=True) == []
    with pytest.raises(FollowUpError, match="no office"):
        ids(office_code="XX")


def test_figures_per_office(session, mscore):
    members = [create_member(session, office_code=code) for code in ("DH", "DH", "HL")]
    for member in members:
        answer(session, mscore, member, "overall", "1")
    first = follow_ups(session)[0]
    update_status(session, first.id, "resolved", "ok", user_id=None, now=NOW + timedelta(days=1))
    first.callback_satisfied = True
    later = NOW + timedelta(days=10)
    figures = follow_up_figures(session, now=later, round_id=members[0].round_id)
    assert (figures["raised"], figures["open"], figures["overdue"]) == (3, 2, 2)
    assert figures["resolved_on_time"] == 1
    assert figures["on_time_share"] == pytest.approx(1 / 3, abs=1e-4)
    assert figures["satisfied_share"] == 1.0
    assert [(o["office_code"], o["raised"], o["overdue"]) for o in figures["offices"]] == [
        ("DH", 2, 1),
        ("HL", 1, 1),
    ]
    assert follow_up_figures(session, now=later, round_id=-1)["raised"] == 0


@pytest.mark.parametrize(
    ("first", "second", "expected"),
    [
        (("on_time", "2"), ("on_time", "2"), ["not_on_time"]),  # a duplicated webhook
        (("on_time", "2"), ("overall", "1"), ["not_on_time", "low_score"]),
    ],
    ids=["same answer", "two answers"],
)
def test_two_connections_saving_at_once_make_one_follow_up(tmp_path, settings, first, second,
                                                           expected):  # fmt: skip
    """Two engines (two web workers): the first raises in a transaction it keeps open; the
    second raises meanwhile (on PostgreSQL it waits on the unique index, checked in
    pg_stat_activity; on SQLite on the write lock); then both commit. One follow-up."""
    import threading

    from cati.db import make_engine, make_session_factory
    from cati.migrate import upgrade
    from tests.conftest import fresh_database

    mscore = load_flows(settings.flows_dir)["mscore"]
    with fresh_database(tmp_path) as url:
        upgrade(url)
        engines = [make_engine(url), make_engine(url)]
        factories = [make_session_factory(engine) for engine in engines]
        with factories[0].begin() as session:
            member_id = _create_member(session, create_round(session)).id
        raised, release, ids, errors = threading.Event(), threading.Event(), [], []

        def save(factory, answer, hold):
            try:
                with factory() as session:
                    ids.append(raise_for_answer(session, mscore, member_id, *answer, NOW))
                    if hold:
                        raised.set()
                        release.wait()
                    session.commit()
            except Exception as exc:  # pragma: no cover - reported below
                errors.append(exc)
                raised.set()

        threads = [
            threading.Thread(target=save, args=(factories[0], first, True), daemon=True),
            threading.Thread(target=save, args=(factories[1], second, False), daemon=True),
        ]
        waited = None
        try:
            threads[0].start()
            raised.wait()
            threads[1].start()
            if engines[0].dialect.name == "postgresql":
                waited = _second_waits(engines[0], threads[1])
        finally:
            release.set()  # never leave the first transaction hanging
            for thread in threads:
                thread.join()
        assert waited is not False, "the second connection never waited on the first"
        assert errors == []
        with factories[0]() as session:
            rows = session.scalars(select(FollowUp)).all()
            got = reasons(session, rows[0])
            changes = session.scalar(select(func.count()).select_from(FollowUpChange))
        for engine in engines:
            engine.dispose()
    assert len(rows) == 1 and ids == [rows[0].id] * 2
    assert got == expected
    assert changes == 1  # raised once


def _second_waits(engine, second) -> bool:
    """Whether another connection of this database comes to wait on a lock (the first
    transaction's row) while `second` runs; polled until it does or `second` has ended."""
    import time

    from sqlalchemy import text

    query = text(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
        " AND wait_event_type = 'Lock'"
    )
    with engine.connect() as watcher:
        while second.is_alive():
            if watcher.execute(query).scalar():
                return True
            watcher.rollback()  # a fresh snapshot of pg_stat_activity next time
            time.sleep(0.005)
    return False
