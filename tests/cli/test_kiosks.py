"""`cati kiosks`: add, list, disable, the QR poster, accepting a flagged rating."""

from __future__ import annotations

import json
import re
from datetime import timedelta

from cati.domain.web_links import token_hash
from cati.models import CounterRating, Kiosk, OfficeQr
from tests.conftest import NOW
from tests.factories import create_office


def test_add_prints_the_url_and_keeps_only_a_hash(cli, session):
    create_office(session, "DH", "Bộ phận một cửa Đông Hà")
    result = cli("kiosks", "add", "DH", "--name", "Quầy 2", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert set(data) == {"id", "office_code", "url"} and data["office_code"] == "DH"
    match = re.fullmatch(r"http://127\.0\.0\.1:5000/k/([0-9A-Za-z]{23})", data["url"])
    assert match
    kiosk = session.get(Kiosk, data["id"])
    assert kiosk.token_hash == token_hash(match.group(1)) and kiosk.name == "Quầy 2"
    text = cli("kiosks", "add", "DH").stdout
    assert re.fullmatch(r"kiosk \d+ of DH: http://\S+/k/[0-9A-Za-z]{23}\n", text)


def test_add_to_an_unknown_office_says_so(cli, session):
    result = cli("kiosks", "add", "NOPE")
    assert result.exit_code == 2 and "no office with code 'NOPE'" in result.output
    assert session.query(Kiosk).count() == 0


def test_list_and_disable(cli, session):
    create_office(session, "DH")
    kiosk_id = json.loads(cli("kiosks", "add", "DH", "--json").stdout)["id"]
    rows = json.loads(cli("kiosks", "list", "--json").stdout)
    assert [(r["id"], r["office_code"], r["active"], r["ratings"]) for r in rows] == [
        (kiosk_id, "DH", True, 0)
    ]
    assert cli("kiosks", "disable", str(kiosk_id)).exit_code == 0
    assert json.loads(cli("kiosks", "list", "--json").stdout)[0]["active"] is False
    assert "disabled" in cli("kiosks", "list").stdout
    missing = cli("kiosks", "disable", "999")
    assert missing.exit_code == 2 and "no kiosk 999" in missing.output


def test_poster_is_an_a4_pdf_with_the_office_qr_code(cli, session, tmp_path):
    from cati.services.poster import poster_html

    create_office(session, "DH", "Bộ phận một cửa Đông Hà")
    out = tmp_path / "poster.pdf"
    result = cli("kiosks", "poster", "DH", "--output", str(out))
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"%PDF")
    url = re.search(r"http://\S+/q/([0-9A-Za-z]{23})", result.stdout)
    qr = session.query(OfficeQr).one()
    assert qr.token_hash == token_hash(url.group(1))
    again = cli("kiosks", "poster", "DH", "--output", str(tmp_path / "again.pdf")).stdout
    assert url.group(0) in again  # the same code on every poster of the office
    html = poster_html("Bộ phận một cửa Đông Hà", url.group(0), "Sở Nội vụ")
    assert "tự nguyện và ẩn danh" in html and "không cán bộ nào" in html
    assert "Bộ phận một cửa Đông Hà" in html


def test_accept_a_flagged_rating(cli, session):
    office = create_office(session, "DH")
    rating = CounterRating(office_id=office.id, mode="qr", flow="mscore", language="vi",
                           started_at=NOW, flags="burst")  # fmt: skip
    session.add(rating)
    session.flush()
    assert json.loads(cli("kiosks", "flagged", "--json").stdout)[0]["flags"] == ["burst"]
    result = cli("kiosks", "accept", str(rating.id), "--by", "lan")
    assert result.exit_code == 0, result.output
    session.refresh(rating)
    assert rating.accepted_by == "lan"
    assert json.loads(cli("kiosks", "flagged", "--json").stdout) == []
    assert cli("kiosks", "accept", "999").exit_code == 2


def test_report_weeks_gains_self_selected_apart_from_the_rates(cli, session, runtime):
    from cati.services.counter import add_kiosk, answer_rating, start_rating
    from cati.services.flows import find_flow

    flow = find_flow("mscore", runtime.settings.flows_dir)
    office = create_office(session, "DH")
    kiosk, _ = add_kiosk(session, "DH", None, NOW)
    at = NOW.replace(hour=3)  # 10:00 local, a weekday of 2026-W50
    scores = ["9", "8", "2"]
    for i, score in enumerate(scores):
        when = at + timedelta(minutes=30 * i)
        rating = start_rating(session, flow, office_id=office.id, kiosk_id=kiosk.id,
                              mode="kiosk", language="vi", now=when)  # fmt: skip
        answer_rating(session, flow, rating, question_id="staff_attitude", value=score,
                      text=None, now=rating.started_at, settings=runtime.settings)  # fmt: skip
    night = start_rating(session, flow, office_id=office.id, kiosk_id=None, mode="qr",
                         language="vi", now=NOW.replace(hour=15))  # 22:00 local  # fmt: skip
    answer_rating(session, flow, night, question_id="staff_attitude", value="9", text=None,
                  now=night.started_at, settings=runtime.settings)  # fmt: skip
    week = NOW.astimezone(runtime.settings.timezone).strftime("%G-W%V")
    result = cli("report", "--weeks", f"{week}..{week}", "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    rows = {(r["office_code"], r["mode"]): r for r in data["self_selected"]}
    kiosk_row, qr_row = rows[("DH", "kiosk")], rows[("DH", "qr")]
    assert (kiosk_row["n"], kiosk_row["flagged"]) == (3, 0)
    staff = kiosk_row["questions"]["staff_attitude"]
    assert staff["n"] == 3 and staff["satisfied"] == 2 and staff["satisfied_from"] == 7
    assert staff["mean"] == round(19 / 3, 4)
    assert "consent" not in kiosk_row["questions"]
    assert (qr_row["n"], qr_row["flagged"]) == (0, 1)  # outside opening hours: left out
    assert cli("kiosks", "accept", str(night.id)).exit_code == 0
    again = json.loads(cli("report", "--weeks", f"{week}..{week}", "--format", "json").stdout)
    qr_row = {(r["office_code"], r["mode"]): r for r in again["self_selected"]}[("DH", "qr")]
    assert (qr_row["n"], qr_row["accepted"]) == (1, 1)
    assert "self_selected" not in json.dumps(again["rounds"])
