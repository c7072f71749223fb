"""`cati simulate`: where the simulated clock starts."""

from __future__ import annotations

from click.testing import CliRunner

from cati.cli import main
from cati.db import make_engine, make_session_factory
from cati.migrate import upgrade
from cati.runtime import Runtime
from tests.conftest import NOW, fresh_database
from tests.factories import create_attempt, create_member, create_round, local


def test_a_round_already_called_is_simulated_on_from_its_latest_call(tmp_path, settings):
    with fresh_database(tmp_path) as url:
        upgrade(url)
        engine = make_engine(url)
        factory = make_session_factory(engine)
        with factory.begin() as session:
            round_ = create_round(session)  # 2026-W47: the Monday after is 23/11
            called = create_member(session, round_)
            create_member(session, round_)  # never called yet
            at = local(2026, 12, 2, 9, 15)  # a live call on Wednesday 2/12
            create_attempt(session, called, "CA-live", status="no-answer",
                           outcome="no_answer", started_at=at, ended_at=at)  # fmt: skip
            called.attempt_count = 1
            round_id = round_.id
        runtime = Runtime(settings, factory, clock=lambda: NOW)
        result = CliRunner().invoke(
            main, ["simulate", "--round", str(round_id), "--seed", "1"], obj=runtime
        )
        engine.dispose()
    assert result.exit_code == 0, result.output
    first = result.output.splitlines()[0]
    assert first.startswith(f"simulating round {round_id} from Wed 02/12/2026 09:16"), first


def test_a_round_whose_questionnaire_is_gone_is_not_simulated(cli, session):
    round_ = create_round(session, flow="removed")
    create_member(session, round_)
    result = cli("simulate", "--round", str(round_.id))
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: round {round_.id}: no call placed")
    assert result.stderr.count("\n") == 1 and result.stdout == ""
