"""`cati cases import PATH [--strict] [--json]`, end to end against the test database."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import unicodedata
import zipfile
from datetime import UTC, date, datetime
from importlib import import_module
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from cati.cli import main as cati_main
from cati.domain.intake import canonical_column
from cati.models import Case, Office
from cati.services import intake
from tests.conftest import NOW
from tests.factories import create_case, local

ENGLISH = [
    "dossier_code", "citizen_name", "phone", "office_code", "office_name", "procedure_code",
    "procedure_name", "officer", "channel", "immediate_result", "received_at", "due_at",
    "returned_at",
]  # fmt: skip
VIETNAMESE = [
    "Mã hồ sơ", "Họ và tên", "Số điện thoại", "Mã đơn vị", "Đơn vị", "Mã thủ tục", "Tên thủ tục",
    "Cán bộ tiếp nhận", "Hình thức nộp", "Trả kết quả ngay", "Ngày tiếp nhận", "Ngày hẹn trả",
    "Ngày trả kết quả",
]  # fmt: skip
BASE = {
    "dossier_code": "000.00.12.H52-261113-470001",
    "citizen_name": "Phạm Xuân Thắng",
    "phone": "0902 670 449",
    "office_code": "QT-DONGHA",
    "office_name": "Bộ phận một cửa thành phố Đông Hà",
    "procedure_code": "1.004194",
    "procedure_name": "Đăng ký thường trú",
    "officer": "Võ Văn Hùng",
    "channel": "Trực tiếp",
    "immediate_result": "",
    "received_at": "13/11/2026 16:55",
    "due_at": "20/11/2026",
    "returned_at": "18/11/2026 09:43",
}


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def row(**values) -> dict:
    return {**BASE, **values}


def write_csv(
    path: Path,
    rows: list[dict],
    header: list[str] = ENGLISH,
    *,
    delimiter: str = ",",
    bom: bool = False,
) -> Path:
    with path.open("w", encoding="utf-8-sig" if bom else "utf-8", newline="") as f:
        writer = csv.writer(f, delimiter=delimiter)
        writer.writerow(header)
        for values in rows:
            writer.writerow([values.get(column, "") for column in ENGLISH])
    return path


def import_json(cli, path: Path, *options: str):
    result = cli("cases", "import", str(path), "--json", *options)
    summary = json.loads(result.stdout) if result.stdout.strip() else None
    return result, summary


def stored(session) -> dict[str, Case]:
    session.expire_all()
    return {c.dossier_code: c for c in session.scalars(select(Case))}


def count(session) -> int:
    return session.scalar(select(func.count()).select_from(Case))


# --------------------------------------------------------------------------------------------
# Headers
# --------------------------------------------------------------------------------------------


def nfd(labels: list[str]) -> list[str]:
    return [unicodedata.normalize("NFD", label) for label in labels]


HEADER_SETS = {
    "english": (ENGLISH, False),
    "vietnamese": (VIETNAMESE, False),
    "vietnamese-bom": (VIETNAMESE, True),
    "english-bom": (ENGLISH, True),
    "vietnamese-upper": ([h.upper() for h in VIETNAMESE], False),
    "vietnamese-lower": ([h.lower() for h in VIETNAMESE], False),
    "vietnamese-nfd": (nfd(VIETNAMESE), False),
    "vietnamese-nfd-bom": (nfd(VIETNAMESE), True),
    "vietnamese-alternatives": (
        ["Mã hồ sơ", "Họ tên", "Điện thoại", "Mã đơn vị", "Bộ phận một cửa", "Mã thủ tục",
         "Thủ tục", "Người tiếp nhận", "Hình thức nộp", "Trả kết quả ngay", "Ngày tiếp nhận",
         "Ngày hẹn trả", "Ngày trả kết quả"],
        False,
    ),
    "mixed": (
        ["DOSSIER_CODE", "Người nộp", "Phone", " mã đơn vị ", "office_name", "MÃ THỦ TỤC",
         "Procedure_Name", "cán bộ tiếp nhận", "CHANNEL", "trả kết quả ngay", "Received_At",
         "NGÀY HẸN TRẢ", "returned_at"],
        False,
    ),
}  # fmt: skip


@pytest.mark.parametrize("name", list(HEADER_SETS))
def test_header_spellings(cli, session, tmp_path, name):
    header, bom = HEADER_SETS[name]
    path = write_csv(tmp_path / "cases.csv", [row()], header, bom=bom)
    result, summary = import_json(cli, path)
    assert result.exit_code == 0, result.stderr
    assert summary == {"imported": 1, "updated": 0, "unchanged": 0, "rejected": [], "no_phone": 0}
    case = stored(session)[BASE["dossier_code"]]
    assert (case.citizen_name, case.phone, case.phone_type) == (
        "Phạm Xuân Thắng",
        "+84902670449",
        "mobile",
    )
    assert (case.office.code, case.office.name) == ("QT-DONGHA", BASE["office_name"])
    assert (case.procedure_code, case.procedure_name) == ("1.004194", "Đăng ký thường trú")
    assert (case.officer, case.channel, case.immediate_result) == (
        "Võ Văn Hùng",
        "in_person",
        False,
    )
    assert (case.received_at, case.due_at, case.returned_at) == (
        utc(2026, 11, 13, 9, 55),
        utc(2026, 11, 19, 17, 0),
        utc(2026, 11, 18, 2, 43),
    )


def test_columns_in_any_order_with_extra_columns(cli, session, tmp_path):
    path = tmp_path / "cases.csv"
    path.write_text(
        "STT,Ngày tiếp nhận,Ghi chú,Mã đơn vị,Mã hồ sơ\n1,16/11/2026,abc,QT,HS-1\n",
        encoding="utf-8",
    )
    result, summary = import_json(cli, path)
    assert (result.exit_code, summary["imported"]) == (0, 1)
    case = stored(session)["HS-1"]
    assert (case.office.code, case.received_at) == ("QT", utc(2026, 11, 15, 17, 0))


MISSING_COLUMN = [
    ("received_at", [h for h in VIETNAMESE if h != "Ngày tiếp nhận"]),
    ("dossier_code", [h for h in ENGLISH if h != "dossier_code"]),
    ("office_code", [h for h in VIETNAMESE if h != "Mã đơn vị"]),
]


@pytest.mark.parametrize(("column", "header"), MISSING_COLUMN, ids=[c for c, _ in MISSING_COLUMN])
def test_missing_required_column_exits_2_naming_it(cli, session, tmp_path, column, header):
    path = tmp_path / "cases.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([header, ["x"] * len(header)])
    result, summary = import_json(cli, path)
    assert result.exit_code == 2
    assert summary is None
    assert str(path) in result.stderr
    assert column in result.stderr and "missing" in result.stderr
    assert count(session) == 0


@pytest.mark.parametrize(
    ("first", "second"),
    [("Họ tên", "Họ và tên"), ("phone", "Số điện thoại"), ("Mã hồ sơ", "dossier_code")],
    ids=["two-vietnamese", "english-vietnamese", "required"],
)
def test_two_headers_for_one_column_exit_2(cli, session, tmp_path, first, second):
    column = canonical_column(first)
    header = [
        h for h in ("Mã hồ sơ", "Mã đơn vị", "Ngày tiếp nhận") if canonical_column(h) != column
    ]
    path = tmp_path / "cases.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([[*header, first, second], ["HS-1", "16/11/2026", "a", "b"]])
    result, summary = import_json(cli, path)
    assert result.exit_code == 2
    assert summary is None
    assert first in result.stderr and second in result.stderr and column in result.stderr
    assert count(session) == 0


# --------------------------------------------------------------------------------------------
# Values
# --------------------------------------------------------------------------------------------

CHANNELS = [
    ("in_person", "in_person"), ("IN_PERSON", "in_person"), ("Trực tiếp", "in_person"),
    ("trực tiếp", "in_person"), ("TRỰC TIẾP", "in_person"), (" Trực tiếp ", "in_person"),
    ("online", "online"), ("Trực tuyến", "online"), ("TRỰC TUYẾN", "online"),
    ("postal", "postal"), ("Bưu chính", "postal"), ("bưu chính", "postal"), ("BCCI", "postal"),
    ("", "in_person"),
]  # fmt: skip
BOOLEANS = [
    ("true", True), ("1", True), ("yes", True), ("có", True), ("Có", True), ("x", True),
    ("X", True), ("false", False), ("0", False), ("no", False), ("không", False),
    ("Không", False), ("", False),
]  # fmt: skip


def test_every_channel_and_yes_no_spelling(cli, session, tmp_path):
    rows = [row(dossier_code=f"C-{i}", channel=value) for i, (value, _) in enumerate(CHANNELS)]
    rows += [
        row(dossier_code=f"B-{i}", immediate_result=value) for i, (value, _) in enumerate(BOOLEANS)
    ]
    result, summary = import_json(cli, write_csv(tmp_path / "cases.csv", rows, VIETNAMESE))
    assert result.exit_code == 0, summary
    assert summary["imported"] == len(CHANNELS) + len(BOOLEANS)
    cases = stored(session)
    assert {(v, cases[f"C-{i}"].channel) for i, (v, _) in enumerate(CHANNELS)} == set(CHANNELS)
    assert {(v, cases[f"B-{i}"].immediate_result) for i, (v, _) in enumerate(BOOLEANS)} == set(
        BOOLEANS
    )


DATES = [
    ("2026-11-16", utc(2026, 11, 15, 17, 0)),
    ("2026-11-16 09:30", utc(2026, 11, 16, 2, 30)),
    ("16/11/2026", utc(2026, 11, 15, 17, 0)),
    ("16/11/2026 09:30", utc(2026, 11, 16, 2, 30)),
    (" 16/11/2026 09:30 ", utc(2026, 11, 16, 2, 30)),
    ("02/11/2026 9:05", utc(2026, 11, 2, 2, 5)),
    ("23/11/2026 00:10", utc(2026, 11, 22, 17, 10)),
]


def test_every_date_format_is_stored_in_utc(cli, session, tmp_path):
    rows = [
        row(dossier_code=f"D-{i}", received_at=value, due_at=value, returned_at=value)
        for i, (value, _) in enumerate(DATES)
    ]
    result, summary = import_json(cli, write_csv(tmp_path / "cases.csv", rows))
    assert result.exit_code == 0, summary
    cases = stored(session)
    for i, (value, expected) in enumerate(DATES):
        case = cases[f"D-{i}"]
        assert (case.received_at, case.due_at, case.returned_at) == (expected,) * 3, value


def test_returned_ten_past_midnight_monday_is_stored_as_sunday_utc(cli, session, tmp_path):
    rows = [row(received_at="20/11/2026 08:00", returned_at="23/11/2026 00:10")]
    result, _ = import_json(cli, write_csv(tmp_path / "cases.csv", rows, VIETNAMESE))
    assert result.exit_code == 0
    returned = stored(session)[BASE["dossier_code"]].returned_at
    assert returned == utc(2026, 11, 22, 17, 10)
    assert returned.strftime("%A %H:%M") == "Sunday 17:10"


BAD_ROWS = [
    ("impossible-31-02", {"received_at": "31/02/2026"}, "received_at", "impossible"),
    ("impossible-iso", {"due_at": "2026-02-30"}, "due_at", "impossible"),
    ("impossible-time", {"returned_at": "18/11/2026 24:00"}, "returned_at", "impossible"),
    ("unreadable-date", {"received_at": "13.11.2026"}, "received_at", "cannot read date"),
    ("returned-before-received", {"returned_at": "13/11/2026 16:54"}, "returned_at", "before"),
    ("unknown-channel", {"channel": "fax"}, "channel", "unknown channel"),
    ("bad-yes-no", {"immediate_result": "maybe"}, "immediate_result", "yes/no"),
    ("missing-dossier-code", {"dossier_code": " "}, "dossier_code", "missing"),
    ("missing-office-code", {"office_code": ""}, "office_code", "missing"),
    ("missing-received-at", {"received_at": ""}, "received_at", "missing"),
    ("long-dossier-code", {"dossier_code": "H" * 101}, "dossier_code", "longer than 100"),
    ("long-name", {"citizen_name": "Ặ" * 256}, "citizen_name", "longer than 255"),
    ("long-phone", {"phone": "0" * 65}, "phone", "longer than 64"),
    ("long-office-code", {"office_code": "Q" * 65}, "office_code", "longer than 64"),
    ("long-office-name", {"office_name": "Đ" * 256}, "office_name", "longer than 255"),
    ("long-procedure-code", {"procedure_code": "1" * 65}, "procedure_code", "longer than 64"),
    ("long-procedure-name", {"procedure_name": "T" * 501}, "procedure_name", "longer than 500"),
    ("long-officer", {"officer": "V" * 256}, "officer", "longer than 255"),
    ("nul-character", {"citizen_name": "An\x00"}, "citizen_name", "NUL"),
]


@pytest.mark.parametrize(
    ("values", "column", "reason"), [b[1:] for b in BAD_ROWS], ids=[b[0] for b in BAD_ROWS]
)
def test_bad_row_is_rejected_and_the_others_stored(cli, session, tmp_path, values, column, reason):
    rows = [row(dossier_code="OK-1"), row(**values), row(dossier_code="OK-2")]
    if "dossier_code" not in values:
        rows[1]["dossier_code"] = "BAD"
    result, summary = import_json(cli, write_csv(tmp_path / "cases.csv", rows))
    assert result.exit_code == 3
    assert (summary["imported"], summary["updated"], summary["unchanged"]) == (2, 0, 0)
    [rejection] = summary["rejected"]
    assert (rejection["line"], rejection["column"]) == (3, column)
    assert reason in rejection["reason"]
    assert sorted(stored(session)) == ["OK-1", "OK-2"]


def test_duplicate_dossier_code_in_one_file(cli, session, tmp_path):
    rows = [
        row(dossier_code="HS-1", citizen_name="first"),
        row(dossier_code="HS-2"),
        row(dossier_code="HS-1", citizen_name="second"),
    ]
    result, summary = import_json(cli, write_csv(tmp_path / "cases.csv", rows))
    assert result.exit_code == 3
    assert summary["rejected"] == [
        {"line": 4, "column": "dossier_code", "reason": "dossier code already on line 2"}
    ]
    assert summary["imported"] == 2
    assert stored(session)["HS-1"].citizen_name == "first"


PHONES = [
    ("0912345678", "+84912345678", "mobile"),
    ("01662345678", "+84362345678", "mobile"),
    ("0166 234 5678", "+84362345678", "mobile"),
    ("+84 1662345678", "+84362345678", "mobile"),
    ("01992345678", "+84592345678", "mobile"),
    ("0233 3852 123", "+842333852123", "landline"),
    ("(024) 3825 1234", "+842438251234", "landline"),
    ("84393080528", "+84393080528", "mobile"),
    ("1800 1090", "+8418001090", "other"),
    ("12345", None, "invalid"),
    ("", None, "missing"),
]


def test_phones_are_stored_as_e164_and_uncallable_ones_counted(cli, session, tmp_path):
    rows = [row(dossier_code=f"P-{i}", phone=raw) for i, (raw, _, _) in enumerate(PHONES)]
    result, summary = import_json(cli, write_csv(tmp_path / "cases.csv", rows))
    assert result.exit_code == 0
    assert (summary["imported"], summary["no_phone"]) == (len(PHONES), 3)
    cases = stored(session)
    assert [(raw, cases[f"P-{i}"].phone, cases[f"P-{i}"].phone_type)
            for i, (raw, _, _) in enumerate(PHONES)] == PHONES  # fmt: skip


# --------------------------------------------------------------------------------------------
# Upsert
# --------------------------------------------------------------------------------------------


def snapshot(session) -> list[tuple]:
    session.expire_all()
    columns = [c for c in Case.__table__.c]
    return [tuple(r) for r in session.execute(select(*columns).order_by(Case.dossier_code))]


def test_reimporting_the_same_file_changes_nothing(cli, session, tmp_path):
    rows = [row(dossier_code=f"HS-{i}", phone=p) for i, p in enumerate(["0912345678", "", "x"])]
    path = write_csv(tmp_path / "cases.csv", rows, VIETNAMESE, bom=True)
    result, first = import_json(cli, path)
    assert (result.exit_code, first["imported"], first["no_phone"]) == (0, 3, 2)
    before = snapshot(session)
    result, second = import_json(cli, path)
    assert result.exit_code == 0
    assert second == {"imported": 0, "updated": 0, "unchanged": 3, "rejected": [], "no_phone": 2}
    assert snapshot(session) == before


def test_returned_at_filled_in_later_is_an_update(cli, session, tmp_path):
    rows = [row(dossier_code="HS-1", returned_at=""), row(dossier_code="HS-2")]
    result, first = import_json(cli, write_csv(tmp_path / "week1.csv", rows))
    assert (result.exit_code, first["imported"]) == (0, 2)
    case_id = stored(session)["HS-1"].id
    assert stored(session)["HS-1"].returned_at is None

    rows[0]["returned_at"] = "23/11/2026 00:10"
    result, second = import_json(cli, write_csv(tmp_path / "week2.csv", rows))
    assert result.exit_code == 0
    assert second == {"imported": 0, "updated": 1, "unchanged": 1, "rejected": [], "no_phone": 0}
    case = stored(session)["HS-1"]
    assert (case.id, case.returned_at) == (case_id, utc(2026, 11, 22, 17, 10))
    assert count(session) == 2


def test_existing_case_is_updated_not_duplicated(cli, session, tmp_path):
    create_case(session, dossier_code="HS-1", office_code="QT-DONGHA", returned_at=None,
                received_at=local(2026, 11, 13, 16, 55))  # fmt: skip
    rows = [row(dossier_code="HS-1"), row(dossier_code="HS-2")]
    result, summary = import_json(cli, write_csv(tmp_path / "cases.csv", rows))
    assert (result.exit_code, summary["imported"], summary["updated"]) == (0, 1, 1)
    assert stored(session)["HS-1"].returned_at == utc(2026, 11, 18, 2, 43)
    assert count(session) == 2


# --------------------------------------------------------------------------------------------
# --strict
# --------------------------------------------------------------------------------------------


def test_strict_stores_nothing_when_a_row_is_rejected(cli, session, tmp_path, monkeypatch):
    monkeypatch.setattr(intake, "CHUNK_SIZE", 2)  # rows before the rejection are already written
    create_case(session, dossier_code="OLD", returned_at=None)
    before = snapshot(session)
    rows = [row(dossier_code=f"HS-{i}") for i in range(5)]
    rows += [row(dossier_code="OLD"), row(dossier_code="BAD", received_at="31/02/2026")]
    path = write_csv(tmp_path / "cases.csv", rows)
    result, summary = import_json(cli, path, "--strict")
    assert result.exit_code == 2
    assert summary == {
        "imported": 0,
        "updated": 0,
        "unchanged": 0,
        "rejected": [
            {"line": 8, "column": "received_at", "reason": "impossible date or time '31/02/2026'"}
        ],
        "no_phone": 0,
    }
    assert "nothing stored" in result.stderr
    assert snapshot(session) == before
    assert session.scalar(select(func.count()).select_from(Office)) == 1


def test_strict_with_only_valid_rows_stores_them(cli, session, tmp_path):
    path = write_csv(tmp_path / "cases.csv", [row(dossier_code="A"), row(dossier_code="B")])
    result, summary = import_json(cli, path, "--strict")
    assert (result.exit_code, summary["imported"]) == (0, 2)
    assert sorted(stored(session)) == ["A", "B"]


# --------------------------------------------------------------------------------------------
# File formats
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("bom", [False, True], ids=["no-bom", "bom"])
def test_semicolon_csv(cli, session, tmp_path, bom):
    rows = [row(dossier_code="HS-1", citizen_name="Lê, Thị Hoa"), row(dossier_code="HS-2")]
    path = write_csv(tmp_path / "cases.csv", rows, VIETNAMESE, delimiter=";", bom=bom)
    result, summary = import_json(cli, path)
    assert (result.exit_code, summary["imported"]) == (0, 2)
    case = stored(session)["HS-1"]
    assert (case.citizen_name, case.office.code) == ("Lê, Thị Hoa", "QT-DONGHA")
    assert case.returned_at == utc(2026, 11, 18, 2, 43)


def test_xlsx(cli, session, tmp_path):
    path = tmp_path / "cases.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(VIETNAMESE)
    sheet.append(["HS-1", "Lê Thị Hoa", 912345678, "QT-DONGHA", "Đông Hà", "1.004194", "Thủ tục",
                  "Võ Văn Hùng", "Trực tuyến", True, datetime(2026, 11, 20, 8, 0),
                  date(2026, 11, 27), datetime(2026, 11, 23, 0, 10)])  # fmt: skip
    sheet.append(["HS-2", "Trần Bình", 1662345678, "QT-DONGHA", None, None, None, None, "BCCI",
                  "x", "16/11/2026 09:30", None, None])  # fmt: skip
    sheet.append([None] * 13)
    sheet.append(["HS-3", None, "0233 3852 123", "QT-DONGHA", None, None, None, None, None,
                  0, datetime(2026, 11, 20, 8, 0), None, datetime(2026, 2, 1)])  # fmt: skip
    book.save(path)

    result, summary = import_json(cli, path)
    assert result.exit_code == 3
    assert summary["imported"] == 2
    assert [(r["line"], r["column"]) for r in summary["rejected"]] == [(5, "returned_at")]
    cases = stored(session)
    one, two = cases["HS-1"], cases["HS-2"]
    assert (one.phone, one.phone_raw, one.phone_type) == ("+84912345678", "912345678", "mobile")
    assert (one.channel, one.immediate_result) == ("online", True)
    assert one.received_at == utc(2026, 11, 20, 1, 0)
    assert one.due_at == utc(2026, 11, 26, 17, 0)
    assert one.returned_at == utc(2026, 11, 22, 17, 10)
    assert (two.phone, two.channel, two.immediate_result) == ("+84362345678", "postal", True)
    assert (two.received_at, two.returned_at) == (utc(2026, 11, 16, 2, 30), None)

    result, again = import_json(cli, path)
    assert (again["imported"], again["updated"], again["unchanged"]) == (0, 0, 2)


def test_non_utf8_file_exits_2_naming_file_and_line(cli, session, tmp_path):
    path = tmp_path / "cp1258.csv"
    path.write_bytes(
        b"dossier_code,citizen_name,office_code,received_at\nHS-1,An,QT,16/11/2026\n"
        + b"HS-2,Nguy\xe9n,QT,16/11/2026\n"
    )
    result, summary = import_json(cli, path)
    assert result.exit_code == 2
    assert summary is None
    assert str(path) in result.stderr and "line 3" in result.stderr
    assert count(session) == 0


UNREADABLE = [
    ("missing", None, "no such file"),
    ("empty", b"", "empty"),
    ("bom-only", b"\xef\xbb\xbf", "empty"),
]


@pytest.mark.parametrize(("name", "content", "message"), UNREADABLE, ids=[u[0] for u in UNREADABLE])
def test_unreadable_file_exits_2(cli, session, tmp_path, name, content, message):
    path = tmp_path / f"{name}.csv"
    if content is not None:
        path.write_bytes(content)
    result, summary = import_json(cli, path)
    assert result.exit_code == 2
    assert summary is None
    assert str(path) in result.stderr and message in result.stderr


@pytest.mark.parametrize(
    "content", [b"not a workbook", b"PK\x03\x04 broken zip"], ids=["text", "broken-zip"]
)
def test_corrupt_xlsx_exits_2(cli, tmp_path, content):
    path = tmp_path / "cases.xlsx"
    path.write_bytes(content)
    result = cli("cases", "import", str(path), "--json")
    assert result.exit_code == 2
    assert str(path) in result.stderr


def test_unreadable_row_rolls_back_rows_already_written(cli, session, tmp_path, monkeypatch):
    monkeypatch.setattr(intake, "CHUNK_SIZE", 1)
    path = tmp_path / "cases.csv"
    path.write_text(
        "dossier_code,office_code,received_at\n"
        "HS-1,QT,16/11/2026\n"
        "HS-2,QT,16/11/2026\n"
        f'HS-3,"{"x" * (csv.field_size_limit() + 1)}",16/11/2026\n',
        encoding="utf-8",
    )
    result = cli("cases", "import", str(path), "--json")
    assert result.exit_code == 2
    assert f"{path}: line 4" in result.stderr
    assert count(session) == 0


def test_header_only_file_imports_nothing(cli, tmp_path):
    path = write_csv(tmp_path / "cases.csv", [], VIETNAMESE, bom=True)
    result, summary = import_json(cli, path)
    assert result.exit_code == 0
    assert summary == {"imported": 0, "updated": 0, "unchanged": 0, "rejected": [], "no_phone": 0}


def test_bad_usage_exits_2(cli, tmp_path):
    assert cli("cases", "import").exit_code == 2
    assert cli("cases", "import", str(tmp_path), "--json").exit_code == 2  # a directory
    path = write_csv(tmp_path / "cases.csv", [row()])
    assert cli("cases", "import", str(path), "--bogus").exit_code == 2


def test_plain_output_reports_counts_and_rejections(cli, session, tmp_path):
    rows = [row(dossier_code="A", phone=""), row(dossier_code="B", channel="fax")]
    path = write_csv(tmp_path / "cases.csv", rows)
    result = cli("cases", "import", str(path))
    assert result.exit_code == 3
    assert result.stdout.strip() == (
        f"{path}: 1 imported, 0 updated, 0 unchanged, 1 row rejected, 1 without a callable phone"
    )
    assert "line 3, channel: unknown channel 'fax'" in result.stderr
    assert stored(session)["A"].created_at == NOW


def test_xlsx_missing_required_column_exits_2(cli, session, tmp_path):
    path = tmp_path / "cases.xlsx"
    book = openpyxl.Workbook()
    book.active.append([])
    book.active.append([])
    book.active.append(["Mã hồ sơ", "Ngày tiếp nhận"])  # the header is on row 3
    book.active.append(["HS-1", datetime(2026, 11, 16)])
    book.save(path)
    result = cli("cases", "import", str(path), "--json")
    assert result.exit_code == 2
    assert f"{path}: line 3: " in result.stderr and "office_code" in result.stderr
    assert count(session) == 0


@pytest.mark.parametrize(
    ("vietnamese_headers", "delimiter"),
    [(True, ","), (False, ","), (True, ";")],
    ids=["vietnamese-comma", "english-comma", "vietnamese-semicolon"],
)
def test_synthetic_export_imports_cleanly(cli, session, tmp_path, vietnamese_headers, delimiter):
    from cati.synthetic import generate_cases, write_cases_csv

    path = tmp_path / "week.csv"
    rows = generate_cases("2026-W47", 400, 7)
    write_cases_csv(path, rows, vietnamese_headers=vietnamese_headers, delimiter=delimiter)
    result, summary = import_json(cli, path)
    assert result.exit_code == 0, summary["rejected"][:3]
    assert (summary["imported"], summary["rejected"]) == (400, [])
    cases = stored(session).values()
    assert summary["no_phone"] == sum(c.phone_type not in ("mobile", "landline") for c in cases)
    assert all(c.phone is None or c.phone.startswith("+") for c in cases)
    result, again = import_json(cli, path)
    assert again == {**summary, "imported": 0, "unchanged": 400}


def test_generate_then_import(cli, session, tmp_path):
    path = tmp_path / "generated.csv"
    result = cli("cases", "generate", "--week", "2026-W47", "--count", "50", "-o", str(path))
    assert result.exit_code == 0, result.output
    result, summary = import_json(cli, path)
    assert (result.exit_code, summary["imported"]) == (0, 50)
    assert count(session) == 50


# --------------------------------------------------------------------------------------------
# Counting rows, the messages, the progress bar
# --------------------------------------------------------------------------------------------


def test_rejections_are_counted_by_row_and_by_problem(cli, session, tmp_path):
    rows = [row(dossier_code="OK")]
    rows += [row(dossier_code=f"BAD-{i}", channel="fax") for i in range(7)]
    rows += [row(dossier_code="WORSE", channel="fax", immediate_result="maybe")]
    path = write_csv(tmp_path / "cases.csv", rows)
    result = cli("cases", "import", str(path))
    assert result.exit_code == 3
    assert "1 imported, 0 updated, 0 unchanged, 8 rows rejected (9 problems), " in result.stdout
    strict = cli("cases", "import", str(path), "--strict")
    assert strict.exit_code == 2
    assert strict.stderr.count("nothing stored") == 1
    assert "nothing stored (--strict): 8 rows rejected (9 problems)" in strict.stderr


def test_missing_column_error_names_the_vietnamese_headers_too(cli, tmp_path):
    path = tmp_path / "cases.csv"
    path.write_text("Họ tên,Số điện thoại\nAn,0912345678\n", encoding="utf-8")
    result = cli("cases", "import", str(path))
    assert result.exit_code == 2
    for expected in ("dossier_code (Mã hồ sơ)", "office_code (Mã đơn vị)",
                     "received_at (Ngày tiếp nhận)"):  # fmt: skip
        assert expected in result.stderr


cases_cli = import_module("cati.cli.cases")  # `cati.cli.cases` is also the command group


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_ends_at_100_percent(cli, tmp_path, monkeypatch):
    terminal = Terminal()
    monkeypatch.setattr(cases_cli, "_progress_stream", lambda: terminal)
    # blank lines and a header: fewer records than lines, as most files have
    path = tmp_path / "cases.csv"
    write_csv(path, [row(dossier_code=f"HS-{i}") for i in range(3)])
    path.write_text(path.read_text(encoding="utf-8") + "\n\n,,,\n\n", encoding="utf-8")
    result = cli("cases", "import", str(path))
    assert result.exit_code == 0
    last = terminal.getvalue().rstrip("\n").split("\r")[-1]
    assert "100%" in last


def test_progress_bar_is_cleared_when_the_import_fails(cli, tmp_path, monkeypatch):
    terminal = Terminal()
    monkeypatch.setattr(cases_cli, "_progress_stream", lambda: terminal)
    monkeypatch.setattr(intake, "CHUNK_SIZE", 1)
    path = tmp_path / "cases.csv"
    path.write_text(
        "dossier_code,office_code,received_at\nHS-1,QT,16/11/2026\n"
        f'HS-2,"{"x" * (csv.field_size_limit() + 1)}",16/11/2026\n',
        encoding="utf-8",
    )
    result = cli("cases", "import", str(path))
    assert result.exit_code == 2
    assert terminal.getvalue().endswith("\r\x1b[2K")


def test_a_return_in_the_future_is_rejected(cli, session, tmp_path):
    # NOW is Monday 23/11/2026 10:00 in Vietnam
    rows = [row(dossier_code="A", returned_at="23/11/2026 10:00"),
            row(dossier_code="B", returned_at="24/11/2026")]  # fmt: skip
    result, summary = import_json(cli, write_csv(tmp_path / "cases.csv", rows, VIETNAMESE))
    assert result.exit_code == 3
    [rejection] = summary["rejected"]
    assert (rejection["line"], rejection["column"]) == (3, "returned_at")
    assert rejection["reason"] == (
        "result returned in the future: 24/11/2026 00:00 is after the time of this import "
        "(23/11/2026 10:00)"
    )
    assert sorted(stored(session)) == ["A"]


# --------------------------------------------------------------------------------------------
# Limits of an .xlsx file
# --------------------------------------------------------------------------------------------


@pytest.fixture
def limited_cli(runtime):
    """`cati` with CATI_IMPORT_MAX_XLSX_MB / CATI_IMPORT_MAX_ROWS lowered."""

    def invoke(*args: str, **limits):
        settings = dataclasses.replace(runtime.settings, **limits)
        changed = dataclasses.replace(runtime, settings=settings)
        return CliRunner().invoke(cati_main, list(args), obj=changed, catch_exceptions=False)

    return invoke


def small_workbook(path: Path, rows: int, *, filler: int = 0) -> Path:
    """A workbook of `rows` dossiers; with `filler`, the first name is that many characters
    (more than openpyxl writes in one cell, so put into the sheet's XML afterwards)."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(ENGLISH)
    for i in range(rows):
        name = "FILLER" if i == 0 and filler else ""
        sheet.append([f"HS-{i}", name, "", "QT", "", "", "", "", "", "", "16/11/2026", "", ""])
    book.save(path)
    if filler:
        edit_sheet(path, lambda xml: xml.replace("FILLER", "x" * filler))
    return path


def edit_sheet(path: Path, edit) -> None:
    with zipfile.ZipFile(path) as archive:
        xml = archive.read("xl/worksheets/sheet1.xml").decode()
    rewrite_member(path, "xl/worksheets/sheet1.xml", edit(xml).encode())


def rewrite_member(path: Path, name: str, content: bytes) -> None:
    """Replace one part of the workbook (a zip) with `content`."""
    with zipfile.ZipFile(path) as source:
        parts = {info.filename: source.read(info) for info in source.infolist()}
    parts[name] = content
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for member, data in parts.items():
            target.writestr(member, data)


def test_xlsx_within_the_limits_is_imported(limited_cli, session, tmp_path):
    path = small_workbook(tmp_path / "cases.xlsx", 3)
    result = limited_cli("cases", "import", str(path), import_max_rows=4, import_max_xlsx_mb=1)
    assert result.exit_code == 0, result.output
    assert count(session) == 3


def test_xlsx_past_the_row_limit_is_refused(limited_cli, session, tmp_path):
    path = small_workbook(tmp_path / "cases.xlsx", 4)  # 5 rows with the header
    result = limited_cli("cases", "import", str(path), import_max_rows=4)
    assert result.exit_code == 2
    assert str(path) in result.stderr and "CATI_IMPORT_MAX_ROWS" in result.stderr
    assert count(session) == 0


def test_xlsx_whose_dimension_is_past_the_row_limit_is_refused_before_reading(
    limited_cli, session, tmp_path, monkeypatch
):
    path = small_workbook(tmp_path / "cases.xlsx", 1)
    # 40 million empty rows declared, one row actually written at the end
    edit_sheet(
        path,
        lambda xml: xml.replace(
            '<dimension ref="A1:M2" />', '<dimension ref="A1:M40000000" />'
        ).replace("</sheetData>", '<row r="40000000" /></sheetData>'),
    )
    read = []
    monkeypatch.setattr(intake, "_header_mapping", lambda *a: read.append(a) or {})
    result = limited_cli("cases", "import", str(path))
    assert result.exit_code == 2
    assert "40,000,000" in result.stderr and "CATI_IMPORT_MAX_ROWS" in result.stderr
    assert read == []  # refused before the sheet's rows were read
    assert count(session) == 0


def test_xlsx_without_a_dimension_is_stopped_at_the_row_limit(limited_cli, session, tmp_path):
    path = small_workbook(tmp_path / "cases.xlsx", 2)
    edit_sheet(
        path,
        lambda xml: xml.replace('<dimension ref="A1:M3" />', "").replace(
            "</sheetData>", '<row r="40000000" /></sheetData>'
        ),
    )
    result = limited_cli("cases", "import", str(path), import_max_rows=1000)
    assert result.exit_code == 2
    assert "row 1,000" in result.stderr and "CATI_IMPORT_MAX_ROWS" in result.stderr
    assert count(session) == 0


def test_xlsx_past_the_size_limit_is_refused(limited_cli, session, tmp_path):
    # 1.5 MB of text in one cell compresses to a few kilobytes
    path = small_workbook(tmp_path / "cases.xlsx", 1, filler=1_500_000)
    assert path.stat().st_size < 100_000
    result = limited_cli("cases", "import", str(path), import_max_xlsx_mb=1)
    assert result.exit_code == 2
    assert str(path) in result.stderr and "CATI_IMPORT_MAX_XLSX_MB" in result.stderr
    assert count(session) == 0


def patch_declared_size(path: Path, name: str, size: int) -> None:
    """Make the zip's central directory declare `size` uncompressed bytes for `name`."""
    data = bytearray(path.read_bytes())
    encoded = name.encode()
    at = data.find(b"PK\x01\x02")
    while at != -1:
        name_length = int.from_bytes(data[at + 28 : at + 30], "little")
        if bytes(data[at + 46 : at + 46 + name_length]) == encoded:
            data[at + 24 : at + 28] = size.to_bytes(4, "little")
            path.write_bytes(bytes(data))
            return
        at = data.find(b"PK\x01\x02", at + 4)
    raise AssertionError(f"{name} not in {path}")


def test_xlsx_declaring_a_huge_part_is_refused_before_reading(limited_cli, session, tmp_path):
    path = small_workbook(tmp_path / "cases.xlsx", 1)
    patch_declared_size(path, "xl/worksheets/sheet1.xml", 0xFFFF_FFF0)  # a zip bomb's 4 GB
    result = limited_cli("cases", "import", str(path))
    assert result.exit_code == 2
    assert "MB once uncompressed" in result.stderr and "CATI_IMPORT_MAX_XLSX_MB" in result.stderr
    assert count(session) == 0


def test_xlsx_whose_header_understates_a_part_is_unreadable_not_larger(
    limited_cli, session, tmp_path
):
    # a 1.5 MB sheet declared as 1 KB: no more than 1 KB of it is ever inflated
    path = small_workbook(tmp_path / "cases.xlsx", 1, filler=1_500_000)
    patch_declared_size(path, "xl/worksheets/sheet1.xml", 1024)
    result = limited_cli("cases", "import", str(path), import_max_xlsx_mb=1)
    assert result.exit_code == 2
    assert str(path) in result.stderr and "Traceback" not in result.output
    assert count(session) == 0


def test_import_limits_come_from_the_environment():
    from cati.config import Settings, SettingsError

    defaults = Settings.from_env({})
    assert (defaults.import_max_xlsx_mb, defaults.import_max_rows) == (200, 1_000_000)
    env = {"CATI_IMPORT_MAX_XLSX_MB": "5", "CATI_IMPORT_MAX_ROWS": "1000"}
    settings = Settings.from_env(env)
    assert (settings.import_max_xlsx_mb, settings.import_max_rows) == (5, 1000)
    for name in env:
        with pytest.raises(SettingsError, match=name):
            Settings.from_env({name: "0"})
