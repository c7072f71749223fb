"""A round dialled to its end by simulated citizens through the real webhooks over HTTP."""

from __future__ import annotations

from sqlalchemy import func, select

from cati.db import make_engine, make_session_factory
from cati.migrate import upgrade
from cati.models import Answer, Attempt, Member
from cati.runtime import Runtime
from cati.simulator import run_simulation
from tests.conftest import NOW, fresh_database
from tests.factories import create_member, create_round


def test_a_simulated_round_runs_to_the_end(tmp_path, settings):
    with fresh_database(tmp_path) as url:
        upgrade(url)
        engine = make_engine(url)
        factory = make_session_factory(engine)
        with factory.begin() as session:
            round_ = create_round(session)
            for _ in range(40):
                create_member(session, round_)
            round_id = round_.id
        runtime = Runtime(settings, factory, clock=lambda: NOW)
        start = settings.calling_policy.next_window_start(NOW)
        passes = []
        report = run_simulation(
            runtime, round_id, start, seed=3, concurrency=4,
            on_pass=lambda _n, at, statuses: passes.append((at, statuses)),
        )  # fmt: skip
        with factory() as session:
            members = session.scalars(select(Member).where(Member.round_id == round_id)).all()
            attempts = session.scalar(select(func.count()).select_from(Attempt))
            answers = session.scalar(select(func.count()).select_from(Answer))
        engine.dispose()
    assert all(m.status == "final" and m.disposition for m in members)
    assert sum(report.dispositions.values()) == 40
    assert report.calls == attempts >= 40
    assert sum(report.behaviours.values()) == report.calls
    assert report.dispositions["1.1"] >= 25 and answers > 25 * 6
    policy = settings.calling_policy
    assert all(policy.is_callable_at(at) for at, _ in passes)  # every pass in calling hours
    assert report.requests > report.calls * 5
