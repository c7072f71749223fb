"""When a sampled citizen may be phoned: calling hours, days, holidays and retry spacing.

Pure policy (standard library only) so the scheduler, the IVR and the interviewer console all
decide alike, and so it can be tested without a clock: every decision takes `now`. Calling
hours are local wall-clock times in the policy's zone; every instant returned is aware UTC.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from itertools import pairwise
from types import MappingProxyType
from zoneinfo import ZoneInfo

from cati.domain.dispositions import FINAL_NOW

Window = tuple[time, time | None]
"""A daily calling window [start, end) in local time; an end of None means 24:00."""

DEFAULT_CALLING_HOURS = "08:00-11:30,13:30-17:00"
DEFAULT_CALLING_DAYS = "mon-sat"
DEFAULT_TZ: tzinfo = ZoneInfo("Asia/Ho_Chi_Minh")
SEARCH_DAYS = 60
"""How far ahead (in local days) a search for a calling moment goes before giving up."""

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

DEFAULT_DELAYS: Mapping[str, timedelta] = MappingProxyType(
    {
        "busy": timedelta(minutes=30),  # soon, but the minimum gap is a floor (2 h by default)
        "failed": timedelta(minutes=30),  # network or carrier failure: as soon as allowed
        "no_answer": timedelta(hours=3),
        "machine": timedelta(hours=2),  # plus: another part of the day
    }
)
FINAL_OUTCOMES = frozenset(outcome.value for outcome in FINAL_NOW)
OTHER_PART_AFTER = frozenset({"machine", "no_answer"})

_TIME = re.compile(r"(\d{1,2}):(\d{2})")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


# --- settings texts -----------------------------------------------------------------------


def _parse_clock(text: str, piece: str, *, end: bool) -> time | None:
    """'HH:MM' as a time; '24:00' (only as an end) as None. ValueError names the piece."""
    match = _TIME.fullmatch(text.strip())
    if not match:
        raise ValueError(f"calling hours {piece!r}: {text.strip()!r} is not a time like 08:00")
    hours, minutes = int(match[1]), int(match[2])
    if (hours, minutes) == (24, 0):
        if not end:
            raise ValueError(f"calling hours {piece!r}: 24:00 can only end a range")
        return None
    if hours > 23 or minutes > 59:
        raise ValueError(f"calling hours {piece!r}: {text.strip()!r} is not a time of day")
    return time(hours, minutes)


def _minutes(moment: time | None) -> int:
    """Minutes since local midnight; None (24:00) is 1440."""
    return 24 * 60 if moment is None else moment.hour * 60 + moment.minute


def _check_windows(windows: Sequence[Window], where: str) -> tuple[Window, ...]:
    """The windows sorted by start; ValueError if empty, reversed, empty or overlapping."""
    if not windows:
        raise ValueError(f"{where}: no calling hours")
    ordered = sorted(windows, key=lambda window: _minutes(window[0]))
    for start, end in ordered:
        if _minutes(start) >= _minutes(end):
            raise ValueError(f"{where}: range {_show((start, end))} does not end after it starts")
    for before, after in pairwise(ordered):
        if _minutes(after[0]) < _minutes(before[1]):
            raise ValueError(f"{where}: ranges {_show(before)} and {_show(after)} overlap")
    return tuple(ordered)


def _show(window: Window) -> str:
    start, end = window
    return f"{start:%H:%M}-{'24:00' if end is None else f'{end:%H:%M}'}"


def parse_calling_hours(text: str) -> tuple[Window, ...]:
    """Parse `CATI_CALLING_HOURS`, e.g. '08:00-11:30,13:30-17:00', into sorted windows.

    Each range is HH:MM-HH:MM, start included, end excluded; '24:00' may end a range
    ('00:00-24:00' is the whole day). Ranges must not be empty, reversed or overlap (touching is
    fine). Raise ValueError naming the bad text.
    """
    windows = []
    for piece in text.split(","):
        parts = piece.split("-")
        if len(parts) != 2:
            raise ValueError(f"calling hours {piece.strip()!r} is not a range like 08:00-11:30")
        start = _parse_clock(parts[0], piece.strip(), end=False)
        assert start is not None  # 24:00 is refused as a start
        windows.append((start, _parse_clock(parts[1], piece.strip(), end=True)))
    return _check_windows(windows, f"calling hours {text!r}")


def _day_number(name: str, text: str) -> int:
    key = name.strip().lower()
    if key not in DAY_NAMES:
        raise ValueError(
            f"calling days {text!r}: {name.strip()!r} is not a day ({', '.join(DAY_NAMES)})"
        )
    return DAY_NAMES.index(key) + 1


def parse_calling_days(text: str) -> frozenset[int]:
    """Parse `CATI_CALLING_DAYS` ('mon-sat', 'mon,tue,wed', 'mon-fri,sun') into ISO weekdays.

    Case-insensitive three-letter English names; a range runs forward within one week (Monday
    first), so 'sat-mon' is refused: write 'mon,sat-sun'. Raise ValueError naming the bad text.
    """
    days: set[int] = set()
    for piece in text.split(","):
        parts = piece.split("-")
        if len(parts) == 1:
            days.add(_day_number(parts[0], text))
        elif len(parts) == 2:
            first, last = _day_number(parts[0], text), _day_number(parts[1], text)
            if first > last:
                raise ValueError(
                    f"calling days {text!r}: range {piece.strip()!r} runs backwards"
                    " (weeks start on Monday)"
                )
            days.update(range(first, last + 1))
        else:
            raise ValueError(f"calling days {text!r}: {piece.strip()!r} is not a day or a range")
    return frozenset(days)


def parse_holidays(text: str) -> frozenset[date]:
    """Parse `CATI_HOLIDAYS`, comma-separated ISO dates ('2026-09-02,2027-02-16'); blank is none.

    Raise ValueError naming the bad text.
    """
    if not text.strip():
        return frozenset()
    holidays = set()
    for piece in text.split(","):
        item = piece.strip()
        if not _DATE.fullmatch(item):
            raise ValueError(f"holidays {text!r}: {item!r} is not a date like 2026-09-02")
        try:
            holidays.add(date.fromisoformat(item))
        except ValueError:
            raise ValueError(f"holidays {text!r}: {item!r} is not a calendar date") from None
    return frozenset(holidays)


# --- the policy -----------------------------------------------------------------------------


@dataclass(frozen=True)
class PastAttempt:
    """One call already made to the case: when it started (aware) and how it ended."""

    started_at: datetime
    outcome: str


def _utc(moment: datetime, name: str) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got {moment!r}")
    return moment.astimezone(UTC)


@dataclass(frozen=True)
class CallingPolicy:
    """When calls may be placed, and how attempts at one case are spaced.

    `windows` are local [start, end) times (end None = 24:00), `days` ISO weekdays (1 = Monday),
    `holidays` local dates with no calls. `delay_after` maps the previous attempt's outcome to
    the wait before the next one (an unlisted outcome waits `min_gap`); `min_gap` is a floor
    for every outcome. After an outcome in `final_outcomes` the case is never called again;
    after one in `other_part_after` the next call goes in another window if one is left before
    the round ends.
    """

    windows: tuple[Window, ...] = parse_calling_hours(DEFAULT_CALLING_HOURS)
    days: frozenset[int] = parse_calling_days(DEFAULT_CALLING_DAYS)
    holidays: frozenset[date] = frozenset()
    tz: tzinfo = DEFAULT_TZ
    max_attempts: int = 5
    max_per_day: int = 2
    min_gap: timedelta = timedelta(minutes=120)
    delay_after: Mapping[str, timedelta] = field(default_factory=lambda: DEFAULT_DELAYS)
    final_outcomes: frozenset[str] = FINAL_OUTCOMES
    other_part_after: frozenset[str] = OTHER_PART_AFTER

    def __post_init__(self) -> None:
        object.__setattr__(self, "windows", _check_windows(self.windows, "calling policy"))
        object.__setattr__(self, "days", frozenset(self.days))
        object.__setattr__(self, "holidays", frozenset(self.holidays))
        object.__setattr__(self, "delay_after", MappingProxyType(dict(self.delay_after)))
        if not self.days or not self.days <= set(range(1, 8)):
            raise ValueError(f"calling policy: days must be ISO weekdays 1..7, got {self.days}")
        if not isinstance(self.tz, tzinfo):
            raise ValueError(f"calling policy: tz must be a tzinfo, got {self.tz!r}")
        if self.max_attempts < 1 or self.max_per_day < 1:
            raise ValueError("calling policy: max_attempts and max_per_day must be at least 1")
        if self.min_gap < timedelta(0) or any(d < timedelta(0) for d in self.delay_after.values()):
            raise ValueError("calling policy: gaps and delays cannot be negative")

    @classmethod
    def from_settings(
        cls, hours: str, days: str, holidays: str, tz: tzinfo = DEFAULT_TZ, **options
    ) -> CallingPolicy:
        """A policy from the settings texts (CATI_CALLING_HOURS, _DAYS, CATI_HOLIDAYS)."""
        return cls(
            windows=parse_calling_hours(hours),
            days=parse_calling_days(days),
            holidays=parse_holidays(holidays),
            tz=tz,
            **options,
        )

    def is_calling_day(self, day: date) -> bool:
        """A local date on which calls may be made: a calling weekday and not a holiday."""
        return day.isoweekday() in self.days and day not in self.holidays

    def window_index(self, moment: datetime) -> int | None:
        """Which window ("part of the day") holds this instant's local time, ignoring the date."""
        clock = _minutes(_utc(moment, "moment").astimezone(self.tz).time())
        for index, (start, end) in enumerate(self.windows):
            if _minutes(start) <= clock < _minutes(end):
                return index
        return None

    def is_callable_at(self, moment: datetime) -> bool:
        """Whether a call may be placed at this instant: inside a window, on a calling day."""
        local = _utc(moment, "moment").astimezone(self.tz)
        if not self.is_calling_day(local.date()):
            return False
        clock = local.time()
        return any(start <= clock and (end is None or clock < end) for start, end in self.windows)

    def _openings(self, start: datetime) -> Iterator[tuple[datetime, datetime, int, date]]:
        """Window occurrences (opens, closes, window index, local date), UTC, in time order.

        From the local date of `start` for SEARCH_DAYS days, skipping non-calling days; the
        caller skips the ones already closed.
        """
        first = start.astimezone(self.tz).date()
        for offset in range(SEARCH_DAYS + 1):
            day = first + timedelta(days=offset)
            if not self.is_calling_day(day):
                continue
            for index, (begin, end) in enumerate(self.windows):
                opens = datetime.combine(day, begin, tzinfo=self.tz)
                if end is None:
                    closes = datetime.combine(day + timedelta(days=1), time(), tzinfo=self.tz)
                else:
                    closes = datetime.combine(day, end, tzinfo=self.tz)
                yield opens.astimezone(UTC), closes.astimezone(UTC), index, day

    def next_window_start(self, after: datetime) -> datetime | None:
        """The first callable instant at or after `after` (UTC), None if none in SEARCH_DAYS."""
        after = _utc(after, "after")
        for opens, closes, _, _ in self._openings(after):
            if closes > after:
                return max(opens, after)
        return None

    def next_attempt_at(
        self,
        attempts: Sequence[PastAttempt],
        *,
        now: datetime,
        round_ends_at: datetime,
        appointment_at: datetime | None = None,
    ) -> datetime | None:
        """When this case may be called next (UTC, >= now), or None if never again.

        1. None if an attempt ended in a final outcome, `max_attempts` calls were made, or the
           round has ended (`now >= round_ends_at`).
        2. An appointment later than the last attempt (an earlier one has been kept) wins: the
           next callable instant at or after it (or after `now`, if it was missed) — honoured
           as given inside calling hours, else moved to the next window opening; the gap and
           the per-day cap do not apply. None if that is not before the round end.
        3. Otherwise the earliest moment is the last attempt's start plus the larger of
           `min_gap` and the delay for its outcome (and not before `now`); the first attempt
           may be made at once.
        4. Walk the window openings from there: skip local days that already have
           `max_per_day` attempts (days end at local midnight) and, after an outcome in
           `other_part_after`, the window the last attempt was made in. The first opening left
           gives the answer, unless it is not before the round end.
        5. If the other-window rule found nothing before the round end, walk again without it.
        """
        now = _utc(now, "now")
        round_ends_at = _utc(round_ends_at, "round_ends_at")
        history = sorted(
            (PastAttempt(_utc(a.started_at, "started_at"), a.outcome) for a in attempts),
            key=lambda attempt: attempt.started_at,
        )
        if any(attempt.outcome in self.final_outcomes for attempt in history):
            return None
        if len(history) >= self.max_attempts or now >= round_ends_at:
            return None
        last = history[-1] if history else None

        if appointment_at is not None:
            appointment_at = _utc(appointment_at, "appointment_at")
            if last is None or appointment_at > last.started_at:
                at = self.next_window_start(max(appointment_at, now))
                return at if at is not None and at < round_ends_at else None

        earliest = now
        avoid = None
        if last is not None:
            delay = max(self.min_gap, self.delay_after.get(last.outcome, self.min_gap))
            earliest = max(now, last.started_at + delay)
            if last.outcome in self.other_part_after and len(self.windows) > 1:
                avoid = self.window_index(last.started_at)
        per_day = Counter(a.started_at.astimezone(self.tz).date() for a in history)

        passes = [avoid, None] if avoid is not None else [None]
        for skipped_window in passes:
            for opens, closes, index, day in self._openings(earliest):
                at = max(opens, earliest)
                if at >= round_ends_at:
                    break
                if closes <= earliest or per_day[day] >= self.max_per_day:
                    continue
                if index != skipped_window:
                    return at
        return None


# --- the calling period of a round ------------------------------------------------------------


def calling_period_end(week_end_at: datetime, sampled_at: datetime, calling_days: int) -> datetime:
    """When a round's calls stop: `calling_days` after its week ends or after it was sampled,
    whichever is later (a week sampled late still gets its whole calling period)."""
    start = max(_utc(week_end_at, "week_end_at"), _utc(sampled_at, "sampled_at"))
    return start + timedelta(days=calling_days)


# --- why a dialing pass placed nothing ----------------------------------------------------------


@dataclass(frozen=True)
class RoundQueue:
    """What the dialer sees of one round at one moment (counts of its robot members)."""

    is_open: bool  # the round's status: open, not closed yet
    calling_ends_at: datetime
    due_now: int  # robot members that may be called now
    next_due_at: datetime | None  # the earliest later due time of a robot member
    in_progress: int  # members with a call under way
    with_interviewers: int  # members not final in the interviewers' queue
    live_calls: int  # robot calls under way, every round
    max_concurrent_calls: int


@dataclass(frozen=True)
class IdleReason:
    """One reason why no call is being placed: a code, an English line and its figures
    (instants as ISO 8601 local time)."""

    code: str
    message: str
    details: Mapping[str, str | int | None] = field(default_factory=dict)

    def as_dict(self) -> dict[str, str | int | None]:
        return {"code": self.code, "message": self.message, **self.details}


def _local(moment: datetime, tz: tzinfo) -> str:
    return f"{moment.astimezone(tz):%a %d/%m/%Y %H:%M}"


def _iso(moment: datetime | None, tz: tzinfo) -> str | None:
    return None if moment is None else moment.astimezone(tz).isoformat()


def idle_reasons(policy: CallingPolicy, queue: RoundQueue, now: datetime) -> list[IdleReason]:
    """Why no call of this round can be placed at `now`, one reason each, most final first.

    1. The calling period is over (or the round is closed): that says it all.
    2. Today is a holiday, or it is outside calling hours (a day without calls, or between
       windows): with when the next window opens, if one is left in the calling period.
    3. The concurrency cap (CATI_MAX_CONCURRENT_CALLS) is reached.
    4. Nobody is due now: with when the next member is due, or what the others are waiting on.
    An empty list: calls may be placed now.
    """
    now = _utc(now, "now")
    tz = policy.tz
    ends_at = _utc(queue.calling_ends_at, "calling_ends_at")
    ends = {"calling_ends_at": _iso(ends_at, tz)}
    if not queue.is_open:
        return [IdleReason("calling_period_over", "the round is closed", ends)]
    if now >= ends_at:
        message = f"the round's calling period ended {_local(ends_at, tz)} (local time)"
        return [IdleReason("calling_period_over", message, ends)]
    reasons = []
    if not policy.is_callable_at(now):
        opens = policy.next_window_start(now)
        if opens is not None and opens >= ends_at:
            opens = None
        if opens is None:
            after = "no calling window is left before the round's calling period ends " + (
                _local(ends_at, tz)
            )
        else:
            after = f"the next window opens {_local(opens, tz)} (local time)"
        today = now.astimezone(tz).date()
        details = {"next_window_at": _iso(opens, tz)}
        if today in policy.holidays:
            message = f"today, {today:%d/%m/%Y}, is a holiday (CATI_HOLIDAYS); {after}"
            reasons.append(IdleReason("holiday", message, {"date": today.isoformat(), **details}))
        else:
            hours = ", ".join(_show(window) for window in policy.windows)
            days = ",".join(DAY_NAMES[day - 1] for day in sorted(policy.days))
            message = f"outside calling hours ({hours} on {days}); {after}"
            reasons.append(IdleReason("outside_hours", message, details))
    if queue.live_calls >= queue.max_concurrent_calls:
        message = (
            f"{queue.live_calls} calls are under way, the limit "
            f"(CATI_MAX_CONCURRENT_CALLS) is {queue.max_concurrent_calls}"
        )
        reasons.append(
            IdleReason(
                "at_capacity",
                message,
                {"live_calls": queue.live_calls, "limit": queue.max_concurrent_calls},
            )
        )
    if queue.due_now == 0:
        if queue.next_due_at is not None:
            message = (
                f"nobody is due now; the next member is due {_local(queue.next_due_at, tz)} "
                "(local time)"
            )
        else:
            waiting = [
                f"{n} {what}"
                for n, what in (
                    (queue.in_progress, "with a call under way"),
                    (queue.with_interviewers, "in the interviewers' queue"),
                )
                if n
            ]
            message = "nobody is left for the robot to call" + (
                f" ({', '.join(waiting)})" if waiting else ""
            )
        reasons.append(
            IdleReason("nobody_due", message, {"next_due_at": _iso(queue.next_due_at, tz)})
        )
    return reasons
