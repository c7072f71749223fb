"""Report, export and dashboard agree on a round run end to end: simulated IVR calls, then an
interviewer finishing what the robot could not."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from datetime import timedelta

from cati.runtime import Runtime
from cati.services.console import claim_next_case, record_outcome, save_answers
from cati.services.exports import export_columns, export_rows
from cati.services.flows import load_flows
from cati.services.reports import round_report, rounds_progress
from cati.simulator import run_simulation
from tests.conftest import NOW, TZ, fresh_session_factory
from tests.factories import create_member, create_round, create_user
from tests.services.test_console import COMPLETE


def test_report_export_and_dashboard_agree(tmp_path, settings):
    with fresh_session_factory(tmp_path) as factory:
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


WEB_ANSWERS = [("consent", "1"), ("staff_attitude", "9"), ("guidance_quality", "8"),
               ("on_time", "1"), ("asked_to_return", "2"), ("paid_without_receipt", "2"),
               ("overall", "9"), ("comment", None)]  # fmt: skip


def _by_hand(session, round_id: int) -> dict[str, dict]:
    """Each mode's figures counted member by member from the attempts: a member's attempts in
    a mode (web visits and SMS replies; placed calls) rolled up one by one."""
    from sqlalchemy import select

    from cati.domain.dispositions import family, roll_up
    from cati.models import Attempt, Member, WebLink

    invited = set(session.scalars(select(WebLink.member_id).join(Member).where(
        Member.round_id == round_id)))  # fmt: skip
    outcomes: dict[tuple[str, int], list[str]] = defaultdict(list)
    for attempt in session.scalars(
        select(Attempt).join(Member).where(Member.round_id == round_id).order_by(Attempt.id)
    ):
        if attempt.mode in ("web", "sms"):
            if attempt.member_id in invited and attempt.outcome:
                outcomes["web", attempt.member_id].append(attempt.outcome)
        elif attempt.provider_call_id or attempt.outcome:
            outcomes[attempt.mode, attempt.member_id] += [attempt.outcome] * bool(attempt.outcome)
    for member_id in invited:
        outcomes.setdefault(("web", member_id), [])
    figures: dict[str, dict] = {}
    for (mode, _), seen in outcomes.items():
        entry = figures.setdefault(mode, Counter())
        entry["members"] += 1
        entry["attempts"] += len(seen)
        code = roll_up(seen)
        entry[family(code) if code else None] += 1
    return {
        mode: {
            "members": f["members"],
            "attempts": f["attempts"],
            "completes": f["I"],
            "partials": f["P"],
            "refusals": f["R"],
            "not_eligible": f["NE"],
            "response_rate": f["I"] / (f["members"] - f["NE"]),
        }
        for mode, f in figures.items()
    }


def test_a_web_round_then_the_phone_report_and_round_page_agree(tmp_path, settings):
    """A web round of 21: 6 complete on the web, 2 leave half-way, 1 declines, 1 is not
    eligible, 11 never open the link; after CATI_WEB_DAYS the IVR calls the rest. Each mode's
    figures in the report are those counted member by member, the round page shows them, and
    the calls are the phone's."""
    import re

    from cati.domain.web_links import derive_token
    from cati.models import WebLink
    from cati.services.web_links import create_links, hand_over_web_members
    from cati.services.web_survey import answer
    from cati.web import create_app
    from tests.web.test_console_pages import PASSWORD, token

    flows = load_flows(settings.flows_dir)
    key = settings.resolve_secret_key()
    with fresh_session_factory(tmp_path) as factory:
        with factory.begin() as session:
            round_ = create_round(session)
            round_.mode, round_.then_mode = "web", "ivr"
            members = [
                create_member(session, round_, office_code=("DH", "HL", "CL")[i % 3])
                for i in range(21)
            ]
            for member in members:
                member.mode = "web"
            session.flush()
            create_links(session, round_.id, key, NOW)
            session.flush()
            tokens = [derive_token(key, m.id, session.get(WebLink, m.id).nonce) for m in members]
            create_user(session, "minh", "manager")
            round_id = round_.id
        plans = [WEB_ANSWERS] * 6 + [WEB_ANSWERS[:5]] * 2 + [[("consent", "2")], [("consent", "3")]]
        for n, (link, plan) in enumerate(zip(tokens, plans, strict=False)):
            with factory.begin() as session:
                for question, value in plan:
                    when = NOW + timedelta(hours=1, minutes=n)
                    text = "" if value is None else None
                    result = answer(session, flows, link, question_id=question, value=value,
                                    text=text, now=when, language="vi")  # fmt: skip
                    assert result.state == "saved", (n, question, result)
        later = NOW + timedelta(days=3, hours=2)
        with factory.begin() as session:
            assert hand_over_web_members(session, later, settings.web_days) == 13
        runtime = Runtime(settings, factory, clock=lambda: later)
        run_simulation(runtime, round_id, settings.calling_policy.next_window_start(later),
                       seed=11, concurrency=4)  # fmt: skip
        with factory() as session:
            report = round_report(session, round_id, flows, TZ)
            expected = _by_hand(session, round_id)
            [progress] = rounds_progress(session)
        client = create_app(runtime, {"TESTING": True}).test_client()
        page = client.get("/login").get_data(as_text=True)
        client.post("/login", data={"username": "minh", "password": PASSWORD,
                                    "csrf_token": token(page)})  # fmt: skip
        page = client.get(f"/dashboard/rounds/{round_id}").get_data(as_text=True)

    modes = {m.pop("mode"): m for m in report["modes_response"]}
    assert list(modes) == ["ivr", "web"]
    assert modes == expected
    web = modes["web"]
    assert (web["members"], web["attempts"], web["completes"]) == (21, 10, 6)
    assert (web["partials"], web["refusals"], web["not_eligible"]) == (2, 1, 1)
    assert modes["ivr"]["members"] == 13  # everyone handed over was dialled
    # The calls are the phone's: web visits are not calls.
    counts = report["counts"]
    assert counts["attempted"] == modes["ivr"]["members"] == progress["attempted"]
    assert counts["attempts"] == modes["ivr"]["attempts"]
    assert counts["contacted"] == progress["contacted"]
    # The round page shows the same figures.
    for mode, figures in modes.items():
        for field in ("members", "attempts", "completes", "partials", "refusals"):
            cell = re.search(rf'data-testid="response-{mode}-{field}">(\d+)<', page)
            assert cell and int(cell[1]) == figures[field], (mode, field)
        rate = re.search(rf'data-testid="response-{mode}-rate">([\d,]+)', page)[1]
        assert rate == f"{figures['response_rate'] * 100:.1f}".replace(".", ",")
