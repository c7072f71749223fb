"""Counter ratings' pure rules: dossier checks, opening hours, integrity flags, tokens."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from cati.domain.counter import (
    BURST,
    DOSSIER_TWICE,
    OUTSIDE_HOURS,
    SAME_ANSWERS,
    IntegrityPolicy,
    RatingFacts,
    check_dossier,
    clean_dossier_code,
    derive_office_token,
    flag_ratings,
    new_kiosk_token,
    parse_opening_hours,
    read_together,
)
from cati.domain.web_links import is_well_formed
from tests.conftest import TZ

MONDAY = datetime(2026, 12, 7, 9, 0, tzinfo=TZ)  # a Monday, 09:00 local
KIOSK = ("kiosk", 1)
GOOD = (("overall", "9"), ("staff_attitude", "8"))
BAD = (("overall", "1"), ("staff_attitude", "1"))


def rating(n, minutes=0.0, source=KIOSK, pattern=None, code=None, at=MONDAY):
    return RatingFacts(n, source, at + timedelta(minutes=minutes), pattern, code)


@pytest.mark.parametrize(
    ("case_office", "channel", "immediate", "expected"),
    [
        (None, None, False, "unknown"),
        (2, "in_person", False, "other_office"),
        (1, "in_person", True, "immediate_result"),
        (1, "online", False, "online"),
        (1, "postal", False, "postal"),
        (1, "in_person", False, "ok"),
    ],
)
def test_dossier_check(case_office, channel, immediate, expected):
    assert check_dossier(1, case_office, channel, immediate) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(None, None), ("", None), ("   ", None), (" hs-000 12 ", "HS-00012")],
)
def test_dossier_code_as_typed(raw, expected):
    assert clean_dossier_code(raw) == expected


@pytest.mark.parametrize(
    ("local", "is_open"),
    [
        (datetime(2026, 12, 7, 7, 29), False),
        (datetime(2026, 12, 7, 7, 30), True),
        (datetime(2026, 12, 7, 11, 29), True),
        (datetime(2026, 12, 7, 12, 0), False),  # lunch
        (datetime(2026, 12, 7, 16, 59), True),
        (datetime(2026, 12, 7, 17, 0), False),
        (datetime(2026, 12, 11, 10, 0), True),  # Friday
        (datetime(2026, 12, 12, 10, 0), False),  # Saturday
    ],
)
def test_default_opening_hours(local, is_open):
    hours = parse_opening_hours("07:30-11:30,13:30-17:00 mon-fri")
    assert hours.is_open(local.replace(tzinfo=TZ)) is is_open


@pytest.mark.parametrize(
    ("text", "weekdays"),
    [("08:00-12:00", {0, 1, 2, 3, 4}), ("08:00-12:00 mon-sat", set(range(6))),
     ("08:00-12:00 mon,wed,fri", {0, 2, 4}), ("00:00-24:00 mon-sun", set(range(7)))],
)  # fmt: skip
def test_opening_hours_days(text, weekdays):
    assert parse_opening_hours(text).weekdays == weekdays


@pytest.mark.parametrize(
    "text", ["", "8-12", "12:00-08:00", "08:00-12:00 monday", "08:00-12:00 fri-mon", "25:00-26:00"]
)
def test_bad_opening_hours_are_refused(text):
    with pytest.raises(ValueError):
        parse_opening_hours(text)


POLICY = IntegrityPolicy()


@pytest.mark.parametrize(
    ("ratings", "flagged"),
    [
        # five in two minutes is not a burst; six is, and all six are flagged
        ([rating(i, i * 0.4) for i in range(5)], {}),
        ([rating(i, i * 0.4) for i in range(6)], {i: {BURST} for i in range(6)}),
        # six spread over more than two minutes: no burst
        ([rating(i, i * 0.5) for i in range(6)], {}),
        # six in two minutes but at two kiosks: no burst at either
        ([rating(i, i * 0.2, source=("kiosk", 1 + i % 2)) for i in range(6)], {}),
        # three identical complete patterns in a row at one kiosk
        ([rating(i, i * 10, pattern=GOOD) for i in range(3)],
         {i: {SAME_ANSWERS} for i in range(3)}),
        # two identical, then another: no run
        ([rating(0, 0, pattern=GOOD), rating(1, 10, pattern=GOOD),
          rating(2, 20, pattern=BAD)], {}),
        # a partial in between does not break the run
        ([rating(0, 0, pattern=GOOD), rating(1, 5), rating(2, 10, pattern=GOOD),
          rating(3, 20, pattern=GOOD)], {0: {SAME_ANSWERS}, 2: {SAME_ANSWERS}, 3: {SAME_ANSWERS}}),
        # the same answers from two sources are no run
        ([rating(0, 0, pattern=GOOD), rating(1, 10, pattern=GOOD, source=("qr", 1)),
          rating(2, 20, pattern=GOOD)], {}),
        # a dossier code rated twice, at a kiosk and by QR
        ([rating(0, 0, code="HS-1"), rating(1, 30, code="HS-1", source=("qr", 1)),
          rating(2, 40, code="HS-2")], {0: {DOSSIER_TWICE}, 1: {DOSSIER_TWICE}}),
        # outside opening hours: lunch time, and a Sunday
        ([rating(0, 3 * 60), rating(1, 0, at=MONDAY - timedelta(days=1))],
         {0: {OUTSIDE_HOURS}, 1: {OUTSIDE_HOURS}}),
    ],
)  # fmt: skip
def test_integrity_flags(ratings, flagged):
    result = flag_ratings(ratings, POLICY)
    assert {k: set(v) for k, v in result.items() if v} == flagged


def test_burst_settings_are_honoured():
    policy = IntegrityPolicy(burst=2, burst_window=timedelta(minutes=1))
    result = flag_ratings([rating(i, i * 0.4) for i in range(4)], policy)
    assert {k for k, v in result.items() if BURST in v} == {0, 1, 2, 3}


def test_a_burst_or_a_run_is_read_together_and_each_source_apart():
    at = lambda minutes: MONDAY + timedelta(minutes=minutes)  # noqa: E731
    ratings = [
        (1, KIOSK, at(0), None), (2, KIOSK, at(1.5), None), (3, KIOSK, at(3), None),  # 2 min
        (4, KIOSK, at(5.5), None),  # 2.5 minutes after the one before: a group of its own
        (5, ("qr", 1), at(1), None), (6, ("qr", 1), at(2), None),  # the QR code: apart
        (7, ("kiosk", 2), at(-10), None),
        # a run of identical answers, ten minutes apart, then other answers
        (8, KIOSK, at(60), GOOD), (9, KIOSK, at(70), GOOD), (10, KIOSK, at(80), GOOD),
        (11, KIOSK, at(90), BAD), (12, KIOSK, at(100), BAD),
    ]  # fmt: skip
    assert read_together(reversed(ratings), timedelta(minutes=2)) == [
        [7], [1, 2, 3], [5, 6], [4], [8, 9, 10], [11, 12]
    ]  # fmt: skip
    assert read_together([], timedelta(minutes=2)) == []


def test_tokens_are_letters_and_digits_and_the_office_token_is_derived_again():
    tokens = {new_kiosk_token() for _ in range(50)}
    assert len(tokens) == 50 and all(is_well_formed(t) for t in tokens)
    token = derive_office_token("key", 3, "ab" * 16)
    assert is_well_formed(token)
    assert token == derive_office_token("key", 3, "ab" * 16)
    assert token != derive_office_token("other key", 3, "ab" * 16)
