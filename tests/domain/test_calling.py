"""cati.domain.calling: settings texts, calling windows and the retry policy (no clock, no DB).

Times are written in Vietnam local time (UTC+7). In November 2026 the 23rd is a Monday, the 28th
a Saturday, the 29th a Sunday and the 30th the Monday of the next ISO week.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cati.domain.calling import (
    DEFAULT_CALLING_DAYS,
    DEFAULT_CALLING_HOURS,
    CallingPolicy,
    PastAttempt,
    RoundQueue,
    calling_period_end,
    idle_reasons,
    parse_calling_days,
    parse_calling_hours,
    parse_holidays,
)

VN = ZoneInfo("Asia/Ho_Chi_Minh")
HOLIDAY = date(2026, 11, 25)  # a Wednesday
WEEK_END = "2026-11-30 00:00"  # end of ISO week 2026-W48, local
NEXT_WEEK_END = "2026-12-07 00:00"

DEFAULT = CallingPolicy()
WITH_HOLIDAY = CallingPolicy(holidays=frozenset({HOLIDAY}))
ONE_WINDOW = CallingPolicy(windows=((time(8), time(17)),))
WHOLE_DAY = CallingPolicy(
    windows=((time(0), None),), days=frozenset(range(1, 8)), min_gap=timedelta(hours=1)
)


def vn(text: str) -> datetime:
    """'2026-11-23 08:00' as an aware datetime in Vietnam time."""
    return datetime.fromisoformat(text).replace(tzinfo=VN)


def attempts(*pairs: tuple[str, str]) -> list[PastAttempt]:
    return [PastAttempt(vn(when), outcome) for when, outcome in pairs]


# --- settings texts -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            DEFAULT_CALLING_HOURS,
            ((time(8), time(11, 30)), (time(13, 30), time(17))),
            id="default",
        ),
        pytest.param("00:00-24:00", ((time(0), None),), id="whole-day"),
        pytest.param("20:00-24:00", ((time(20), None),), id="until-midnight"),
        pytest.param(
            "13:30-17:00,08:00-11:30",
            ((time(8), time(11, 30)), (time(13, 30), time(17))),
            id="sorted",
        ),
        pytest.param(
            " 8:00 - 11:30 , 13:30-17:00 ",
            ((time(8), time(11, 30)), (time(13, 30), time(17))),
            id="spaces-and-one-digit-hour",
        ),
        pytest.param(
            "08:00-11:30,11:30-13:00",
            ((time(8), time(11, 30)), (time(11, 30), time(13))),
            id="touching-ranges",
        ),
    ],
)
def test_parse_calling_hours(text, expected):
    assert parse_calling_hours(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("", "'' is not a range", id="empty"),
        pytest.param("08:00", "'08:00' is not a range", id="no-end"),
        pytest.param("morning", "'morning' is not a range", id="word"),
        pytest.param("08:00-11:30,", "'' is not a range", id="trailing-comma"),
        pytest.param("08:00-11:30;13:30-17:00", "'08:00-11:30;13:30-17:00'", id="semicolon"),
        pytest.param("0800-1130", "'0800' is not a time", id="no-colon"),
        pytest.param("08:00-25:00", "'25:00' is not a time of day", id="hour-25"),
        pytest.param("08:60-09:00", "'08:60' is not a time of day", id="minute-60"),
        pytest.param("08:00-24:30", "'24:30' is not a time of day", id="after-24:00"),
        pytest.param("24:00-24:00", "24:00 can only end a range", id="24:00-as-start"),
        pytest.param("11:30-08:00", "11:30-08:00 does not end after", id="reversed"),
        pytest.param("08:00-08:00", "08:00-08:00 does not end after", id="empty-range"),
        pytest.param(
            "08:00-12:00,11:00-13:00", "08:00-12:00 and 11:00-13:00 overlap", id="overlap"
        ),
        pytest.param("00:00-24:00,08:00-09:00", "overlap", id="overlaps-whole-day"),
    ],
)
def test_parse_calling_hours_refuses(text, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_calling_hours(text)


def test_parse_calling_hours_names_the_whole_text_on_overlap():
    with pytest.raises(ValueError, match=re.escape("'08:00-12:00,11:00-13:00'")):
        parse_calling_hours("08:00-12:00,11:00-13:00")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(DEFAULT_CALLING_DAYS, {1, 2, 3, 4, 5, 6}, id="default-mon-sat"),
        pytest.param("MON,Tue,wed", {1, 2, 3}, id="list-any-case"),
        pytest.param("mon-fri,sun", {1, 2, 3, 4, 5, 7}, id="range-and-day"),
        pytest.param("sun", {7}, id="one-day"),
        pytest.param("mon-sun", set(range(1, 8)), id="every-day"),
        pytest.param(" sat - sun ", {6, 7}, id="spaces"),
        pytest.param("mon,mon-tue", {1, 2}, id="repeats"),
    ],
)
def test_parse_calling_days(text, expected):
    assert parse_calling_days(text) == frozenset(expected)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("", "'' is not a day", id="empty"),
        pytest.param("funday", "'funday' is not a day", id="unknown"),
        pytest.param("monday", "'monday' is not a day", id="full-name"),
        pytest.param("1-5", "'1' is not a day", id="numbers"),
        pytest.param("mon-", "'' is not a day", id="open-range"),
        pytest.param("mon,,tue", "'' is not a day", id="empty-item"),
        pytest.param("sat-mon", "'sat-mon' runs backwards", id="reversed"),
        pytest.param("mon-wed-fri", "'mon-wed-fri' is not a day or a range", id="two-dashes"),
    ],
)
def test_parse_calling_days_refuses(text, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_calling_days(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("", set(), id="empty"),
        pytest.param("   ", set(), id="blank"),
        pytest.param(" 2026-09-02 ", {date(2026, 9, 2)}, id="one"),
        pytest.param("2026-09-02,2027-02-16", {date(2026, 9, 2), date(2027, 2, 16)}, id="two"),
    ],
)
def test_parse_holidays(text, expected):
    assert parse_holidays(text) == frozenset(expected)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("2026-02-30", "'2026-02-30' is not a calendar date", id="no-such-day"),
        pytest.param("02/09/2026", "'02/09/2026' is not a date", id="day-first"),
        pytest.param("2026-9-2", "'2026-9-2' is not a date", id="no-padding"),
        pytest.param("20260902", "'20260902' is not a date", id="basic-format"),
        pytest.param("2026-W36-3", "'2026-W36-3' is not a date", id="week-date"),
        pytest.param("2026-09-02,", "'' is not a date", id="trailing-comma"),
        pytest.param("2026-09-02;2027-02-16", "'2026-09-02;2027-02-16'", id="semicolon"),
    ],
)
def test_parse_holidays_refuses(text, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_holidays(text)


def test_policy_from_settings():
    policy = CallingPolicy.from_settings("13:30-17:00", "mon-fri", "2026-11-25", max_attempts=3)
    assert policy.windows == ((time(13, 30), time(17)),)
    assert policy.days == frozenset({1, 2, 3, 4, 5})
    assert policy.holidays == frozenset({HOLIDAY})
    assert policy.max_attempts == 3
    assert policy.tz is not None


@pytest.mark.parametrize(
    "options",
    [
        pytest.param({"windows": ()}, id="no-windows"),
        pytest.param({"windows": ((time(8), time(12)), (time(11), time(13)))}, id="overlap"),
        pytest.param({"days": frozenset()}, id="no-days"),
        pytest.param({"days": frozenset({0, 1})}, id="day-zero"),
        pytest.param({"max_attempts": 0}, id="no-attempts"),
        pytest.param({"max_per_day": 0}, id="none-per-day"),
        pytest.param({"min_gap": timedelta(minutes=-1)}, id="negative-gap"),
        pytest.param({"delay_after": {"busy": timedelta(-1)}}, id="negative-delay"),
    ],
)
def test_policy_refuses_bad_settings(options):
    with pytest.raises(ValueError, match="calling policy"):
        CallingPolicy(**options)


def test_policy_windows_are_sorted():
    policy = CallingPolicy(windows=((time(13, 30), time(17)), (time(8), time(11, 30))))
    assert policy.windows == DEFAULT.windows


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        DEFAULT.is_callable_at(datetime(2026, 11, 23, 9))
    with pytest.raises(ValueError, match="now must be timezone-aware"):
        DEFAULT.next_attempt_at([], now=datetime(2026, 11, 23, 9), round_ends_at=vn(WEEK_END))


# --- calling windows ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("policy", "moment", "expected"),
    [
        pytest.param(WITH_HOLIDAY, vn("2026-11-23 08:00"), True, id="08:00-in"),
        pytest.param(WITH_HOLIDAY, vn("2026-11-23 07:59:59"), False, id="07:59:59-out"),
        pytest.param(WITH_HOLIDAY, vn("2026-11-23 11:29:59"), True, id="11:29:59-in"),
        pytest.param(WITH_HOLIDAY, vn("2026-11-23 11:30"), False, id="11:30-out"),
        pytest.param(WITH_HOLIDAY, vn("2026-11-23 12:30"), False, id="lunch-out"),
        pytest.param(WITH_HOLIDAY, vn("2026-11-23 13:30"), True, id="13:30-in"),
        pytest.param(WITH_HOLIDAY, vn("2026-11-23 16:59:59"), True, id="16:59:59-in"),
        pytest.param(WITH_HOLIDAY, vn("2026-11-23 17:00"), False, id="17:00-out"),
        pytest.param(WITH_HOLIDAY, vn("2026-11-28 10:00"), True, id="saturday-in"),
        pytest.param(WITH_HOLIDAY, vn("2026-11-29 10:00"), False, id="sunday-out"),
        pytest.param(WITH_HOLIDAY, vn("2026-11-25 10:00"), False, id="holiday-out"),
        pytest.param(DEFAULT, vn("2026-11-25 10:00"), True, id="not-a-holiday-by-default"),
        pytest.param(
            WITH_HOLIDAY, datetime(2026, 11, 23, 1, 0, tzinfo=UTC), True, id="utc-01:00-is-08:00"
        ),
        pytest.param(
            WITH_HOLIDAY, datetime(2026, 11, 23, 0, 59, tzinfo=UTC), False, id="utc-00:59-is-07:59"
        ),
        pytest.param(WHOLE_DAY, vn("2026-11-29 00:00"), True, id="whole-day-midnight"),
        pytest.param(WHOLE_DAY, vn("2026-11-29 23:59:59"), True, id="whole-day-last-second"),
    ],
)
def test_is_callable_at(policy, moment, expected):
    assert policy.is_callable_at(moment) is expected


@pytest.mark.parametrize(
    ("policy", "after", "expected"),
    [
        pytest.param(DEFAULT, "2026-11-23 09:15", "2026-11-23 09:15", id="inside-is-itself"),
        pytest.param(DEFAULT, "2026-11-23 06:00", "2026-11-23 08:00", id="early-morning"),
        pytest.param(DEFAULT, "2026-11-23 11:30", "2026-11-23 13:30", id="morning-end"),
        pytest.param(DEFAULT, "2026-11-23 17:00", "2026-11-24 08:00", id="evening-to-tomorrow"),
        pytest.param(DEFAULT, "2026-11-23 23:59", "2026-11-24 08:00", id="before-midnight"),
        pytest.param(DEFAULT, "2026-11-28 17:00", "2026-11-30 08:00", id="saturday-to-monday"),
        pytest.param(DEFAULT, "2026-11-29 10:00", "2026-11-30 08:00", id="sunday-to-monday"),
        pytest.param(WITH_HOLIDAY, "2026-11-24 18:00", "2026-11-26 08:00", id="over-holiday"),
        pytest.param(WHOLE_DAY, "2026-11-29 03:07", "2026-11-29 03:07", id="whole-day"),
    ],
)
def test_next_window_start(policy, after, expected):
    start = policy.next_window_start(vn(after))
    assert start == vn(expected)
    assert start.tzinfo is UTC


def test_next_window_start_gives_up_after_the_search_horizon():
    mondays = frozenset(date(2026, 11, 23) + timedelta(weeks=n) for n in range(12))
    policy = CallingPolicy(days=frozenset({1}), holidays=mondays)
    assert policy.next_window_start(vn("2026-11-22 10:00")) is None


def test_window_index():
    assert DEFAULT.window_index(vn("2026-11-23 08:00")) == 0
    assert DEFAULT.window_index(vn("2026-11-29 16:00")) == 1  # a part of the day, any date
    assert DEFAULT.window_index(vn("2026-11-23 12:00")) is None


# --- the retry policy ---------------------------------------------------------------------

NEXT_ATTEMPT = [
    # first call
    pytest.param(DEFAULT, [], "2026-11-23 09:10", WEEK_END, "2026-11-23 09:10", id="first-now"),
    pytest.param(DEFAULT, [], "2026-11-23 12:00", WEEK_END, "2026-11-23 13:30", id="first-lunch"),
    pytest.param(
        DEFAULT, [], "2026-11-29 10:00", NEXT_WEEK_END, "2026-11-30 08:00", id="first-sunday"
    ),
    pytest.param(
        WITH_HOLIDAY, [], "2026-11-25 10:00", WEEK_END, "2026-11-26 08:00", id="first-on-holiday"
    ),
    # the minimum gap is a floor for every outcome
    pytest.param(
        DEFAULT,
        [("2026-11-23 08:00", "busy")],
        "2026-11-23 08:05",
        WEEK_END,
        "2026-11-23 10:00",
        id="busy-waits-the-gap",
    ),
    pytest.param(
        DEFAULT,
        [("2026-11-23 10:00", "busy")],
        "2026-11-23 10:05",
        WEEK_END,
        "2026-11-23 13:30",
        id="busy-gap-ends-in-lunch",
    ),
    pytest.param(
        DEFAULT,
        [("2026-11-23 13:30", "failed")],
        "2026-11-23 13:31",
        WEEK_END,
        "2026-11-23 15:30",
        id="failed-waits-the-gap",
    ),
    pytest.param(
        DEFAULT,
        [("2026-11-23 13:30", "partial")],
        "2026-11-23 13:45",
        WEEK_END,
        "2026-11-23 15:30",
        id="unknown-outcome-waits-the-gap",
    ),
    pytest.param(
        DEFAULT,
        [("2026-11-23 08:00", "busy")],
        "2026-11-23 10:45",
        WEEK_END,
        "2026-11-23 10:45",
        id="gap-already-over",
    ),
    # no answer: 3 h, and another part of the day
    pytest.param(
        DEFAULT,
        [("2026-11-23 08:00", "no_answer")],
        "2026-11-23 08:01",
        WEEK_END,
        "2026-11-23 13:30",
        id="no-answer-morning-to-afternoon",
    ),
    pytest.param(
        DEFAULT,
        [("2026-11-23 10:45", "no_answer")],
        "2026-11-23 10:46",
        WEEK_END,
        "2026-11-23 13:45",
        id="no-answer-three-hours",
    ),
    pytest.param(
        DEFAULT,
        [("2026-11-23 14:00", "no_answer")],
        "2026-11-23 14:01",
        WEEK_END,
        "2026-11-24 08:00",
        id="no-answer-over-midnight",
    ),
    # answering machine: another part of the day
    pytest.param(
        DEFAULT,
        [("2026-11-23 08:30", "machine")],
        "2026-11-23 08:31",
        WEEK_END,
        "2026-11-23 13:30",
        id="machine-morning-to-afternoon",
    ),
    pytest.param(
        DEFAULT,
        [("2026-11-23 13:30", "machine")],
        "2026-11-23 13:31",
        WEEK_END,
        "2026-11-24 08:00",
        id="machine-afternoon-to-next-morning",
    ),
    pytest.param(
        DEFAULT,
        [("2026-11-23 08:00", "busy"), ("2026-11-23 10:00", "machine")],
        "2026-11-23 10:01",
        WEEK_END,
        "2026-11-24 13:30",
        id="machine-capped-day-to-next-days-other-half",
    ),
    pytest.param(
        DEFAULT,
        [("2026-11-23 08:00", "busy"), ("2026-11-23 10:00", "machine")],
        "2026-11-23 10:01",
        "2026-11-24 12:00",
        "2026-11-24 08:00",
        id="machine-same-part-when-no-other-before-round-end",
    ),
    # at most two a local day
    pytest.param(
        DEFAULT,
        [("2026-11-23 08:00", "busy"), ("2026-11-23 13:30", "busy")],
        "2026-11-23 15:40",
        WEEK_END,
        "2026-11-24 08:00",
        id="two-a-day",
    ),
    pytest.param(
        WHOLE_DAY,
        [("2026-11-24 00:30", "busy"), ("2026-11-24 03:00", "busy")],  # Monday in UTC
        "2026-11-24 05:00",
        WEEK_END,
        "2026-11-25 00:00",
        id="day-cap-counts-local-tuesday-not-utc-monday",
    ),
    pytest.param(
        WHOLE_DAY,
        [("2026-11-23 22:00", "busy"), ("2026-11-23 23:30", "busy")],
        "2026-11-23 23:45",
        WEEK_END,
        "2026-11-24 00:30",  # still Monday in UTC, which already has two calls
        id="day-cap-resets-at-local-midnight",
    ),
    # max attempts and final outcomes
    pytest.param(
        DEFAULT,
        [
            ("2026-11-23 08:00", "no_answer"),
            ("2026-11-23 13:30", "no_answer"),
            ("2026-11-24 08:00", "busy"),
            ("2026-11-24 13:30", "machine"),
        ],
        "2026-11-24 14:00",
        WEEK_END,
        "2026-11-25 08:00",
        id="fourth-attempt-leaves-one",
    ),
    pytest.param(
        DEFAULT,
        [
            ("2026-11-23 08:00", "no_answer"),
            ("2026-11-23 13:30", "no_answer"),
            ("2026-11-24 08:00", "busy"),
            ("2026-11-24 13:30", "machine"),
            ("2026-11-25 08:00", "no_answer"),
        ],
        "2026-11-25 09:00",
        WEEK_END,
        None,
        id="five-attempts-is-all",
    ),
    pytest.param(
        DEFAULT,
        [("2026-11-23 08:00", "busy"), ("2026-11-23 10:00", "complete")],
        "2026-11-23 10:30",
        WEEK_END,
        None,
        id="completed",
    ),
    pytest.param(
        DEFAULT,
        [("2026-11-23 08:00", "complete")],
        "2026-11-23 10:30",
        WEEK_END,
        None,
        id="complete-as-flow-says",
    ),
    pytest.param(
        DEFAULT,
        [("2026-11-23 08:00", "refused")],
        "2026-11-23 10:30",
        WEEK_END,
        None,
        id="refused",
    ),
    pytest.param(
        DEFAULT,
        [("2026-11-23 08:00", "invalid_number")],
        "2026-11-23 10:30",
        WEEK_END,
        None,
        id="invalid-number",
    ),
    # the round end
    pytest.param(DEFAULT, [], WEEK_END, WEEK_END, None, id="round-over"),
    pytest.param(
        DEFAULT, [], "2026-11-29 10:00", WEEK_END, None, id="no-calling-moment-before-end"
    ),
    pytest.param(
        DEFAULT,
        [("2026-11-28 14:00", "no_answer")],
        "2026-11-28 14:01",
        WEEK_END,
        None,
        id="saturday-afternoon-nothing-before-end",
    ),
    pytest.param(
        DEFAULT,
        [("2026-11-28 14:00", "no_answer")],
        "2026-11-28 14:01",
        NEXT_WEEK_END,
        "2026-11-30 08:00",
        id="over-the-week-boundary",
    ),
    pytest.param(
        DEFAULT,
        [("2026-11-23 10:00", "no_answer")],
        "2026-11-23 10:01",
        "2026-11-23 12:00",
        None,
        id="next-window-after-round-end",
    ),
    pytest.param(
        DEFAULT,
        [("2026-11-23 08:00", "busy")],
        "2026-11-23 08:01",
        "2026-11-23 10:00",
        None,
        id="round-end-excluded",
    ),
    pytest.param(
        DEFAULT,
        [("2026-11-23 08:00", "busy")],
        "2026-11-23 08:01",
        "2026-11-23 10:01",
        "2026-11-23 10:00",
        id="just-before-round-end",
    ),
    # a holiday in the middle of the round
    pytest.param(
        WITH_HOLIDAY,
        [("2026-11-24 14:00", "no_answer")],
        "2026-11-24 14:01",
        WEEK_END,
        "2026-11-26 08:00",
        id="holiday-skipped",
    ),
    pytest.param(
        WITH_HOLIDAY,
        [("2026-11-24 08:00", "busy"), ("2026-11-24 10:00", "machine")],
        "2026-11-24 10:01",
        WEEK_END,
        "2026-11-26 13:30",
        id="holiday-skipped-machine-other-half",
    ),
]


@pytest.mark.parametrize(("policy", "past", "now", "round_end", "expected"), NEXT_ATTEMPT)
def test_next_attempt_at(policy, past, now, round_end, expected):
    result = policy.next_attempt_at(attempts(*past), now=vn(now), round_ends_at=vn(round_end))
    assert result == (None if expected is None else vn(expected))
    if result is not None:
        assert result.tzinfo is UTC
        assert result >= vn(now)


@pytest.mark.parametrize(
    ("policy", "outcome", "expected"),
    [
        pytest.param(ONE_WINDOW, "busy", "11:00", id="busy-floored-to-gap"),
        pytest.param(ONE_WINDOW, "failed", "11:00", id="failed-floored-to-gap"),
        pytest.param(ONE_WINDOW, "no_answer", "12:00", id="no-answer-three-hours"),
        pytest.param(ONE_WINDOW, "machine", "11:00", id="machine-one-part-only"),
        pytest.param(
            CallingPolicy(windows=ONE_WINDOW.windows, min_gap=timedelta(minutes=20)),
            "busy",
            "09:30",
            id="busy-thirty-minutes-under-a-short-gap",
        ),
        pytest.param(
            CallingPolicy(
                windows=ONE_WINDOW.windows,
                min_gap=timedelta(0),
                delay_after={"busy": timedelta(minutes=45)},
            ),
            "busy",
            "09:45",
            id="configured-delay",
        ),
        pytest.param(
            CallingPolicy(
                windows=ONE_WINDOW.windows,
                min_gap=timedelta(0),
                delay_after={"busy": timedelta(minutes=45)},
            ),
            "no_answer",
            "09:05",
            id="unlisted-outcome-waits-the-gap-only",
        ),
    ],
)
def test_delay_after_outcome(policy, outcome, expected):
    past = attempts(("2026-11-23 09:00", outcome))
    result = policy.next_attempt_at(past, now=vn("2026-11-23 09:05"), round_ends_at=vn(WEEK_END))
    assert result == vn(f"2026-11-23 {expected}")


APPOINTMENTS = [
    pytest.param(
        DEFAULT,
        [("2026-11-23 10:00", "busy")],
        "2026-11-23 10:01",
        "2026-11-23 10:30",
        WEEK_END,
        "2026-11-23 10:30",
        id="overrides-the-gap",
    ),
    pytest.param(
        DEFAULT,
        [("2026-11-23 08:00", "busy"), ("2026-11-23 10:00", "no_answer")],
        "2026-11-23 10:01",
        "2026-11-23 14:00",
        WEEK_END,
        "2026-11-23 14:00",
        id="overrides-the-day-cap",
    ),
    pytest.param(
        DEFAULT,
        [("2026-11-23 10:00", "machine")],
        "2026-11-23 10:01",
        "2026-11-23 11:15",
        WEEK_END,
        "2026-11-23 11:15",
        id="overrides-the-other-part",
    ),
    pytest.param(
        DEFAULT,
        [],
        "2026-11-23 10:01",
        "2026-11-24 09:17",
        WEEK_END,
        "2026-11-24 09:17",
        id="honoured-as-given",
    ),
    pytest.param(
        DEFAULT,
        [("2026-11-23 10:00", "busy")],
        "2026-11-23 10:01",
        "2026-11-23 12:00",
        WEEK_END,
        "2026-11-23 13:30",
        id="lunch-to-afternoon-opening",
    ),
    pytest.param(
        DEFAULT,
        [("2026-11-23 10:00", "busy")],
        "2026-11-23 10:01",
        "2026-11-23 18:30",
        WEEK_END,
        "2026-11-24 08:00",
        id="evening-to-next-morning",
    ),
    pytest.param(
        DEFAULT,
        [("2026-11-28 10:00", "busy")],
        "2026-11-28 10:01",
        "2026-11-28 19:00",
        NEXT_WEEK_END,
        "2026-11-30 08:00",
        id="saturday-evening-to-monday",
    ),
    pytest.param(
        WITH_HOLIDAY,
        [("2026-11-24 10:00", "busy")],
        "2026-11-24 10:01",
        "2026-11-25 09:00",
        WEEK_END,
        "2026-11-26 08:00",
        id="holiday-to-next-day",
    ),
    pytest.param(
        DEFAULT,
        [("2026-11-23 08:30", "busy")],
        "2026-11-23 10:15",
        "2026-11-23 09:00",
        WEEK_END,
        "2026-11-23 10:15",
        id="missed-call-now",
    ),
    pytest.param(
        DEFAULT,
        [("2026-11-23 08:30", "busy")],
        "2026-11-23 12:15",
        "2026-11-23 09:00",
        WEEK_END,
        "2026-11-23 13:30",
        id="missed-in-lunch-next-opening",
    ),
    pytest.param(
        DEFAULT,
        [("2026-11-23 09:00", "no_answer")],  # the appointed call was made
        "2026-11-23 09:01",
        "2026-11-23 09:00",
        WEEK_END,
        "2026-11-23 13:30",
        id="kept-appointment-then-usual-rules",
    ),
    pytest.param(
        DEFAULT,
        [("2026-11-23 10:00", "busy")],
        "2026-11-23 10:01",
        "2026-11-30 09:00",
        WEEK_END,
        None,
        id="after-round-end",
    ),
    pytest.param(
        DEFAULT,
        [("2026-11-28 10:00", "busy")],
        "2026-11-28 10:01",
        "2026-11-28 18:00",
        WEEK_END,
        None,
        id="moved-past-round-end",
    ),
    pytest.param(
        DEFAULT,
        [
            ("2026-11-23 08:00", "no_answer"),
            ("2026-11-23 13:30", "no_answer"),
            ("2026-11-24 08:00", "busy"),
            ("2026-11-24 13:30", "machine"),
            ("2026-11-25 08:00", "no_answer"),
        ],
        "2026-11-25 08:01",
        "2026-11-25 09:00",
        WEEK_END,
        None,
        id="counts-toward-max-attempts",
    ),
    pytest.param(
        DEFAULT,
        [("2026-11-23 10:00", "refused")],
        "2026-11-23 10:01",
        "2026-11-23 14:00",
        WEEK_END,
        None,
        id="not-after-a-final-outcome",
    ),
]


@pytest.mark.parametrize(
    ("policy", "past", "now", "appointment", "round_end", "expected"), APPOINTMENTS
)
def test_appointment(policy, past, now, appointment, round_end, expected):
    result = policy.next_attempt_at(
        attempts(*past),
        now=vn(now),
        round_ends_at=vn(round_end),
        appointment_at=vn(appointment),
    )
    assert result == (None if expected is None else vn(expected))


OUTCOMES = ["busy", "no_answer", "machine", "failed", "partial"]
WEEK_START = vn("2026-11-23 00:00")


@settings(max_examples=300, deadline=None)
@given(
    offsets=st.lists(st.integers(0, 7 * 24 * 60), max_size=6),
    outcomes=st.lists(st.sampled_from(OUTCOMES), min_size=6, max_size=6),
    now_offset=st.integers(0, 7 * 24 * 60),
)
def test_next_attempt_respects_every_rule(offsets, outcomes, now_offset):
    """Whatever the history, a proposed call is callable, spaced and capped, in the round."""
    past = [
        PastAttempt(WEEK_START + timedelta(minutes=m), o)
        for m, o in zip(sorted(offsets), outcomes, strict=False)
    ]
    now = max([WEEK_START + timedelta(minutes=now_offset), *(a.started_at for a in past)])
    end = vn(WEEK_END)
    result = WITH_HOLIDAY.next_attempt_at(past, now=now, round_ends_at=end)
    if len(past) >= 5 or now >= end:
        assert result is None
    if result is None:
        return
    assert now <= result < end
    assert WITH_HOLIDAY.is_callable_at(result)
    if past:
        assert result - past[-1].started_at >= timedelta(hours=2)
    day = result.astimezone(VN).date()
    assert sum(a.started_at.astimezone(VN).date() == day for a in past) < 2


# --- the calling period of a round and why nothing is dialed ------------------------------


def test_the_calling_period_runs_from_the_week_end_or_the_sampling_whichever_is_later():
    week_end = vn("2026-11-23 00:00")
    scheduled = calling_period_end(week_end, vn("2026-11-23 07:00"), 14)  # Monday's run
    assert scheduled == vn("2026-12-07 07:00")
    late = calling_period_end(week_end, vn("2026-12-10 15:30"), 14)  # past the usual end
    assert late == vn("2026-12-24 15:30")
    early = calling_period_end(week_end, vn("2026-11-20 09:00"), 14)  # never before the week
    assert early == vn("2026-12-07 00:00")
    assert late.tzinfo is not None and late.utcoffset() == timedelta(0)  # stored in UTC


def queue(**values) -> RoundQueue:
    defaults = dict(
        is_open=True, calling_ends_at=vn("2026-12-07 00:00"), due_now=3, next_due_at=None,
        in_progress=0, with_interviewers=0, live_calls=0, max_concurrent_calls=10,
    )  # fmt: skip
    return RoundQueue(**{**defaults, **values})


def codes(reasons) -> list[str]:
    return [reason.code for reason in reasons]


def test_no_reason_when_calls_can_be_placed():
    assert idle_reasons(DEFAULT, queue(), vn("2026-11-24 09:00")) == []


def test_outside_calling_hours_says_when_the_next_window_opens():
    [reason] = idle_reasons(DEFAULT, queue(), vn("2026-11-24 12:00"))  # lunch, Tuesday
    assert reason.code == "outside_hours"
    assert reason.details["next_window_at"] == "2026-11-24T13:30:00+07:00"
    assert "the next window opens Tue 24/11/2026 13:30 (local time)" in reason.message
    [sunday] = idle_reasons(DEFAULT, queue(), vn("2026-11-29 10:00"))
    assert sunday.details["next_window_at"] == "2026-11-30T08:00:00+07:00"


def test_a_holiday_is_named_with_the_next_window():
    [reason] = idle_reasons(WITH_HOLIDAY, queue(), vn("2026-11-25 09:00"))
    assert reason.code == "holiday" and reason.details["date"] == "2026-11-25"
    assert reason.details["next_window_at"] == "2026-11-26T08:00:00+07:00"
    assert "holiday" in reason.message and "26/11/2026 08:00" in reason.message


def test_no_window_left_before_the_calling_period_ends():
    ends = vn("2026-11-28 12:00")  # Saturday noon: the afternoon window is past the end
    [reason] = idle_reasons(DEFAULT, queue(calling_ends_at=ends), vn("2026-11-28 11:45"))
    assert reason.code == "outside_hours" and reason.details["next_window_at"] is None
    assert "no calling window is left" in reason.message


def test_the_calling_period_over_says_it_all():
    reasons = idle_reasons(DEFAULT, queue(due_now=0), vn("2026-12-07 00:00"))
    assert codes(reasons) == ["calling_period_over"]
    assert reasons[0].as_dict() == {
        "code": "calling_period_over",
        "message": "the round's calling period ended Mon 07/12/2026 00:00 (local time)",
        "calling_ends_at": "2026-12-07T00:00:00+07:00",
    }
    closed = idle_reasons(DEFAULT, queue(is_open=False), vn("2026-11-24 09:00"))
    assert codes(closed) == ["calling_period_over"] and "closed" in closed[0].message


def test_the_concurrency_cap():
    [reason] = idle_reasons(DEFAULT, queue(live_calls=10), vn("2026-11-24 09:00"))
    assert reason.code == "at_capacity"
    assert (reason.details["live_calls"], reason.details["limit"]) == (10, 10)
    assert "CATI_MAX_CONCURRENT_CALLS" in reason.message


def test_nobody_due_says_when_the_next_member_is():
    later = vn("2026-11-24 14:10")
    [reason] = idle_reasons(DEFAULT, queue(due_now=0, next_due_at=later), vn("2026-11-24 09:00"))
    assert reason.code == "nobody_due"
    assert reason.details["next_due_at"] == "2026-11-24T14:10:00+07:00"
    assert "the next member is due Tue 24/11/2026 14:10" in reason.message
    [none] = idle_reasons(
        DEFAULT, queue(due_now=0, in_progress=2, with_interviewers=5), vn("2026-11-24 09:00")
    )
    assert none.details["next_due_at"] is None
    assert none.message == (
        "nobody is left for the robot to call (2 with a call under way, "
        "5 in the interviewers' queue)"
    )


def test_several_reasons_at_once_one_each():
    at = vn("2026-11-24 18:00")
    reasons = idle_reasons(DEFAULT, queue(due_now=0, live_calls=12), at)
    assert codes(reasons) == ["outside_hours", "at_capacity", "nobody_due"]
