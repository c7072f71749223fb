"""A round's report from the database, against figures counted by hand."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from cati.models import Answer, Attempt, Member
from cati.services.exports import FIXED_COLUMNS
from cati.services.flows import load_flows
from cati.services.reports import ReportError, round_report, rounds_progress
from tests.conftest import NOW, TZ
from tests.factories import create_member, create_round, create_user


def answer(session, member, **keys):
    for question, value in keys.items():
        session.add(Answer(member_id=member.id, question_id=question, value=value, answered_at=NOW))


def attempt(session, member, outcome, mode="ivr", user=None):
    session.add(
        Attempt(
            member_id=member.id,
            mode=mode,
            user_id=user.id if user else None,
            status="completed",
            outcome=outcome,
            language="vi",
            tries=0,
            started_at=NOW,
        )
    )


@pytest.fixture
def report_round(session):
    """Six members over two offices:
    DH: a complete by the IVR (9/1/2), a complete by an interviewer (7/1/1), a refusal;
    HL: a non-contact after two busies, a pending member never called, a not-eligible."""
    round_ = create_round(session)
    lan = create_user(session, "lan")
    dh = [create_member(session, round_, office_code="DH", officer="Lê Thị Thu") for _ in range(3)]
    hl = [create_member(session, round_, office_code="HL") for _ in range(3)]
    for member, disposition in zip(
        dh + hl, ["1.1", "1.1", "2.11", "2.20", None, "4.70"], strict=True
    ):
        member.disposition = disposition
        member.status = "final" if disposition else "pending"
    attempt(session, dh[0], "complete")
    answer(session, dh[0], consent="1", staff_attitude="9", on_time="1", asked_to_return="2")
    attempt(session, dh[1], "no_answer")
    attempt(session, dh[1], "complete", mode="interviewer", user=lan)
    dh[1].mode = "interviewer"
    answer(session, dh[1], consent="1", staff_attitude="7", on_time="1", asked_to_return="1")
    attempt(session, dh[2], "refused")
    answer(session, dh[2], consent="2")
    attempt(session, hl[0], "busy")
    attempt(session, hl[0], "busy")
    attempt(session, hl[2], "not_eligible")
    answer(session, hl[2], consent="3")
    session.flush()
    return round_


def test_round_counts_rates_and_questions(session, settings, report_round):
    data = round_report(session, report_round.id, load_flows(settings.flows_dir), TZ)
    assert set(data) == {
        "round",
        "counts",
        "rates",
        "questions",
        "offices",
        "officers",
        "modes",
        "modes_response",
        "interviewers",
        "follow_ups",
    }
    assert data["counts"] == {
        "sampled": 6,
        "attempted": 5,
        "contacted": 4,
        "complete": 2,
        "partial": 0,
        "refusal": 1,
        "non_contact": 1,
        "other": 0,
        "unknown": 0,
        "not_eligible": 1,
        "pending": 1,
        "attempts": 7,
    }
    rates = data["rates"]
    # Final: I=2 R=1 NC=1 NE=1 → RR1 = 2/4, COOP1 = 2/3, e = 4/5; completion 2/6; success 4/5.
    assert rates["rr1"] == pytest.approx(0.5) and rates["coop1"] == pytest.approx(2 / 3)
    assert rates["e"] == pytest.approx(0.8) and rates["completion_rate"] == pytest.approx(1 / 3)
    assert rates["call_success_rate"] == pytest.approx(0.8)
    staff = data["questions"]["staff_attitude"]
    assert (staff["n"], staff["mean"]) == (2, 8.0)  # (9 + 7) / 2
    # s = √2, half = t(1) · √2 / √2 = 12.706: [-4.706, 20.706] kept on the 1–9 scale.
    assert staff["ci95"] == [1, 9]
    # mscore: satisfied from 7; both scores (9 and 7) are.
    assert (staff["satisfied_from"], staff["satisfied"], staff["satisfied_share"]) == (7, 2, 1.0)
    overall = data["questions"]["overall"]  # nobody answered it
    assert (overall["n"], overall["satisfied"], overall["satisfied_share"]) == (0, 0, None)
    assert data["questions"]["asked_to_return"] == {
        "n": 2,
        "dont_know": 0,
        "yes": 1,
        "no": 1,
        "yes_share": 0.5,
    }
    json.dumps(data)  # serialisable as it is


def test_groups(session, settings, report_round):
    data = round_report(session, report_round.id, load_flows(settings.flows_dir), TZ)
    offices = {o["office_code"]: o for o in data["offices"]}
    assert (offices["DH"]["counts"]["complete"], offices["HL"]["counts"]["complete"]) == (2, 0)
    assert offices["HL"]["counts"]["pending"] == 1 and offices["HL"]["rates"]["rr1"] == 0.0
    assert offices["DH"]["questions"]["staff_attitude"]["mean"] == 8.0
    # every grouping carries the satisfied share: DH 9 and 7 (both ≥ 7), HL nobody
    groups = [*data["offices"], *data["officers"], *data["modes"], *data["interviewers"]]
    assert all("satisfied_share" in g["questions"]["staff_attitude"] for g in groups)
    assert offices["DH"]["questions"]["staff_attitude"]["satisfied_share"] == 1.0
    assert offices["HL"]["questions"]["staff_attitude"]["satisfied_share"] is None
    modes = {m["mode"]: m["questions"]["staff_attitude"] for m in data["modes"]}
    assert (modes["ivr"]["satisfied"], modes["interviewer"]["satisfied"]) == (1, 1)
    assert [o["officer"] for o in data["officers"]] == ["Lê Thị Thu"]
    modes = {m["mode"]: m["counts"]["complete"] for m in data["modes"]}
    assert modes == {"interviewer": 1, "ivr": 1}
    [lan] = data["interviewers"]
    assert (lan["interviewer"], lan["counts"]["sampled"], lan["counts"]["complete"]) == (
        "lan",
        1,
        1,
    )


def test_one_statement_reads_the_calls_and_answers_and_the_latest_interviewer_counts(
    session, settings, report_round, connection
):
    """Members with their call totals and interviewers, and the answers, come from one
    statement (the per-member figures computed once), each mode's response from another; a
    member's interviewer is the one of its latest interviewer call."""
    from sqlalchemy import event

    mai = create_user(session, "mai")
    member = session.scalars(select(Member).where(Member.mode == "interviewer")).one()
    attempt(session, member, "complete", mode="interviewer", user=mai)  # after lan's call
    session.flush()
    statements: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        if "FROM attempts" in statement:
            statements.append(statement)

    event.listen(connection, "before_cursor_execute", record)
    try:
        data = round_report(session, report_round.id, load_flows(settings.flows_dir), TZ)
    finally:
        event.remove(connection, "before_cursor_execute", record)
    assert len(statements) == 2 and "answers" in statements[0] and "answers" not in statements[1]
    [interviewer] = data["interviewers"]
    assert interviewer["interviewer"] == "mai"
    assert (interviewer["counts"]["sampled"], interviewer["counts"]["attempts"]) == (1, 3)
    assert interviewer["questions"]["staff_attitude"]["mean"] == 7.0
    assert data["counts"]["attempts"] == 8


def test_each_modes_response_in_the_report_fixture(session, settings, report_round):
    """No web. The IVR dialled 5: a complete, a refusal, a no answer (then completed by an
    interviewer), busy twice, a not eligible: RR1 1 / (5 - 1). Interviewers 1, a complete."""
    data = round_report(session, report_round.id, load_flows(settings.flows_dir), TZ)
    assert data["modes_response"] == [
        {"mode": "interviewer", "members": 1, "attempts": 1, "completes": 1, "partials": 0,
         "refusals": 0, "not_eligible": 0, "response_rate": 1.0},
        {"mode": "ivr", "members": 5, "attempts": 6, "completes": 1, "partials": 0,
         "refusals": 1, "not_eligible": 1, "response_rate": 0.25},
    ]  # fmt: skip


@pytest.fixture
def web_then_ivr(session):
    return web_round_then_ivr(session)


def web_round_then_ivr(session, week="2026-W47"):
    """A web round of eight members, then the IVR for those who did not finish on the web:
    a: completes on the web in two visits (a partial visit, then the end);
    b: leaves the web half-way (partial), then completes by IVR after a no answer;
    c: declines by SMS reply (a refusal: mode `sms`);
    d: says on the web they did not do the procedure (not eligible);
    e: never opens the link; the IVR finds the line busy, then reaches a refusal;
    f: never opens the link; the IVR is not answered;
    g: never opens the link; the IVR call is ringing now (placed, no outcome);
    h: never opens the link, not called yet."""
    from tests.factories import create_web_member

    round_ = create_round(session, week)
    round_.mode, round_.then_mode = "web", "ivr"
    a, b, c, d, e, f, g, h = (create_web_member(session, KEY, round_)[0] for _ in range(8))
    for member, disposition in zip((a, b, c, d, e, f), ("1.1", "1.1", "2.11", "4.70", "2.11",
                                   "2.20"), strict=True):  # fmt: skip
        member.status, member.disposition = "final", disposition
    for member in (b, e, f, g, h):
        member.mode = "ivr"  # handed over after CATI_WEB_DAYS
    attempt(session, a, "partial", mode="web")
    attempt(session, a, "complete", mode="web")
    answer(session, a, consent="1", staff_attitude="9")
    attempt(session, b, "partial", mode="web")
    attempt(session, b, "no_answer")
    attempt(session, b, "complete")
    answer(session, b, consent="1", staff_attitude="5")
    attempt(session, c, "refused", mode="sms")
    attempt(session, d, "not_eligible", mode="web")
    attempt(session, e, "busy")
    attempt(session, e, "refused")
    attempt(session, f, "no_answer")
    session.add(Attempt(member_id=g.id, mode="ivr", provider_call_id="CA-g", status="ringing",
                        language="vi", tries=0, started_at=NOW))  # fmt: skip
    session.flush()
    return round_


KEY = "test-secret-key-0123456789abcdef"


def test_a_web_round_followed_by_the_ivr_reads_each_mode_apart(session, settings, web_then_ivr):
    data = round_report(session, web_then_ivr.id, load_flows(settings.flows_dir), TZ)
    assert data["modes_response"] == [
        # Dialled: b, e, f, g. Completes b; refusal e: RR1 1 / 4.
        {"mode": "ivr", "members": 4, "attempts": 5, "completes": 1, "partials": 0,
         "refusals": 1, "not_eligible": 0, "response_rate": 0.25},
        # Invited: all 8. Completes a; partial b; refusal c (SMS); not eligible d: 1 / (8 - 1).
        {"mode": "web", "members": 8, "attempts": 5, "completes": 1, "partials": 1,
         "refusals": 1, "not_eligible": 1, "response_rate": pytest.approx(1 / 7)},
    ]  # fmt: skip
    # The round keeps one disposition per member: 2 completes of 8, d not eligible.
    counts = data["counts"]
    assert (counts["complete"], counts["refusal"], counts["not_eligible"]) == (2, 2, 1)
    assert data["rates"]["rr1"] == 2 / 5  # d not eligible; g and h pending: not counted yet
    # Calls are telephone calls only: b, e, f, g dialled; b and e reached; 5 calls ended.
    assert (counts["attempted"], counts["contacted"], counts["attempts"]) == (4, 2, 5)
    assert data["rates"]["call_success_rate"] == 0.5
    [progress] = [r for r in rounds_progress(session) if r["id"] == web_then_ivr.id]
    assert (progress["attempted"], progress["contacted"]) == (4, 2)
    # The phone's figures add up to the round's calls.
    phone = [m for m in data["modes_response"] if m["mode"] != "web"]
    assert sum(m["attempts"] for m in phone) == counts["attempts"]


def test_unknown_round(session, settings):
    with pytest.raises(ReportError, match="424242"):
        round_report(session, 424242, load_flows(settings.flows_dir), TZ)


def test_report_command(cli, report_round, tmp_path):
    result = cli("report", str(report_round.id))
    assert result.exit_code == 0 and json.loads(result.stdout)["counts"]["sampled"] == 6
    path = tmp_path / "r.json"
    assert cli("report", str(report_round.id), "--output", str(path)).exit_code == 0
    assert json.loads(path.read_text(encoding="utf-8"))["round"]["id"] == report_round.id
    assert cli("report", "424242").exit_code == 2


def test_report_over_the_api(client, report_round, session):
    url = f"/api/rounds/{report_round.id}/report"
    assert client.get(url).status_code == 401
    response = client.get(url, headers={"Authorization": "Bearer test-token"})
    assert response.status_code == 200 and response.json["counts"]["complete"] == 2
    missing = client.get(
        "/api/rounds/424242/report", headers={"Authorization": "Bearer test-token"}
    )
    assert missing.status_code == 404 and "424242" in missing.json["error"]


def test_export_has_one_row_per_member_and_no_personal_data(cli, report_round, session, tmp_path):
    import csv

    path = tmp_path / "export.csv"
    assert cli("export", str(report_round.id), "--output", str(path)).exit_code == 0
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 6
    assert tuple(rows[0])[:8] == FIXED_COLUMNS
    assert list(rows[0])[-1] == "phone_hash" and "consent" in rows[0]
    first = rows[0]
    assert (first["disposition"], first["attempts"], first["staff_attitude"]) == ("1.1", "1", "9")
    assert first["guidance_quality"] == ""  # not asked
    members = session.scalars(select(Member).where(Member.round_id == report_round.id)).all()
    text = path.read_text(encoding="utf-8-sig")
    assert not any(m.phone in text for m in members)  # no raw numbers
    assert len({row["phone_hash"] for row in rows}) == 6
    xlsx = tmp_path / "export.xlsx"
    assert cli("export", str(report_round.id), "--format", "xlsx", "-o", str(xlsx)).exit_code == 0
    import openpyxl

    sheet = openpyxl.load_workbook(xlsx).worksheets[0]
    assert sheet.max_row == 7 and sheet.cell(2, 1).value == first["dossier_code"]


def test_export_to_standard_output(cli, report_round):
    result = cli("export", str(report_round.id))
    assert result.exit_code == 0
    assert result.stdout.splitlines()[0].startswith("dossier_code,office_code,")
    assert len(result.stdout.splitlines()) == 7
    assert cli("export", "424242").exit_code == 2


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_report_as_a_spreadsheet(cli, report_round, tmp_path, fmt):
    import csv

    import openpyxl

    path = tmp_path / f"report.{fmt}"
    result = cli("report", str(report_round.id), "--format", fmt, "--output", str(path))
    assert result.exit_code == 0, result.output
    if fmt == "csv":
        with path.open(encoding="utf-8-sig", newline="") as handle:
            rows = list(csv.DictReader(handle))
    else:
        sheet = openpyxl.load_workbook(path).worksheets[0]
        values = list(sheet.values)
        rows = [dict(zip(values[0], row, strict=True)) for row in values[1:]]
    scopes = [(row["scope"], str(row["key"])) for row in rows]
    assert scopes == [
        ("round", str(report_round.id)),
        ("office", "DH"),
        ("office", "HL"),
        ("officer", "Lê Thị Thu"),
        ("mode", "interviewer"),
        ("mode", "ivr"),
        ("interviewer", "lan"),
    ]
    first = rows[0]
    assert (str(first["sampled"]), str(first["complete"])) == ("6", "2")
    assert float(first["rr1"]) == 0.5 and float(first["staff_attitude_mean"]) == 8.0
    assert float(first["asked_to_return_yes_share"]) == 0.5
    assert str(first["staff_attitude_satisfied"]) == "2"
    assert float(first["staff_attitude_satisfied_share"]) == 1.0
    assert first["overall_satisfied_share"] in ("", None)  # n = 0


def test_report_across_weeks(cli, report_round, session):
    from tests.factories import create_round as make_round

    make_round(session, "2026-W45")
    result = cli("report", "--weeks", "2026-W44..2026-W47")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["weeks"] == "2026-W44..2026-W47"
    assert [r["round"]["week"] for r in data["rounds"]] == ["2026-W45", "2026-W47"]
    assert data["rounds"][1]["counts"]["complete"] == 2
    staff = data["rounds"][1]["questions"]["staff_attitude"]
    assert (staff["satisfied"], staff["satisfied_share"]) == (2, 1.0)
    table = cli("report", "--weeks", "2026-W47", "--format", "csv")
    assert table.exit_code == 0 and table.stdout.splitlines()[1].startswith("2026-W47,")
    header, row = (line.split(",") for line in table.stdout.splitlines()[:2])
    assert float(dict(zip(header, row, strict=True))["staff_attitude_satisfied_share"]) == 1.0
    for bad in (
        ["--weeks", "2026-W47..2026-W40"],
        ["--weeks", "soon"],
        ["1", "--weeks", "2026-W47"],
        [],
    ):
        assert cli("report", *bad).exit_code == 2
