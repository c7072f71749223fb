"""Retention: names, numbers, notes and recordings erased after a round closes; answers,
dispositions and statistics kept; opt-outs kept as keyed hashes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event, select

from cati.db import Base
from cati.domain.flow import FlowRun
from cati.models import (
    Answer,
    Attempt,
    Case,
    CounterAnswer,
    CounterRating,
    HotlineMessage,
    Member,
    OptOut,
    Round,
)
from cati.services.exports import phone_hash
from cati.services.flows import load_flows
from cati.services.interviews import record_opt_out_choice
from cati.services.retention import (
    erase_closed_rounds,
    forget_recording,
    list_pending_recordings,
    opt_out_hash,
    restore_opt_outs,
)
from tests.conftest import NOW
from tests.factories import (
    create_attempt,
    create_case,
    create_member,
    create_office,
    create_round,
    local,
)

KEY = "test-retention-key-0123456789"
DAYS = 180
ROUND_DAYS = 14  # CATI_ROUND_CALLING_DAYS
LATER = NOW + timedelta(days=DAYS)  # a round closed at NOW is erased from here on


def erase(session, now=LATER):
    return erase_closed_rounds(
        session, retention_days=DAYS, now=now, hash_key=KEY, round_days=ROUND_DAYS
    )


def closed_round(session, week="2026-W47", flow="mscore", closed_at=NOW):
    round_ = create_round(session, week, flow)
    round_.status, round_.closed_at = "closed", closed_at
    session.flush()
    return round_


def answered_member(session, round_, n: int, recording: str | None = None, **case_values):
    """A member who completed the survey with an interviewer who took notes."""
    member = create_member(session, round_, procedure_code="P-1", **case_values)
    member.status, member.disposition, member.notes = "final", "1.1", f"gọi lại cho chị {n}"
    attempt = create_attempt(session, member, notes=f"chị {n} nói số khác", outcome="complete")
    session.add(
        Answer(
            member_id=member.id,
            question_id="overall",
            value="9",
            attempt_id=attempt.id,
            recording_url=recording,
            answered_at=NOW,
        )
    )
    session.flush()
    return member


def stored_text(session) -> str:
    """Every value of every table, as one text to search for personal data."""
    session.flush()
    session.expire_all()
    rows = []
    for table in Base.metadata.sorted_tables:
        rows += [" ".join(map(str, row)) for row in session.execute(select(table)).all()]
    return "\n".join(rows)


def test_opt_out_hash_is_keyed_and_apart_from_the_export_hash():
    digest = opt_out_hash(KEY, "+84912000001")
    assert len(digest) == 64 and int(digest, 16) >= 0
    assert digest == opt_out_hash(KEY, "+84912000001")
    assert digest != opt_out_hash("another-key-0123456789", "+84912000001")
    assert not digest.startswith(phone_hash(KEY, "+84912000001"))


def test_typed_comments_are_erased_with_the_round_their_key_stays(session):
    round_ = closed_round(session)
    member = answered_member(session, round_, 1)
    session.add(Answer(member_id=member.id, question_id="comment", value="1",
                       text="Chị Hoa ở xóm 3 phải chờ cả buổi", answered_at=NOW))  # fmt: skip
    kept = create_member(session, create_round(session, "2026-W48"))  # not closed: kept
    session.add(Answer(member_id=kept.id, question_id="comment", value="1",
                       text="Cán bộ tận tình", answered_at=NOW))  # fmt: skip
    session.flush()
    erase(session)
    rows = session.execute(select(Answer.member_id, Answer.value, Answer.text)
                           .where(Answer.question_id == "comment")).all()  # fmt: skip
    assert sorted(rows) == sorted([(member.id, "1", None), (kept.id, "1", "Cán bộ tận tình")])


def test_a_round_closed_long_enough_loses_names_numbers_and_notes(session):
    round_ = closed_round(session)
    members = [
        answered_member(
            session,
            round_,
            n,
            citizen_name=f"Trần Thị Bích {n}",
            phone=f"+8491555000{n}",
            phone_raw=f"091555000{n}",
        )
        for n in range(3)
    ]
    # Returned in the same week but not sampled: erased with the round.
    bystander = create_case(
        session,
        citizen_name="Lê Văn Cường",
        phone="+84915550099",
        phone_raw="0915 550 099",
        procedure_code="P-2",
    )

    report = erase(session)

    assert (report.rounds, report.members, report.cases) == (1, 3, 4)
    text = stored_text(session)
    for secret in ("Trần Thị Bích", "Lê Văn Cường", "+849155500", "091555", "0915 550", "chị"):
        assert secret not in text
    assert session.get(Round, round_.id).erased_at == LATER
    for member in members:
        member = session.get(Member, member.id)
        assert (member.phone, member.notes, member.disposition) == (None, None, "1.1")
        case = session.get(Case, member.case_id)
        assert (case.phone_type, case.procedure_code, case.office.code) == ("mobile", "P-1", "DH")
        assert case.returned_at is not None
    assert session.scalars(select(Answer.value)).all() == ["9", "9", "9"]
    assert session.scalars(select(Attempt.outcome)).all() == ["complete"] * 3
    bystander = session.get(Case, bystander.id)
    assert (bystander.citizen_name, bystander.phone, bystander.procedure_code) == (
        None,
        None,
        "P-2",
    )


def test_a_round_closed_179_days_ago_is_untouched(session):
    round_ = closed_round(session, closed_at=LATER - timedelta(days=DAYS - 1))
    member = answered_member(session, round_, 1, recording="https://rec.example/RE1")
    case = create_case(session)

    report = erase(session)

    assert (report.rounds, report.members, report.cases, report.recordings) == (0, 0, 0, [])
    session.expire_all()
    assert session.get(Round, round_.id).erased_at is None
    assert session.get(Member, member.id).phone is not None
    assert session.get(Member, member.id).notes is not None
    assert session.get(Case, case.id).citizen_name == "Nguyễn Văn An"
    assert session.scalar(select(Attempt.notes)) is not None


def test_an_open_round_is_untouched(session):
    round_ = create_round(session)
    member = create_member(session, round_)
    assert erase(session).rounds == 0
    session.expire_all()
    assert session.get(Member, member.id).phone is not None


def test_cases_of_a_round_still_running_in_the_same_week_are_untouched(session):
    erased = closed_round(session, flow="mscore")
    running = create_round(session, flow="other")  # the same week, still open
    gone = create_member(session, erased)
    kept = create_member(session, running)
    shared = create_case(session)
    in_erased, in_running = (
        create_member(session, erased, shared),
        create_member(session, running, shared),
    )

    report = erase(session)

    assert (report.rounds, report.members, report.cases) == (1, 2, 1)
    session.expire_all()
    assert session.get(Case, gone.case_id).phone is None
    for member in (kept, in_running):
        member = session.get(Member, member.id)
        assert member.phone is not None
        assert member.case.phone == member.phone
        assert member.case.citizen_name == "Nguyễn Văn An"
    assert session.get(Member, in_erased.id).phone is None


def test_cases_shared_by_two_rounds_erased_together_are_erased(session):
    first, second = closed_round(session, flow="mscore"), closed_round(session, flow="other")
    shared = create_case(session)
    create_member(session, first, shared)
    create_member(session, second, shared)

    assert erase(session).rounds == 2
    session.expire_all()
    assert session.get(Case, shared.id).phone is None


def test_cases_of_other_weeks_are_untouched(session):
    closed_round(session)
    next_week = create_case(session, returned_at=local(2026, 11, 24, 10))
    erase(session)
    session.expire_all()
    assert session.get(Case, next_week.id).phone is not None


def test_recordings_are_listed_and_kept_until_the_provider_deleted_them(session):
    round_ = closed_round(session)
    answered_member(session, round_, 1, recording="https://rec.example/RE1")
    answered_member(session, round_, 2)

    report = erase(session)

    assert report.recordings == ["https://rec.example/RE1"]
    assert session.scalar(select(Answer.recording_url).where(Answer.recording_url.is_not(None)))
    assert list_pending_recordings(session, DAYS, LATER) == ["https://rec.example/RE1"]
    assert forget_recording(session, "https://rec.example/RE1") == 1
    assert list_pending_recordings(session, DAYS, LATER) == []
    assert session.scalars(select(Answer.value)).all() == ["9", "9"]
    assert session.scalars(select(Answer.recording_url)).all() == [None, None]


def hotline(session, caller, received_at, recording=None):
    message = HotlineMessage(
        provider_call_id=f"CA{caller}",
        caller=caller,
        recording_url=recording,
        duration_s=12,
        received_at=received_at,
    )
    session.add(message)
    session.flush()
    return message


def test_hotline_messages_older_than_the_retention_lose_caller_and_recording(session):
    old = hotline(session, "+84915550001", NOW, recording="https://rec.example/RE-old")
    recent = hotline(
        session, "+84915550002", NOW + timedelta(days=1), recording="https://rec.example/RE-new"
    )

    report = erase(session)

    assert (report.rounds, report.hotline_messages) == (0, 1)
    assert report.recordings == ["https://rec.example/RE-old"]
    assert list_pending_recordings(session, DAYS, LATER) == ["https://rec.example/RE-old"]
    forget_recording(session, "https://rec.example/RE-old")
    session.expire_all()
    assert (session.get(HotlineMessage, old.id).caller, old.recording_url) == (None, None)
    assert session.get(HotlineMessage, old.id).duration_s == 12
    assert (recent.caller, recent.recording_url) == ("+84915550002", "https://rec.example/RE-new")


def counter_rating(session, started_at, dossier_code=None, reason=None, comment=None):
    """A finished kiosk rating at Đông Hà: a low staff score with what went wrong (`reason`,
    "" when passed over), and the comment question (`comment`)."""
    rating = CounterRating(office_id=create_office(session).id, mode="kiosk", flow="mscore",
                           language="vi", started_at=started_at, answered_at=started_at,
                           finished_at=started_at, dossier_code=dossier_code,
                           dossier_check="ok" if dossier_code else None,
                           flags="dossier_twice" if dossier_code else None)  # fmt: skip
    session.add(rating)
    session.flush()
    session.add(CounterAnswer(rating_id=rating.id, question_id="staff_attitude", value="2",
                              text=reason, answered_at=started_at))  # fmt: skip
    if comment is not None:
        session.add(CounterAnswer(rating_id=rating.id, question_id="comment", value="1",
                                  text=comment, answered_at=started_at))  # fmt: skip
    session.flush()
    return rating


def test_counter_ratings_lose_dossier_code_and_comments_after_the_retention_period(session):
    """Counter ratings belong to no round: erased `retention_days` after they were given, the
    dossier code and what was typed; keys, the dossier check and flags stay (the figures)."""
    cutoff = LATER - timedelta(days=DAYS)
    old = counter_rating(session, cutoff, "HS-000123", reason="Anh Tuấn ở quầy 2 quát tôi",
                         comment="Gọi cho tôi 0912 345 678")  # fmt: skip
    passed_over = counter_rating(session, cutoff - timedelta(days=3), reason="")
    asked_nothing = counter_rating(session, cutoff - timedelta(days=3))  # reason not asked yet
    recent = counter_rating(session, cutoff + timedelta(seconds=1), "HS-000124",
                            reason="Chờ lâu", comment="Chị Hoa tận tình")  # fmt: skip

    report = erase(session)

    assert report.counter_ratings == 1
    text = stored_text(session)
    for secret in ("HS-000123", "Anh Tuấn", "0912 345 678"):
        assert secret not in text
    old = session.get(CounterRating, old.id)
    assert (old.dossier_code, old.dossier_check, old.flags) == (None, "ok", "dossier_twice")
    answers = session.execute(select(CounterAnswer.rating_id, CounterAnswer.question_id,
                                     CounterAnswer.value, CounterAnswer.text)).all()  # fmt: skip
    assert sorted(answers) == sorted([
        (old.id, "staff_attitude", "2", ""),
        (old.id, "comment", "1", ""),
        (passed_over.id, "staff_attitude", "2", ""),
        (asked_nothing.id, "staff_attitude", "2", None),
        (recent.id, "staff_attitude", "2", "Chờ lâu"),
        (recent.id, "comment", "1", "Chị Hoa tận tình"),
    ])  # fmt: skip
    assert session.get(CounterRating, recent.id).dossier_code == "HS-000124"
    assert erase(session, now=LATER + timedelta(seconds=1)).counter_ratings == 1  # the next one
    assert erase(session, now=LATER + timedelta(days=1)).counter_ratings == 0


def opt_out(session, phone=None, created_at=NOW - timedelta(days=30), phone_hash=None):
    entry = OptOut(phone=phone, phone_hash=phone_hash, reason="asked", created_at=created_at)
    session.add(entry)
    session.flush()
    return entry


def test_old_opt_outs_keep_only_a_hash_once_no_case_holds_the_number(session):
    round_ = closed_round(session)
    erased = create_member(session, round_)
    still_held = create_member(session, round_)
    create_case(session, phone=still_held.phone, returned_at=local(2027, 3, 3, 10))
    gone, held_phone = erased.phone, still_held.phone
    unknown = "+84915550077"  # never in a case (added by hand)
    old = [opt_out(session, phone) for phone in (gone, held_phone, unknown)]
    recent = opt_out(session, "+84915550078", created_at=LATER - timedelta(days=DAYS - 1))

    report = erase(session)

    assert report.opt_outs_hashed == 2
    session.expire_all()
    hashed, held, by_hand = (session.get(OptOut, entry.id) for entry in old)
    assert (hashed.phone, hashed.phone_hash) == (None, opt_out_hash(KEY, gone))
    assert hashed.reason is None  # free text: it may name the citizen
    assert (held.phone, held.phone_hash) == (held_phone, None)
    assert (by_hand.phone, by_hand.phone_hash) == (None, opt_out_hash(KEY, unknown))
    assert session.get(OptOut, recent.id).phone == "+84915550078"
    assert gone not in stored_text(session)


def test_an_opt_out_whose_hash_is_already_kept_is_dropped(session):
    phone = "+84915550077"
    kept = opt_out(session, phone_hash=opt_out_hash(KEY, phone))
    again = opt_out(session, phone)  # blocked again while it was only a hash (IVR refusal)

    assert erase(session).opt_outs_hashed == 1

    session.expire_all()
    assert session.get(OptOut, again.id) is None
    assert session.get(OptOut, kept.id).phone_hash == opt_out_hash(KEY, phone)


def test_rerunning_changes_nothing_more(session):
    round_ = closed_round(session)
    answered_member(session, round_, 1, recording="https://rec.example/RE1")
    opt_out(session, "+84915550077")
    hotline(session, "+84915550001", NOW, recording="https://rec.example/RE2")
    first = erase(session)
    for url in first.recordings:
        forget_recording(session, url)
    before = stored_text(session)

    again = erase(session, now=LATER + timedelta(days=1))

    assert (again.rounds, again.members, again.cases, again.recordings) == (0, 0, 0, [])
    assert (again.opt_outs_hashed, again.hotline_messages) == (0, 0)
    assert stored_text(session) == before


def test_restore_opt_outs_puts_the_number_back_on_its_hashed_entry(session):
    phone = "+84915550077"
    entry = opt_out(session, phone_hash=opt_out_hash(KEY, phone))
    other = opt_out(session, phone_hash=opt_out_hash(KEY, "+84915550078"))

    assert restore_opt_outs(session, [phone, "+84915550079", phone], KEY) == 1

    session.expire_all()
    assert (session.get(OptOut, entry.id).phone, session.get(OptOut, entry.id).phone_hash) == (
        phone,
        None,
    )
    assert session.get(OptOut, other.id).phone is None


def test_restore_opt_outs_drops_a_hash_whose_number_is_listed_again(session):
    phone = "+84915550077"
    hashed = opt_out(session, phone_hash=opt_out_hash(KEY, phone))
    plain = opt_out(session, phone)

    assert restore_opt_outs(session, [phone], KEY) == 1

    session.expire_all()
    assert session.get(OptOut, hashed.id) is None
    assert session.get(OptOut, plain.id).phone == phone


@pytest.fixture
def statements(session):
    seen: list[str] = []

    def count(conn, cursor, statement, *args):
        seen.append(statement)

    engine = session.get_bind().engine
    event.listen(engine, "before_cursor_execute", count)
    yield seen
    event.remove(engine, "before_cursor_execute", count)


def test_restore_opt_outs_is_one_query_when_nothing_is_hashed(session, statements, monkeypatch):
    opt_out(session, "+84915550077")
    monkeypatch.setattr("cati.services.retention.opt_out_hash", pytest.fail)
    statements.clear()
    assert restore_opt_outs(session, ["+84915550077"] * 1000, KEY) == 0
    assert len(statements) == 1


def test_an_ivr_refusal_of_a_number_kept_as_a_hash_adds_it_plainly(session, settings):
    member = create_member(session, closed_round(session, week="2026-W46"))
    opt_out(session, phone_hash=opt_out_hash(KEY, member.phone))
    flow = load_flows(settings.flows_dir)["mscore"]
    run = FlowRun.resume(flow, {}, "vi", {"consent": "2"})

    record_opt_out_choice(session, member, run, NOW)
    session.flush()

    assert session.scalars(select(OptOut.phone).order_by(OptOut.id)).all() == [None, member.phone]


def test_cases_no_round_took_are_erased_as_late_as_a_rounds_would_be(session):
    """A week without a round, and a dossier never returned: erased `retention_days` after a
    round of their week would have closed (its week's end plus 14 days), not before."""
    cutoff = LATER - timedelta(days=DAYS)  # = NOW, Monday 23/11 10:00
    old_week = create_case(session, returned_at=local(2026, 10, 31, 10))  # 23 days before
    recent = create_case(session, returned_at=local(2026, 11, 3, 10))  # 20 days before
    never_returned = create_case(session, returned_at=None, received_at=local(2026, 10, 20, 9))
    in_open_round = create_member(session, create_round(session, "2026-W44"),
                                  returned_at=local(2026, 10, 28, 10))  # fmt: skip
    assert cutoff - timedelta(days=21) == local(2026, 11, 2, 10)
    report = erase(session)
    session.expire_all()
    assert report.cases == 2
    for case in (old_week, never_returned):
        case = session.get(Case, case.id)
        assert (case.citizen_name, case.phone_raw, case.phone) == (None, None, None)
        assert case.phone_type == "mobile"
    assert session.get(Case, recent.id).phone is not None
    assert session.get(Case, in_open_round.case_id).phone is not None


def test_without_a_key_opt_outs_keep_their_number(session):
    """Retention hashes opt-outs only with an explicit CATI_SECRET_KEY."""
    closed_round(session)
    entry = OptOut(phone="+84911000001", reason="asked", created_at=NOW - timedelta(days=1))
    session.add(entry)
    report = erase_closed_rounds(
        session, retention_days=DAYS, now=LATER, hash_key=None, round_days=ROUND_DAYS
    )
    assert report.opt_outs_hashed == 0
    assert (entry.phone, entry.phone_hash) == ("+84911000001", None)
