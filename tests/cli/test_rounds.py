"""`cati rounds`: sample, list, show, from the command line."""

import dataclasses
import json

from sqlalchemy import func, select

from cati.models import AuditEvent, Member, OptOut, Round, RoundOffice
from cati.services.retention import opt_out_hash
from cati.services.users import record_audit
from tests.conftest import NOW
from tests.factories import (
    create_attempt,
    create_case,
    create_member,
    create_round,
    create_user,
    local,
)


def test_sample_list_and_show(cli, session):
    codes = {create_case(session).dossier_code for _ in range(6)}
    result = cli("rounds", "sample", "--week", "2026-W47", "--size", "3", "--seed", "9",
                 "--mode", "interviewer", "--json")  # fmt: skip
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert (data["week"], data["mode"], data["seed"], data["sampled"]) == (
        "2026-W47", "interviewer", 9, 5)  # --min-per-office 5 lifts the size  # fmt: skip
    assert set(data["members"]) <= codes and len(data["members"]) == 5
    again = cli("rounds", "sample", "--week", "2026-W47", "--json")
    assert again.exit_code == 0 and json.loads(again.stdout)["id"] == data["id"]
    listed = json.loads(cli("rounds", "list", "--json").stdout)
    assert [r["id"] for r in listed] == [data["id"]]
    shown = cli("rounds", "show", str(data["id"]))
    assert shown.exit_code == 0 and "2026-W47" in shown.stdout


def test_bad_week_and_conflicting_options_are_usage_errors(cli):
    assert cli("rounds", "sample", "--week", "2026-W60").exit_code == 2
    both = cli("rounds", "sample", "--week", "2026-W47", "--rate", "0.1", "--size", "5")
    assert both.exit_code == 2 and "--rate or --size" in both.output
    assert cli("rounds", "show", "424242").exit_code == 2


def test_a_number_opted_out_as_a_hash_is_not_sampled(cli, session, runtime):
    kept, blocked = create_case(session), create_case(session)
    digest = opt_out_hash(runtime.settings.opt_out_key, blocked.phone)
    session.add(OptOut(phone_hash=digest, reason="asked", created_at=NOW))
    session.flush()
    result = cli("rounds", "sample", "--week", "2026-W47", "--size", "5", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["members"] == [kept.dossier_code]
    session.expire_all()
    assert session.scalar(select(OptOut.phone)) == blocked.phone


def test_hashed_opt_outs_without_the_secret_key_stop_sampling(cli, session, runtime):
    """Without CATI_SECRET_KEY the hashes cannot be matched: sampling refuses rather than
    risk calling a citizen who opted out."""
    blocked = create_case(session)
    session.add(OptOut(phone_hash=opt_out_hash("the-key-of-last-year-01", blocked.phone),
                       reason="asked", created_at=NOW))  # fmt: skip
    session.flush()
    runtime.settings = dataclasses.replace(runtime.settings, secret_key=None)
    result = cli("rounds", "sample", "--week", "2026-W47", "--size", "5")
    assert result.exit_code == 2
    assert "CATI_SECRET_KEY" in result.output
    assert session.scalar(select(func.count()).select_from(Round)) == 0


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def test_a_week_sampled_late_gets_its_whole_calling_period(cli, session, runtime):
    """Sampled a month after the week: called for CATI_ROUND_CALLING_DAYS from now, not
    closed at once with every member 3.11."""
    create_case(session)
    runtime.clock = lambda: local(2026, 12, 20, 9)  # W47 ended on 23/11
    result = cli("rounds", "sample", "--week", "2026-W47", "--size", "5", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["calling_ends_at"] == "2027-01-03T09:00:00+07:00"
    shown = cli("rounds", "show", str(data["id"]))
    assert "calling period ends 2027-01-03T09:00 (local time)" in shown.stdout
    on_time = json.loads(cli("rounds", "show", str(data["id"]), "--json").stdout)
    assert on_time["calling_ends_at"] == data["calling_ends_at"]


def test_an_unknown_flow_is_refused_naming_the_known_ones(cli, session):
    create_case(session)
    result = cli("rounds", "sample", "--week", "2026-W47", "--flow", "nosuch")
    assert result.exit_code == 2
    assert "no flow named 'nosuch'" in result.output and "mscore, sipas" in result.output
    assert count(session, Round) == 0


def test_a_week_not_ended_yet_is_refused(cli, session):
    create_case(session, returned_at=local(2026, 11, 23, 9))  # W48, under way at NOW
    result = cli("rounds", "sample", "--week", "2026-W48")
    assert result.exit_code == 2
    assert "week 2026-W48 has not ended yet" in result.output
    assert count(session, Round) == 0


def test_delete_a_round_nobody_has_called(cli, session):
    for _ in range(3):
        create_case(session)
    data = json.loads(cli("rounds", "sample", "--week", "2026-W47", "--json").stdout)
    result = cli("rounds", "delete", str(data["id"]))
    assert result.exit_code == 0, result.output
    assert f"round {data['id']} (2026-W47, mscore) deleted with its 3 members" in result.stdout
    assert (count(session, Round), count(session, Member), count(session, RoundOffice)) == (
        0, 0, 0)  # fmt: skip
    audit = session.scalar(select(AuditEvent))
    assert (audit.action, audit.user_id, audit.member_id) == ("delete_round", None, None)
    again = cli("rounds", "sample", "--week", "2026-W47", "--json")  # sampled afresh
    assert again.exit_code == 0 and len(json.loads(again.stdout)["members"]) == 3


def test_a_round_with_call_attempts_is_not_deleted(cli, session):
    round_ = create_round(session)
    called = create_member(session, round_)
    create_member(session, round_)
    create_attempt(session, called, "CA-1")
    result = cli("rounds", "delete", str(round_.id))
    assert result.exit_code == 2
    assert "1 call attempt(s) to 1 member(s)" in result.output
    assert (count(session, Round), count(session, Member)) == (1, 2)


def test_a_round_an_interviewer_opened_is_not_deleted(cli, session):
    round_ = create_round(session)
    member = create_member(session, round_)
    user = create_user(session)
    record_audit(session, user.id, "release_case", member_id=member.id, now=NOW)
    result = cli("rounds", "delete", str(round_.id))
    assert result.exit_code == 2 and "1 audit entries" in result.output
    assert count(session, Member) == 1


def test_delete_an_unknown_round(cli):
    result = cli("rounds", "delete", "424242")
    assert result.exit_code == 2 and "no round with id 424242" in result.output
