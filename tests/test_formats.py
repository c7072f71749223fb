"""Numbers and dates the Vietnamese way (and the English one)."""

from datetime import date, datetime

import pytest

from cati import formats

NBSP = "\u00a0"


@pytest.mark.parametrize(
    ("x", "locale", "digits", "expected"),
    [
        (0.943, "vi", 1, f"94,3{NBSP}%"),
        (0.943, "en", 1, "94.3%"),
        (1.0, "vi", 1, f"100,0{NBSP}%"),
        (0.0049, "vi", 1, f"0,5{NBSP}%"),
        (0.5, "vi", 0, f"50{NBSP}%"),
        (0.12346, "en", 2, "12.35%"),
        (13 / 16, "vi", 1, f"81,3{NBSP}%"),  # a half rounds up, as by hand (not to even)
        (None, "vi", 1, "–"),
    ],
)
def test_percent(x, locale, digits, expected):
    assert formats.percent(x, locale, digits) == expected


@pytest.mark.parametrize(
    ("x", "digits", "locale", "expected"),
    [
        (7.6234, 2, "vi", "7,62"),
        (7.625, 2, "vi", "7,63"),
        (7.6234, 2, "en", "7.62"),
        (8, 2, "vi", "8,00"),
        (1234.5, 1, "vi", "1.234,5"),
        (1234.5, 1, "en", "1,234.5"),
        (None, 2, "vi", "–"),
    ],
)
def test_decimal(x, digits, locale, expected):
    assert formats.decimal(x, digits, locale) == expected


def test_integer():
    assert formats.integer(12345, "vi") == "12.345"
    assert formats.integer(12345, "en") == "12,345"
    assert formats.integer(7) == "7" and formats.integer(None) == "–"


def test_date():
    assert formats.date(date(2026, 12, 7), "vi") == "07/12/2026"
    assert formats.date(datetime(2026, 1, 5, 23, 0), "vi") == "05/01/2026"
    assert formats.date(date(2026, 12, 7), "en") == "7 Dec 2026"
    assert formats.date(None) == "–"
