"""The scheduler process in-process: who leads, the status document, jobs recorded, failures
retried, an unreachable database survived and a clean stop. (Separate processes killed with
SIGKILL are in test_scheduler_processes.py.)"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from cati.db import make_engine
from cati.jobs.leadership import make_leadership
from cati.jobs.scheduler import JobSpec, SchedulerNode
from cati.migrate import upgrade
from cati.models import SchedulerJob
from cati.models import SchedulerNode as NodeRow
from cati.runtime import Runtime
from cati.services.scheduler import (
    JOB_NAMES,
    LEADER,
    STANDBY,
    NodeInfo,
    beat,
    record_job_run,
    register_jobs,
    scheduler_status,
    take_over,
)
from cati.telephony.simulated import SimulatedProvider
from tests.conftest import NOW, fresh_database


def node(name: str, pid: int, started_minutes_ago: int = 5) -> NodeInfo:
    return NodeInfo(f"{name}:{pid}:00", name, pid, NOW - timedelta(minutes=started_minutes_ago))


def test_status_names_the_leader_the_standbys_and_every_job(session):
    leader, standby = node("app-1", 101), node("app-2", 202)
    beat(session, standby, role=STANDBY, now=NOW - timedelta(seconds=5))
    take_over(session, leader, now=NOW - timedelta(seconds=30), heartbeat_s=10)
    beat(session, leader, role=LEADER, now=NOW - timedelta(seconds=3))  # since stays put
    register_jobs(session, JOB_NAMES)
    record_job_run(
        session,
        "sampling",
        ran_at=NOW - timedelta(minutes=1),
        result="2026-W47: mscore round 3 sampled, 431 members",
        next_run_at=NOW + timedelta(days=7),
    )
    session.flush()
    status = scheduler_status(session, now=NOW, heartbeat_s=10, job_names=JOB_NAMES)
    assert set(status) == {"leader", "standbys", "jobs"}
    assert status["leader"] == {
        "host": "app-1",
        "pid": 101,
        "since": "2026-11-23T02:59:30Z",
    }
    assert [(s["host"], s["pid"]) for s in status["standbys"]] == [("app-2", 202)]
    assert [j["name"] for j in status["jobs"]] == list(JOB_NAMES)
    assert status["jobs"][0] == {
        "name": "sampling",
        "last_run_at": "2026-11-23T02:59:00Z",
        "next_run_at": "2026-11-30T03:00:00Z",
        "last_result": "2026-W47: mscore round 3 sampled, 431 members",
    }
    assert status["jobs"][1] == {
        "name": "dialing",
        "last_run_at": None,
        "next_run_at": None,
        "last_result": None,
    }


def test_a_dead_leader_is_neither_reported_nor_kept_once_another_takes_over(session):
    dead, successor = node("app-1", 101), node("app-2", 202)
    beat(session, dead, role=LEADER, now=NOW - timedelta(minutes=2))
    session.flush()
    status = scheduler_status(session, now=NOW, heartbeat_s=10, job_names=())
    assert status["leader"] is None and status["standbys"] == []
    take_over(session, successor, now=NOW, heartbeat_s=10)
    session.flush()
    rows = session.execute(select(NodeRow.host, NodeRow.role)).all()
    assert rows == [("app-2", "leader")]  # the silent node is forgotten


def test_a_leader_that_just_died_is_forgotten_by_its_successor(session):
    dead, successor = node("app-1", 101), node("app-2", 202)
    beat(session, dead, role=LEADER, now=NOW - timedelta(seconds=5))  # still looks alive
    take_over(session, successor, now=NOW, heartbeat_s=10)
    session.flush()
    status = scheduler_status(session, now=NOW, heartbeat_s=10, job_names=())
    assert status["leader"]["host"] == "app-2"
    assert status["standbys"] == []


# -- real nodes in threads, each test on a database of its own --------------------------------


@pytest.fixture
def own_runtime(tmp_path, settings):
    with fresh_database(tmp_path) as url:
        upgrade(url)
        engine = make_engine(url)
        fast = dataclasses.replace(
            settings, database_url=url, heartbeat_s=1, dial_interval_s=1, reap_interval_s=1
        )
        yield Runtime(fast, sessionmaker(engine, expire_on_commit=False))
        engine.dispose()


class QuietNode(SchedulerNode):
    """A node whose jobs are test doubles, so only the leadership machinery is exercised."""

    def __init__(self, *args, jobs=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.runs: list[str] = []
        self.jobs = jobs

    def job_specs(self):
        from apscheduler.triggers.interval import IntervalTrigger

        def work(name):
            def run():
                self.runs.append(name)
                return f"{name} done"

            return run

        specs = self.jobs or [JobSpec("sampling", work("sampling"), IntervalTrigger(hours=1))]
        heartbeat = JobSpec("heartbeat", self._leader_heartbeat, IntervalTrigger(seconds=1))
        return [*specs, heartbeat]


def test_the_status_lists_the_jobs_the_scheduler_runs(own_runtime):
    engine = own_runtime.session_factory.kw["bind"]
    node_ = SchedulerNode(own_runtime, SimulatedProvider(), leadership=make_leadership(engine))
    assert [spec.name for spec in node_.job_specs()] == list(JOB_NAMES)


def start(node: SchedulerNode) -> threading.Thread:
    thread = threading.Thread(target=node.run, daemon=True)
    thread.start()
    return thread


def wait_for(predicate, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def status_of(runtime):
    with runtime.transaction() as session:
        return scheduler_status(
            session, now=runtime.clock(), heartbeat_s=runtime.settings.heartbeat_s, job_names=()
        )


def make_node(runtime, **kwargs):
    engine = runtime.session_factory.kw["bind"]
    return QuietNode(runtime, SimulatedProvider(), leadership=make_leadership(engine), **kwargs)


def test_one_node_leads_the_other_stands_by_then_takes_over(own_runtime):
    first, second = make_node(own_runtime), make_node(own_runtime)
    threads = [start(first)]
    wait_for(lambda: (status_of(own_runtime)["leader"] or {}).get("since"))
    threads.append(start(second))
    wait_for(lambda: status_of(own_runtime)["standbys"])
    wait_for(lambda: first.runs == ["sampling"])
    assert second.runs == []  # only the leader runs jobs

    def sampling_result():
        with own_runtime.transaction() as session:
            return session.get(SchedulerJob, "sampling").last_result

    wait_for(lambda: sampling_result() == "sampling done")

    first.stop.set()  # a clean stop: the lock is released and the row removed at once
    threads[0].join(10)
    assert not threads[0].is_alive()
    wait_for(lambda: second.runs == ["sampling"])
    status = status_of(own_runtime)
    assert status["standbys"] == []
    with own_runtime.transaction() as session:
        leader = session.scalar(select(NodeRow).where(NodeRow.role == LEADER))
        assert leader.id == second.me.id
    second.stop.set()
    threads[1].join(10)
    assert status_of(own_runtime)["leader"] is None


def test_a_failing_job_is_recorded_and_runs_again(own_runtime):
    from apscheduler.triggers.interval import IntervalTrigger

    calls = []

    error_seen = threading.Event()

    def flaky():
        calls.append(1)
        if len(calls) > 1:
            error_seen.wait(20)  # the failure stays on record until the test has read it
        if len(calls) == 1:
            raise RuntimeError("the provider refused +84912345678")
        return "worked"

    node_ = make_node(own_runtime, jobs=[JobSpec("dialing", flaky, IntervalTrigger(seconds=1))])
    thread = start(node_)

    def last_result():
        with own_runtime.transaction() as session:
            job = session.get(SchedulerJob, "dialing")
            return job and job.last_result

    # Recorded, with the number an error message may quote masked, and in Vietnamese for the
    # dashboard.
    assert wait_for(lambda: last_result() == "error: RuntimeError: the provider refused [phone]")
    with own_runtime.transaction() as session:
        status = scheduler_status(
            session, now=own_runtime.clock(), heartbeat_s=1, job_names=("dialing",), language="vi"
        )
        assert status["jobs"][0]["last_result"] == "lỗi: RuntimeError: the provider refused [phone]"
    error_seen.set()
    assert wait_for(lambda: last_result() == "worked")
    node_.stop.set()
    thread.join(10)


def test_stop_waits_for_the_running_job(own_runtime):
    from apscheduler.triggers.interval import IntervalTrigger

    started, finished = threading.Event(), threading.Event()

    def slow():
        started.set()
        time.sleep(1.5)
        finished.set()
        return "slow done"

    node_ = make_node(own_runtime, jobs=[JobSpec("reaping", slow, IntervalTrigger(hours=1))])
    thread = start(node_)
    assert started.wait(20)
    node_.stop.set()
    thread.join(20)
    assert finished.is_set() and not thread.is_alive()
    with own_runtime.transaction() as session:
        assert session.get(SchedulerJob, "reaping").last_result == "slow done"
        assert session.scalars(select(NodeRow)).all() == []  # signed off


def test_an_unreachable_database_is_waited_out(settings, caplog):
    engine = make_engine(
        "postgresql+psycopg://nobody@127.0.0.1:1/none", connect_args={"connect_timeout": 1}
    )
    runtime = Runtime(dataclasses.replace(settings, heartbeat_s=1), sessionmaker(engine))
    node_ = QuietNode(runtime, SimulatedProvider(), leadership=make_leadership(engine))
    thread = start(node_)
    time.sleep(2.5)  # a few rounds of trying to take the lead and to beat
    assert thread.is_alive()
    node_.stop.set()
    thread.join(10)
    assert not thread.is_alive() and node_.runs == []
    assert "database unreachable (OperationalError), retrying" in caplog.text


def test_a_job_due_again_while_it_still_runs_is_left_out_without_a_warning(own_runtime, caplog):
    """A dialing pass longer than its interval (many calls due) is normal work: the run due
    meanwhile is not started twice, and nothing is logged as a warning (the demo's log)."""
    from apscheduler.events import EVENT_JOB_MAX_INSTANCES, EVENT_JOB_SUBMITTED
    from apscheduler.triggers.interval import IntervalTrigger

    release, runs, submissions = threading.Event(), [], []

    def long_pass():
        runs.append(1)
        release.wait(20)
        return "placed"

    node_ = make_node(own_runtime)
    scheduler = node_._build_scheduler([JobSpec("dialing", long_pass, IntervalTrigger(seconds=1))])
    scheduler.add_listener(
        lambda event: submissions.append(event.code),
        EVENT_JOB_SUBMITTED | EVENT_JOB_MAX_INSTANCES,
    )
    caplog.set_level(logging.DEBUG)
    scheduler.start()
    try:
        wait_for(lambda: len(submissions) >= 2)  # due again while the first run goes on
        assert runs == [1]
    finally:
        release.set()
        scheduler.shutdown(wait=True)
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
    assert "job dialing: still running, the run due now is left out" in caplog.messages
