"""cati.services.intake: reading dossier files and upserting records against the database."""

from __future__ import annotations

import csv
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import func, select

from cati.models import Case, Office
from cati.services import intake
from cati.services.intake import (
    CHUNK_SIZE,
    CaseFileError,
    ImportSummary,
    StrictImportAborted,
    import_records,
    read_case_file,
)
from tests.conftest import NOW, TZ
from tests.factories import create_case, local

LATER = NOW + timedelta(days=1)

BASE = {
    "dossier_code": "HS-001",
    "citizen_name": "Nguyễn Văn An",
    "phone": "0912 345 678",
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


def record(**values) -> dict:
    return {**BASE, **values}


def numbered(*records: dict, start: int = 2) -> list[tuple[int, dict]]:
    return list(enumerate(records, start=start))


def run(session, *records: dict, now: datetime = NOW, strict: bool = False) -> ImportSummary:
    return import_records(session, numbered(*records), tz=TZ, now=now, strict=strict)


def stored(session) -> dict[str, Case]:
    session.expire_all()
    return {c.dossier_code: c for c in session.scalars(select(Case))}


def write_csv(path: Path, rows: list[list], *, delimiter: str = ",", bom: bool = False) -> Path:
    with path.open("w", encoding="utf-8-sig" if bom else "utf-8", newline="") as f:
        csv.writer(f, delimiter=delimiter).writerows(rows)
    return path


# --------------------------------------------------------------------------------------------
# read_case_file
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("bom", [False, True], ids=["no-bom", "bom"])
@pytest.mark.parametrize("delimiter", [",", ";"], ids=["comma", "semicolon"])
def test_read_csv(tmp_path, bom, delimiter):
    path = write_csv(
        tmp_path / "cases.csv",
        [
            ["Mã hồ sơ", "Ghi chú", "Họ tên", "Mã đơn vị", "Ngày tiếp nhận"],
            ["HS-1", "x", "Lê Thị, Hoa", "QT", "16/11/2026"],
            ["HS-2", "y", "Trần; Bình", "QT", "17/11/2026 08:00"],
        ],
        delimiter=delimiter,
        bom=bom,
    )
    rows = list(read_case_file(path).rows)
    assert rows == [
        (2, {"dossier_code": "HS-1", "citizen_name": "Lê Thị, Hoa", "office_code": "QT",
             "received_at": "16/11/2026"}),
        (3, {"dossier_code": "HS-2", "citizen_name": "Trần; Bình", "office_code": "QT",
             "received_at": "17/11/2026 08:00"}),
    ]  # fmt: skip


def test_read_csv_line_numbers_count_blank_lines_and_multiline_fields(tmp_path):
    path = tmp_path / "cases.csv"
    path.write_bytes(
        "dossier_code,citizen_name,office_code,received_at\r\n"
        "HS-1,An,QT,16/11/2026\r\n"
        "\r\n"
        'HS-2,"Bình\r\nLê",QT,16/11/2026\r\n'
        ",,,\r\n"
        "HS-3,Chi,QT\r\n".encode()
    )
    rows = list(read_case_file(path).rows)
    assert [(line, raw["dossier_code"]) for line, raw in rows] == [
        (2, "HS-1"),
        (4, "HS-2"),
        (7, "HS-3"),
    ]
    assert rows[1][1]["citizen_name"] == "Bình\r\nLê"
    assert not rows[2][1].get("received_at")  # short row: the missing value reads as empty


def test_read_csv_header_only_has_no_rows(tmp_path):
    path = write_csv(tmp_path / "cases.csv", [["dossier_code", "office_code", "received_at"]])
    assert list(read_case_file(path).rows) == []


def test_read_xlsx_keeps_cell_types(tmp_path):
    path = tmp_path / "cases.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append([])
    sheet.append(["Mã hồ sơ", "Số điện thoại", "Mã đơn vị", "Ngày tiếp nhận", "Trả kết quả ngay"])
    sheet.append(["HS-1", 912345678, "QT", datetime(2026, 11, 23, 0, 10), True])
    sheet.append([None, None, None, None, None])
    sheet.append(["HS-2", "0233 3852 123", "QT", date(2026, 11, 16), None])
    book.save(path)
    rows = list(read_case_file(path).rows)
    assert rows == [
        (3, {"dossier_code": "HS-1", "phone": 912345678, "office_code": "QT",
             "received_at": datetime(2026, 11, 23, 0, 10), "immediate_result": True}),
        (5, {"dossier_code": "HS-2", "phone": "0233 3852 123", "office_code": "QT",
             "received_at": datetime(2026, 11, 16), "immediate_result": None}),
    ]  # fmt: skip


def _not_utf8(path: Path) -> None:
    path.write_bytes(
        b"dossier_code,citizen_name,office_code,received_at\n"
        b"HS-1,An,QT,16/11/2026\n"
        b"HS-2,Nguy\xe9n,QT,16/11/2026\n"
    )


def _zip_garbage(path: Path) -> None:
    path.write_bytes(b"PK\x03\x04 not really a workbook")


BAD_FILES = [
    ("missing.csv", None, "no such file"),
    ("empty.csv", lambda p: p.write_bytes(b""), "empty"),
    ("bom-only.csv", lambda p: p.write_bytes(b"\xef\xbb\xbf"), "empty"),
    ("latin1.csv", _not_utf8, "line 3: not UTF-8"),
    ("utf16.csv", lambda p: p.write_text("dossier_code\n", encoding="utf-16"), "line 1: not UTF-8"),
    ("old.xls", lambda p: p.write_bytes(b"\xd0\xcf\x11\xe0"), ".xls is not supported"),
    ("text.xlsx", lambda p: p.write_text("dossier_code,office_code\n"), "not a readable .xlsx"),
    ("zip.xlsx", _zip_garbage, "not a readable .xlsx"),
    ("no-received.csv", lambda p: p.write_text("dossier_code,office_code\nA,B\n"),
     "line 1: required column(s) missing: received_at"),
    ("two-phones.csv",
     lambda p: p.write_text("dossier_code,office_code,received_at,phone,Điện thoại\n"),
     "both mean 'phone'"),
]  # fmt: skip


@pytest.mark.parametrize(("name", "make", "message"), BAD_FILES, ids=[n for n, _, _ in BAD_FILES])
def test_unreadable_files(tmp_path, name, make, message):
    path = tmp_path / name
    if make:
        make(path)
    with pytest.raises(CaseFileError) as info:
        list(read_case_file(path).rows)
    assert str(path) in str(info.value)
    assert message in str(info.value)


def test_csv_error_in_a_row_names_the_line(tmp_path):
    path = tmp_path / "big.csv"
    path.write_text(
        "dossier_code,office_code,received_at\n"
        "HS-1,QT,16/11/2026\n"
        f'HS-2,"{"x" * (csv.field_size_limit() + 1)}",16/11/2026\n'
    )
    rows = read_case_file(path).rows
    assert next(rows)[0] == 2
    with pytest.raises(CaseFileError, match=r"big\.csv: line 3: "):
        next(rows)


def test_empty_xlsx_sheet(tmp_path):
    path = tmp_path / "empty.xlsx"
    openpyxl.Workbook().save(path)
    with pytest.raises(CaseFileError, match="empty"):
        read_case_file(path)


# --------------------------------------------------------------------------------------------
# import_records
# --------------------------------------------------------------------------------------------


def test_new_record_is_stored_with_every_value(session):
    summary = run(session, record(immediate_result="x", channel="BCCI"))
    assert summary.as_dict() == {
        "imported": 1,
        "updated": 0,
        "unchanged": 0,
        "rejected": [],
        "no_phone": 0,
    }
    case = stored(session)["HS-001"]
    assert case.citizen_name == "Nguyễn Văn An"
    assert (case.phone_raw, case.phone, case.phone_type) == ("0912 345 678", "+84912345678",
                                                              "mobile")  # fmt: skip
    assert (case.office.code, case.office.name) == ("QT-DONGHA", BASE["office_name"])
    assert (case.procedure_code, case.procedure_name) == ("1.004194", "Đăng ký thường trú")
    assert case.officer == "Võ Văn Hùng"
    assert (case.channel, case.immediate_result) == ("postal", True)
    assert case.received_at == datetime(2026, 11, 13, 9, 55, tzinfo=UTC)
    assert case.due_at == datetime(2026, 11, 19, 17, 0, tzinfo=UTC)
    assert case.returned_at == datetime(2026, 11, 18, 2, 43, tzinfo=UTC)
    assert case.created_at == case.updated_at == NOW


def test_reimport_changes_nothing(session):
    records = [record(dossier_code=f"HS-{n}", phone=phone)
               for n, phone in enumerate(["0912345678", "", "12345", "01662345678"])]  # fmt: skip
    first = run(session, *records)
    assert (first.imported, first.updated, first.unchanged, first.no_phone) == (4, 0, 0, 2)
    before = {code: (c.id, c.updated_at) for code, c in stored(session).items()}
    second = run(session, *records, now=LATER)
    assert second.as_dict() == {
        "imported": 0,
        "updated": 0,
        "unchanged": 4,
        "rejected": [],
        "no_phone": 2,
    }
    assert {code: (c.id, c.updated_at) for code, c in stored(session).items()} == before


def test_record_already_in_the_database_is_recognised(session):
    create_case(
        session,
        dossier_code="HS-001",
        office_code="QT-DONGHA",
        citizen_name="Nguyễn Văn An",
        phone_raw="0912 345 678",
        phone="+84912345678",
        procedure_code="1.004194",
        procedure_name="Đăng ký thường trú",
        officer="Võ Văn Hùng",
        received_at=local(2026, 11, 13, 16, 55),
        due_at=local(2026, 11, 20),
        returned_at=local(2026, 11, 18, 9, 43),
    )
    assert run(session, record()).unchanged == 1


CHANGES = [
    ("returned_at", "", "18/11/2026 09:43", "returned_at",
     None, datetime(2026, 11, 18, 2, 43, tzinfo=UTC)),
    ("returned_at", "18/11/2026 09:43", "", "returned_at",
     datetime(2026, 11, 18, 2, 43, tzinfo=UTC), None),
    ("citizen_name", "Nguyễn Văn An", "Nguyễn Văn Ân", "citizen_name",
     "Nguyễn Văn An", "Nguyễn Văn Ân"),
    ("phone", "0912345678", "01662345678", "phone", "+84912345678", "+84362345678"),
    ("phone", "0912345678", "", "phone_type", "mobile", "missing"),
    ("phone", "0912345678", "091 234 5678", "phone_raw", "0912345678", "091 234 5678"),
    ("procedure_code", "1.004194", "1.001193", "procedure_code", "1.004194", "1.001193"),
    ("procedure_name", "A", "B", "procedure_name", "A", "B"),
    ("officer", "Võ Văn Hùng", "", "officer", "Võ Văn Hùng", None),
    ("channel", "Trực tiếp", "Trực tuyến", "channel", "in_person", "online"),
    ("immediate_result", "", "có", "immediate_result", False, True),
    ("received_at", "13/11/2026 16:55", "13/11/2026 16:56", "received_at",
     datetime(2026, 11, 13, 9, 55, tzinfo=UTC), datetime(2026, 11, 13, 9, 56, tzinfo=UTC)),
    ("due_at", "20/11/2026", "21/11/2026", "due_at",
     datetime(2026, 11, 19, 17, tzinfo=UTC), datetime(2026, 11, 20, 17, tzinfo=UTC)),
]  # fmt: skip


@pytest.mark.parametrize(
    ("column", "old", "new", "attribute", "old_value", "new_value"),
    CHANGES,
    ids=[f"{c[0]}:{c[1]!r}->{c[2]!r}" for c in CHANGES],
)
def test_changed_record_is_updated(session, column, old, new, attribute, old_value, new_value):
    run(session, record(**{column: old}))
    case = stored(session)["HS-001"]
    case_id = case.id
    assert getattr(case, attribute) == old_value
    summary = run(session, record(**{column: new}), record(dossier_code="HS-002"), now=LATER)
    assert (summary.imported, summary.updated, summary.unchanged) == (1, 1, 0)
    case = stored(session)["HS-001"]
    assert (case.id, getattr(case, attribute)) == (case_id, new_value)
    assert (case.created_at, case.updated_at) == (NOW, LATER)
    assert session.scalar(select(func.count()).select_from(Case)) == 2


def test_moving_a_case_to_another_office_is_an_update(session):
    run(session, record())
    summary = run(session, record(office_code="QT-HAILANG", office_name="Hải Lăng"))
    assert summary.updated == 1
    assert stored(session)["HS-001"].office.code == "QT-HAILANG"


def test_offices_are_created_once_and_renamed(session):
    run(session, record(dossier_code="A", office_name=""), record(dossier_code="B"))
    office = session.scalar(select(Office).where(Office.code == "QT-DONGHA"))
    assert office.name == BASE["office_name"]
    summary = run(
        session,
        record(dossier_code="A", office_name="Đông Hà"),
        record(dossier_code="B", office_name=""),
    )
    assert summary.unchanged == 2  # the office's name is not part of the case
    session.expire_all()
    assert session.scalars(select(Office.name).where(Office.code == "QT-DONGHA")).all() == [
        "Đông Hà"
    ]


def test_rejected_records_are_reported_and_the_rest_stored(session):
    summary = run(
        session,
        record(dossier_code="A"),
        record(dossier_code="B", received_at="31/02/2026"),
        record(dossier_code="C", channel="fax"),
        record(dossier_code="D"),
    )
    assert (summary.imported, summary.updated, summary.unchanged) == (2, 0, 0)
    assert [(r.line, r.column) for r in summary.rejected] == [(3, "received_at"), (4, "channel")]
    assert sorted(stored(session)) == ["A", "D"]


def test_duplicate_dossier_code_in_one_input_is_rejected(session):
    summary = run(
        session,
        record(dossier_code="A", citizen_name="first"),
        record(dossier_code="B"),
        record(dossier_code=" A ", citizen_name="second"),
        record(dossier_code="A", citizen_name="third"),
    )
    assert summary.as_dict()["rejected"] == [
        {"line": 4, "column": "dossier_code", "reason": "dossier code already on line 2"},
        {"line": 5, "column": "dossier_code", "reason": "dossier code already on line 2"},
    ]
    assert summary.imported == 2
    assert stored(session)["A"].citizen_name == "first"


def test_duplicates_are_found_across_chunks(session, monkeypatch):
    monkeypatch.setattr(intake, "CHUNK_SIZE", 2)
    records = [record(dossier_code=code) for code in ["A", "B", "C", "D", "A", "E", "C"]]
    summary = run(session, *records)
    assert [(r.line, r.reason) for r in summary.rejected] == [
        (6, "dossier code already on line 2"),
        (8, "dossier code already on line 4"),
    ]
    assert summary.imported == 5
    assert sorted(stored(session)) == ["A", "B", "C", "D", "E"]


PHONES = [
    ("0912345678", "+84912345678", "mobile", False),
    ("01662345678", "+84362345678", "mobile", False),
    ("0166.234.5678", "+84362345678", "mobile", False),
    ("0128 234 5678", "+84782345678", "mobile", False),
    ("0233 3852 123", "+842333852123", "landline", False),
    ("(024) 3825 1234", "+842438251234", "landline", False),
    (912345678, "+84912345678", "mobile", False),
    ("1800 1090", "+8418001090", "other", True),
    ("12345", None, "invalid", True),
    ("", None, "missing", True),
    (None, None, "missing", True),
]


@pytest.mark.parametrize(
    ("raw", "e164", "kind", "no_phone"), PHONES, ids=[repr(p[0]) for p in PHONES]
)
def test_phone_stored_as_e164(session, raw, e164, kind, no_phone):
    summary = run(session, record(phone=raw))
    assert (summary.imported, summary.no_phone) == (1, int(no_phone))
    case = stored(session)["HS-001"]
    assert (case.phone, case.phone_type) == (e164, kind)


def test_no_phone_counts_rows_without_a_callable_number(session):
    phones = ["0912345678", "", "abc", "02333852123", "1900 1234", "01662345678", None]
    summary = run(session, *(record(dossier_code=f"HS-{i}", phone=p) for i, p in enumerate(phones)))
    assert (summary.imported, summary.no_phone) == (7, 4)


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
def test_column_limits_match_the_database(session, column, limit):
    table = Office.__table__ if column == "office_name" else Case.__table__
    db_column = {"phone": "phone_raw", "office_code": "code", "office_name": "name"}.get(
        column, column
    )
    if column == "office_code":
        table = Office.__table__
    assert table.c[db_column].type.length == limit

    at_limit = "Ự" * limit
    summary = run(session, record(**{column: at_limit}))
    assert (summary.imported, summary.rejected) == (1, [])
    assert session.scalar(select(table.c[db_column]).where(table.c[db_column] == at_limit))

    summary = run(session, record(**{"dossier_code": "HS-2", column: "Ự" * (limit + 1)}))
    assert summary.imported == 0
    assert [(r.line, r.column, r.reason) for r in summary.rejected] == [
        (2, column, f"longer than {limit} characters")
    ]


def test_nul_character_is_rejected_not_sent_to_the_database(session):
    summary = run(session, record(citizen_name="An\x00"), record(dossier_code="HS-2"))
    assert [(r.line, r.column) for r in summary.rejected] == [(2, "citizen_name")]
    assert sorted(stored(session)) == ["HS-2"]


def test_strict_import_raises_with_every_rejection_and_nothing_counted(session, monkeypatch):
    monkeypatch.setattr(intake, "CHUNK_SIZE", 2)
    records = [
        record(dossier_code="A"),
        record(dossier_code="B"),
        record(dossier_code="C", received_at=""),
        record(dossier_code="D"),
        record(dossier_code="A"),
        record(dossier_code="E", phone=""),
    ]
    with pytest.raises(StrictImportAborted) as info:
        run(session, *records, strict=True)
    assert info.value.summary.as_dict() == {
        "imported": 0,
        "updated": 0,
        "unchanged": 0,
        "rejected": [
            {"line": 4, "column": "received_at", "reason": "required value is missing"},
            {"line": 6, "column": "dossier_code", "reason": "dossier code already on line 2"},
        ],
        "no_phone": 0,
    }


def test_strict_import_without_rejections_stores_everything(session):
    summary = run(session, record(dossier_code="A"), record(dossier_code="B"), strict=True)
    assert (summary.imported, summary.rejected) == (2, [])
    assert sorted(stored(session)) == ["A", "B"]


def test_progress_adds_up_to_the_number_of_records(session):
    calls: list[int] = []
    rows = numbered(*(record(dossier_code=f"HS-{i:05d}") for i in range(CHUNK_SIZE + 1)))
    summary = import_records(session, rows, tz=TZ, now=NOW, on_progress=calls.append)
    assert summary.imported == CHUNK_SIZE + 1
    assert calls == [CHUNK_SIZE, 1]


def test_records_from_a_spreadsheet(session):
    rows = [
        (2, {"dossier_code": 123456.0, "office_code": "QT", "phone": 1662345678,
             "received_at": datetime(2026, 11, 20, 8, 0),
             "returned_at": datetime(2026, 11, 23, 0, 10),
             "immediate_result": True, "channel": "Bưu chính"}),
    ]  # fmt: skip
    summary = import_records(session, rows, tz=TZ, now=NOW)
    assert summary.imported == 1
    case = stored(session)["123456"]
    assert case.phone == "+84362345678"
    assert case.received_at == datetime(2026, 11, 20, 1, 0, tzinfo=UTC)
    assert case.returned_at == datetime(2026, 11, 22, 17, 10, tzinfo=UTC)
    assert (case.immediate_result, case.channel) == (True, "postal")


def test_file_import_in_a_helper_process_matches_the_in_process_import(session, tmp_path):
    from cati.services.intake import import_case_file
    from cati.synthetic import generate_cases, write_cases_csv

    path = tmp_path / "week.csv"
    write_cases_csv(path, generate_cases("2026-W47", 2 * CHUNK_SIZE + 17, seed=3))
    with session.begin_nested() as nested:
        expected = import_records(session, read_case_file(path).rows, tz=TZ, now=NOW)
        nested.rollback()
    calls: list[int] = []
    summary = import_case_file(
        session, read_case_file(path), tz=TZ, now=NOW, on_progress=calls.append
    )
    assert summary == expected
    assert summary.imported == 2 * CHUNK_SIZE + 17
    assert sum(calls) == 2 * CHUNK_SIZE + 17
    assert session.scalar(select(func.count()).select_from(Case)) == summary.imported


def test_file_import_reports_a_broken_file_from_the_helper_process(session, tmp_path):
    from cati.services.intake import import_case_file

    path = tmp_path / "broken.csv"
    # A runaway quote swallows the rest of the file into one field, past csv's size limit.
    runaway = "\n".join(f"HS-{i},QT,16/11/2026" for i in range(3, 20_000))
    path.write_text(
        f'dossier_code,office_code,received_at\nHS-1,QT,16/11/2026\nHS-2,QT,"{runaway}\n',
        encoding="utf-8",
    )
    with pytest.raises(CaseFileError, match=r"broken\.csv: line 3"):
        import_case_file(session, read_case_file(path), tz=TZ, now=NOW)
