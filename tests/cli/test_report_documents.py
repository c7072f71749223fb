"""`cati report --format text|pdf`: the summary for a terminal, the A4 document to send
upward, and where they refuse to write."""

from __future__ import annotations

import io
import os
import subprocess
import sys

import pytest
from pypdf import PdfReader

from tests.documents.conftest import CAM_LO, DONG_HA, HAI_LANG, survey_round  # noqa: F401

NBSP = "\u00a0"


def flat(text: str) -> str:
    """Text with its runs of white space (line breaks, no-break spaces) made one space."""
    return " ".join(text.replace(NBSP, " ").split())


def test_text_summary_in_vietnamese(cli, survey_round):  # noqa: F811
    result = cli("report", str(survey_round.id), "--format", "text")
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert f"Đợt khảo sát số {survey_round.id}, tuần 2026-W47" in text
    assert "hồ sơ trả kết quả từ 16/11/2026 đến 22/11/2026" in text
    assert "Tỷ lệ trả lời" in text and "100,0 %" in text and "AAPOR RR1" in text
    assert "7,69 / 9" in text and "hài lòng (7–9 điểm): 84,6 %" in text
    lines = text.splitlines()
    ranked = [line for line in lines if any(o in line for o in (DONG_HA, CAM_LO, HAI_LANG))]
    # the offices ranked: Cam Lộ, Đông Hà, then Hải Lăng unranked with starred figures;
    # then Đông Hà once more, in the warnings
    assert [line.split()[0] for line in ranked[:3]] == ["1", "2", "–"]
    assert CAM_LO in ranked[0] and DONG_HA in ranked[1] and "9,00*" in ranked[2]
    assert "▲ 16,7 %" in ranked[1]
    assert f"▲ {DONG_HA}: Nộp tiền không có biên lai 16,7 % (6 câu trả lời)" in text
    assert NBSP not in text  # a terminal gets plain spaces


def test_text_summary_in_english(cli, survey_round):  # noqa: F811
    result = cli("report", str(survey_round.id), "--format", "text", "--language", "en")
    assert result.exit_code == 0, result.output
    assert f"Survey round {survey_round.id}, week 2026-W47" in result.stdout
    assert "7.69 / 9" in result.stdout and "satisfied (7–9): 84.6%" in result.stdout
    assert "from 16 Nov 2026 to 22 Nov 2026" in result.stdout


def test_text_across_weeks(cli, survey_round):  # noqa: F811
    result = cli("report", "--weeks", "2026-W46..2026-W47", "--format", "text")
    assert result.exit_code == 0, result.output
    line = next(line for line in result.stdout.splitlines() if "2026-W47 (" in line)
    assert "(đang gọi)" in line and "100,0 %" in line and "7,69" in line
    empty = cli("report", "--weeks", "2026-W40", "--format", "text")
    assert empty.exit_code == 0 and "Không có đợt khảo sát nào" in empty.stdout


def test_pdf_is_a_pdf_holding_the_offices_and_the_headline_figures(
    cli,
    survey_round,  # noqa: F811
    tmp_path,
):
    path = tmp_path / "round.pdf"
    result = cli("report", str(survey_round.id), "--format", "pdf", "--output", str(path))
    assert result.exit_code == 0, result.output
    content = path.read_bytes()
    assert content.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(content))
    assert reader.pages[0].mediabox.width == pytest.approx(595, abs=1)  # A4: 210 mm
    assert reader.pages[0].mediabox.height == pytest.approx(842, abs=1)  # 297 mm
    text = flat(" ".join(page.extract_text() for page in reader.pages))
    for office in (DONG_HA, CAM_LO, HAI_LANG):
        assert office in text
    assert "SỞ NỘI VỤ" in text and f"Đợt khảo sát số {survey_round.id}, tuần 2026-W47" in text
    assert "16/11/2026" in text and "22/11/2026" in text
    # sampled, completes, RR1, the overall mean and its satisfied share, paid without receipt
    for figure in ("13", "100,0 %", "7,69 / 9", "84,6 %", "15,4 %", "16,7 %"):
        assert figure in text, figure
    assert "Response Rate 1" in text and "Cooperation Rate 1" in text
    assert "CATI_WARN_PAID_WITHOUT_RECEIPT" in text and "CATI_REPORT_MIN_N" in text


def test_pdf_across_weeks(cli, survey_round, tmp_path):  # noqa: F811
    path = tmp_path / "weeks.pdf"
    result = cli("report", "--weeks", "2026-W46..2026-W47", "--format", "pdf", "-o", str(path))
    assert result.exit_code == 0, result.output
    text = flat(" ".join(p.extract_text() for p in PdfReader(path).pages))
    assert "Các tuần 2026-W46 đến 2026-W47" in text and "7,69" in text


def test_pdf_without_output_is_one_line_and_exit_2(cli, survey_round, tmp_path):  # noqa: F811
    for args in ([str(survey_round.id)], ["--weeks", "2026-W47"]):
        result = cli("report", *args, "--format", "pdf")
        assert result.exit_code == 2
        assert result.stderr.count("\n") == 1 and "--output" in result.stderr
        assert result.stdout == ""


def test_pdf_into_a_missing_folder_is_one_line_and_exit_2(cli, survey_round, tmp_path):  # noqa: F811
    target = tmp_path / "nowhere" / "r.pdf"
    result = cli("report", str(survey_round.id), "--format", "pdf", "--output", str(target))
    assert result.exit_code == 2 and "no such folder" in result.stderr
    assert not target.parent.exists()


def test_pdf_to_a_terminal_is_one_line_and_exit_2(tmp_path):
    """Run as a process whose standard output is a pseudo-terminal: refused before any
    database is opened."""
    import pty

    env = {**os.environ, "CATI_DATABASE_URL": f"sqlite:///{tmp_path / 'cati.db'}"}
    leader, follower = pty.openpty()
    try:
        result = subprocess.run(
            [sys.executable, "-c", "from cati.cli import main; main()",
             "report", "1", "--format", "pdf"],
            stdout=follower, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
            cwd=tmp_path, env=env, timeout=60,
        )  # fmt: skip
    finally:
        os.close(follower)
        os.close(leader)
    assert result.returncode == 2, result.stderr
    message = result.stderr.decode()
    assert message.count("\n") == 1 and "--output" in message
    assert not (tmp_path / "cati.db").exists()
