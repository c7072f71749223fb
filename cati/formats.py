"""Numbers and dates as a reader of the language writes them (Babel's locale data).

Vietnamese: 94,3 %, 7,62, 1.234, 07/12/2026; English: 94.3%, 7.62, 1,234, 7 Dec 2026.
Pure functions, no application state: the documents (`cati report --format pdf|text`) and
the web pages use the same ones. A missing figure (None) is written as an en dash.
"""

from __future__ import annotations

import decimal as _decimal
from datetime import date as Date
from datetime import datetime

from babel.dates import format_date
from babel.numbers import format_decimal, format_percent

MISSING = "–"
LOCALES = ("vi", "en")
# The percent sign: Vietnamese texts set it apart with a (no-break) space, English does not.
_PERCENT_SIGN = {"vi": "\u00a0%", "en": "%"}
_DATE_FORMAT = {"vi": "dd/MM/yyyy", "en": "d MMM yyyy"}


def percent(x: float | None, locale: str = "vi", digits: int = 1) -> str:
    """A share (0.943) as a percentage with `digits` decimals: '94,3 %' in Vietnamese."""
    if x is None:
        return MISSING
    sign = _PERCENT_SIGN.get(_language(locale), "%")
    decimals = "." + "0" * digits if digits > 0 else ""
    with _half_up():
        return format_percent(x, format=f"#,##0{decimals}{sign}", locale=locale)


def decimal(x: float | None, digits: int = 2, locale: str = "vi") -> str:
    """A number with exactly `digits` decimals: 7.6234 → '7,62' in Vietnamese."""
    if x is None:
        return MISSING
    decimals = "." + "0" * digits if digits > 0 else ""
    with _half_up():
        return format_decimal(x, format=f"#,##0{decimals}", locale=locale)


def integer(n: int | None, locale: str = "vi") -> str:
    """A count with the locale's thousands separator: 12345 → '12.345' in Vietnamese."""
    if n is None:
        return MISSING
    return format_decimal(n, format="#,##0", locale=locale)


def date(d: Date | datetime | None, locale: str = "vi") -> str:
    """A day: '07/12/2026' in Vietnamese, '7 Dec 2026' in English."""
    if d is None:
        return MISSING
    if isinstance(d, datetime):
        d = d.date()
    return format_date(d, _DATE_FORMAT.get(_language(locale), "yyyy-MM-dd"), locale=locale)


def _half_up():
    """Halves round up, as figures are rounded by hand in reports (13 of 16 is 81,3 %), not
    to even (Babel's default through the decimal context)."""
    return _decimal.localcontext(rounding=_decimal.ROUND_HALF_UP)


def _language(locale: str) -> str:
    return locale.replace("-", "_").split("_")[0].lower()
