"""ISO weeks are local: their bounds are Monday 00:00 in Vietnam, as UTC instants."""

from datetime import UTC, datetime

import pytest

from cati.domain.weeks import IsoWeek
from tests.conftest import TZ


@pytest.mark.parametrize("text", ["2026-W47", "2026W47", "2026-w47", " 2026-W47 "])
def test_parse(text):
    assert IsoWeek.parse(text) == IsoWeek(2026, 47)
    assert str(IsoWeek.parse(text)) == "2026-W47"


@pytest.mark.parametrize("text", ["2026-47", "W47", "2026-W54", "2025-W53", "2026-W00", ""])
def test_parse_rejects_and_names_the_text(text):
    with pytest.raises(ValueError, match=repr(text).replace("[", r"\[")):
        IsoWeek.parse(text)


def test_bounds_are_monday_midnight_local():
    start, end = IsoWeek(2026, 47).bounds_utc(TZ)
    assert start == datetime(2026, 11, 15, 17, 0, tzinfo=UTC)
    assert end == datetime(2026, 11, 22, 17, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("moment", "week"),
    [
        (datetime(2026, 11, 15, 17, 10, tzinfo=UTC), IsoWeek(2026, 47)),  # Mon 00:10 local
        (datetime(2026, 11, 15, 16, 59, tzinfo=UTC), IsoWeek(2026, 46)),  # Sun 23:59 local
        (datetime(2027, 1, 1, 3, 0, tzinfo=UTC), IsoWeek(2026, 53)),
    ],
)
def test_containing_uses_local_time(moment, week):
    assert IsoWeek.containing(moment, TZ) == week


def test_shifted_crosses_years():
    assert IsoWeek(2026, 53).shifted(1) == IsoWeek(2027, 1)
    assert IsoWeek(2027, 1).shifted(-1) == IsoWeek(2026, 53)
