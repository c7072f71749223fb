"""ISO weeks in local time: a survey round covers the cases returned in one of them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

_WEEK = re.compile(r"^\s*(\d{4})-?W(\d{1,2})\s*$", re.IGNORECASE)


@dataclass(frozen=True, order=True)
class IsoWeek:
    year: int
    week: int

    @classmethod
    def parse(cls, text: str) -> IsoWeek:
        """Parse '2026-W47' (also '2026W47', '2026-w47'); raise ValueError naming the text."""
        match = _WEEK.match(text)
        if not match:
            raise ValueError(f"{text!r} is not an ISO week like 2026-W47")
        year, week = int(match[1]), int(match[2])
        try:
            date.fromisocalendar(year, week, 1)
        except ValueError:
            raise ValueError(f"{text!r}: year {year} has no week {week}") from None
        return cls(year, week)

    @classmethod
    def containing(cls, moment: datetime, tz: tzinfo) -> IsoWeek:
        year, week, _ = moment.astimezone(tz).isocalendar()
        return cls(year, week)

    def __str__(self) -> str:
        return f"{self.year}-W{self.week:02d}"

    @property
    def monday(self) -> date:
        return date.fromisocalendar(self.year, self.week, 1)

    def bounds_utc(self, tz: tzinfo) -> tuple[datetime, datetime]:
        """Monday 00:00 to the next Monday 00:00 local time, as UTC instants [start, end)."""
        start = datetime.combine(self.monday, time(), tzinfo=tz)
        end = datetime.combine(self.monday + timedelta(days=7), time(), tzinfo=tz)
        return start.astimezone(UTC), end.astimezone(UTC)

    def shifted(self, weeks: int) -> IsoWeek:
        year, week, _ = (self.monday + timedelta(weeks=weeks)).isocalendar()
        return IsoWeek(year, week)
