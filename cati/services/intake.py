"""Case intake: read dossier files and upsert their records by dossier code."""

from __future__ import annotations

import csv
import gc
import io
import multiprocessing
import traceback
import zipfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from multiprocessing.connection import Connection
from operator import itemgetter
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from cati.db import insert_rows
from cati.domain.intake import (
    CaseRecord,
    HeaderError,
    Rejection,
    map_headers,
    parse_record,
)
from cati.models import Case, Office

CHUNK_SIZE = 5000
# Limits of an .xlsx file, checked before its sheet is parsed: a few megabytes of zip can hold
# gigabytes of XML (CATI_IMPORT_MAX_XLSX_MB, CATI_IMPORT_MAX_ROWS).
MAX_XLSX_MB = 200
MAX_XLSX_ROWS = 1_000_000
_COMPARED = (
    "citizen_name",
    "phone_raw",
    "phone",
    "phone_type",
    "office_id",
    "procedure_code",
    "procedure_name",
    "officer",
    "channel",
    "immediate_result",
    "received_at",
    "due_at",
    "returned_at",
)


class CaseFileError(Exception):
    """The file as a whole cannot be read (format, encoding, header)."""


class StrictImportAborted(Exception):
    """A strict import met rejections: the caller's transaction must be rolled back."""

    def __init__(self, summary: ImportSummary) -> None:
        super().__init__(f"{len(summary.rejected)} rejection(s); nothing stored")
        self.summary = summary


@dataclass
class ImportSummary:
    imported: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    no_phone: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "imported": self.imported,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": [r.as_dict() for r in self.rejected],
            "no_phone": self.no_phone,
        }


@dataclass
class CaseFile:
    rows: Iterator[tuple[int, dict[str, Any]]]
    total_lines: int | None


def read_case_file(
    path: str | Path, *, max_xlsx_mb: int = MAX_XLSX_MB, max_rows: int = MAX_XLSX_ROWS
) -> CaseFile:
    """Open a CSV (UTF-8, optional BOM, comma or semicolon) or .xlsx file of dossiers.

    An .xlsx file whose parts add up to more than `max_xlsx_mb` megabytes uncompressed, or
    whose first sheet goes past row `max_rows`, is refused (`CaseFileError`).
    """
    path = Path(path)
    if not path.is_file():
        raise CaseFileError(f"{path}: no such file")
    suffix = path.suffix.casefold()
    if suffix == ".xlsx":
        return _read_xlsx(path, max_xlsx_mb * 1024 * 1024, max_rows)
    if suffix in (".xls", ".ods"):
        raise CaseFileError(f"{path}: {suffix} is not supported; save the sheet as .xlsx or CSV")
    return _read_csv(path)


def _read_csv(path: Path) -> CaseFile:
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise CaseFileError(
            f"{path}: line {line}: not UTF-8 text (export the file as CSV UTF-8)"
        ) from None
    first_line = text.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=first_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        raise CaseFileError(f"{path}: the file is empty") from None
    except csv.Error as exc:
        raise CaseFileError(f"{path}: line 1: {exc}") from None
    mapping = _header_mapping(path, header)

    columns = tuple(mapping.values())
    pick = itemgetter(*mapping)
    width = max(mapping) + 1

    def rows() -> Iterator[tuple[int, dict[str, Any]]]:
        line = reader.line_num + 1
        try:
            for values in reader:
                if len(values) < width:
                    values += [""] * (width - len(values))
                if any(values):  # map_headers guarantees several columns: pick gives a tuple
                    yield line, dict(zip(columns, pick(values), strict=True))
                line = reader.line_num + 1
        except csv.Error as exc:
            raise CaseFileError(f"{path}: line {line}: {exc}") from None

    return CaseFile(rows(), text.count("\n"))


def _check_xlsx_size(path: Path, max_bytes: int) -> None:
    """Refuse a workbook whose parts declare more than `max_bytes` uncompressed, before any
    is read. A part cannot yield more than it declares: zipfile stops at the declared size
    and fails its CRC check, so a lying header gives an unreadable file, not a larger one."""
    try:
        with zipfile.ZipFile(path) as archive:
            declared = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise CaseFileError(f"{path}: not a readable .xlsx workbook ({exc})") from None
    if declared > max_bytes:
        raise CaseFileError(
            f"{path}: {declared / 1024 / 1024:,.1f} MB once uncompressed, beyond the limit of "
            f"{max_bytes // 1024 // 1024} MB (CATI_IMPORT_MAX_XLSX_MB); split the file or "
            "save it as CSV"
        )


def _too_many_rows(path: Path, max_rows: int, declared: int | None = None) -> CaseFileError:
    if declared is not None:
        return CaseFileError(
            f"{path}: the sheet declares {declared:,} rows, more than the limit of "
            f"{max_rows:,} (CATI_IMPORT_MAX_ROWS); split the file"
        )
    return CaseFileError(
        f"{path}: the sheet goes on past row {max_rows:,}, the limit (CATI_IMPORT_MAX_ROWS); "
        "split the file"
    )


def _read_xlsx(path: Path, max_bytes: int, max_rows: int) -> CaseFile:
    import openpyxl  # imported here: only spreadsheet imports pay for it

    _check_xlsx_size(path, max_bytes)
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
        sheet = book.worksheets[0]
        # The declared dimension, read from the start of the sheet: a cheap first check. It
        # can lie or be absent, so the rows are counted again while they are read.
        declared_rows = sheet.max_row
        # Then forget it: openpyxl pads every row to the declared width and fills gaps up to
        # the declared height, which a small file can make huge.
        sheet.reset_dimensions()
    except Exception as exc:  # openpyxl, zipfile and XML parsers raise many kinds
        raise CaseFileError(f"{path}: not a readable .xlsx workbook ({exc})") from None
    if declared_rows is not None and declared_rows > max_rows:
        book.close()
        raise _too_many_rows(path, max_rows, declared_rows)

    def unreadable(line: int, exc: Exception) -> CaseFileError:
        return CaseFileError(f"{path}: row {line}: the sheet cannot be read ({exc})")

    line = 0
    try:
        for line, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            if line > max_rows:
                raise _too_many_rows(path, max_rows)
            if any(v not in (None, "") for v in values):
                mapping = _header_mapping(path, values, line)
                break
        else:
            raise CaseFileError(f"{path}: the first sheet is empty")
    except CaseFileError:
        book.close()
        raise
    except Exception as exc:
        book.close()
        raise unreadable(line + 1, exc) from None
    header_line = line
    width = max(mapping) + 1

    def rows() -> Iterator[tuple[int, dict[str, Any]]]:
        line = header_line
        try:
            # Only the columns up to the last known one: a cell far to the right costs nothing.
            for line, values in enumerate(
                sheet.iter_rows(min_row=header_line + 1, max_col=width, values_only=True),
                start=header_line + 1,
            ):
                if line > max_rows:
                    raise _too_many_rows(path, max_rows)
                if any(v not in (None, "") for v in values):
                    yield line, {col: values[i] for i, col in mapping.items() if i < len(values)}
        except CaseFileError:
            raise
        except Exception as exc:
            raise unreadable(line + 1, exc) from None
        finally:
            book.close()

    return CaseFile(rows(), declared_rows)


def _header_mapping(path: Path, header: Iterable[Any], line: int = 1) -> dict[int, str]:
    try:
        return map_headers(header)
    except HeaderError as exc:
        raise CaseFileError(f"{path}: line {line}: {exc}") from None


def import_records(
    session: Session,
    rows: Iterable[tuple[int, Mapping[str, Any]]],
    *,
    tz: tzinfo,
    now: datetime,
    strict: bool = False,
    on_progress: Callable[[int], None] | None = None,
) -> ImportSummary:
    """Validate and upsert dossier records (line number, raw record) by dossier code.

    1. Each record is parsed; a bad one, or one whose dossier code already appeared earlier in
       this input (even on a rejected row), is rejected with its line, column and reason.
    2. Valid records are written in chunks: new codes inserted, changed ones updated, identical
       ones counted as unchanged.
    3. With `strict`, writing stops at the first rejection and the rest is still checked, so
       that every rejection is reported; then `StrictImportAborted` is raised, carrying a
       summary that stores nothing, for the caller's transaction to roll back.
    """
    with _cyclic_gc_paused():
        batches = _batched(validate_records(rows, tz, now))
        return _write_validated(session, batches, now=now, strict=strict, on_progress=on_progress)


def import_case_file(
    session: Session,
    case_file: CaseFile,
    *,
    tz: tzinfo,
    now: datetime,
    strict: bool = False,
    on_progress: Callable[[int], None] | None = None,
) -> ImportSummary:
    """`import_records` for a file, with reading and validation in a forked helper process.

    Parsing and writing each take about half of a large import; on two cores they overlap.
    Where `fork` is not available the work stays in this process.
    """
    if "fork" not in multiprocessing.get_all_start_methods():
        return import_records(
            session, case_file.rows, tz=tz, now=now, strict=strict, on_progress=on_progress
        )
    receiver, sender = multiprocessing.get_context("fork").Pipe(duplex=False)
    helper = multiprocessing.get_context("fork").Process(
        target=_validate_in_helper, args=(case_file, tz, now, sender), daemon=True
    )
    with _cyclic_gc_paused():
        helper.start()
        sender.close()
        try:
            return _write_validated(
                session, _received(receiver), now=now, strict=strict, on_progress=on_progress
            )
        finally:
            receiver.close()
            helper.join(timeout=5)
            if helper.is_alive():
                helper.kill()


def _validate_in_helper(case_file: CaseFile, tz: tzinfo, now: datetime, sender: Connection) -> None:
    # A forked copy of the importer: it never touches the parent's database connections, and
    # leaves through os._exit (multiprocessing), so no finalizer of theirs runs here.
    gc.disable()
    try:
        for batch in _batched(validate_records(case_file.rows, tz, now)):
            # Plain tuples cross the pipe about ten times faster than named ones.
            sender.send(
                ("batch", [(line, r if isinstance(r, list) else tuple(r)) for line, r in batch])
            )
        sender.send(("done", None))
    except CaseFileError as exc:
        sender.send(("file-error", str(exc)))
    except BaseException:
        sender.send(("crash", traceback.format_exc()))
    finally:
        sender.close()


def _received(receiver: Connection) -> Iterator[list[tuple[int, CaseRecord | list[Rejection]]]]:
    while True:
        try:
            kind, payload = receiver.recv()
        except EOFError:
            raise RuntimeError("the validating helper process died") from None
        if kind == "batch":
            yield [(line, r if isinstance(r, list) else CaseRecord._make(r)) for line, r in payload]
        elif kind == "done":
            return
        elif kind == "file-error":
            raise CaseFileError(payload)
        else:
            raise RuntimeError(f"the validating helper process failed:\n{payload}")


def validate_records(
    rows: Iterable[tuple[int, Mapping[str, Any]]], tz: tzinfo, now: datetime | None = None
) -> Iterator[tuple[int, CaseRecord | list[Rejection]]]:
    """Parse each record; a dossier code seen earlier in the input is a rejection, and so is a
    result returned after `now`."""
    seen: dict[str, int] = {}
    for line, raw in rows:
        code = raw.get("dossier_code")
        code = code.strip() if type(code) is str else str(code or "").strip()
        if code and code in seen:
            yield (
                line,
                [Rejection(line, "dossier_code", f"dossier code already on line {seen[code]}")],
            )
            continue
        if code:
            seen[code] = line
        yield line, parse_record(raw, line, tz, now)


def _batched(items: Iterable[Any], size: int = CHUNK_SIZE) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


@contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """Pause the cycle collector: a bulk import allocates millions of short-lived, acyclic
    objects (freed by reference counting anyway), and its passes would cost a third of the
    import."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _write_validated(
    session: Session,
    batches: Iterable[list[tuple[int, CaseRecord | list[Rejection]]]],
    *,
    now: datetime,
    strict: bool,
    on_progress: Callable[[int], None] | None,
) -> ImportSummary:
    summary = ImportSummary()
    offices = {
        code: (oid, name)
        for oid, code, name in session.execute(select(Office.id, Office.code, Office.name))
    }
    for batch in batches:
        records = []
        for _line, result in batch:
            if isinstance(result, list):
                summary.rejected.extend(result)
            else:
                records.append(result)
        _write_chunk(session, records, offices, now, summary, strict)
        if on_progress:
            on_progress(len(batch))
    if strict and summary.rejected:
        raise StrictImportAborted(ImportSummary(rejected=summary.rejected))
    return summary


_STORED = ("dossier_code", *_COMPARED)


def _write_chunk(
    session: Session,
    records: list[CaseRecord],
    offices: dict[str, tuple[int, str | None]],
    now: datetime,
    summary: ImportSummary,
    strict: bool,
) -> None:
    summary.no_phone += sum(1 for r in records if not r.has_callable_phone)
    if not records or (strict and summary.rejected):
        return
    existing = {
        row[1]: row
        for row in session.execute(
            select(Case.id, *(getattr(Case, c) for c in _STORED)).where(
                Case.dossier_code.in_([r.dossier_code for r in records])
            )
        )
    }
    inserts: list[tuple] = []
    updates: list[dict[str, Any]] = []
    for record in records:
        values = _stored_values(session, record, offices)
        old = existing.get(record.dossier_code)
        if old is None:
            inserts.append((*values, now, now))
        elif tuple(old[1:]) != values:
            updates.append(
                {**dict(zip(_STORED, values, strict=True)), "id": old[0], "updated_at": now}
            )
        else:
            summary.unchanged += 1
    insert_rows(
        session.connection(), Case.__table__, (*_STORED, "created_at", "updated_at"), inserts
    )
    if updates:
        session.execute(update(Case), updates)
    summary.imported += len(inserts)
    summary.updated += len(updates)


def _stored_values(
    session: Session, record: CaseRecord, offices: dict[str, tuple[int, str | None]]
) -> tuple:
    """The record as the values of the `_STORED` columns, creating or renaming its office."""
    office = offices.get(record.office_code)
    if office is None:
        office_id = session.scalar(
            insert(Office)
            .values(code=record.office_code, name=record.office_name)
            .returning(Office.id)
        )
        offices[record.office_code] = (office_id, record.office_name)
    else:
        office_id, name = office
        if record.office_name and record.office_name != name:
            session.execute(
                update(Office).where(Office.id == office_id).values(name=record.office_name)
            )
            offices[record.office_code] = (office_id, record.office_name)
    return (
        record.dossier_code,
        record.citizen_name,
        record.phone_raw,
        record.phone,
        record.phone_type.value,
        office_id,
        record.procedure_code,
        record.procedure_name,
        record.officer,
        record.channel.value,
        record.immediate_result,
        record.received_at,
        record.due_at,
        record.returned_at,
    )
