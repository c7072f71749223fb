"""`cati kiosks`: add, list, disable, the QR poster, accepting a flagged rating."""

from __future__ import annotations

import json
import re

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
