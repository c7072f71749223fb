"""Follow-ups: answers that need the office's action, handled to closure (pure rules).

A follow-up is raised once per member (or hotline message, or counter rating) with every
reason its answers give; the office handles it through the states below and closes it with a
note, by a deadline counted in working days.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from enum import StrEnum

from cati.domain.calling import DEFAULT_TZ

DEFAULT_WORKING_DAYS = 5  # Decree 92/2017: forwarded within 05 working days
HOTLINE_MESSAGE = "hotline_message"
COMMENT = "comment"  # a counter rating's typed comment (the flows declare their own)
MAX_NOTE_LENGTH = 4000


class Status(StrEnum):
    NEW = "new"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    NOT_RESPONSIBLE = "not_responsible"
    DUPLICATE = "duplicate"


STATUSES = tuple(s.value for s in Status)
OPEN = frozenset({Status.NEW, Status.IN_PROGRESS})
CLOSED = frozenset(set(Status) - OPEN)
# Which changes are allowed. A closed follow-up is reopened (in progress) before it is closed
# otherwise; nothing goes back to new.
TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.NEW: frozenset({Status.IN_PROGRESS, *CLOSED}),
    Status.IN_PROGRESS: frozenset(CLOSED),
    Status.RESOLVED: frozenset({Status.IN_PROGRESS}),
    Status.NOT_RESPONSIBLE: frozenset({Status.IN_PROGRESS}),
    Status.DUPLICATE: frozenset({Status.IN_PROGRESS}),
}


class TransitionError(ValueError):
    """A change of status that is not allowed; the message says why."""


def parse_status(text: str) -> Status:
    try:
        return Status(text.strip().lower())
    except ValueError:
        raise TransitionError(
            f"status {text!r} is not valid: use one of {', '.join(STATUSES)}"
        ) from None


def is_open(status: str) -> bool:
    return status in OPEN


def check_transition(current: str, target: str, note: str | None) -> tuple[Status, str | None]:
    """The target status and the note (trimmed, None when blank) if the change is allowed;
    `TransitionError` otherwise: closing or reopening needs a note."""
    before, after = Status(current), parse_status(target)
    note = (note or "").strip() or None
    if after == before:
        raise TransitionError(f"the follow-up is already {after}")
    if after not in TRANSITIONS[before]:
        allowed = ", ".join(sorted(TRANSITIONS[before]))
        raise TransitionError(f"a {before} follow-up cannot become {after} (only {allowed})")
    if note is None and (after in CLOSED or before in CLOSED):
        what = "closing it as " + after if after in CLOSED else "reopening it"
        raise TransitionError(f"{what} needs a note saying what was done (--note)")
    if note is not None and len(note) > MAX_NOTE_LENGTH:
        raise TransitionError(f"the note is too long: at most {MAX_NOTE_LENGTH} characters")
    return after, note


def is_working_day(day: date, holidays: Iterable[date]) -> bool:
    return day.weekday() < 5 and day not in holidays


def working_day_deadline(
    raised_at: datetime, working_days: int, holidays: Iterable[date], tz: tzinfo
) -> datetime:
    """The end (23:59:59 local) of the `working_days`-th working day after the local day
    `raised_at` falls on; working days are Monday to Friday less `holidays`."""
    if working_days < 1:
        raise ValueError(f"working days must be at least 1, got {working_days}")
    holidays = frozenset(holidays)
    day = raised_at.astimezone(tz).date()
    counted = 0
    while counted < working_days:
        day += timedelta(days=1)
        if is_working_day(day, holidays):
            counted += 1
    return datetime.combine(day, time(23, 59, 59), tzinfo=tz)


@dataclass(frozen=True)
class DeadlinePolicy:
    """How long an office has: `working_days` (CATI_FOLLOW_UP_WORKING_DAYS), the holidays
    (CATI_HOLIDAYS) and the zone whose days count."""

    working_days: int = DEFAULT_WORKING_DAYS
    holidays: frozenset[date] = frozenset()
    tz: tzinfo = DEFAULT_TZ

    def due_at(self, raised_at: datetime) -> datetime:
        return working_day_deadline(raised_at, self.working_days, self.holidays, self.tz)


def is_overdue(status: str, due_at: datetime, now: datetime) -> bool:
    return is_open(status) and now > due_at


@dataclass(frozen=True)
class Handling:
    """What the report needs of one follow-up."""

    status: str
    raised_at: datetime
    due_at: datetime
    closed_at: datetime | None = None
    callback_satisfied: bool | None = None  # the citizen's answer when called back


def summarize(items: Iterable[Handling], now: datetime) -> dict[str, int | float | None]:
    """The figures of a set of follow-ups (an office, a round).

    - `raised`, `open`, `overdue` (open past the deadline), `closed`;
    - `resolved_on_time`: resolved by the deadline;
    - `median_days_to_close`: over the closed ones, duplicates left out;
    - `on_time_share` (Decision 766, indicator 5.2): closed by the deadline among those whose
      timeliness is known (closed, or open past the deadline), duplicates left out;
    - `satisfied_share` (indicator 5.3): satisfied among the citizens called back who answered.
    """
    raised = open_ = overdue = closed = resolved_on_time = closed_on_time = 0
    days: list[float] = []
    satisfied = asked = 0
    for item in items:
        raised += 1
        if is_open(item.status):
            open_ += 1
            overdue += now > item.due_at
        else:
            closed += 1
            on_time = item.closed_at is not None and item.closed_at <= item.due_at
            resolved_on_time += item.status == Status.RESOLVED and on_time
            if item.status != Status.DUPLICATE:
                closed_on_time += on_time
                if item.closed_at is not None:
                    days.append((item.closed_at - item.raised_at).total_seconds() / 86400)
        if item.callback_satisfied is not None:
            asked += 1
            satisfied += item.callback_satisfied
    judged = len(days) + overdue
    return {
        "raised": raised,
        "open": open_,
        "overdue": overdue,
        "closed": closed,
        "resolved_on_time": resolved_on_time,
        "median_days_to_close": round(statistics.median(days), 1) if days else None,
        "on_time_share": round(closed_on_time / judged, 4) if judged else None,
        "satisfied_share": round(satisfied / asked, 4) if asked else None,
    }
