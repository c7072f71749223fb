"""Tests of the synthetic dossier generator (cati.synthetic)."""

from __future__ import annotations

import csv
import re
import unicodedata
from collections import Counter, defaultdict
from datetime import date, datetime, time, timedelta, timezone
from itertools import islice

import pytest

from cati.synthetic import (
    COLUMNS,
    OFFICES,
    PROCEDURES,
    VIETNAMESE_HEADERS,
    generate_cases,
    write_cases_csv,
)

WEEK = "2026-W47"
N = 5000
ICT = timezone(timedelta(hours=7), "ICT")  # the rows are Vietnamese local time

_MOBILE = re.compile(r"0(3[2-9]|5[689]|7[06-9]|8[1-689]|9[0-46-8])\d{7}")
_LEGACY = re.compile(r"01(6[2-9]|2[0-9]|86|88|99)\d{7}")
_LANDLINE = re.compile(r"02333\d{6}")


def phone_kind(raw: str) -> str:
    """Classify a raw phone value the way the tests expect the generator to produce it."""
    digits = re.sub(r"[ .]", "", raw)
    if digits.startswith("+84"):
        digits = "0" + digits[3:]
    elif digits.startswith("84") and len(digits) == 11:
        digits = "0" + digits[2:]
    if _MOBILE.fullmatch(digits):
        return "mobile"
    if _LEGACY.fullmatch(digits):
        return "legacy"
    if _LANDLINE.fullmatch(digits):
        return "landline"
    return "bad"


def parse_dt(text: str) -> datetime:
    return datetime.strptime(text, "%d/%m/%Y %H:%M").replace(tzinfo=ICT)


def parse_d(text: str) -> date:
    return datetime.strptime(text, "%d/%m/%Y").replace(tzinfo=ICT).date()


@pytest.fixture(scope="module")
def rows() -> list[dict[str, str]]:
    return list(generate_cases(WEEK, N, seed=0))


@pytest.fixture(scope="module")
def many_rows() -> list[dict[str, str]]:
    return list(generate_cases(WEEK, 20_000, seed=3))


# ---- reference data ---------------------------------------------------------------------------


def test_reference_tables():
    assert len(OFFICES) == 9
    assert len({code for code, _ in OFFICES}) == 9
    assert ("QT-TTHCC", "Trung tâm Phục vụ hành chính công tỉnh Quảng Trị") in OFFICES
    assert ("QT-DONGHA", "Bộ phận một cửa thành phố Đông Hà") in OFFICES
    names = " | ".join(name for _, name in OFFICES)
    for place in ("thị xã Quảng Trị", "Hải Lăng", "Triệu Phong", "Gio Linh", "Vĩnh Linh",
                  "Cam Lộ", "Hướng Hóa"):  # fmt: skip
        assert place in names
    assert 12 <= len(PROCEDURES) <= 20
    assert len({code for code, _ in PROCEDURES}) == len(PROCEDURES)
    assert all(re.fullmatch(r"[12]\.\d{6}", code) for code, _ in PROCEDURES)
    proc_names = {name for _, name in PROCEDURES}
    assert {"Đăng ký khai sinh", "Đăng ký kết hôn", "Chứng thực bản sao từ bản chính",
            "Cấp giấy phép xây dựng nhà ở riêng lẻ", "Đăng ký thành lập hộ kinh doanh",
            "Cấp giấy chứng nhận quyền sử dụng đất lần đầu"} <= proc_names  # fmt: skip
    assert tuple(VIETNAMESE_HEADERS) == COLUMNS
    assert VIETNAMESE_HEADERS["dossier_code"] == "Mã hồ sơ"
    assert VIETNAMESE_HEADERS["returned_at"] == "Ngày trả kết quả"
    for text in [*VIETNAMESE_HEADERS.values(), *(n for _, n in OFFICES), *proc_names]:
        assert unicodedata.is_normalized("NFC", text)


# ---- determinism ------------------------------------------------------------------------------


def test_deterministic(rows):
    assert list(generate_cases(WEEK, N, seed=0)) == rows
    other_seed = list(generate_cases(WEEK, 200, seed=1))
    assert other_seed != rows[:200]
    other_week = list(generate_cases("2026-W48", 200, seed=0))
    assert [r["citizen_name"] for r in other_week] != [r["citizen_name"] for r in rows[:200]]


def test_prefix_stable(rows):
    assert list(generate_cases(WEEK, 300, seed=0)) == rows[:300]
    assert list(islice(generate_cases(WEEK, 10**9, seed=0), 300)) == rows[:300]


def test_shares_change_rows_deterministically():
    a = list(generate_cases(WEEK, 500, 0, bad_phone_share=0.2))
    assert a == list(generate_cases(WEEK, 500, 0, bad_phone_share=0.2))
    assert a != list(generate_cases(WEEK, 500, 0))


# ---- row shape --------------------------------------------------------------------------------


def test_row_shape(rows):
    offices = dict(OFFICES)
    procedures = dict(PROCEDURES)
    for row in rows:
        assert tuple(row) == COLUMNS
        assert all(isinstance(v, str) for v in row.values())
        assert offices[row["office_code"]] == row["office_name"]
        assert procedures[row["procedure_code"]] == row["procedure_name"]
        assert row["immediate_result"] in ("", "x")
        assert len(row["citizen_name"].split()) in (3, 4)
        assert unicodedata.is_normalized("NFC", row["citizen_name"])
        assert re.fullmatch(r"\d{3}\.\d{2}\.\d{2}\.H52-\d{6}-\d{6,}", row["dossier_code"])


def test_count_zero_and_small():
    assert list(generate_cases(WEEK, 0)) == []
    assert len(list(generate_cases(WEEK, 1))) == 1


def test_names_look_vietnamese(rows):
    surnames = Counter(r["citizen_name"].split()[0] for r in rows)
    assert surnames.most_common(1)[0][0] == "Nguyễn"
    assert {"Trần", "Lê", "Phạm", "Hoàng", "Phan", "Võ", "Hồ"} <= set(surnames)
    middles = Counter(r["citizen_name"].split()[1] for r in rows)
    assert middles["Văn"] > 0.1 * N and middles["Thị"] > 0.1 * N


# ---- dossier codes ----------------------------------------------------------------------------


def test_dossier_codes_unique_within_week(many_rows):
    codes = [r["dossier_code"] for r in many_rows]
    assert len(set(codes)) == len(codes)


@pytest.mark.parametrize(
    "weeks",
    [
        ("2026-W47", "2026-W48", "2026-W49", "2026-W50"),
        ("2026-W52", "2026-W53", "2027-W01", "2027-W02"),
    ],
)
def test_dossier_codes_unique_across_weeks(weeks):
    codes = [r["dossier_code"] for w in weeks for r in generate_cases(w, 5000, seed=0)]
    assert len(set(codes)) == len(codes)


def test_dossier_code_date_is_the_receipt_date(rows):
    for row in rows[:500]:
        yymmdd = row["dossier_code"].split("-")[1]
        assert parse_dt(row["received_at"]).strftime("%y%m%d") == yymmdd


# ---- dates ------------------------------------------------------------------------------------


@pytest.mark.parametrize("week", [WEEK, "2026-W53", "2027-W01"])
def test_returned_inside_iso_week(week):
    year, number = int(week[:4]), int(week[6:])
    monday = date.fromisocalendar(year, number, 1)
    start = datetime.combine(monday, time(), tzinfo=ICT)
    end = start + timedelta(days=7)
    for row in generate_cases(week, 3000, seed=5):
        returned = parse_dt(row["returned_at"])
        assert start <= returned < end
        assert returned.isocalendar()[:2] == (year, number)


def test_date_order_and_lags(rows):
    late = 0
    for row in rows:
        received = parse_dt(row["received_at"])
        returned = parse_dt(row["returned_at"])
        due = parse_d(row["due_at"])
        assert received <= returned
        lag = (returned.date() - received.date()).days
        if row["immediate_result"] == "x":
            assert lag == 0
            assert due == received.date()
        else:
            assert 1 <= lag <= 20
        assert due >= received.date()
        assert received.weekday() != 6, "nothing is received on a Sunday"
        assert time(7, 30) <= received.time() <= time(17, 0)
        late += returned.date() > due
    assert 0.02 * N < late < 0.15 * N


def test_office_hours_mostly_with_odd_times_on_week_boundaries(many_rows):
    odd = Counter()
    for row in many_rows:
        returned = parse_dt(row["returned_at"])
        if returned.weekday() == 6 or not time(7, 30) <= returned.time() <= time(17, 0):
            odd[returned.strftime("%a %H:%M")] += 1
    total = sum(odd.values())
    assert 0.002 * len(many_rows) < total < 0.01 * len(many_rows)
    assert odd["Mon 00:10"] > 0
    assert odd["Sun 23:50"] > 0


# ---- shares -----------------------------------------------------------------------------------


def test_phone_shares(rows):
    kinds = Counter(phone_kind(r["phone"]) for r in rows)
    assert 0.004 * N <= kinds["bad"] <= 0.02 * N
    assert 0.015 * N <= kinds["legacy"] <= 0.05 * N
    assert 0.005 * N <= kinds["landline"] <= 0.04 * N
    assert kinds["mobile"] > 0.9 * N


def test_phone_formats_are_mixed(rows):
    phones = [r["phone"] for r in rows if phone_kind(r["phone"]) == "mobile"]
    shapes = Counter(
        "plus84" if p.startswith("+84") else "84" if p.startswith("84")
        else "spaces" if " " in p else "dots" if "." in p else "plain"
        for p in phones
    )  # fmt: skip
    assert shapes["plain"] > 0.4 * len(phones)
    assert all(shapes[s] > 0.03 * len(phones) for s in ("plus84", "84", "spaces", "dots"))
    bad = {r["phone"] for r in rows if phone_kind(r["phone"]) == "bad"}
    assert "" in bad


def test_custom_phone_shares():
    rows = list(generate_cases(WEEK, 2000, 1, bad_phone_share=0.0, legacy_phone_share=0.0))
    assert not any(phone_kind(r["phone"]) in ("bad", "legacy") for r in rows)
    rows = list(generate_cases(WEEK, 2000, 1, bad_phone_share=1.0, legacy_phone_share=0.0))
    assert all(phone_kind(r["phone"]) == "bad" for r in rows)
    rows = list(generate_cases(WEEK, 2000, 1, bad_phone_share=0.1, legacy_phone_share=0.2))
    kinds = Counter(phone_kind(r["phone"]) for r in rows)
    assert 0.07 * 2000 < kinds["bad"] < 0.13 * 2000
    assert 0.16 * 2000 < kinds["legacy"] < 0.24 * 2000


def _repeats(rows):
    seen = set()
    repeats = 0
    for row in rows:
        key = (row["citizen_name"], row["phone"])
        if phone_kind(row["phone"]) != "bad" and key in seen:
            repeats += 1
        seen.add(key)
    return repeats


def test_repeat_citizens(rows):
    assert 0.02 * N <= _repeats(rows) <= 0.045 * N
    assert _repeats(generate_cases(WEEK, N, 0, repeat_citizen_share=0.0)) <= 2
    heavy = _repeats(generate_cases(WEEK, N, 0, repeat_citizen_share=0.2))
    assert 0.17 * N <= heavy <= 0.23 * N


def test_channels_and_immediate_results(rows):
    channels = Counter(r["channel"] for r in rows)
    assert set(channels) == {"Trực tiếp", "Trực tuyến", "Bưu chính", "trực tiếp", "in_person",
                             "BCCI"}  # fmt: skip
    assert 0.71 * N < channels["Trực tiếp"] < 0.79 * N
    assert 0.12 * N < channels["Trực tuyến"] < 0.18 * N
    assert 0.05 * N < channels["Bưu chính"] < 0.09 * N
    assert channels["trực tiếp"] + channels["in_person"] + channels["BCCI"] < 0.06 * N
    immediate = [r for r in rows if r["immediate_result"] == "x"]
    assert 0.035 * N < len(immediate) < 0.065 * N
    assert all(r["channel"] in ("Trực tiếp", "trực tiếp", "in_person") for r in immediate)


def test_offices_and_officers(rows):
    offices = Counter(r["office_code"] for r in rows)
    assert set(offices) == {code for code, _ in OFFICES}
    assert {code for code, _ in offices.most_common(2)} == {"QT-TTHCC", "QT-DONGHA"}
    assert min(offices.values()) > 0.03 * N
    officers: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        officers[row["office_code"]].add(row["officer"])
    assert all(3 <= len(pool) <= 4 for pool in officers.values())
    every = [name for pool in officers.values() for name in pool]
    assert len(every) == len(set(every)), "an officer works at one office"
    assert len({r["procedure_code"] for r in rows}) == len(PROCEDURES)


# ---- argument checks --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "kwargs"),
    [
        (("2026-47", 10), {}),
        (("2025-W53", 10), {}),
        (("W47", 10), {}),
        ((WEEK, -1), {}),
        ((WEEK, 1.5), {}),
        ((WEEK, 10), {"bad_phone_share": -0.1}),
        ((WEEK, 10), {"legacy_phone_share": 1.5}),
        ((WEEK, 10), {"repeat_citizen_share": 2}),
        ((WEEK, 10), {"bad_phone_share": 0.6, "legacy_phone_share": 0.6}),
    ],
)
def test_bad_arguments_raise_at_call_time(args, kwargs):
    with pytest.raises(ValueError):
        generate_cases(*args, **kwargs)


def test_week_spellings():
    assert list(generate_cases("2026W47", 50)) == list(generate_cases("2026-w47", 50))
    assert list(generate_cases("2026-W47", 50)) == list(generate_cases("2026W47", 50))


# ---- CSV --------------------------------------------------------------------------------------


def test_csv_round_trip_vietnamese_headers(tmp_path, rows):
    path = tmp_path / "cases.csv"
    assert write_cases_csv(path, iter(rows[:1000])) == 1000
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    with open(path, encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        assert reader.fieldnames == [VIETNAMESE_HEADERS[c] for c in COLUMNS]
        back = [{c: row[VIETNAMESE_HEADERS[c]] for c in COLUMNS} for row in reader]
    assert back == rows[:1000]


def test_csv_round_trip_canonical_headers(tmp_path, rows):
    path = tmp_path / "cases.csv"
    written = write_cases_csv(str(path), rows[:300], vietnamese_headers=False, delimiter=";")
    assert written == 300
    assert not path.read_bytes().startswith(b"\xef\xbb\xbf")
    with open(path, encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle, delimiter=";")
        assert tuple(reader.fieldnames or ()) == COLUMNS
        assert list(reader) == rows[:300]


def test_csv_empty(tmp_path):
    path = tmp_path / "empty.csv"
    assert write_cases_csv(path, generate_cases(WEEK, 0)) == 0
    with open(path, encoding="utf-8-sig", newline="") as handle:
        assert list(csv.reader(handle)) == [[VIETNAMESE_HEADERS[c] for c in COLUMNS]]
