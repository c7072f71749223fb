"""Deterministic synthetic completed dossiers (hồ sơ) from Quảng Trị one-stop offices.

Rows look like what a one-stop system exports for the dossiers whose result was returned in
one ISO week: every value is a string, dates are day-first local time, and the messiness a
survey intake must cope with is there on purpose (phone numbers in mixed formats, old
11-digit mobiles, landlines, missing or broken numbers, a citizen with two dossiers,
channel labels spelled several ways, a few results returned at odd hours on the week's
boundaries).

``generate_cases(week, count, seed)`` yields the rows lazily; the same arguments always give
the same rows, and the first *n* rows do not depend on ``count``.  Generation is a single
pass over precomputed lookup tables (a few microseconds per row), so benchmarks can make
millions of rows.  Standard library only.

Procedure codes follow the shape of the national TTHC database (``1.001193``) but are
illustrative; office prefixes of dossier codes likewise.

From the command line: ``cati cases generate --week 2026-W47 --count 1000 --output cases.csv``.
"""

from __future__ import annotations

import csv
import os
import random
import re
from collections.abc import Iterable, Iterator
from datetime import date, timedelta
from operator import itemgetter

from cati.domain import intake

__all__ = [
    "COLUMNS",
    "OFFICES",
    "PROCEDURES",
    "VIETNAMESE_HEADERS",
    "generate_cases",
    "write_cases_csv",
]

COLUMNS = intake.COLUMNS  # the canonical column names of the intake

VIETNAMESE_HEADERS: dict[str, str] = {
    "dossier_code": "Mã hồ sơ",
    "citizen_name": "Họ và tên",
    "phone": "Số điện thoại",
    "office_code": "Mã đơn vị",
    "office_name": "Đơn vị",
    "procedure_code": "Mã thủ tục",
    "procedure_name": "Tên thủ tục",
    "officer": "Cán bộ tiếp nhận",
    "channel": "Hình thức nộp",
    "immediate_result": "Trả kết quả ngay",
    "received_at": "Ngày tiếp nhận",
    "due_at": "Ngày hẹn trả",
    "returned_at": "Ngày trả kết quả",
}

# --------------------------------------------------------------------------------------------
# Offices: (code, name, dossier-code prefix, weight, officers)
# --------------------------------------------------------------------------------------------

_OFFICE_DATA: tuple[tuple[str, str, str, int, tuple[str, ...]], ...] = (
    (
        "QT-TTHCC",
        "Trung tâm Phục vụ hành chính công tỉnh Quảng Trị",
        "000.00.01.H52",
        24,
        ("Lê Thị Thu Hiền", "Nguyễn Văn Quang", "Trần Thị Mỹ Linh", "Hoàng Đức Thịnh"),
    ),
    (
        "QT-DONGHA",
        "Bộ phận một cửa thành phố Đông Hà",
        "000.00.12.H52",
        20,
        ("Phan Thị Ngọc Ánh", "Võ Văn Hùng", "Lê Quang Huy", "Nguyễn Thị Hồng Nhung"),
    ),
    (
        "QT-TXQT",
        "Bộ phận một cửa thị xã Quảng Trị",
        "000.00.13.H52",
        7,
        ("Trần Đình Phúc", "Hồ Thị Thanh Tâm", "Lê Văn Tài"),
    ),
    (
        "QT-HAILANG",
        "Bộ phận một cửa huyện Hải Lăng",
        "000.00.20.H52",
        9,
        ("Nguyễn Thị Lệ Thủy", "Văn Đức Long", "Phạm Thị Hoài"),
    ),
    (
        "QT-TRIEUPHONG",
        "Bộ phận một cửa huyện Triệu Phong",
        "000.00.19.H52",
        9,
        ("Lê Thị Kim Oanh", "Trần Văn Sỹ", "Nguyễn Hữu Phước"),
    ),
    (
        "QT-GIOLINH",
        "Bộ phận một cửa huyện Gio Linh",
        "000.00.16.H52",
        8,
        ("Hoàng Thị Mai", "Đặng Văn Toàn", "Nguyễn Thị Thanh Hương"),
    ),
    (
        "QT-VINHLINH",
        "Bộ phận một cửa huyện Vĩnh Linh",
        "000.00.14.H52",
        9,
        ("Trần Thị Diệu Linh", "Lê Văn Bình", "Hoàng Anh Tuấn", "Nguyễn Thị Phương Thảo"),
    ),
    (
        "QT-CAMLO",
        "Bộ phận một cửa huyện Cam Lộ",
        "000.00.18.H52",
        7,
        ("Võ Thị Hằng", "Phan Văn Trung", "Lê Thị Ngọc Trâm"),
    ),
    (
        "QT-HUONGHOA",
        "Bộ phận một cửa huyện Hướng Hóa",
        "000.00.15.H52",
        7,
        ("Hồ Văn Thắng", "Nguyễn Thị Quỳnh Như", "Lê Văn Hoàng"),
    ),
)

OFFICES: tuple[tuple[str, str], ...] = tuple((code, name) for code, name, *_ in _OFFICE_DATA)

# --------------------------------------------------------------------------------------------
# Procedures: (code, name, nominal processing days, level, weight, may be returned at once)
# level: "both" = every office, "district" = district offices only, "province" = the
# provincial centre only.
# --------------------------------------------------------------------------------------------

_PROCEDURE_DATA: tuple[tuple[str, str, int, str, int, bool], ...] = (
    ("1.001193", "Đăng ký khai sinh", 1, "both", 10, True),
    ("1.000894", "Đăng ký kết hôn", 3, "both", 4, True),
    ("1.000656", "Đăng ký khai tử", 1, "both", 3, True),
    ("1.004873", "Cấp giấy xác nhận tình trạng hôn nhân", 3, "both", 5, True),
    ("2.000815", "Chứng thực bản sao từ bản chính", 1, "both", 16, True),
    ("2.000884", "Chứng thực chữ ký trong các giấy tờ, văn bản", 1, "both", 5, True),
    ("2.000635", "Cấp bản sao trích lục hộ tịch", 1, "both", 4, True),
    ("1.004227", "Cấp giấy chứng nhận quyền sử dụng đất lần đầu", 15, "district", 6, False),
    (
        "1.004221",
        "Đăng ký biến động quyền sử dụng đất, quyền sở hữu tài sản gắn liền với đất",
        10,
        "both",
        7,
        False,
    ),
    ("1.009994", "Cấp giấy phép xây dựng nhà ở riêng lẻ", 15, "district", 4, False),
    ("2.000720", "Đăng ký thành lập hộ kinh doanh", 3, "district", 5, False),
    ("1.004194", "Đăng ký thường trú", 7, "district", 5, False),
    ("1.001776", "Thực hiện trợ cấp xã hội hằng tháng", 12, "district", 3, False),
    ("2.001955", "Cấp phiếu lý lịch tư pháp cho công dân Việt Nam", 10, "province", 4, False),
    ("1.002804", "Cấp đổi giấy phép lái xe", 5, "province", 5, False),
    ("2.001610", "Đăng ký thành lập doanh nghiệp tư nhân", 3, "province", 2, False),
)

PROCEDURES: tuple[tuple[str, str], ...] = tuple((code, name) for code, name, *_ in _PROCEDURE_DATA)

# --------------------------------------------------------------------------------------------
# Channels: (label as exported, in person?, weight in ‰)
# --------------------------------------------------------------------------------------------

_CHANNEL_DATA: tuple[tuple[str, bool, int], ...] = (
    ("Trực tiếp", True, 750),
    ("Trực tuyến", False, 150),
    ("Bưu chính", False, 70),
    ("trực tiếp", True, 15),
    ("in_person", True, 10),
    ("BCCI", False, 5),
)

_IMMEDIATE_SHARE = 0.05  # of all rows; only in-person dossiers of quick procedures
_LATE_SHARE = 0.08  # of the dossiers not returned at once
_LANDLINE_SHARE = 0.02  # of the rows that are neither bad nor legacy
_ODD_TIME_SHARE = 0.005  # returned outside office hours
_MAX_LAG_DAYS = 20  # received at most this many days before the result is returned
_RING = 4096  # repeat citizens are drawn from this many most recent rows

# --------------------------------------------------------------------------------------------
# Names
# --------------------------------------------------------------------------------------------

_SURNAMES: tuple[tuple[str, int], ...] = (
    ("Nguyễn", 300),
    ("Trần", 100),
    ("Lê", 110),
    ("Phạm", 50),
    ("Hoàng", 60),
    ("Phan", 45),
    ("Võ", 50),
    ("Đặng", 20),
    ("Bùi", 15),
    ("Đỗ", 15),
    ("Hồ", 30),
    ("Ngô", 15),
    ("Dương", 10),
    ("Lý", 5),
    ("Trương", 15),
    ("Đoàn", 10),
    ("Văn", 10),
    ("Mai", 8),
    ("Lương", 7),
    ("Cao", 7),
    ("Hà", 6),
    ("Đinh", 8),
    ("Huỳnh", 8),
    ("Thái", 5),
)
_MIDDLE_MALE = (
    "Văn",
    "Văn",
    "Văn",
    "Hữu",
    "Đức",
    "Minh",
    "Quang",
    "Công",
    "Xuân",
    "Đình",
    "Thanh",
    "Ngọc",
    "Anh",
    "Trọng",
    "Tiến",
)
_MIDDLE_FEMALE = (
    "Thị",
    "Thị",
    "Thị",
    "Thị",
    "Ngọc",
    "Thu",
    "Thanh",
    "Minh",
    "Hồng",
    "Kim",
    "Phương",
    "Bảo",
    "Khánh",
    "Mỹ",
    "Diệu",
)
_SECOND_MIDDLE_MALE = ("Minh", "Anh", "Quốc", "Hoàng", "Gia", "Đăng", "Thế")
_SECOND_MIDDLE_FEMALE = ("Thu", "Ngọc", "Thanh", "Hoài", "Phương", "Mỹ", "Kim", "Bích")
_GIVEN_MALE = (
    "An",
    "Bảo",
    "Bình",
    "Cường",
    "Dũng",
    "Duy",
    "Đạt",
    "Hải",
    "Hiếu",
    "Hoàng",
    "Hùng",
    "Huy",
    "Khánh",
    "Khoa",
    "Long",
    "Lâm",
    "Mạnh",
    "Nam",
    "Nghĩa",
    "Phúc",
    "Phong",
    "Quân",
    "Quang",
    "Sơn",
    "Tài",
    "Thắng",
    "Thành",
    "Tiến",
    "Toàn",
    "Trung",
    "Tuấn",
    "Tùng",
    "Việt",
    "Vinh",
    "Lợi",
    "Hòa",
    "Thịnh",
    "Sang",
    "Kiên",
    "Nhân",
)
_GIVEN_FEMALE = (
    "Anh",
    "Chi",
    "Dung",
    "Giang",
    "Hà",
    "Hạnh",
    "Hằng",
    "Hiền",
    "Hoa",
    "Hương",
    "Hường",
    "Lan",
    "Linh",
    "Loan",
    "Mai",
    "My",
    "Nga",
    "Ngọc",
    "Nhung",
    "Oanh",
    "Phương",
    "Quỳnh",
    "Thảo",
    "Thủy",
    "Trang",
    "Tuyết",
    "Vân",
    "Yến",
    "Nhi",
    "Tâm",
    "Huyền",
    "Lành",
    "Sương",
    "Thoa",
    "Hậu",
    "Ly",
)
_FOUR_PART_SHARE = 0.12

# --------------------------------------------------------------------------------------------
# Phones
# --------------------------------------------------------------------------------------------

# Assigned 10-digit mobile prefixes, weighted roughly by market share. Of 089 only
# 0896-0899 are in use.
_MOBILE_PREFIXES: tuple[tuple[str, int], ...] = (
    # Viettel
    ("032", 5),
    ("033", 5),
    ("034", 4),
    ("035", 5),
    ("036", 5),
    ("037", 5),
    ("038", 4),
    ("039", 5),
    ("086", 5),
    ("096", 8),
    ("097", 8),
    ("098", 8),
    # VinaPhone
    ("081", 3),
    ("082", 3),
    ("083", 3),
    ("084", 3),
    ("085", 3),
    ("088", 4),
    ("091", 7),
    ("094", 6),
    # MobiFone
    ("070", 3),
    ("076", 2),
    ("077", 3),
    ("078", 2),
    ("079", 2),
    ("0896", 1),
    ("0897", 1),
    ("0898", 1),
    ("0899", 1),
    ("090", 6),
    ("093", 5),
    # Vietnamobile, Gmobile
    ("056", 1),
    ("058", 1),
    ("059", 1),
)
# Pre-2018 11-digit mobile prefixes (Viettel, MobiFone, VinaPhone, Vietnamobile, Gmobile).
_LEGACY_PREFIXES = (
    "0162",
    "0163",
    "0164",
    "0165",
    "0166",
    "0167",
    "0168",
    "0169",
    "0120",
    "0121",
    "0122",
    "0126",
    "0128",
    "0123",
    "0124",
    "0125",
    "0127",
    "0129",
    "0186",
    "0188",
    "0199",
)
_BAD_FIXED = ("", "", "", "", "không có", "không có", "123", "0", "chưa cung cấp")

# --------------------------------------------------------------------------------------------
# Times
# --------------------------------------------------------------------------------------------

_HHMM = tuple(f"{m // 60:02d}:{m % 60:02d}" for m in range(24 * 60))
# 07:30-11:30 and 13:30-17:00, with a thinner trickle over the lunch break.
_WEEKDAY_MINUTES = (*range(450, 691), *range(693, 810, 4), *range(810, 1021))
_SATURDAY_MINUTES = tuple(range(450, 691))  # Saturday mornings only
_RETURN_DAY_WEIGHTS = (19, 18, 18, 18, 19, 8, 0)  # Monday..Sunday
_ODD_MINUTES = (*range(5 * 60, 450), *range(1021, 23 * 60))  # early morning, evening

_TABLE = 4096  # resolution of the weighted-choice lookup tables


def _lookup(weights: Iterable[float]) -> tuple[int, ...]:
    """A table of indices whose uniform draw follows ``weights`` (largest-remainder)."""
    weights = list(weights)
    total = sum(weights)
    exact = [w * _TABLE / total for w in weights]
    counts = [int(x) for x in exact]
    by_remainder = sorted(range(len(weights)), key=lambda i: exact[i] - counts[i], reverse=True)
    for i in by_remainder[: _TABLE - sum(counts)]:
        counts[i] += 1
    return tuple(i for i, n in enumerate(counts) for _ in range(n))


def _office_procedure_weights(office_index: int) -> list[int]:
    provincial = office_index == 0
    weights = []
    for _code, _name, _days, level, weight, _quick in _PROCEDURE_DATA:
        if level == "both":
            weights.append(weight)
        elif level == "province":
            weights.append(weight * 4 if provincial else 0)
        else:
            weights.append(0 if provincial else weight)
    return weights


_OFFICE_TABLE = _lookup(w for *_, w, _officers in _OFFICE_DATA)
_PROCEDURE_TABLES = tuple(_lookup(_office_procedure_weights(i)) for i in range(len(_OFFICE_DATA)))
_CHANNEL_TABLE = _lookup(w for *_, w in _CHANNEL_DATA)
_SURNAME_TABLE = tuple(_SURNAMES[i][0] for i in _lookup(w for _, w in _SURNAMES))
# Four-digit prefixes (a three-digit one spread over its ten continuations), so that every
# number is a prefix plus six subscriber digits.
_MOBILE_PREFIXES_4 = tuple(
    (prefix + digit, weight / 10) if len(prefix) == 3 else (prefix, weight)
    for prefix, weight in _MOBILE_PREFIXES
    for digit in ("0123456789" if len(prefix) == 3 else "-")
)
_MOBILE_TABLE = tuple(_MOBILE_PREFIXES_4[i][0] for i in _lookup(w for _, w in _MOBILE_PREFIXES_4))
_RETURN_DAY_TABLE = _lookup(_RETURN_DAY_WEIGHTS)


def _immediate_probability() -> float:
    """P(returned at once | in person and quick procedure) giving ``_IMMEDIATE_SHARE`` overall."""
    in_person = sum(w for _, person, w in _CHANNEL_DATA if person) / sum(
        w for *_, w in _CHANNEL_DATA
    )
    quick = 0.0
    office_total = sum(row[3] for row in _OFFICE_DATA)
    for i, row in enumerate(_OFFICE_DATA):
        weights = _office_procedure_weights(i)
        share = sum(w for w, p in zip(weights, _PROCEDURE_DATA, strict=True) if p[5])
        quick += row[3] / office_total * share / sum(weights)
    return min(1.0, _IMMEDIATE_SHARE / (in_person * quick))


_P_IMMEDIATE = _immediate_probability()

_WEEK_RE = re.compile(r"^\s*(\d{4})-?W(\d{1,2})\s*$", re.IGNORECASE)


def _parse_week(week: str) -> tuple[int, int, date]:
    match = _WEEK_RE.match(week) if isinstance(week, str) else None
    if not match:
        raise ValueError(f"{week!r} is not an ISO week like 2026-W47")
    year, number = int(match[1]), int(match[2])
    try:
        monday = date.fromisocalendar(year, number, 1)
    except ValueError:
        raise ValueError(f"{week!r}: year {year} has no week {number}") from None
    return year, number, monday


def generate_cases(
    week: str,
    count: int,
    seed: int = 0,
    *,
    bad_phone_share: float = 0.01,
    legacy_phone_share: float = 0.03,
    repeat_citizen_share: float = 0.03,
) -> Iterator[dict[str, str]]:
    """Yield ``count`` synthetic dossiers whose result was returned in ISO ``week``.

    Each row is a dict with exactly ``COLUMNS`` as keys and string values. The same
    arguments always give the same rows, and a longer run starts with the rows of a
    shorter one. Dossier codes are unique within a week and never collide with those of
    another week generated with the same seed: the sequence part starts with the two-digit
    ISO week number (``000.00.12.H52-261110-470003`` is the 3rd dossier Đông Hà received on
    10/11/2026 among those returned in week 47).

    Shares (each between 0 and 1): ``bad_phone_share`` of rows have a missing or broken
    phone, ``legacy_phone_share`` an old 11-digit mobile, ``repeat_citizen_share`` reuse the
    name and phone of an earlier row of the same run (one of the last few thousand).

    Raises ValueError on a malformed week, a negative count or a share out of range; the
    arguments are checked at call time, not when iteration starts.
    """
    year, number, monday = _parse_week(week)
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise ValueError(f"count must be a non-negative integer, not {count!r}")
    for label, share in (
        ("bad_phone_share", bad_phone_share),
        ("legacy_phone_share", legacy_phone_share),
        ("repeat_citizen_share", repeat_citizen_share),
    ):
        if not 0.0 <= share <= 1.0:
            raise ValueError(f"{label} must be between 0 and 1, not {share!r}")
    if bad_phone_share + legacy_phone_share > 1.0:
        raise ValueError("bad_phone_share + legacy_phone_share must not exceed 1")
    # A string seed is hashed with SHA-512 by random.Random: stable across runs and
    # platforms, and different for every (week, seed).
    rng = random.Random(f"cati.synthetic:{year}-W{number:02d}:{seed}")
    return _generate(
        rng,
        number,
        monday,
        count,
        float(bad_phone_share),
        float(legacy_phone_share),
        float(repeat_citizen_share),
    )


def _generate(
    rng: random.Random,
    week_number: int,
    monday: date,
    count: int,
    bad_share: float,
    legacy_share: float,
    repeat_share: float,
) -> Iterator[dict[str, str]]:
    rand = rng.random
    # Day offsets relative to the week's Monday; index = offset + base.
    base = 32
    days = [monday + timedelta(days=offset - base) for offset in range(base + 48)]
    day_text = [d.strftime("%d/%m/%Y") for d in days]
    day_code = [d.strftime("%y%m%d") for d in days]
    is_sunday = [d.weekday() == 6 for d in days]
    is_saturday = [d.weekday() == 5 for d in days]
    week_tag = f"{week_number:02d}"

    offices = tuple(
        (code, name, prefix, officers, len(officers), _PROCEDURE_TABLES[i])
        for i, (code, name, prefix, _w, officers) in enumerate(_OFFICE_DATA)
    )
    procedures = tuple(
        (code, name, days_, quick) for code, name, days_, _l, _w, quick in _PROCEDURE_DATA
    )
    channels = tuple((label, person) for label, person, _w in _CHANNEL_DATA)
    office_table, channel_table, day_table = _OFFICE_TABLE, _CHANNEL_TABLE, _RETURN_DAY_TABLE
    surnames, mobile = _SURNAME_TABLE, _MOBILE_TABLE
    n_surnames, n_mobile = len(surnames), len(mobile)
    mid_m, mid_f, mid2_m, mid2_f = (
        _MIDDLE_MALE,
        _MIDDLE_FEMALE,
        _SECOND_MIDDLE_MALE,
        _SECOND_MIDDLE_FEMALE,
    )
    given_m, given_f = _GIVEN_MALE, _GIVEN_FEMALE
    n_mid_m, n_mid_f, n_mid2_m, n_mid2_f = len(mid_m), len(mid_f), len(mid2_m), len(mid2_f)
    n_given_m, n_given_f = len(given_m), len(given_f)
    legacy_prefixes, n_legacy = _LEGACY_PREFIXES, len(_LEGACY_PREFIXES)
    bad_fixed, n_bad_fixed = _BAD_FIXED, len(_BAD_FIXED)
    hhmm = _HHMM
    wd_minutes, sat_minutes, odd_minutes = _WEEKDAY_MINUTES, _SATURDAY_MINUTES, _ODD_MINUTES
    n_wd, n_sat, n_odd = len(wd_minutes), len(sat_minutes), len(odd_minutes)
    table = _TABLE
    p_immediate, late_share, odd_share = _P_IMMEDIATE, _LATE_SHARE, _ODD_TIME_SHARE
    four_part = _FOUR_PART_SHARE
    legacy_cut = bad_share + legacy_share
    landline_cut = legacy_cut + _LANDLINE_SHARE * (1.0 - legacy_cut)
    max_lag = _MAX_LAG_DAYS

    counters = [0] * (len(offices) * 128)  # per (office, received day)
    ring: list[tuple[str, str]] = [("", "")] * _RING
    ring_mask = _RING - 1

    for i in range(count):
        # ---- citizen --------------------------------------------------------------------
        if i and rand() < repeat_share:
            name, phone = ring[(i - 1 - int(rand() * min(i, _RING))) & ring_mask]
        else:
            surname = surnames[int(rand() * n_surnames)]
            if rand() < 0.5:
                if rand() < four_part:
                    name = (
                        f"{surname} {mid_m[int(rand() * n_mid_m)]} "
                        f"{mid2_m[int(rand() * n_mid2_m)]} {given_m[int(rand() * n_given_m)]}"
                    )
                else:
                    name = (
                        f"{surname} {mid_m[int(rand() * n_mid_m)]} "
                        f"{given_m[int(rand() * n_given_m)]}"
                    )
            elif rand() < four_part:
                name = (
                    f"{surname} {mid_f[int(rand() * n_mid_f)]} "
                    f"{mid2_f[int(rand() * n_mid2_f)]} {given_f[int(rand() * n_given_f)]}"
                )
            else:
                name = (
                    f"{surname} {mid_f[int(rand() * n_mid_f)]} {given_f[int(rand() * n_given_f)]}"
                )

            r = rand()
            if r >= landline_cut:  # an ordinary mobile, in one of several formats
                prefix = mobile[int(rand() * n_mobile)]
                sub = f"{int(rand() * 1_000_000):06d}"
                f = rand()
                if f < 0.60:
                    phone = prefix + sub
                elif f < 0.73:
                    phone = f"{prefix} {sub[:3]} {sub[3:]}"
                elif f < 0.83:
                    phone = f"{prefix}.{sub[:3]}.{sub[3:]}"
                elif f < 0.93:
                    phone = f"+84{prefix[1:]}{sub}"
                else:
                    phone = f"84{prefix[1:]}{sub}"
            elif r < bad_share:
                if rand() < 0.3:  # a number cut short
                    phone = f"{mobile[int(rand() * n_mobile)]}{int(rand() * 1000):03d}"
                else:
                    phone = bad_fixed[int(rand() * n_bad_fixed)]
            elif r < legacy_cut:
                sub = f"{int(rand() * 10_000_000):07d}"
                if rand() < 0.8:
                    phone = legacy_prefixes[int(rand() * n_legacy)] + sub
                else:
                    phone = f"{legacy_prefixes[int(rand() * n_legacy)]} {sub[:3]} {sub[3:]}"
            else:  # Quảng Trị landline, area code 0233
                sub = f"3{int(rand() * 1_000_000):06d}"
                phone = f"0233 {sub[:3]} {sub[3:]}" if rand() < 0.7 else "0233" + sub
        ring[i & ring_mask] = (name, phone)

        # ---- office, procedure, channel --------------------------------------------------
        o = office_table[int(rand() * table)]
        office_code, office_name, code_prefix, officers, n_officers, proc_table = offices[o]
        officer = officers[int(rand() * n_officers)]
        procedure_code, procedure_name, nominal, quick = procedures[proc_table[int(rand() * table)]]
        channel, in_person = channels[channel_table[int(rand() * table)]]

        # ---- dates ------------------------------------------------------------------------
        if in_person and quick and rand() < p_immediate:
            immediate = "x"
            day = day_table[int(rand() * table)]
            ret_min = (
                sat_minutes[int(rand() * n_sat)] if day == 5 else wd_minutes[int(rand() * n_wd)]
            )
            ret_idx = recv_idx = due_idx = day + base
            recv_min = max(450, ret_min - 3 - int(rand() * 40))
        else:
            immediate = ""
            if rand() < odd_share:
                k = rand()
                if k < 0.3:
                    day, ret_min = 0, 10  # Monday 00:10
                elif k < 0.6:
                    day, ret_min = 6, 23 * 60 + 50  # Sunday 23:50
                elif k < 0.8:
                    day, ret_min = 6, 480 + int(rand() * 211)  # Sunday morning duty
                else:
                    day, ret_min = int(rand() * 6), odd_minutes[int(rand() * n_odd)]
            else:
                day = day_table[int(rand() * table)]
                ret_min = (
                    sat_minutes[int(rand() * n_sat)] if day == 5 else wd_minutes[int(rand() * n_wd)]
                )
            if rand() < late_share:
                lag = nominal + 1 + int(rand() * 5)
                if lag > max_lag:
                    lag = max_lag
            else:
                lag = 1 + int(rand() * nominal)
            ret_idx = day + base
            recv_idx = ret_idx - lag
            if is_sunday[recv_idx]:  # no intake on Sundays: the Monday after, or Saturday
                recv_idx += 1 if lag > 1 else -1
            recv_min = (
                sat_minutes[int(rand() * n_sat)]
                if is_saturday[recv_idx]
                else wd_minutes[int(rand() * n_wd)]
            )
            due_idx = recv_idx + nominal
            if is_sunday[due_idx]:
                due_idx += 1

        key = o * 128 + recv_idx
        seq = counters[key] + 1
        counters[key] = seq

        yield {
            "dossier_code": f"{code_prefix}-{day_code[recv_idx]}-{week_tag}{seq:04d}",
            "citizen_name": name,
            "phone": phone,
            "office_code": office_code,
            "office_name": office_name,
            "procedure_code": procedure_code,
            "procedure_name": procedure_name,
            "officer": officer,
            "channel": channel,
            "immediate_result": immediate,
            "received_at": f"{day_text[recv_idx]} {hhmm[recv_min]}",
            "due_at": day_text[due_idx],
            "returned_at": f"{day_text[ret_idx]} {hhmm[ret_min]}",
        }


def write_cases_csv(
    path: str | os.PathLike[str],
    rows: Iterable[dict[str, str]],
    *,
    vietnamese_headers: bool = True,
    delimiter: str = ",",
) -> int:
    """Write ``rows`` (dicts with at least ``COLUMNS``) to a CSV file; return rows written.

    With ``vietnamese_headers`` the header row uses ``VIETNAMESE_HEADERS`` and the file is
    UTF-8 with a byte-order mark, as Excel exports are; otherwise the canonical column
    names and plain UTF-8. Lines end with CRLF (the csv module's default).
    """
    if vietnamese_headers:
        header = [VIETNAMESE_HEADERS[c] for c in COLUMNS]
        encoding = "utf-8-sig"
    else:
        header = list(COLUMNS)
        encoding = "utf-8"
    values = itemgetter(*COLUMNS)
    written = 0
    with open(path, "w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle, delimiter=delimiter)
        writer.writerow(header)
        writerow = writer.writerow
        for row in rows:
            writerow(values(row))
            written += 1
    return written
