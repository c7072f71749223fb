"""`cati followups list|show|update`, `cati offices set-email`, `cati users add --role office`."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from cati.models import FollowUp, Office, User
from cati.services import users as users_service
from cati.services.flows import load_flows
from cati.services.follow_ups import raise_for_answer
from tests.conftest import NOW
from tests.factories import create_member, create_office, create_round


@pytest.fixture
def raised(session, settings):
    """Two follow-ups: DH's (paid without a receipt) and HL's (a low score)."""
    mscore = load_flows(settings.flows_dir)["mscore"]
    round_ = create_round(session)
    dh = create_member(session, round_, office_code="DH")
    hl = create_member(session, round_, office_code="HL")
    first = raise_for_answer(session, mscore, dh.id, "paid_without_receipt", "1", NOW)
    second = raise_for_answer(session, mscore, hl.id, "overall", "2", NOW)
    session.flush()
    return first, second


def test_list_json(cli, raised, session):
    result = cli("followups", "list", "--json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert [row["id"] for row in rows] == list(raised)
    assert {"id", "dossier_code", "office_code", "reasons", "status", "raised_at", "due_at",
            "contact_allowed"} <= set(rows[0])  # fmt: skip
    assert rows[0]["office_code"] == "DH" and rows[0]["reasons"] == ["paid_without_receipt"]
    assert rows[0]["status"] == "new" and rows[0]["contact_allowed"] is None
    assert rows[0]["due_at"] == "2026-11-30T23:59:59+07:00"
    assert rows[0]["dossier_code"].startswith("HS-")
    only_hl = json.loads(cli("followups", "list", "--office", "HL", "--json").output)
    assert [row["office_code"] for row in only_hl] == ["HL"]
    assert json.loads(cli("followups", "list", "--overdue", "--json").output) == []
    assert json.loads(cli("followups", "list", "--status", "resolved", "--json").output) == []


def test_list_text_and_unknown_office(cli, raised):
    result = cli("followups", "list", "--status", "open")
    assert result.exit_code == 0 and "paid_without_receipt" in result.output
    bad = cli("followups", "list", "--office", "XX")
    assert bad.exit_code == 2 and "no office with code 'XX'" in bad.output


def test_update_needs_a_note_to_close_and_is_audited(cli, raised, session):
    first, _ = raised
    refused = cli("followups", "update", str(first), "--status", "resolved")
    assert refused.exit_code == 2
    assert f"follow-up {first}: closing it as resolved needs a note" in refused.output
    assert session.get(FollowUp, first).status == "new"
    not_allowed = cli("followups", "update", str(first), "--status", "new")
    assert not_allowed.exit_code == 2 and "already new" in not_allowed.output
    done = cli("followups", "update", str(first), "--status", "resolved", "--note", "Hoàn tiền")
    assert done.exit_code == 0, done.output
    assert done.output == f"follow-up {first}: resolved\n"
    shown = json.loads(cli("followups", "show", str(first), "--json").output)
    assert shown["status"] == "resolved" and shown["note"] == "Hoàn tiền"
    assert [(c["from"], c["to"]) for c in shown["changes"]] == [(None, "new"), ("new", "resolved")]
    missing = cli("followups", "update", "999999", "--status", "in_progress")
    assert missing.exit_code == 2 and "no follow-up 999999" in missing.output


def test_show_text(cli, raised):
    result = cli("followups", "show", str(raised[0]))
    assert result.exit_code == 0
    assert "reasons: paid_without_receipt" in result.output and "-> new" in result.output


def test_offices_set_email(cli, session):
    office = create_office(session, "DH")
    result = cli("offices", "set-email", "DH", "motcua@dongha.gov.vn")
    assert result.exit_code == 0, result.output
    session.expire_all()
    assert session.get(Office, office.id).email == "motcua@dongha.gov.vn"
    assert cli("offices", "set-email", "DH", "not-an-address").exit_code == 2
    assert cli("offices", "set-email", "XX", "a@b.vn").exit_code == 2
    assert session.get(Office, office.id).email == "motcua@dongha.gov.vn"


def test_users_add_office_role(cli, session, monkeypatch):
    monkeypatch.setattr(users_service, "PASSWORD_HASH_METHOD", "pbkdf2:sha256:1000")
    office = create_office(session, "DH")
    result = cli("users", "add", "motcua.dh", "--role", "office", "--office", "DH",
                 "--password-stdin", input="mật khẩu đủ dài\n")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert result.output == "added motcua.dh (office, office DH)\n"
    user = session.scalar(select(User).where(User.username == "motcua.dh"))
    assert (user.role, user.office_id) == ("office", office.id)
    for args, message in [
        (("--role", "office"), "needs --office"),
        (("--role", "office", "--office", "XX"), "no office with code 'XX'"),
        (("--role", "manager", "--office", "DH"), "only for the office role"),
    ]:
        refused = cli("users", "add", "other", *args, "--password-stdin", input="x" * 12 + "\n")
        assert refused.exit_code == 2 and message in refused.output
    assert session.scalar(select(User).where(User.username == "other")) is None


def test_report_weeks_gives_the_follow_ups_raised_in_those_weeks(cli, session, settings):
    """By local weeks: Sunday 22/11 23:30 is in W47, Monday 23/11 00:10 (still Sunday in UTC)
    in W48. Same keys as the round report's, per office."""
    from tests.factories import local

    mscore = load_flows(settings.flows_dir)["mscore"]
    round_ = create_round(session)
    raised = [
        ("DH", local(2026, 11, 22, 23, 30)),  # W47
        ("DH", local(2026, 11, 23, 0, 10)),  # W48
        ("HL", local(2026, 11, 24, 9)),  # W48
        ("HL", local(2026, 12, 1, 9)),  # W49
    ]
    for code, at in raised:
        member = create_member(session, round_, office_code=code)
        raise_for_answer(session, mscore, member.id, "overall", "1", at)
    session.flush()

    def figures(weeks):
        result = cli("report", "--weeks", weeks, "--format", "json")
        assert result.exit_code == 0, result.output
        return json.loads(result.output)["follow_ups"]

    w47 = figures("2026-W47")
    assert w47["raised"] == 1 and [o["office_code"] for o in w47["offices"]] == ["DH"]
    w48 = figures("2026-W48..2026-W49")
    assert w48["raised"] == 3
    assert [(o["office_code"], o["raised"], o["open"]) for o in w48["offices"]] == [
        ("DH", 1, 1), ("HL", 2, 2)]  # fmt: skip
    round_keys = json.loads(cli("report", str(round_.id)).output)["follow_ups"]
    assert set(w48) == set(round_keys) and set(w48["offices"][0]) == set(round_keys["offices"][0])
    assert figures("2026-W40")["raised"] == 0
