"""Validation of completed-dossier records, whatever file or request they came from.

A record is a mapping from canonical column names to raw values (strings from CSV or JSON,
numbers and datetimes from spreadsheets). `parse_record` turns it into a `CaseRecord` or into
the list of reasons it is rejected, each naming the column.

Values other than text: a number is read as its decimal form (a whole number without a
decimal point, as spreadsheets and JSON give codes and phone numbers: 912345678.0 is
"912345678"); true/false only as a yes/no value; an object, a list, NaN or an infinity is
rejected, as is text holding a lone UTF-16 surrogate (JSON can spell one, no database can
store it).
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, tzinfo
from enum import StrEnum
from functools import lru_cache
from typing import Any, NamedTuple

from cati.phone import CALLABLE_TYPES, PhoneType, normalize_phone


class Channel(StrEnum):
    IN_PERSON = "in_person"
    ONLINE = "online"
    POSTAL = "postal"


COLUMNS = (
    "dossier_code",
    "citizen_name",
    "phone",
    "office_code",
    "office_name",
    "procedure_code",
    "procedure_name",
    "officer",
    "channel",
    "immediate_result",
    "received_at",
    "due_at",
    "returned_at",
)
REQUIRED = ("dossier_code", "office_code", "received_at")

_HEADER_ALIASES = {
    "dossier_code": ("mã hồ sơ",),
    "citizen_name": ("họ tên", "họ và tên", "người nộp"),
    "phone": ("số điện thoại", "điện thoại"),
    "office_code": ("mã đơn vị",),
    "office_name": ("đơn vị", "bộ phận một cửa"),
    "procedure_code": ("mã thủ tục",),
    "procedure_name": ("tên thủ tục", "thủ tục"),
    "officer": ("cán bộ tiếp nhận", "người tiếp nhận"),
    "channel": ("hình thức nộp",),
    "immediate_result": ("trả kết quả ngay",),
    "received_at": ("ngày tiếp nhận",),
    "due_at": ("ngày hẹn trả",),
    "returned_at": ("ngày trả kết quả",),
}
_CHANNELS = {
    Channel.IN_PERSON: ("in_person", "in person", "trực tiếp", "truc tiep"),
    Channel.ONLINE: ("online", "trực tuyến", "truc tuyen"),
    Channel.POSTAL: ("postal", "bưu chính", "buu chinh", "bcci", "bưu chính công ích"),
}
_TRUE = ("true", "1", "yes", "y", "có", "co", "x")
_FALSE = ("false", "0", "no", "n", "không", "khong", "")
_MAX_LENGTH = {
    "dossier_code": 100,
    "citizen_name": 255,
    "phone": 64,
    "office_code": 64,
    "office_name": 255,
    "procedure_code": 64,
    "procedure_name": 500,
    "officer": 255,
}


_TEXT_LIMITS = tuple(_MAX_LENGTH.items())
# Columns with few distinct values: one shared string object per value keeps a large import
# small in memory and cheap to hand between processes.
_REPEATED = frozenset({"office_code", "office_name", "procedure_code", "procedure_name", "officer"})
_shared_strings: dict[str, str] = {}


def fold(text: str) -> str:
    """Compare-friendly form: NFC, case-folded, inner spaces collapsed, ends trimmed."""
    return " ".join(unicodedata.normalize("NFC", text).casefold().split())


_HEADER_LOOKUP = {
    fold(alias): column
    for column, aliases in _HEADER_ALIASES.items()
    for alias in (column, *aliases)
}
_CHANNEL_LOOKUP = {fold(v): channel for channel, values in _CHANNELS.items() for v in values}
_BOOL_LOOKUP = {**{fold(v): True for v in _TRUE}, **{fold(v): False for v in _FALSE}}


def canonical_column(header: str) -> str | None:
    """The column an English or Vietnamese header stands for, or None."""
    return _HEADER_LOOKUP.get(fold(header.lstrip("\ufeff")))


@lru_cache(maxsize=1024)
def _lookup_channel(text: str) -> Channel | None:
    return _CHANNEL_LOOKUP.get(fold(text))


@lru_cache(maxsize=1024)
def _lookup_bool(text: str) -> bool | None:
    return _BOOL_LOOKUP.get(fold(text))


class HeaderError(ValueError):
    """The header row cannot be used: a required column is missing or one is given twice."""


def map_headers(headers: Iterable[Any]) -> dict[int, str]:
    """Map header positions to canonical column names; unknown headers are ignored."""
    mapping: dict[int, str] = {}
    seen: dict[str, str] = {}
    for index, header in enumerate(headers):
        label = "" if header is None else str(header)
        column = canonical_column(label)
        if column is None:
            continue
        if column in seen:
            raise HeaderError(
                f"columns {seen[column]!r} and {label!r} both mean {column!r}; keep one"
            )
        seen[column] = label
        mapping[index] = column
    missing = [column for column in REQUIRED if column not in seen]
    if missing:
        named = ", ".join(
            f"{column} ({' or '.join(a[:1].upper() + a[1:] for a in _HEADER_ALIASES[column])})"
            for column in missing
        )
        raise HeaderError(f"required column(s) missing: {named}")
    return mapping


@dataclass(frozen=True, slots=True)
class Rejection:
    line: int
    column: str
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"line": self.line, "column": self.column, "reason": self.reason}


class CaseRecord(NamedTuple):
    """A valid record. A named tuple: imports pass hundreds of thousands between processes."""

    dossier_code: str
    citizen_name: str | None
    phone_raw: str | None
    phone: str | None
    phone_type: PhoneType
    office_code: str
    office_name: str | None
    procedure_code: str | None
    procedure_name: str | None
    officer: str | None
    channel: Channel
    immediate_result: bool
    received_at: datetime
    due_at: datetime | None
    returned_at: datetime | None

    @property
    def has_callable_phone(self) -> bool:
        return self.phone_type in CALLABLE_TYPES


def parse_record(
    raw: Mapping[str, Any], line: int, tz: tzinfo, now: datetime | None = None
) -> CaseRecord | list[Rejection]:
    """Validate one record; return it parsed, or every reason it is rejected.

    With `now` (the import's time), a result returned after it is rejected: it cannot have
    happened yet.
    """
    # Written for speed as well as clarity: imports run it on hundreds of thousands of rows.
    get = raw.get
    problems: list[Rejection] = []
    text: dict[str, str | None] = {}
    for column, limit in _TEXT_LIMITS:
        try:
            value = _text(get(column))
        except ValueError as exc:
            problems.append(Rejection(line, column, str(exc)))
            value = None
        if value is not None:
            if len(value) > limit:
                problems.append(Rejection(line, column, f"longer than {limit} characters"))
            elif "\x00" in value:
                problems.append(Rejection(line, column, "contains a NUL character"))
        if column in _REPEATED and value is not None:
            value = _shared_strings.setdefault(value, value)
            if len(_shared_strings) > 100_000:
                _shared_strings.clear()
        text[column] = value
    for column in ("dossier_code", "office_code"):
        if text[column] is None and not any(p.column == column for p in problems):
            problems.append(Rejection(line, column, "required value is missing"))

    channel: Channel | None = Channel.IN_PERSON
    try:
        channel_raw = _text(get("channel"))
    except ValueError as exc:
        problems.append(Rejection(line, "channel", str(exc)))
        channel_raw = None
    if channel_raw is not None:
        channel = _lookup_channel(channel_raw)
        if channel is None:
            problems.append(
                Rejection(
                    line,
                    "channel",
                    (
                        f"unknown channel {channel_raw!r} (expected in_person, online, postal, "
                        "Trực tiếp, Trực tuyến, Bưu chính or BCCI)"
                    ),
                )
            )

    immediate_value = get("immediate_result")
    immediate: bool | None
    if type(immediate_value) is bool:
        immediate = immediate_value
    else:
        try:
            immediate_raw = _text(immediate_value) or ""
        except ValueError as exc:
            immediate = False
            problems.append(Rejection(line, "immediate_result", str(exc)))
        else:
            immediate = _lookup_bool(immediate_raw)
            if immediate is None:
                problems.append(
                    Rejection(line, "immediate_result", f"not a yes/no value: {immediate_raw!r}")
                )

    dates: list[datetime | None] = []
    for column in ("received_at", "due_at", "returned_at"):
        try:
            dates.append(parse_local_datetime(get(column), tz))
        except ValueError as exc:
            dates.append(None)
            problems.append(Rejection(line, column, str(exc)))
    received, due, returned = dates
    if received is None and not any(p.column == "received_at" for p in problems):
        problems.append(Rejection(line, "received_at", "required value is missing"))
    if (
        received
        and returned
        and returned < received
        and not _same_day_date_only(received, returned, tz)
    ):
        problems.append(
            Rejection(line, "returned_at", "result returned before the dossier was received")
        )
    if now is not None and returned is not None and returned > now:
        problems.append(
            Rejection(
                line,
                "returned_at",
                f"result returned in the future: {_local_text(returned, tz)} is after the "
                f"time of this import ({_local_text(now, tz)})",
            )
        )

    if problems:
        return problems
    phone = normalize_phone(text["phone"])
    return CaseRecord(
        text["dossier_code"],  # type: ignore[arg-type]
        text["citizen_name"],
        text["phone"],
        phone.e164,
        phone.type,
        text["office_code"],  # type: ignore[arg-type]
        text["office_name"],
        text["procedure_code"],
        text["procedure_name"],
        text["officer"],
        channel,  # type: ignore[arg-type]
        bool(immediate),
        received,  # type: ignore[arg-type]
        due,
        returned,
    )


def _same_day_date_only(received: datetime, returned: datetime, tz: tzinfo) -> bool:
    """A return given as a bare date (00:00) on the day of receipt: same-day, not earlier."""
    local = returned.astimezone(tz)
    return local.time() == time() and local.date() == received.astimezone(tz).date()


def _local_text(instant: datetime, tz: tzinfo) -> str:
    return instant.astimezone(tz).strftime("%d/%m/%Y %H:%M")


_SURROGATE = re.compile("[\ud800-\udfff]")


def _text(value: Any) -> str | None:
    """The value as trimmed NFC text, None when empty; ValueError (the reason) when the value
    is not text: an object, a list, true/false, NaN, an infinity, a lone surrogate."""
    if value is None:
        return None
    if type(value) is not str:
        value = _scalar_text(value)
    value = value.strip()
    if not value:
        return None
    if value.isascii():
        return value
    if _SURROGATE.search(value):
        raise ValueError("contains a lone UTF-16 surrogate (not a character)")
    return unicodedata.normalize("NFC", value)


def _scalar_text(value: Any) -> str:
    if isinstance(value, bool):
        raise ValueError(f"expected text, not {str(value).lower()}")
    if isinstance(value, float):
        if not math.isfinite(value):
            spelt = "NaN" if math.isnan(value) else "Infinity" if value > 0 else "-Infinity"
            raise ValueError(f"expected text, not {spelt}")
        if value.is_integer():
            value = int(value)  # spreadsheets hand phone numbers and codes over as floats
    elif isinstance(value, Mapping):
        raise ValueError("expected text, not an object")
    elif isinstance(value, list | tuple | set):
        raise ValueError("expected text, not a list")
    try:
        return str(value)
    except ValueError:  # an integer of more than 4300 digits
        raise ValueError("a number too long to be a value") from None


_DATE = re.compile(
    r"(?:(\d{4})-(\d{1,2})-(\d{1,2})|(\d{1,2})/(\d{1,2})/(\d{4}))"
    r"(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?"
)


def parse_local_datetime(value: Any, tz: tzinfo) -> datetime | None:
    """Parse a local date or date-time into a UTC instant; None for an empty value.

    Accepted: 2026-11-16, 2026-11-16 09:30, 16/11/2026, 16/11/2026 09:30 (day first), seconds
    optional, and datetime/date objects from spreadsheets. A date alone means 00:00 local.
    """
    if value is None:
        return None
    if isinstance(value, datetime):
        local = value if value.tzinfo else value.replace(tzinfo=tz)
        return local.astimezone(UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=tz).astimezone(UTC)
    text = (value if type(value) is str else _scalar_text(value)).strip()
    return _parse_date_text(text, tz) if text else None


@lru_cache(maxsize=65536)
def _parse_date_text(text: str, tz: tzinfo) -> datetime:
    match = _DATE.fullmatch(text)
    if not match:
        raise ValueError(
            f"cannot read date {text!r} (use 2026-11-16, 16/11/2026, optionally with HH:MM)"
        )
    iso_y, iso_m, iso_d, d, m, y, hh, mm, ss = match.groups()
    year, month, day = (int(iso_y), int(iso_m), int(iso_d)) if iso_y else (int(y), int(m), int(d))
    try:
        local = datetime(year, month, day, int(hh or 0), int(mm or 0), int(ss or 0), tzinfo=tz)
        return local.astimezone(UTC)  # can overflow: 01/01/0001 00:00 local is year 0 in UTC
    except (ValueError, OverflowError):
        raise ValueError(f"impossible date or time {text!r}") from None
