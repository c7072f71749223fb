"""cati.domain.intake: header mapping and validation of one dossier record (no database)."""

from __future__ import annotations

import unicodedata
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from cati.domain.intake import (
    COLUMNS,
    REQUIRED,
    CaseRecord,
    Channel,
    HeaderError,
    Rejection,
    canonical_column,
    map_headers,
    parse_local_datetime,
    parse_record,
)
from cati.phone import PhoneType
from tests.conftest import TZ

LINE = 7
VALID = {"dossier_code": "HS-1", "office_code": "QT-DONGHA", "received_at": "16/11/2026 09:30"}


def nfd(text: str) -> str:
    return unicodedata.normalize("NFD", text)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def parse(**values) -> CaseRecord | list[Rejection]:
    return parse_record({**VALID, **values}, LINE, TZ)


def accepted(**values) -> CaseRecord:
    result = parse(**values)
    assert isinstance(result, CaseRecord), result
    return result


def rejected(**values) -> list[tuple[int, str, str]]:
    result = parse(**values)
    assert isinstance(result, list), result
    return [(r.line, r.column, r.reason) for r in result]


# --------------------------------------------------------------------------------------------
# Headers
# --------------------------------------------------------------------------------------------

HEADERS = [
    ("Mã hồ sơ", "dossier_code"),
    ("MÃ HỒ SƠ", "dossier_code"),
    ("mã hồ sơ", "dossier_code"),
    ("  Mã   hồ sơ ", "dossier_code"),
    ("\ufeffMã hồ sơ", "dossier_code"),
    (nfd("Mã hồ sơ"), "dossier_code"),
    ("Họ tên", "citizen_name"),
    ("Họ và tên", "citizen_name"),
    ("HỌ VÀ TÊN", "citizen_name"),
    ("Người nộp", "citizen_name"),
    ("Số điện thoại", "phone"),
    ("SỐ ĐIỆN THOẠI", "phone"),
    ("Điện thoại", "phone"),
    (nfd("Số điện thoại"), "phone"),
    ("Mã đơn vị", "office_code"),
    ("Đơn vị", "office_name"),
    ("Bộ phận một cửa", "office_name"),
    ("Mã thủ tục", "procedure_code"),
    ("Tên thủ tục", "procedure_name"),
    ("Thủ tục", "procedure_name"),
    ("Cán bộ tiếp nhận", "officer"),
    ("Người tiếp nhận", "officer"),
    ("Hình thức nộp", "channel"),
    ("Trả kết quả ngay", "immediate_result"),
    ("Ngày tiếp nhận", "received_at"),
    ("Ngày hẹn trả", "due_at"),
    ("Ngày trả kết quả", "returned_at"),
    (nfd("NGÀY TRẢ KẾT QUẢ"), "returned_at"),
    *((column, column) for column in COLUMNS),
    *((column.upper(), column) for column in COLUMNS),
    ("Dossier_Code", "dossier_code"),
    ("\ufeffdossier_code", "dossier_code"),
    ("Ghi chú", None),
    ("STT", None),
    ("", None),
    ("Mã", None),
]


@pytest.mark.parametrize(("header", "column"), HEADERS, ids=[repr(h) for h, _ in HEADERS])
def test_canonical_column(header, column):
    assert canonical_column(header) == column


def test_map_headers_keeps_positions_and_ignores_unknown_headers():
    headers = ["STT", "Mã hồ sơ", None, "Ghi chú", "MÃ ĐƠN VỊ", "received_at", 42, "Điện thoại"]
    assert map_headers(headers) == {
        1: "dossier_code",
        4: "office_code",
        5: "received_at",
        7: "phone",
    }


VIETNAMESE_REQUIRED = {
    "dossier_code": "Mã hồ sơ",
    "office_code": "Mã đơn vị",
    "received_at": "Ngày tiếp nhận",
}


@pytest.mark.parametrize("missing", REQUIRED, ids=REQUIRED)
def test_map_headers_names_a_missing_required_column(missing):
    headers = ["Họ tên", *(h for c, h in VIETNAMESE_REQUIRED.items() if c != missing)]
    with pytest.raises(HeaderError, match=f"required column.*{missing}"):
        map_headers(headers)


def test_map_headers_names_every_missing_required_column():
    with pytest.raises(HeaderError) as info:
        map_headers(["Họ tên", "Số điện thoại"])
    assert all(column in str(info.value) for column in REQUIRED)


DUPLICATE_HEADERS = [
    ("phone", "Số điện thoại", "phone"),
    ("Họ tên", "Họ và tên", "citizen_name"),
    ("Đơn vị", "Bộ phận một cửa", "office_name"),
    ("Mã hồ sơ", "DOSSIER_CODE", "dossier_code"),
    ("Mã hồ sơ", nfd("Mã hồ sơ"), "dossier_code"),
    ("Ngày trả kết quả", "returned_at", "returned_at"),
    ("Thủ tục", "Tên thủ tục", "procedure_name"),
]


@pytest.mark.parametrize(
    ("first", "second", "column"),
    DUPLICATE_HEADERS,
    ids=[f"{a}+{b}" for a, b, _ in DUPLICATE_HEADERS],
)
def test_map_headers_rejects_two_headers_for_one_column(first, second, column):
    headers = [*VIETNAMESE_REQUIRED.values(), first, "Ghi chú", second]
    if column in VIETNAMESE_REQUIRED:
        headers.remove(VIETNAMESE_REQUIRED[column])
    with pytest.raises(HeaderError) as info:
        map_headers(headers)
    message = str(info.value)
    assert repr(column) in message
    assert repr(first) in message


# --------------------------------------------------------------------------------------------
# A valid record
# --------------------------------------------------------------------------------------------


def test_minimal_record_gets_defaults():
    record = accepted()
    assert record == CaseRecord(
        dossier_code="HS-1",
        citizen_name=None,
        phone_raw=None,
        phone=None,
        phone_type=PhoneType.MISSING,
        office_code="QT-DONGHA",
        office_name=None,
        procedure_code=None,
        procedure_name=None,
        officer=None,
        channel=Channel.IN_PERSON,
        immediate_result=False,
        received_at=utc(2026, 11, 16, 2, 30),
        due_at=None,
        returned_at=None,
    )
    assert not record.has_callable_phone


def test_full_record_is_trimmed_and_parsed():
    raw = {
        "dossier_code": " 000.00.12.H52-261113-470001 ",
        "citizen_name": nfd(" Phạm Xuân Thắng "),
        "phone": " 0902 670 449 ",
        "office_code": "QT-DONGHA ",
        "office_name": "Bộ phận một cửa thành phố Đông Hà",
        "procedure_code": "1.004194",
        "procedure_name": "Đăng ký thường trú",
        "officer": "Võ Văn Hùng",
        "channel": "Trực tuyến",
        "immediate_result": "Có",
        "received_at": "13/11/2026 16:55",
        "due_at": "20/11/2026",
        "returned_at": "2026-11-18 09:43",
        "Ghi chú": "ignored",
    }
    assert parse_record(raw, 2, TZ) == CaseRecord(
        dossier_code="000.00.12.H52-261113-470001",
        citizen_name="Phạm Xuân Thắng",
        phone_raw="0902 670 449",
        phone="+84902670449",
        phone_type=PhoneType.MOBILE,
        office_code="QT-DONGHA",
        office_name="Bộ phận một cửa thành phố Đông Hà",
        procedure_code="1.004194",
        procedure_name="Đăng ký thường trú",
        officer="Võ Văn Hùng",
        channel=Channel.ONLINE,
        immediate_result=True,
        received_at=utc(2026, 11, 13, 9, 55),
        due_at=utc(2026, 11, 19, 17, 0),
        returned_at=utc(2026, 11, 18, 2, 43),
    )


def test_citizen_name_is_stored_composed():
    name = accepted(citizen_name=nfd("Nguyễn Thị Hồng Nhung")).citizen_name
    assert name == unicodedata.normalize("NFC", "Nguyễn Thị Hồng Nhung")
    assert len(name) == len("Nguyễn Thị Hồng Nhung")


@pytest.mark.parametrize(
    ("value", "expected"),
    [(12345, "12345"), (12345.0, "12345"), ("  12345 ", "12345"), ("HS 1", "HS 1")],
    ids=["int", "float-from-spreadsheet", "padded-text", "inner-space-kept"],
)
def test_codes_from_spreadsheet_numbers(value, expected):
    record = accepted(dossier_code=value, office_code=value)
    assert (record.dossier_code, record.office_code) == (expected, expected)


# --------------------------------------------------------------------------------------------
# Channel and yes/no spellings
# --------------------------------------------------------------------------------------------

CHANNELS = [
    ("in_person", Channel.IN_PERSON),
    ("IN_PERSON", Channel.IN_PERSON),
    ("in person", Channel.IN_PERSON),
    ("Trực tiếp", Channel.IN_PERSON),
    ("trực tiếp", Channel.IN_PERSON),
    ("TRỰC TIẾP", Channel.IN_PERSON),
    (" Trực tiếp ", Channel.IN_PERSON),
    (nfd("Trực tiếp"), Channel.IN_PERSON),
    ("truc tiep", Channel.IN_PERSON),
    ("online", Channel.ONLINE),
    ("Online", Channel.ONLINE),
    ("Trực tuyến", Channel.ONLINE),
    ("trực tuyến", Channel.ONLINE),
    ("TRỰC TUYẾN", Channel.ONLINE),
    (nfd("Trực tuyến"), Channel.ONLINE),
    ("postal", Channel.POSTAL),
    ("POSTAL", Channel.POSTAL),
    ("Bưu chính", Channel.POSTAL),
    ("bưu chính", Channel.POSTAL),
    ("BƯU CHÍNH", Channel.POSTAL),
    ("Bưu chính công ích", Channel.POSTAL),
    ("BCCI", Channel.POSTAL),
    ("bcci", Channel.POSTAL),
    (" BCCI ", Channel.POSTAL),
    ("", Channel.IN_PERSON),
    ("   ", Channel.IN_PERSON),
    (None, Channel.IN_PERSON),
]


@pytest.mark.parametrize(("value", "channel"), CHANNELS, ids=[repr(v) for v, _ in CHANNELS])
def test_channel_spellings(value, channel):
    assert accepted(channel=value).channel is channel


@pytest.mark.parametrize("value", ["fax", "email", "in-office", "Trực", "1"])
def test_unknown_channel_is_rejected(value):
    [(line, column, reason)] = rejected(channel=value)
    assert (line, column) == (LINE, "channel")
    assert "unknown channel" in reason and repr(value) in reason


BOOLEANS = [
    ("true", True),
    ("TRUE", True),
    ("True", True),
    ("1", True),
    ("yes", True),
    ("YES", True),
    ("có", True),
    ("Có", True),
    ("CÓ", True),
    (nfd("có"), True),
    ("x", True),
    ("X", True),
    (" x ", True),
    (True, True),
    (1, True),
    (1.0, True),
    ("false", False),
    ("FALSE", False),
    ("0", False),
    ("no", False),
    ("No", False),
    ("không", False),
    ("KHÔNG", False),
    (nfd("Không"), False),
    ("", False),
    ("  ", False),
    (None, False),
    (False, False),
    (0, False),
    (0.0, False),
]


@pytest.mark.parametrize(("value", "expected"), BOOLEANS, ids=[repr(v) for v, _ in BOOLEANS])
def test_immediate_result_spellings(value, expected):
    assert accepted(immediate_result=value).immediate_result is expected


@pytest.mark.parametrize("value", ["maybe", "2", "-1", "ok", "xx"])
def test_unreadable_yes_no_is_rejected(value):
    [(line, column, reason)] = rejected(immediate_result=value)
    assert (line, column) == (LINE, "immediate_result")
    assert repr(value) in reason


# --------------------------------------------------------------------------------------------
# Dates: local time in, UTC out
# --------------------------------------------------------------------------------------------

DATES = [
    ("2026-11-16", utc(2026, 11, 15, 17, 0)),
    ("2026-11-16 09:30", utc(2026, 11, 16, 2, 30)),
    ("16/11/2026", utc(2026, 11, 15, 17, 0)),
    ("16/11/2026 09:30", utc(2026, 11, 16, 2, 30)),
    (" 16/11/2026 09:30 ", utc(2026, 11, 16, 2, 30)),
    ("2026-11-16 09:30:45", utc(2026, 11, 16, 2, 30, 45)),
    ("16/11/2026 09:30:45", utc(2026, 11, 16, 2, 30, 45)),
    ("2026-11-16T09:30", utc(2026, 11, 16, 2, 30)),
    ("1/2/2026", utc(2026, 1, 31, 17, 0)),
    ("01/02/2026", utc(2026, 1, 31, 17, 0)),
    ("12/01/2026", utc(2026, 1, 11, 17, 0)),
    ("05/11/2026 9:05", utc(2026, 11, 5, 2, 5)),
    ("16/11/2026 23:59", utc(2026, 11, 16, 16, 59)),
    ("23/11/2026 00:10", utc(2026, 11, 22, 17, 10)),
    ("01/01/2027 03:00", utc(2026, 12, 31, 20, 0)),
    ("29/02/2028", utc(2028, 2, 28, 17, 0)),
    (date(2026, 11, 16), utc(2026, 11, 15, 17, 0)),
    (datetime(2026, 11, 16, 9, 30), utc(2026, 11, 16, 2, 30)),
    (datetime(2026, 11, 16, 2, 30, tzinfo=UTC), utc(2026, 11, 16, 2, 30)),
    (datetime(2026, 11, 16, 9, 30, tzinfo=timezone(timedelta(hours=7))), utc(2026, 11, 16, 2, 30)),
]


@pytest.mark.parametrize(("value", "expected"), DATES, ids=[repr(v) for v, _ in DATES])
def test_date_formats(value, expected):
    parsed = parse_local_datetime(value, TZ)
    assert parsed == expected
    assert parsed.utcoffset() == timedelta(0)


def test_returned_at_ten_past_midnight_monday_is_sunday_in_utc():
    record = accepted(received_at="20/11/2026 08:00", returned_at="23/11/2026 00:10")
    assert record.returned_at == utc(2026, 11, 22, 17, 10)
    assert record.returned_at.weekday() == 6  # Sunday in UTC
    assert record.returned_at.astimezone(TZ).weekday() == 0  # Monday in Vietnam


@pytest.mark.parametrize("value", [None, "", "   "], ids=["none", "empty", "blank"])
def test_empty_date_is_none(value):
    assert parse_local_datetime(value, TZ) is None


IMPOSSIBLE_DATES = [
    "31/02/2026",
    "30/02/2026",
    "29/02/2027",
    "31/11/2026",
    "2026-02-30",
    "2026-13-01",
    "00/11/2026",
    "32/11/2026",
    "16/13/2026",
    "11/16/2026",  # month first
    "2026-11-16 24:00",
    "16/11/2026 25:00",
    "16/11/2026 09:60",
    "16/11/2026 09:30:61",
    "0000-01-01",
    "01/01/0001",  # 00:00 local is before year 1 in UTC
]


@pytest.mark.parametrize("value", IMPOSSIBLE_DATES)
def test_impossible_date_is_rejected(value):
    [(line, column, reason)] = rejected(received_at=value)
    assert (line, column) == (LINE, "received_at")
    assert "impossible" in reason and repr(value) in reason


UNREADABLE_DATES = [
    "16-11-2026",
    "2026/11/16",
    "16.11.2026",
    "16/11/26",
    "20261116",
    "46342",
    "16/11/2026 9",
    "16/11/2026 09h30",
    "16/11/2026 09:30 AM",
    "tomorrow",
    "16 tháng 11 năm 2026",
]


@pytest.mark.parametrize("value", UNREADABLE_DATES)
def test_unreadable_date_is_rejected(value):
    [(line, column, reason)] = rejected(received_at=value)
    assert (line, column) == (LINE, "received_at")
    assert "cannot read date" in reason and repr(value) in reason


@pytest.mark.parametrize("column", ["received_at", "due_at", "returned_at"])
@pytest.mark.parametrize("value", ["31/02/2026", "next week"], ids=["impossible", "unreadable"])
def test_every_date_column_is_checked(column, value):
    [(line, rejected_column, _)] = rejected(**{column: value})
    assert (line, rejected_column) == (LINE, column)


RETURN_ORDER = [
    ("16/11/2026 09:30", "16/11/2026 09:29", False),
    ("16/11/2026 09:30", "15/11/2026", False),
    ("2026-11-16", "15/11/2026 23:59", False),
    ("16/11/2026 09:30", "16/11/2026 09:30", True),
    ("16/11/2026 09:30", "16/11/2026 09:31", True),
    ("16/11/2026", "16/11/2026", True),
    ("16/11/2026 09:30", "16/11/2026", True),  # a bare date on the day of receipt
    ("16/11/2026 09:30", "2026-11-16", True),
    ("17/11/2026 09:30", "16/11/2026", False),
]


@pytest.mark.parametrize(
    ("received", "returned", "ok"),
    RETURN_ORDER,
    ids=[f"{a}->{b}" for a, b, _ in RETURN_ORDER],
)
def test_returned_before_received_is_rejected(received, returned, ok):
    result = parse(received_at=received, returned_at=returned)
    if ok:
        assert isinstance(result, CaseRecord)
        return
    assert [(r.line, r.column) for r in result] == [(LINE, "returned_at")]
    assert "before" in result[0].reason


def test_due_and_returned_may_be_empty():
    record = accepted(due_at="", returned_at="  ")
    assert (record.due_at, record.returned_at) == (None, None)


# --------------------------------------------------------------------------------------------
# Required values and column limits
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("column", REQUIRED)
@pytest.mark.parametrize("value", [None, "", "   "], ids=["none", "empty", "blank"])
def test_missing_required_value_is_rejected(column, value):
    assert rejected(**{column: value}) == [(LINE, column, "required value is missing")]


def test_record_without_any_required_key_names_each_column():
    result = parse_record({"citizen_name": "An"}, 3, TZ)
    assert sorted((r.line, r.column) for r in result) == [(3, c) for c in sorted(REQUIRED)]


LIMITS = [
    ("dossier_code", 100),
    ("citizen_name", 255),
    ("phone", 64),
    ("office_code", 64),
    ("office_name", 255),
    ("procedure_code", 64),
    ("procedure_name", 500),
    ("officer", 255),
]


@pytest.mark.parametrize(("column", "limit"), LIMITS, ids=[c for c, _ in LIMITS])
def test_values_up_to_the_column_limit_are_accepted(column, limit):
    record = accepted(**{column: "Ễ" * limit})
    stored = record.phone_raw if column == "phone" else getattr(record, column)
    assert stored == "Ễ" * limit


@pytest.mark.parametrize(("column", "limit"), LIMITS, ids=[c for c, _ in LIMITS])
def test_values_longer_than_the_column_limit_are_rejected(column, limit):
    assert rejected(**{column: "Ễ" * (limit + 1)}) == [
        (LINE, column, f"longer than {limit} characters")
    ]


def test_length_is_counted_on_the_composed_text():
    # 255 letters, 2 code points each when decomposed: still 255 characters once composed.
    record = accepted(citizen_name=nfd("Ễ" * 255))
    assert record.citizen_name == "Ễ" * 255


@pytest.mark.parametrize("column", ["dossier_code", "citizen_name", "officer", "phone"])
def test_nul_character_is_rejected(column):
    [(line, rejected_column, reason)] = rejected(**{column: "An\x00h"})
    assert (line, rejected_column) == (LINE, column)
    assert "NUL" in reason


def test_every_problem_of_a_record_is_reported_with_its_line():
    result = parse_record(
        {
            "office_code": "QT",
            "channel": "fax",
            "immediate_result": "maybe",
            "received_at": "31/02/2026",
            "due_at": "soon",
            "citizen_name": "A" * 256,
        },
        12,
        TZ,
    )
    assert sorted((r.line, r.column) for r in result) == [
        (12, "channel"),
        (12, "citizen_name"),
        (12, "dossier_code"),
        (12, "due_at"),
        (12, "immediate_result"),
        (12, "received_at"),
    ]


def test_rejection_as_dict():
    assert Rejection(4, "channel", "unknown").as_dict() == {
        "line": 4,
        "column": "channel",
        "reason": "unknown",
    }


# --------------------------------------------------------------------------------------------
# Phones
# --------------------------------------------------------------------------------------------

M, L, OTHER, INV, MISS = (
    PhoneType.MOBILE,
    PhoneType.LANDLINE,
    PhoneType.OTHER,
    PhoneType.INVALID,
    PhoneType.MISSING,
)
PHONES = [
    ("0912345678", "+84912345678", M),
    ("0912 345 678", "+84912345678", M),
    ("0912.345.678", "+84912345678", M),
    ("+84 912 345 678", "+84912345678", M),
    ("84912345678", "+84912345678", M),
    ("912345678", "+84912345678", M),
    (912345678, "+84912345678", M),
    (912345678.0, "+84912345678", M),
    ("01662345678", "+84362345678", M),
    ("0166 234 5678", "+84362345678", M),
    ("+841662345678", "+84362345678", M),
    (1662345678, "+84362345678", M),
    ("01202345678", "+84702345678", M),
    ("01232345678", "+84832345678", M),
    ("01862345678", "+84562345678", M),
    ("01992345678", "+84592345678", M),
    ("0233 3852 123", "+842333852123", L),
    ("02333852123", "+842333852123", L),
    ("024 3825 1234", "+842438251234", L),
    ("(028) 3829 1234", "+842838291234", L),
    (2333852123, "+842333852123", L),
    ("1800 1090", "+8418001090", OTHER),
    ("+1 202 555 0143", "+12025550143", OTHER),
    ("12345", None, INV),
    ("không có", None, INV),
    ("0912", None, INV),
    ("", None, MISS),
    ("   ", None, MISS),
    (None, None, MISS),
]


@pytest.mark.parametrize(("raw", "e164", "kind"), PHONES, ids=[repr(r) for r, _, _ in PHONES])
def test_phone_is_normalised_to_e164(raw, e164, kind):
    record = accepted(phone=raw)
    assert (record.phone, record.phone_type) == (e164, kind)
    assert record.has_callable_phone is (kind in (M, L))
    if kind is not MISS:
        assert record.phone_raw == str(raw if not isinstance(raw, float) else int(raw)).strip()


# --------------------------------------------------------------------------------------------
# Values that are not text (from JSON)
# --------------------------------------------------------------------------------------------

NOT_TEXT = [
    ("object", {"x": 1}, "an object"),
    ("list", ["HS-1"], "a list"),
    ("empty-list", [], "a list"),
    ("true", True, "true"),
    ("false", False, "false"),
    ("nan", float("nan"), "NaN"),
    ("infinity", float("inf"), "Infinity"),
    ("minus-infinity", float("-inf"), "-Infinity"),
    ("lone-surrogate", "Hùng\ud800", "surrogate"),
    ("lone-low-surrogate", "\udc00", "surrogate"),
]
TEXT_COLUMNS = [
    "dossier_code", "citizen_name", "phone", "office_code", "office_name", "procedure_code",
    "procedure_name", "officer", "channel",
]  # fmt: skip


@pytest.mark.parametrize("column", TEXT_COLUMNS)
@pytest.mark.parametrize(
    ("value", "reason"), [n[1:] for n in NOT_TEXT], ids=[n[0] for n in NOT_TEXT]
)
def test_a_value_that_is_not_text_rejects_the_record_naming_the_column(column, value, reason):
    problems = rejected(**{column: value})
    assert [(line, col) for line, col, _ in problems] == [(LINE, column)]
    assert reason in problems[0][2]


@pytest.mark.parametrize(
    ("value", "reason"),
    [n[1:] for n in NOT_TEXT if not isinstance(n[1], bool)],
    ids=[n[0] for n in NOT_TEXT if not isinstance(n[1], bool)],
)
@pytest.mark.parametrize("column", ["immediate_result", "received_at", "due_at", "returned_at"])
def test_a_value_that_is_not_text_rejects_a_yes_no_or_date_column(column, value, reason):
    problems = rejected(**{column: value})
    assert [(line, col) for line, col, _ in problems] == [(LINE, column)]


@pytest.mark.parametrize("column", ["received_at", "returned_at"])
def test_true_false_is_no_date(column):
    assert [(line, col) for line, col, _ in rejected(**{column: True})] == [(LINE, column)]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (912345678, "912345678"),
        (912345678.0, "912345678"),
        (1.004194, "1.004194"),
        (10**20, "1" + "0" * 20),
    ],
    ids=["int", "whole-float", "decimal", "big-int"],
)
def test_numbers_are_read_as_their_decimal_form(value, expected):
    assert accepted(procedure_code=value).procedure_code == expected


# --------------------------------------------------------------------------------------------
# A return in the future
# --------------------------------------------------------------------------------------------

NOW_LOCAL = datetime(2026, 11, 23, 10, 0, tzinfo=TZ)


@pytest.mark.parametrize(
    ("returned", "ok"),
    [
        ("23/11/2026 10:00", True),
        ("23/11/2026", True),  # a bare date: 00:00 today
        ("23/11/2026 09:59", True),
        ("23/11/2026 10:01", False),
        ("24/11/2026", False),
        ("2027-01-01 08:00", False),
    ],
)
def test_a_return_after_the_import_time_is_rejected(returned, ok):
    raw = {**VALID, "received_at": "16/11/2026", "returned_at": returned}
    result = parse_record(raw, LINE, TZ, NOW_LOCAL.astimezone(UTC))
    if ok:
        assert isinstance(result, CaseRecord)
        return
    [problem] = result
    assert (problem.line, problem.column) == (LINE, "returned_at")
    assert "future" in problem.reason and "23/11/2026 10:00" in problem.reason


def test_without_an_import_time_a_return_is_never_in_the_future():
    assert isinstance(accepted(returned_at="01/01/2099"), CaseRecord)


def test_missing_required_columns_are_named_in_both_languages():
    with pytest.raises(HeaderError) as info:
        map_headers(["Họ tên", "Số điện thoại"])
    assert "dossier_code (Mã hồ sơ)" in str(info.value)
    assert "office_code (Mã đơn vị)" in str(info.value)
    assert "received_at (Ngày tiếp nhận)" in str(info.value)
