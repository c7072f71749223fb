"""Follow-ups: the working-day deadline, the states and their changes, the report figures."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from cati.domain.follow_ups import (
    Handling,
    TransitionError,
    check_transition,
    is_overdue,
    summarize,
    working_day_deadline,
)
from tests.conftest import TZ
from tests.factories import local

NATIONAL_DAY = frozenset({date(2026, 9, 2)})  # a Wednesday


@pytest.mark.parametrize(
    ("raised", "days", "holidays", "due"),
    [
        # Monday 10:00: Tue Wed Thu Fri, then Monday (the weekend skipped)
        (local(2026, 11, 23, 10), 5, (), local(2026, 11, 30)),
        (local(2026, 11, 23, 10), 1, (), local(2026, 11, 24)),
        # Friday evening: Monday is the first working day after
        (local(2026, 11, 27, 22), 1, (), local(2026, 11, 30)),
        (local(2026, 11, 27, 22), 5, (), local(2026, 12, 4)),
        # Saturday and Sunday: the same as Friday
        (local(2026, 11, 28, 9), 5, (), local(2026, 12, 4)),
        (local(2026, 11, 29, 9), 5, (), local(2026, 12, 4)),
        # a holiday on the way is skipped: Mon 31/8 → Tue 1, (Wed 2 off), Thu 3, Fri 4, Mon 7, Tue 8
        (local(2026, 8, 31, 9), 5, NATIONAL_DAY, local(2026, 9, 8)),
        (local(2026, 8, 31, 9), 5, (), local(2026, 9, 7)),
        # raised on the holiday itself: counted from the next working day
        (local(2026, 9, 2, 9), 1, NATIONAL_DAY, local(2026, 9, 3)),
        # a long Tết holiday over a weekend
        (
            local(2027, 2, 4, 15),
            2,
            {date(2027, 2, d) for d in range(5, 12)},
            local(2027, 2, 15),
        ),
    ],
)
def test_the_deadline_is_the_end_of_the_nth_working_day_after_raising(raised, days, holidays, due):
    deadline = working_day_deadline(raised.astimezone(UTC), days, holidays, TZ)
    assert deadline == due.replace(hour=23, minute=59, second=59)


def test_the_deadline_counts_local_days_not_utc_days():
    # 23:30 UTC on Sunday is already Monday 06:30 in Vietnam: Tuesday is the first day after
    raised = datetime(2026, 11, 22, 23, 30, tzinfo=UTC)
    assert working_day_deadline(raised, 1, (), TZ).date() == date(2026, 11, 24)


def test_overdue_means_open_after_the_deadline():
    due = local(2026, 11, 30, 23, 59)
    assert not is_overdue("new", due, due)
    assert is_overdue("new", due, due + timedelta(minutes=1))
    assert is_overdue("in_progress", due, due + timedelta(days=3))
    assert not is_overdue("resolved", due, due + timedelta(days=3))


@pytest.mark.parametrize(
    ("before", "after", "note", "allowed"),
    [
        ("new", "in_progress", None, True),
        ("new", "resolved", "refunded the fee", True),
        ("new", "resolved", None, False),
        ("new", "resolved", "   ", False),
        ("new", "not_responsible", "another office's procedure", True),
        ("new", "duplicate", "same as #3", True),
        ("new", "duplicate", "", False),
        ("in_progress", "resolved", "done", True),
        ("in_progress", "not_responsible", None, False),
        ("in_progress", "new", None, False),
        ("new", "new", None, False),
        ("resolved", "in_progress", "the citizen called again", True),
        ("resolved", "in_progress", None, False),
        ("resolved", "duplicate", "x", False),
        ("duplicate", "in_progress", "not a duplicate after all", True),
        ("new", "closed", "x", False),
    ],
)
def test_which_changes_are_allowed(before, after, note, allowed):
    if allowed:
        status, kept = check_transition(before, after, note)
        assert status == after and kept == (note.strip() if note else None)
    else:
        with pytest.raises(TransitionError):
            check_transition(before, after, note)


def test_a_refusal_says_why():
    with pytest.raises(TransitionError, match="closing it as resolved needs a note"):
        check_transition("new", "resolved", None)
    with pytest.raises(TransitionError, match="cannot become new"):
        check_transition("in_progress", "new", "x")
    with pytest.raises(TransitionError, match="'fixed' is not valid"):
        check_transition("new", "fixed", "x")


def test_summarize():
    raised = local(2026, 11, 2, 9)
    due = local(2026, 11, 9, 23, 59)
    now = local(2026, 11, 20, 9)
    items = [
        Handling("resolved", raised, due, raised + timedelta(days=2), True),
        Handling("resolved", raised, due, raised + timedelta(days=10), False),  # late
        Handling("not_responsible", raised, due, raised + timedelta(days=4)),
        Handling("duplicate", raised, due, raised + timedelta(days=1)),
        Handling("new", raised, due),  # overdue
        Handling("in_progress", now, now + timedelta(days=5)),  # open, not yet due
    ]
    assert summarize(items, now) == {
        "raised": 6,
        "open": 2,
        "overdue": 1,
        "closed": 4,
        "resolved_on_time": 1,
        "median_days_to_close": 4.0,
        "on_time_share": 0.5,  # 2 closed on time of 3 closed + 1 overdue
        "satisfied_share": 0.5,
    }


def test_summarize_nothing():
    figures = summarize([], local(2026, 11, 20))
    assert figures["raised"] == 0
    assert figures["on_time_share"] is None and figures["median_days_to_close"] is None
