"""Sampling a weekly round: frame, eligibility, one member per phone, strata, reproducibility."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select

from cati.domain.weeks import IsoWeek
from cati.models import Case, Member, OptOut
from cati.services.retention import opt_out_hash
from cati.services.rounds import SamplingOptions, round_as_dict, sample_round
from tests.conftest import NOW, TZ
from tests.factories import create_case, local

W47 = IsoWeek(2026, 47)


def sample(session, week=W47, resurvey_days=90, **options):
    options.setdefault("seed", 7)
    return sample_round(
        session, week, SamplingOptions(**options), tz=TZ, resurvey_days=resurvey_days, now=NOW
    )


def discard(session, round_) -> None:
    session.execute(Member.__table__.delete().where(Member.round_id == round_.id))
    session.delete(round_)
    session.flush()


def member_codes(session, round_) -> set[str]:
    return set(
        session.scalars(
            select(Case.dossier_code)
            .join(Member, Member.case_id == Case.id)
            .where(Member.round_id == round_.id)
        )
    )


@pytest.mark.parametrize(
    ("values", "eligible"),
    [
        ({}, True),
        ({"channel": "online"}, False),
        ({"channel": "postal"}, False),
        ({"immediate_result": True}, False),
        ({"phone": None, "phone_type": "missing"}, False),
        ({"phone": None, "phone_type": "invalid"}, False),
        ({"phone": "+8418001234", "phone_type": "other"}, False),
        ({"phone": "+842333852123", "phone_type": "landline"}, True),
        ({"returned_at": None}, False),
    ],
    ids=[
        "in-person-mobile",
        "online",
        "postal",
        "immediate",
        "no-phone",
        "invalid-phone",
        "toll-free",
        "landline",
        "not-returned",
    ],
)
def test_eligibility_rules(session, values, eligible):
    case = create_case(session, **values)
    round_, created = sample(session, size=10, min_per_office=0)
    assert created
    assert round_.frame_size == (1 if case.returned_at else 0)
    assert round_.eligible == int(eligible)
    assert member_codes(session, round_) == ({case.dossier_code} if eligible else set())


@pytest.mark.parametrize(
    ("returned", "in_frame"),
    [
        (local(2026, 11, 16, 0, 10), True),  # Monday 00:10 local is Sunday 17:10 UTC
        (local(2026, 11, 15, 23, 59), False),  # Sunday before
        (local(2026, 11, 22, 23, 59), True),  # Sunday 23:59 local, last minute of the week
        (local(2026, 11, 23, 0, 0), False),  # next Monday 00:00
    ],
    ids=["monday-00:10", "previous-sunday", "sunday-23:59", "next-monday"],
)
@pytest.mark.parametrize("other_weeks", [0, 12], ids=["week-is-the-table", "week-is-a-slice"])
def test_week_boundaries_are_local(session, returned, in_frame, other_weeks):
    """Whether the week is most of the table (SQLite then reads the whole table) or a slice of
    it (read through the return-time index), the same cases are in the frame and eligible."""
    for _ in range(other_weeks):
        create_case(session, returned_at=local(2026, 11, 4, 9))
    create_case(session, returned_at=returned)
    round_, _ = sample(session, size=5)
    assert (round_.frame_size, round_.eligible) == (int(in_frame), int(in_frame))


def test_opted_out_phone_is_never_sampled(session):
    kept = create_case(session)
    blocked = create_case(session)
    session.add(OptOut(phone=blocked.phone, reason="asked", created_at=NOW))
    round_, _ = sample(session, size=10)
    assert member_codes(session, round_) == {kept.dossier_code}
    assert round_.eligible == 1


def test_one_member_per_phone_keeps_the_latest_returned_dossier(session):
    phone = "+84912000001"
    create_case(session, phone=phone, returned_at=local(2026, 11, 17, 9))
    latest = create_case(session, phone=phone, returned_at=local(2026, 11, 19, 15))
    create_case(session, phone=phone, returned_at=local(2026, 11, 18, 9))
    # An online dossier returned later does not make the phone ineligible.
    create_case(session, phone=phone, channel="online", returned_at=local(2026, 11, 20, 9))
    round_, _ = sample(session, size=10)
    assert member_codes(session, round_) == {latest.dossier_code}
    assert (round_.frame_size, round_.eligible, round_.sampled) == (4, 1, 1)


def test_one_member_per_phone_reads_the_weeks_cases_once(session, connection):
    """Two dossiers of a number returned at the same instant: the later-numbered one is kept
    (and one of a number that also has a dossier in another office); the week's cases are
    read once, never each against the others (the cost of sampling, scripts/bench_sampling.py)."""
    from sqlalchemy import event

    same = local(2026, 11, 18, 9)
    create_case(session, phone="+84912000003", returned_at=same)
    kept = create_case(session, phone="+84912000003", returned_at=same)
    create_case(session, phone="+84912000004", office_code="HL", returned_at=same)
    other = create_case(session, phone="+84912000004", office_code="DH", returned_at=same)
    single = create_case(session, phone="+84912000005")
    statements: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        statements.append(" ".join(statement.split()))

    event.listen(connection, "before_cursor_execute", record)
    try:
        round_, _ = sample(session, size=10)
    finally:
        event.remove(connection, "before_cursor_execute", record)
    assert member_codes(session, round_) == {kept.dossier_code, other.dossier_code,
                                             single.dossier_code}  # fmt: skip
    assert (round_.frame_size, round_.eligible, round_.sampled) == (5, 3, 3)
    assert not [s for s in statements if "FROM cases AS" in s]


def test_phone_sampled_recently_is_not_sampled_again(session):
    phone = "+84912000002"
    create_case(session, phone=phone, returned_at=local(2026, 11, 11, 9))
    first, _ = sample(session, week=IsoWeek(2026, 46), size=10)
    assert first.sampled == 1
    create_case(session, phone=phone)
    second, _ = sample(session, size=10)
    assert second.eligible == 0


def test_resurvey_window_is_configurable(session):
    phone = "+84912000003"
    create_case(session, phone=phone, returned_at=local(2026, 11, 11, 9))
    sample(session, week=IsoWeek(2026, 46), size=10)
    create_case(session, phone=phone)
    round_, _ = sample(session, size=10, resurvey_days=7)
    assert round_.eligible == 1


def test_sampling_a_week_again_creates_nothing(session):
    for _ in range(20):
        create_case(session)
    first, created = sample(session, rate=0.5)
    again, created_again = sample(session, rate=0.9, seed=99)
    assert created and not created_again
    assert again.id == first.id
    assert session.scalar(select(Member.id).where(Member.round_id != first.id)) is None


def test_another_flow_gets_its_own_round_without_the_same_citizens(session):
    for _ in range(10):
        create_case(session)
    mscore, _ = sample(session, size=4, min_per_office=0)
    sipas, created = sample(session, flow="sipas", size=10, min_per_office=0)
    assert created
    assert sipas.eligible == 6
    assert member_codes(session, mscore).isdisjoint(member_codes(session, sipas))


def test_proportional_allocation_with_a_minimum_per_office(session):
    for office, count in {"BIG": 200, "MID": 60, "TINY": 3}.items():
        for i in range(count):
            create_case(
                session,
                office_code=office,
                phone=f"+8497{office[0]}{i:06d}".replace("B", "1")
                .replace("M", "2")
                .replace("T", "3"),
            )
    round_, _ = sample(session, rate=0.1, min_per_office=5)
    sampled = {o.office.code: o.sampled for o in round_.offices}
    # 26 in all: TINY keeps its 3, the other 23 are split 200:60.
    assert sampled == {"BIG": 18, "MID": 5, "TINY": 3}
    assert round_.sampled == 26
    counted = Counter(session.scalars(select(Member.office_id).where(Member.round_id == round_.id)))
    assert {o.office.code: counted[o.office_id] for o in round_.offices} == sampled


@pytest.mark.parametrize("bound", ["margin", "too-tight-everywhere", "too-tight-for-big"])
def test_each_office_draws_its_cases_with_the_smallest_keys(session, monkeypatch, bound):
    """Each office's members are its eligible cases (one per phone) with the smallest seeded
    keys, then ids, written office after office in that order: also when fewer cases than the
    quota fall under the key bound an office's cases are ranked below (it is drawn again)."""
    from cati.services import rounds

    if bound == "too-tight-everywhere":
        monkeypatch.setattr(rounds, "_key_bound", lambda quota, eligible: 0)
    elif bound == "too-tight-for-big":
        monkeypatch.setattr(rounds, "_key_bound", lambda q, n: 1000 if n > 50 else rounds._KEY_END)
    cases = {code: [create_case(session, office_code=code) for _ in range(count)]
             for code, count in {"BIG": 80, "MID": 20, "TINY": 3}.items()}  # fmt: skip
    # A number with two dossiers in BIG keeps only the latest; one shared with MID, MID's.
    older = create_case(session, office_code="BIG", phone=cases["BIG"][0].phone,
                        returned_at=local(2026, 11, 17, 8))  # fmt: skip
    cases["BIG"][1].phone = cases["MID"][0].phone
    cases["BIG"][1].returned_at = local(2026, 11, 17, 8)
    session.flush()
    round_, _ = sample(session, rate=0.3, min_per_office=2, seed=11)

    keys = dict(session.execute(select(Case.id, rounds._sample_key(Case.id, 11))).all())
    eligible = {code: [c for c in group if c.id not in (older.id, cases["BIG"][1].id)]
                for code, group in cases.items()}  # fmt: skip
    quotas = {o.office.code: o.sampled for o in round_.offices}
    assert {o.office.code: o.eligible for o in round_.offices} == {"BIG": 79, "MID": 20, "TINY": 3}
    expected = [
        c.id
        for code in ("BIG", "MID", "TINY")  # office ids in this order
        for c in sorted(eligible[code], key=lambda c: (keys[c.id], c.id))[: quotas[code]]
    ]
    drawn = session.scalars(
        select(Member.case_id).where(Member.round_id == round_.id).order_by(Member.id)
    ).all()
    assert sum(quotas.values()) == round_.sampled == 31
    assert drawn == expected


def test_same_seed_same_members_other_seed_other_members(session):
    cases = [create_case(session) for _ in range(100)]
    first, _ = sample(session, size=20, seed=123)
    chosen = member_codes(session, first)
    discard(session, first)
    again, _ = sample(session, size=20, seed=123)
    assert member_codes(session, again) == chosen
    discard(session, again)
    other, _ = sample(session, size=20, seed=124)
    assert member_codes(session, other) != chosen
    assert len(chosen) == 20 and chosen <= {c.dossier_code for c in cases}


def test_selection_is_spread_over_the_whole_frame(session):
    """The seeded key must not favour early or late dossiers (import order)."""
    cases = [
        create_case(session, returned_at=local(2026, 11, 16, 8) + timedelta(minutes=i))
        for i in range(1000)
    ]
    position = {c.dossier_code: i for i, c in enumerate(cases)}
    round_, _ = sample(session, size=200, seed=5)
    deciles = Counter(position[code] // 100 for code in member_codes(session, round_))
    assert sum(deciles.values()) == 200
    # 20 expected per decile; a fair draw stays well inside 5..35 (p < 1e-4 otherwise).
    assert all(5 <= deciles[d] <= 35 for d in range(10)), deciles


def test_round_json_carries_the_promised_keys(session):
    a = create_case(session, office_code="DH")
    create_case(session, office_code="HL", channel="online")
    round_, _ = sample(session, size=10, seed=42)
    data = round_as_dict(session, round_, TZ)
    assert {
        "id",
        "week",
        "flow",
        "seed",
        "status",
        "frame_size",
        "eligible",
        "sampled",
        "offices",
        "members",
    } <= data.keys()
    assert (data["week"], data["flow"], data["seed"], data["status"]) == (
        "2026-W47",
        "mscore",
        42,
        "open",
    )
    assert data["offices"] == [
        {"office_code": "DH", "office_name": "Office DH", "frame": 1, "eligible": 1, "sampled": 1},
        {"office_code": "HL", "office_name": "Office HL", "frame": 1, "eligible": 0, "sampled": 0},
    ]
    assert data["members"] == [a.dossier_code]
    assert data["week_start"] == "2026-11-16T00:00:00+07:00"


def test_random_seed_is_stored_when_none_is_given(session):
    create_case(session)
    round_, _ = sample(session, size=1, seed=None)
    assert isinstance(round_.seed, int) and round_.seed >= 0


def test_a_number_opted_out_as_a_hash_is_not_sampled_and_gets_its_number_back(session):
    key = "test-sampling-key-0123456789"
    kept = create_case(session)
    blocked = create_case(session)
    entry = OptOut(phone_hash=opt_out_hash(key, blocked.phone), reason="asked", created_at=NOW)
    session.add(entry)
    round_, _ = sample_round(session, W47, SamplingOptions(size=10, seed=7), tz=TZ,
                             resurvey_days=90, now=NOW, hash_key=key)  # fmt: skip
    assert member_codes(session, round_) == {kept.dossier_code}
    assert (entry.phone, entry.phone_hash) == (blocked.phone, None)


def test_sampling_hashes_nothing_while_no_opt_out_is_hash_only(session, monkeypatch):
    monkeypatch.setattr("cati.services.retention.opt_out_hash", pytest.fail)
    blocked = create_case(session)
    session.add(OptOut(phone=blocked.phone, reason="asked", created_at=NOW))
    round_, _ = sample_round(session, W47, SamplingOptions(size=10, seed=7), tz=TZ,
                             resurvey_days=90, now=NOW, hash_key="any-key-0123456789")  # fmt: skip
    assert round_.eligible == 0


@pytest.mark.parametrize("mode", ["ivr", "interviewer"])
def test_members_take_the_rounds_mode_into_the_report_and_the_export(session, settings, mode):
    from cati.services.exports import FIXED_COLUMNS, export_rows
    from cati.services.flows import load_flows
    from cati.services.reports import round_report

    for _ in range(4):
        create_case(session)
    round_, _ = sample(session, size=4, min_per_office=1, mode=mode)
    session.expire_all()
    modes = session.scalars(select(Member.mode).where(Member.round_id == round_.id)).all()
    assert modes == [mode] * 4
    flows = load_flows(settings.flows_dir)
    report = round_report(session, round_.id, flows, TZ)
    assert [row["mode"] for row in report["modes"]] == [mode]
    column = FIXED_COLUMNS.index("mode")
    assert {row[column] for row in export_rows(session, round_.id, flows, TZ, "k")} == {mode}
