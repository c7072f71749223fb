"""Numbers and dates the reader's way (Babel, through Flask-Babel): 94,3 %, 7,62 and
07/12/2026 in Vietnamese; 94.3%, 7.62 and 7 Dec 2026 in English.

The request's locale is the interface language (`cati.web.i18n.current_language`). Templates
use the filters `percent`, `decimal`, `date_local`, `datetime_local` and `time_local`; pages
with a chart pass `chart_locale()` to the script, which formats its axes with the same locale.
"""

from __future__ import annotations

from datetime import date, datetime

from flask import Flask, current_app, has_app_context
from flask_babel import Babel, format_date, format_datetime

from cati import formats
from cati.web.i18n import current_language

NONE = formats.MISSING
CHART_LOCALES = {"vi": "vi-VN", "en": "en-GB"}
SHORT_DATE_PATTERNS = {"vi": "dd/MM", "en": "d MMM"}
DATETIME_PATTERNS = {"vi": "dd/MM/yyyy HH:mm", "en": "d MMM yyyy HH:mm"}


def percent(value: float | None, digits: int = 1) -> str:
    """A share (0..1) as a percentage: '94,3 %' in Vietnamese (a no-break space before the
    sign, as Vietnamese style writes it), '94.3%' in English; '–' for none."""
    return formats.percent(value, current_language(), digits)


def decimal(value: float | None, digits: int = 2) -> str:
    """A number with `digits` decimals: '7,62' in Vietnamese, '7.62' in English."""
    return formats.decimal(value, digits, current_language())


def date_local(value: date | datetime | str | None) -> str:
    """A date (a datetime is shown in CATI_TIMEZONE first): '07/12/2026'."""
    value = _parsed(value)
    if isinstance(value, datetime):
        value = value.astimezone(_timezone()).date()
    return formats.date(value, current_language())


def datetime_local(value: datetime | str | None) -> str:
    """A moment in CATI_TIMEZONE: '07/12/2026 14:30'."""
    value = _parsed(value)
    if value is None:
        return NONE
    return format_datetime(value.astimezone(_timezone()), DATETIME_PATTERNS[current_language()])


def time_local(value: datetime | str | None) -> str:
    """The time of day of a moment in CATI_TIMEZONE: '14:30'."""
    value = _parsed(value)
    if value is None:
        return NONE
    return format_datetime(value.astimezone(_timezone()), "HH:mm")


def week_local(week: str | None, dates: bool = True) -> str:
    """An ISO week the way people say it: 'Tuần 47/2026 (16/11–22/11/2026)'."""
    if not week:
        return NONE
    from datetime import timedelta

    from cati.domain.weeks import IsoWeek
    from cati.web.i18n import t

    iso = IsoWeek.parse(week)
    label = t("week.label", week=iso.week, year=iso.year)
    if not dates:
        return label
    monday = iso.monday
    start = format_date(monday, SHORT_DATE_PATTERNS[current_language()])
    return f"{label} ({start}–{date_local(monday + timedelta(days=6))})"


def chart_locale() -> str:
    """The BCP 47 locale the charts format their axes and tooltips with."""
    return CHART_LOCALES[current_language()]


def _parsed(value):
    if isinstance(value, str):
        return datetime.fromisoformat(value) if value else None
    return value


def _timezone():
    if has_app_context() and "cati" in current_app.extensions:
        return current_app.extensions["cati"].settings.timezone
    from zoneinfo import ZoneInfo

    return ZoneInfo("Asia/Ho_Chi_Minh")


def init_app(app: Flask) -> None:
    Babel(
        app,
        locale_selector=current_language,
        timezone_selector=lambda: str(_timezone()),
    )
    app.jinja_env.filters.update(
        percent=percent,
        decimal=decimal,
        date_local=date_local,
        datetime_local=datetime_local,
        time_local=time_local,
        week_local=week_local,
    )
    app.jinja_env.globals["chart_locale"] = chart_locale
