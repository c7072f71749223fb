"""`cati rounds`: sample, list, show, from the command line."""

import dataclasses
import json

from sqlalchemy import func, select

from cati.models import OptOut, Round
from cati.services.retention import opt_out_hash
from tests.conftest import NOW
from tests.factories import create_case


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
