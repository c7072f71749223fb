"""Report, export and dashboard agree on a round run end to end: simulated IVR calls, then an
interviewer finishing what the robot could not."""

from __future__ import annotations

import statistics
from collections import Counter
from datetime import timedelta

from cati.db import make_engine, make_session_factory
from cati.migrate import upgrade
from cati.runtime import Runtime
from cati.services.console import claim_next_case, record_outcome, save_answers
from cati.services.exports import export_columns, export_rows
from cati.services.flows import load_flows
from cati.services.reports import round_report, rounds_progress
from cati.simulator import run_simulation
from tests.conftest import NOW, TZ, fresh_database
from tests.factories import create_member, create_round, create_user
from tests.services.test_console import COMPLETE


def test_report_export_and_dashboard_agree(tmp_path, settings):
    with fresh_database(tmp_path) as url:
        upgrade(url)
        engine = make_engine(url)
        factory = make_session_factory(engine)
        with factory.begin() as session:
            round_ = create_round(session)
            members = [
                create_member(session, round_, office_code=("DH", "HL", "CL")[i % 3])
                for i in range(30)
            ]
            members[0].mode = "interviewer"  # asked for a person: the robot leaves it alone
            lan = create_user(session, "lan").id
            round_id = round_.id
        runtime = Runtime(settings, factory, clock=lambda: NOW)
        start = settings.calling_policy.next_window_start(NOW)
        run_simulation(runtime, round_id, start, seed=11, concurrency=4)
        flows = load_flows(settings.flows_dir)
        later = start + timedelta(days=3, hours=2)
        with factory.begin() as session:  # an interviewer completes one handed-over member
            member_id = claim_next_case(session, lan, later)
            assert member_id is not None
            save_answers(session, member_id, lan, COMPLETE, flows, TZ, later)
            record_outcome(
                session,
                member_id,
                lan,
                "complete",
                appointment_at=None,
                notes=None,
                flows=flows,
                policy=settings.calling_policy,
                tz=TZ,
                now=later,
            )
        with factory() as session:
            report = round_report(session, round_id, flows, TZ)
            columns = export_columns(flows["mscore"])
            rows = [
                dict(zip(columns, row, strict=True))
                for row in export_rows(session, round_id, flows, TZ, "key")
            ]
            [progress] = rounds_progress(session)
        engine.dispose()

    dispositions = Counter(row["disposition"] for row in rows)
    counts = report["counts"]
    assert counts["sampled"] == len(rows) == progress["sampled"] == 30
    assert rows[0]["mode"] == "interviewer" and rows[0]["disposition"] == "1.1"
    assert counts["complete"] == dispositions["1.1"] == progress["complete"]
    assert counts["refusal"] == dispositions["2.11"] + dispositions["2.12"]
    assert counts["not_eligible"] == dispositions["4.70"]
    assert counts["pending"] == dispositions[""]
    assert counts["attempts"] == sum(row["attempts"] for row in rows)
    assert counts["attempted"] == progress["attempted"]
    assert counts["contacted"] == progress["contacted"]
    scores = [int(row["overall"]) for row in rows if row["overall"] not in ("", "0")]
    overall = report["questions"]["overall"]
    assert overall["n"] == len(scores)
    assert overall["mean"] == round(statistics.mean(scores), 4)
    yes = [row["paid_without_receipt"] for row in rows if row["paid_without_receipt"] in ("1", "2")]
    share = report["questions"]["paid_without_receipt"]["yes_share"]
    assert share == (yes.count("1") / len(yes) if yes else None)
    by_office = Counter(row["office_code"] for row in rows if row["disposition"] == "1.1")
    assert {o["office_code"]: o["counts"]["complete"] for o in report["offices"]} == {
        code: by_office.get(code, 0) for code in ("CL", "DH", "HL")
    }


def test_report_and_dashboard_count_attempted_members_alike(session, settings):
    """'Attempted' is a member dialled at least once: a call the provider took (ringing or
    ended) or one with an outcome; the dialer's queued attempt that was never placed is not
    one, nor an interviewer's claim with nothing recorded yet."""
    from tests.factories import create_attempt

    round_ = create_round(session)
    _never_called, queued, ringing, no_answer, complete, invalid, claimed = (
        create_member(session, round_) for _ in range(7)
    )
    create_attempt(session, queued)  # queued by the dialer, never placed
    create_attempt(session, ringing, call_sid="CA-ringing", status="ringing")
    create_attempt(session, no_answer, call_sid="CA-na", status="no-answer", outcome="no_answer")
    create_attempt(session, complete, call_sid="CA-ok", status="completed", outcome="complete")
    complete.status, complete.disposition = "final", "1.1"
    # The provider refused the number outright (no call id): it was dialled, and it is final.
    create_attempt(session, invalid, status="failed", outcome="invalid_number")
    invalid.status, invalid.disposition = "final", "2.20"
    create_attempt(session, claimed, status="in-progress").mode = "interviewer"
    for member in (queued, ringing, claimed):
        member.status = "in_progress"
    session.flush()

    report = round_report(session, round_.id, load_flows(settings.flows_dir), TZ)
    [progress] = [r for r in rounds_progress(session) if r["id"] == round_.id]
    counts = report["counts"]
    assert (counts["sampled"], counts["attempted"], counts["contacted"]) == (7, 4, 1)
    assert (progress["sampled"], progress["attempted"], progress["contacted"]) == (7, 4, 1)
    assert counts["attempts"] == 3  # the calls that ended
    assert report["rates"]["call_success_rate"] == 1 / 4
