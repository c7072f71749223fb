"""`cati rounds sample --mode web` and `cati rounds links` in csv, json and pdf."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import re

import pytest

from cati.config import Settings, SettingsError
from tests.factories import create_case, create_office


@pytest.fixture
def web_round(cli, session):
    create_office(session, "DH", "Bộ phận một cửa huyện Đông Hà")
    for _ in range(4):
        create_case(session)
    result = cli("rounds", "sample", "--week", "2026-W47", "--rate", "1", "--mode", "web",
                 "--json")  # fmt: skip
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert (data["mode"], data["then_mode"], data["sampled"]) == ("web", "ivr", 4)
    return data


def test_links_as_csv_and_json(cli, web_round):
    rows = json.loads(cli("rounds", "links", str(web_round["id"]), "--format", "json").stdout)
    keys = {"dossier_code", "office_code", "url"}
    assert len(rows) == 4 and all(set(row) == keys for row in rows)
    assert {row["dossier_code"] for row in rows} == set(web_round["members"])
    assert all(re.fullmatch(r"http://127\.0\.0\.1:5000/s/[0-9A-Za-z]{23}", r["url"]) for r in rows)
    text = cli("rounds", "links", str(web_round["id"])).stdout
    parsed = list(csv.DictReader(io.StringIO(text)))
    assert [dict(r) for r in parsed] == rows
    again = json.loads(cli("rounds", "links", str(web_round["id"]), "--format", "json").stdout)
    assert again == rows  # derived again, the same every time


def test_links_to_a_file(cli, web_round, tmp_path):
    out = tmp_path / "links.json"
    result = cli("rounds", "links", str(web_round["id"]), "--format", "json", "--output", str(out))
    assert result.exit_code == 0 and len(json.loads(out.read_text())) == 4


def test_links_as_pdf_slips(cli, web_round, tmp_path):
    out = tmp_path / "slips.pdf"
    result = cli("rounds", "links", str(web_round["id"]), "--format", "pdf", "--output", str(out))
    assert result.exit_code == 0, result.output
    data = out.read_bytes()
    assert data.startswith(b"%PDF") and len(data) > 2000


def test_slips_say_what_the_survey_is_without_a_phone_number(session, runtime, web_round):
    from cati.models import Round
    from cati.services.slips import slips_html
    from cati.services.web_links import list_links

    settings = dataclasses.replace(runtime.settings, hotline="1900 1234")
    round_ = session.get(Round, web_round["id"])
    links = list_links(session, round_, settings.secret_key, settings.public_url)
    html = slips_html(links, settings, valid_until=round_.calling_ends_at)
    assert html.count('class="slip"') == 4
    assert "tự nguyện" in html and "Bộ phận một cửa huyện Đông Hà" in html
    assert "1900 1234" in html and "data:image/svg+xml;base64," in html
    assert all(link.url in html for link in links)
    assert "+8491" not in html and "091" not in html  # no member's phone number


def test_links_of_a_phone_round_or_with_another_key_are_refused(cli, session, runtime, web_round):
    result = cli("rounds", "links", "999")
    assert result.exit_code == 2
    other = dataclasses.replace(runtime.settings, secret_key="another-key-0123456789")
    from click.testing import CliRunner

    from cati.cli import main

    changed = dataclasses.replace(runtime, settings=other)
    result = CliRunner().invoke(main, ["rounds", "links", str(web_round["id"])], obj=changed)
    assert result.exit_code == 2 and "CATI_SECRET_KEY" in result.output


def test_an_ivr_round_has_no_links(cli, session):
    create_case(session)
    data = json.loads(cli("rounds", "sample", "--week", "2026-W47", "--json").stdout)
    result = cli("rounds", "links", str(data["id"]))
    assert result.exit_code == 2 and "only web rounds have links" in result.output


def test_settings_of_web_mode():
    base = {"CATI_DATABASE_URL": "sqlite:///x.db"}
    web = {"CATI_SAMPLING_MODE": "web", "CATI_WEB_THEN": "interviewer", "CATI_WEB_DAYS": "5",
           "CATI_HOTLINE": "1900 1234"}  # fmt: skip
    settings = Settings.from_env(base | web)
    assert (settings.sampling_mode, settings.web_then, settings.web_days, settings.hotline) == (
        "web", "interviewer", 5, "1900 1234")  # fmt: skip
    assert (Settings.from_env(base).web_days, Settings.from_env(base).web_then) == (3, "ivr")
    for name, value in (("CATI_WEB_THEN", "web"), ("CATI_WEB_DAYS", "-1"), ("CATI_HOTLINE", "x")):
        with pytest.raises(SettingsError, match=name):
            Settings.from_env(base | {name: value})
