"""Faults the system must survive, with real processes on one database: the web server and
the scheduler killed with SIGKILL, a standby taking over, and the database going away."""

from __future__ import annotations

import dataclasses
import itertools
import json
import random
import signal
import threading
import time
import xml.etree.ElementTree as ET
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from http.client import HTTPException
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import sessionmaker

from cati.config import Settings
from cati.db import make_engine
from cati.domain.flow import QuestionType
from cati.domain.weeks import IsoWeek
from cati.jobs.dialing import dial_pass
from cati.jobs.reaping import reap
from cati.jobs.tasks import week_due
from cati.migrate import upgrade
from cati.models import Answer, Attempt, Member, MemberStatus, Round, SchedulerJob
from cati.runtime import Runtime
from cati.services.flows import load_flows
from cati.services.intake import import_records
from cati.services.rounds import SamplingOptions, sample_round
from cati.services.scheduler import scheduler_status
from cati.simulator import Citizen
from cati.synthetic import generate_cases
from cati.telephony.signatures import sign
from cati.telephony.simulated import SimulatedProvider
from cati.web import create_app
from tests.conftest import NOW, TZ, fresh_database
from tests.processes import (
    Plug,
    cati_env,
    free_port,
    run_cati,
    start_cati,
    start_web,
    stop,
    wait_until,
)

pytestmark = pytest.mark.slow

FLOWS_DIR = Settings.flows_dir
OPEN_ALL_DAY = {
    "CATI_CALLING_HOURS": "00:00-24:00",
    "CATI_CALLING_DAYS": "mon-sun",
    "CATI_MIN_GAP_MINUTES": "0",
    "CATI_MAX_ATTEMPTS_PER_DAY": "5",
}


@pytest.fixture
def database(tmp_path):
    with fresh_database(tmp_path) as url:
        upgrade(url)
        engine = make_engine(url)
        yield url, engine
        engine.dispose()


def runtime_on(url, engine, clock=lambda: datetime.now(UTC), **settings) -> Runtime:
    env = {"CATI_DATABASE_URL": url, "CATI_SECRET_KEY": "fault-tests-secret-key", **OPEN_ALL_DAY}
    base = Settings.from_env(env)
    return Runtime(
        dataclasses.replace(base, **settings), sessionmaker(engine, expire_on_commit=False), clock
    )


def seed_cases(runtime: Runtime, week: IsoWeek, count: int) -> None:
    rows = enumerate(generate_cases(str(week), count, seed=11), start=2)
    with runtime.transaction() as session:
        import_records(session, rows, tz=TZ, now=runtime.clock())


# -- the web server killed in the middle of a round -------------------------------------------


RECORDED = {
    q.id for q in load_flows(FLOWS_DIR)["mscore"].questions if q.type is QuestionType.RECORD
}


class Witness(Citizen):
    """A citizen who notes every answer key the IVR acknowledged (answered 200 with the next
    step). The key closing a recorded comment is no answer: the recording is."""

    acknowledged: dict[tuple[int, str], str]
    lock = threading.Lock()

    def _post(self, url, extra):
        result = super()._post(url, extra)
        query = parse_qs(urlsplit(url).query)
        if "/ivr/gather" in url and extra.get("Digits") and query["q"][0] not in RECORDED:
            with self.lock:
                self.acknowledged[int(query["attempt"][0]), query["q"][0]] = extra["Digits"]
        return result


def test_killing_a_web_node_mid_round_loses_no_acknowledged_answer(database, tmp_path):
    """Two web processes behind a round-robin balancer serve one round; one is killed with
    SIGKILL in the middle of the first wave of calls and restarted. Every answer the IVR
    acknowledged is in the database, and the round completes."""
    url, engine = database
    ports = [free_port(), free_port()]
    public_url = f"http://127.0.0.1:{ports[0]}"  # what Twilio knows; both nodes check it
    clock = {"now": datetime(2026, 11, 23, 2, 0, tzinfo=UTC)}  # Monday 09:00 local
    runtime = runtime_on(
        url,
        engine,
        clock=lambda: clock["now"],
        public_url=public_url,
        max_cps=1000.0,
        max_concurrent_calls=1000,
    )
    seed_cases(runtime, IsoWeek.parse("2026-W47"), 200)
    with runtime.transaction() as session:
        round_, _ = sample_round(
            session,
            IsoWeek.parse("2026-W47"),
            SamplingOptions(size=30, min_per_office=1, seed=3),
            tz=TZ,
            resurvey_days=90,
            now=clock["now"],
        )
        round_id = round_.id
    env = cati_env(url, CATI_PUBLIC_URL=public_url, **OPEN_ALL_DAY)
    webs = [start_web(env, port, cwd=tmp_path, log=tmp_path / f"web-{port}.log") for port in ports]
    turn = itertools.count()
    acknowledged: dict[tuple[int, str], str] = {}
    keys_sent = {"n": 0}

    def balance(signed_url: str) -> str:
        port = ports[next(turn) % 2]
        return signed_url.replace(public_url, f"http://127.0.0.1:{port}", 1)

    class Killer(Witness):
        def _post(self, url_, extra):
            if "/ivr/gather" in url_ and extra.get("Digits"):
                with self.lock:
                    keys_sent["n"] += 1
                    if keys_sent["n"] == 40:  # in the middle of the first wave of calls
                        webs[1].send_signal(signal.SIGKILL)
                        webs[1].wait()
            return super()._post(url_, extra)

    Killer.acknowledged = acknowledged
    provider = SimulatedProvider()
    rng = random.Random(5)
    restarted = False
    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            for _pass in range(12):
                dial_pass(runtime, provider, round_id, sleep=lambda _s: None)
                placed = list(provider.placed)
                provider.placed.clear()
                citizens = []
                for sid, call in placed:
                    citizen = Killer(
                        sid, call, runtime.settings.webhook_token, random.Random(rng.random()),
                        behaviour="complete",
                    )  # fmt: skip
                    citizen.route = balance
                    citizens.append(citizen)
                results = list(pool.map(_live_or_cut, citizens))
                for citizen in citizens:  # the calls are over, whatever the webhooks saw
                    provider.states[citizen.sid] = dataclasses.replace(
                        provider.states[citizen.sid], status="completed"
                    )
                if webs[1].poll() is not None:
                    assert "cut" in results
                    webs[1] = start_web(env, ports[1], cwd=tmp_path, log=tmp_path / "web-2.log")
                    restarted = True
                # Later: the reaper settles the calls whose status callbacks never came.
                clock["now"] += timedelta(minutes=20)
                reap(runtime, provider)
                with runtime.transaction() as session:
                    pending = session.scalar(
                        select(func.count()).where(
                            Member.round_id == round_id,
                            Member.status != MemberStatus.FINAL.value,
                        )
                    )
                if not pending:
                    break
    finally:
        for web in webs:
            stop(web)
    assert restarted
    with runtime.transaction() as session:
        saved = {
            (attempt_id, question): value
            for attempt_id, question, value in session.execute(
                select(Answer.attempt_id, Answer.question_id, Answer.value)
            )
        }
        dispositions = session.scalars(
            select(Member.disposition).where(Member.round_id == round_id)
        ).all()
    assert len(acknowledged) > 100
    lost = {k: v for k, v in acknowledged.items() if saved.get(k) != v}
    assert lost == {}
    # Every citizen meant to finish: the round completes, the cut calls resumed and finished.
    assert dispositions == ["1.1"] * 30


def _live_or_cut(citizen: Citizen) -> str:
    try:
        citizen.live()
    except (OSError, HTTPException):
        return "cut"
    return "done"


# -- the scheduler killed: the standby takes over ---------------------------------------------


def scheduler_env(url: str, port: int, **settings: str) -> dict[str, str]:
    """A web server on `port` and schedulers at test pace: this week's round sampled at half
    the eligible citizens, a dialing pass and a heartbeat every second, calls all day."""
    return cati_env(
        url,
        CATI_PUBLIC_URL=f"http://127.0.0.1:{port}",
        CATI_TELEPHONY="simulated",
        CATI_SAMPLING_RATE="0.5",
        CATI_MAX_CONCURRENT_CALLS="100",
        CATI_DIAL_INTERVAL_S="1",
        CATI_SCHEDULER_HEARTBEAT_S="1",
        **OPEN_ALL_DAY,
        **settings,
    )


def _status(runtime):
    with runtime.transaction() as session:
        return scheduler_status(session, now=datetime.now(UTC), heartbeat_s=1, job_names=())


def test_a_killed_scheduler_is_replaced_by_its_standby(database, tmp_path):
    url, engine = database
    runtime = runtime_on(url, engine)
    seed_cases(runtime, week_due("0 7 * * mon", datetime.now(UTC), TZ), 400)
    port = free_port()
    env = scheduler_env(url, port, CATI_MAX_CPS="20", CATI_REAP_INTERVAL_S="2")
    web = start_web(env, port, cwd=tmp_path, log=tmp_path / "web.log")
    first = start_cati(env, "scheduler", cwd=tmp_path, log=tmp_path / "first.log")
    second = None
    try:
        wait_until(
            lambda: (_status(runtime)["leader"] or {}).get("pid") == first.pid,
            timeout=30,
            what="the first scheduler leads",
        )
        second = start_cati(env, "scheduler", cwd=tmp_path, log=tmp_path / "second.log")
        wait_until(
            lambda: second.pid in [s["pid"] for s in _status(runtime)["standbys"]],
            timeout=30,
            what="the second scheduler stands by",
        )

        def attempts():
            """Calls placed (accepted by the provider)."""
            with runtime.transaction() as session:
                return session.scalar(
                    select(func.count()).where(Attempt.provider_call_id.is_not(None))
                )

        wait_until(lambda: attempts() >= 20, timeout=60, what="calls under way")
        first.send_signal(signal.SIGKILL)
        killed_at = time.monotonic()
        first.wait()
        before = attempts()
        wait_until(
            lambda: (_status(runtime)["leader"] or {}).get("pid") == second.pid,
            timeout=60,
            what="the standby takes over",
        )
        assert time.monotonic() - killed_at < 15  # a few heartbeats of 1 s
        wait_until(lambda: attempts() > before, timeout=60, what="the new leader dials")

        def sampling_result():
            with runtime.transaction() as session:
                return session.get(SchedulerJob, "sampling").last_result

        wait_until(lambda: "already sampled" in sampling_result(), timeout=30, what="catch-up run")
        shown = run_cati(env, "scheduler", "status", "--json", cwd=tmp_path)
        assert shown.returncode == 0, shown.stderr
        document = json.loads(shown.stdout)
        assert document["leader"]["pid"] == second.pid and document["standbys"] == []
        jobs = {j["name"]: j for j in document["jobs"]}
        assert set(jobs) == {
            "sampling", "dialing", "reaping", "closing", "retention", "digest", "heartbeat",
        }  # fmt: skip
        assert not any((j["last_result"] or "").startswith("error") for j in jobs.values()), jobs

        assert stop(second, signal.SIGTERM) == 0  # a clean stop after the running job
        shown = run_cati(env, "scheduler", "status", "--json", cwd=tmp_path)
        assert shown.returncode == 1 and json.loads(shown.stdout)["leader"] is None
    finally:
        for process in (first, second):
            if process is not None:
                stop(process, signal.SIGKILL)
        stop(web)

    with runtime.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Round)) == 1  # sampled once
        by_member = defaultdict(list)
        for member_id, started, ended in session.execute(
            select(Attempt.member_id, Attempt.started_at, Attempt.ended_at).order_by(
                Attempt.started_at, Attempt.id
            )
        ):
            by_member[member_id].append((started, ended))
    for calls in by_member.values():
        # Never two calls to one citizen at once: each call ended before the next began.
        for (_, ended), (started, _) in itertools.pairwise(calls):
            assert ended is not None and ended <= started


# -- the database unreachable -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/ivr/voice?attempt=1", {"CallStatus": "in-progress"}),
        ("/ivr/gather?attempt=1&q=overall&t=0", {"Digits": "8"}),
        ("/ivr/inbound", {"From": "+84912345678"}),
    ],
)
def test_webhooks_say_a_polite_goodbye_while_the_database_is_unreachable(settings, path, params):
    engine = make_engine(
        "postgresql+psycopg://nobody@127.0.0.1:1/none", connect_args={"connect_timeout": 1}
    )
    runtime = Runtime(settings, sessionmaker(engine), clock=lambda: NOW)
    client = create_app(runtime, {"TESTING": True}).test_client()
    form = {"CallSid": "CA" + "1" * 32, "AccountSid": "AC1", **params}
    signature = sign(settings.webhook_token, settings.public_url + path, form)
    response = client.post(path, data=form, headers={"X-Twilio-Signature": signature})
    assert response.status_code == 200
    twiml = ET.fromstring(response.data)
    assert twiml.find("Say").text.startswith("Xin lỗi")
    assert twiml.find("Hangup") is not None


def test_the_database_unreachable_for_a_while_is_waited_out(database, tmp_path):
    """The web server and the scheduler reach PostgreSQL through a plug the test pulls for a
    few seconds in the middle of dialing: webhooks say goodbye instead of failing, the
    scheduler keeps retrying and takes up its work again, and nothing is half-written."""
    url, engine = database
    if engine.dialect.name != "postgresql":
        pytest.skip("a database server to cut off: PostgreSQL only")
    server = make_url(url)
    plug = Plug(server.host or "127.0.0.1", server.port or 5432)
    through_plug = server.set(host="127.0.0.1", port=plug.port).render_as_string(
        hide_password=False
    )
    runtime = runtime_on(url, engine)
    seed_cases(runtime, week_due("0 7 * * mon", datetime.now(UTC), TZ), 400)
    port = free_port()
    env = scheduler_env(through_plug, port, CATI_MAX_CPS="10")
    web = start_web(env, port, cwd=tmp_path, log=tmp_path / "web.log")
    scheduler = start_cati(env, "scheduler", cwd=tmp_path, log=tmp_path / "scheduler.log")

    def placed():
        with runtime.transaction() as session:
            return session.scalar(select(func.count()).where(Attempt.provider_call_id.is_not(None)))

    try:
        wait_until(lambda: placed() >= 10, timeout=60, what="calls under way")
        pulled_at = datetime.now(UTC).replace(microsecond=0)
        plug.pull()
        time.sleep(6)
        assert scheduler.poll() is None and web.poll() is None  # both still running
        before = placed()
        plug.push_back()

        def leads_again():
            leader = _status(runtime)["leader"] or {}
            return leader.get("pid") == scheduler.pid and (
                datetime.fromisoformat(leader["since"]) >= pulled_at
            )

        wait_until(leads_again, timeout=60, what="the scheduler takes the lead again")
        wait_until(lambda: placed() > before, timeout=60, what="dialing goes on")
        assert stop(scheduler, signal.SIGTERM) == 0
    finally:
        stop(scheduler, signal.SIGKILL)
        stop(web)
        plug.close()
    assert "database unreachable" in (tmp_path / "scheduler.log").read_text()
    requests = (tmp_path / "web.log").read_text()
    assert '" 500 ' not in requests and "/ivr/" in requests  # goodbyes, never a server error
    with runtime.transaction() as session:
        # Claims are whole: each member's count of calls is its number of attempts.
        counted = dict(session.execute(select(Member.id, Member.attempt_count)).all())
        attempts = dict(
            session.execute(
                select(Attempt.member_id, func.count()).group_by(Attempt.member_id)
            ).all()
        )
        assert session.scalar(select(func.count()).select_from(Round)) == 1
    assert {m: n for m, n in counted.items() if n} == attempts
