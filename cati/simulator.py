"""Simulated citizens: they take the simulated provider's calls and answer them through the
real, signed /ivr/* webhooks over HTTP, as Twilio would, with a realistic mix of behaviour.

`run_simulation` is the demo's engine: it runs the web application on loopback, then dials
a round pass after pass on a simulated clock (each pass two and a half hours after the last,
inside calling hours), so that retries, spacing and round closing all play out in seconds.
`answering_on_loopback` is what `cati dial` uses with simulated telephony: the same web
application on loopback, and citizens who answer each call as it is placed, in real time.
"""

from __future__ import annotations

import logging
import random
import threading
import time
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from http.client import HTTPException

from sqlalchemy import case, func, select
from werkzeug.serving import make_server

from cati.jobs.dialing import dial_pass
from cati.models import Attempt, Member, MemberStatus
from cati.runtime import Runtime
from cati.telephony.base import CallRequest
from cati.telephony.signatures import sign
from cati.telephony.simulated import SimulatedProvider

log = logging.getLogger(__name__)
RING_S = 0.5  # before a simulated citizen picks up a call placed by the scheduler

# Who picks up, per call: (behaviour, weight). A citizen is a new draw on every call.
BEHAVIOURS = (
    ("complete", 58),
    ("fumbling", 8),  # presses wrong keys and stays silent now and then, but finishes
    ("busy", 8),
    ("no_answer", 9),
    ("machine", 5),
    ("drop", 5),  # hangs up in the middle
    ("refuse", 4),
    ("not_eligible", 2),
    ("unreachable", 1),
)


@dataclass
class CallResult:
    behaviour: str
    requests: int


class Citizen:
    """One simulated person answering one call."""

    def __init__(
        self,
        sid: str,
        call: CallRequest,
        token: str,
        rng: random.Random,
        behaviour: str | None = None,
    ) -> None:
        self.sid, self.call, self.token, self.rng = sid, call, token, rng
        self.behaviour = behaviour or rng.choices(*zip(*BEHAVIOURS, strict=True))[0]
        self.sequence = 0
        self.requests = 0
        # Where a request signed for `url` is sent: the URL itself, or a web node behind it.
        self.route: Callable[[str], str] = lambda url: url

    def live(self) -> CallResult:
        behaviour = self.behaviour
        self._status("initiated")
        self._status("ringing")
        if behaviour in ("busy", "no_answer", "unreachable"):
            status = {"busy": "busy", "no_answer": "no-answer", "unreachable": "failed"}
            extra = {"SipResponseCode": "480"} if behaviour == "unreachable" else {}
            self._status(status[behaviour], CallDuration="0", **extra)
            return CallResult(behaviour, self.requests)
        self._status("in-progress")
        twiml = self._post(self.call.url, {"CallStatus": "in-progress"})
        if behaviour == "machine":
            self._post(self.call.amd_callback, {"AnsweredBy": "machine_end_beep"})
            self._status("completed", CallDuration="9", AnsweredBy="machine_end_beep")
            return CallResult(behaviour, self.requests)
        self._post(self.call.amd_callback, {"AnsweredBy": "human"})
        turns = 0
        drop_after = self.rng.randint(2, 5)
        while twiml is not None and twiml.find("Hangup") is None:
            gather = twiml.find("Gather")
            record = twiml.find("Record")
            if record is not None:
                recording = {
                    "RecordingUrl": f"http://127.0.0.1/recordings/{self.sid}.wav",
                    "RecordingDuration": str(self.rng.randint(4, 40)),
                }
                twiml = self._post(record.get("action"), recording)
                continue
            if gather is None:
                break
            turns += 1
            if behaviour == "drop" and turns > drop_after:
                break
            twiml = self._answer(behaviour, gather, twiml.findtext("Redirect"))
        self._status("completed", CallDuration=str(20 + 12 * turns), AnsweredBy="human")
        return CallResult(behaviour, self.requests)

    def _answer(self, behaviour: str, gather: ET.Element, redirect: str | None):
        action = gather.get("action") or ""
        question = urllib.parse.parse_qs(urllib.parse.urlsplit(action).query).get("q", [""])[0]
        if behaviour == "fumbling" and self.rng.random() < 0.3:
            if self.rng.random() < 0.5 and redirect:
                return self._post(redirect, {})  # silence: Twilio follows the redirect
            return self._post(action, {"Digits": self.rng.choice("#5")})
        return self._post(action, {"Digits": self._key(behaviour, question)})

    def _key(self, behaviour: str, question: str) -> str:
        if question == "consent":
            return {"refuse": "2", "not_eligible": "3"}.get(behaviour, "1")
        if question == "comment":
            return "1" if self.rng.random() < 0.15 else "2"
        if question == "contact_consent":  # asked last when the answers raise a follow-up
            return "1" if self.rng.random() < 0.6 else "2"
        if question in ("on_time", "asked_to_return", "paid_without_receipt"):
            yes = {"on_time": 0.9, "asked_to_return": 0.1, "paid_without_receipt": 0.02}[question]
            return "1" if self.rng.random() < yes else "2"
        if self.rng.random() < 0.04:
            return "0"
        return str(self.rng.choices(range(1, 10), weights=(1, 1, 1, 2, 3, 6, 12, 16, 10))[0])

    def _status(self, status: str, **extra: str) -> None:
        self.sequence += 1
        self._post(
            self.call.status_callback,
            {"CallStatus": status, "SequenceNumber": str(self.sequence), **extra},
        )

    def _post(self, url: str, extra: dict[str, str]):
        params = {
            "CallSid": self.sid,
            "AccountSid": "ACsimulated",
            "From": self.call.from_,
            "To": self.call.to,
            "Direction": "outbound-api",
            **extra,
        }
        body = urllib.parse.urlencode(params).encode()
        request = urllib.request.Request(
            self.route(url),
            data=body,
            method="POST",
            headers={
                "X-Twilio-Signature": sign(self.token, url, params),
                "Content-Type": "application/x-www-form-urlencoded",
            },
        )
        self.requests += 1
        with urllib.request.urlopen(request, timeout=15) as response:
            payload = response.read()
        return ET.fromstring(payload) if payload.strip().startswith(b"<") else None


class AnsweringCitizens(SimulatedProvider):
    """The simulated provider for a running scheduler: every call placed is answered at once,
    in a thread of its own, by a simulated citizen posting to the real web server's signed
    webhooks (CATI_PUBLIC_URL), as Twilio would."""

    def __init__(self, token: str, *, seed: int | None = None, concurrency: int = 8) -> None:
        super().__init__()
        self.token = token
        self.rng = random.Random(seed)
        self.pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="citizen")
        self.answered: Counter = Counter()  # behaviours of the calls answered to their end

    def close(self) -> None:
        """Drop the calls not picked up yet; the ones under way end as they end."""
        self.pool.shutdown(wait=False, cancel_futures=True)

    def finish(self) -> None:
        """Wait until every call placed so far has been answered to its end."""
        self.pool.shutdown(wait=True)

    def place_call(self, call: CallRequest) -> str:
        sid = super().place_call(call)
        with self._lock:
            self.placed.clear()  # nobody else takes calls from this queue
            citizen = Citizen(sid, call, self.token, random.Random(self.rng.random()))
        self.pool.submit(self._answer, citizen)
        return sid

    def _answer(self, citizen: Citizen) -> None:
        time.sleep(RING_S)  # the dialer records the placed call meanwhile, as with Twilio
        try:
            result = citizen.live()
        except (OSError, HTTPException) as exc:  # the web server went away: the reaper settles
            log.warning("simulated citizen: call %s cut (%s)", citizen.sid, type(exc).__name__)
        else:
            with self._lock:
                self.answered[result.behaviour] += 1
        finally:
            # Whatever the webhooks saw, the call itself is over (as Twilio would report).
            with self._lock:
                self.states[citizen.sid] = replace(self.states[citizen.sid], status="completed")


@contextmanager
def loopback_webhooks(runtime: Runtime, **settings_changes) -> Iterator[Runtime]:
    """Serve the web application on a free loopback port for as long as the block runs; yield
    the runtime it serves, whose public URL is that port (and `settings_changes` applied)."""
    from cati.web import create_app

    werkzeug = logging.getLogger("werkzeug")
    level = werkzeug.level
    werkzeug.setLevel(logging.WARNING)  # one line per request is noise here
    app_runtime = replace(runtime)
    server = make_server("127.0.0.1", 0, create_app(app_runtime), threaded=True)
    # The application reads its settings at each request: the port is known only now.
    app_runtime.settings = replace(
        runtime.settings, public_url=f"http://127.0.0.1:{server.server_port}", **settings_changes
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield app_runtime
    finally:
        server.shutdown()
        thread.join()
        werkzeug.setLevel(level)


@contextmanager
def answering_on_loopback(
    runtime: Runtime, *, seed: int | None = None, concurrency: int = 8
) -> Iterator[tuple[Runtime, AnsweringCitizens]]:
    """Simulated telephony without a web server of one's own (`cati dial`): the web
    application on loopback, and a provider whose citizens answer every call placed through
    its signed webhooks, at once. Yields the runtime to dial with and the provider; on leaving,
    every call placed has been answered to its end."""
    with loopback_webhooks(runtime) as app_runtime:
        citizens = AnsweringCitizens(
            app_runtime.settings.webhook_token, seed=seed, concurrency=concurrency
        )
        try:
            yield app_runtime, citizens
        finally:
            citizens.finish()


@dataclass
class SimulationReport:
    passes: int
    calls: int
    requests: int
    behaviours: Counter
    statuses: Counter
    dispositions: Counter


def run_simulation(
    runtime: Runtime,
    round_id: int,
    start: datetime,
    *,
    seed: int = 0,
    concurrency: int = 8,
    max_passes: int = 40,
    on_pass: Callable[[int, datetime, Counter], None] | None = None,
) -> SimulationReport:
    """Dial a round to the end with simulated citizens; return what happened.

    1. The web application is served on a free loopback port and becomes the public URL.
    2. Each pass runs at a simulated time: the dialer places every due call, and the citizens
       answer them concurrently through the webhooks.
    3. The clock then moves on 2.5 hours (to the next calling window when outside one), until
       no member is pending or the round's calling period is over.
    """
    # One line per call placed is noise here: the passes are reported instead.
    dialing_log = logging.getLogger("cati.jobs.dialing")
    level = dialing_log.level
    dialing_log.setLevel(logging.WARNING)
    clock = {"now": start}
    provider = SimulatedProvider()
    simulated = replace(runtime, clock=lambda: clock["now"])
    rng = random.Random(seed)
    behaviours: Counter = Counter()
    calls = requests = passes = 0
    try:
        with (
            loopback_webhooks(
                simulated, max_cps=1000.0, max_concurrent_calls=10_000
            ) as app_runtime,
            ThreadPoolExecutor(max_workers=concurrency) as pool,
        ):
            settings = app_runtime.settings
            policy = settings.calling_policy
            for passes in range(1, max_passes + 1):
                dial_pass(app_runtime, provider, round_id, sleep=lambda _s: None)
                placed = list(provider.placed)
                provider.placed.clear()
                citizens = [
                    Citizen(sid, call, settings.webhook_token, random.Random(rng.random()))
                    for sid, call in placed
                ]
                for result in pool.map(Citizen.live, citizens):
                    behaviours[result.behaviour] += 1
                    requests += result.requests
                calls += len(placed)
                statuses = _member_statuses(app_runtime, round_id)
                if on_pass:
                    on_pass(passes, clock["now"], statuses)
                if not statuses.get(MemberStatus.PENDING.value):
                    break
                nxt = clock["now"] + timedelta(hours=2, minutes=30)
                clock["now"] = policy.next_window_start(nxt) or nxt
    finally:
        dialing_log.setLevel(level)
    with app_runtime.transaction() as session:
        dispositions = _count(session, Member.disposition, round_id)
        statuses = _count(session, Attempt.outcome, round_id, Attempt)
    return SimulationReport(passes, calls, requests, behaviours, statuses, dispositions)


def _member_statuses(runtime: Runtime, round_id: int) -> Counter:
    """Members by status; those handed over to the interviewers are counted apart."""
    status = case(
        (Member.status == MemberStatus.FINAL.value, MemberStatus.FINAL.value),
        (Member.mode == "interviewer", "to interviewers"),
        else_=Member.status,
    )
    with runtime.transaction() as session:
        return _count(session, status, round_id)


def _count(session, key, round_id: int, joined=None) -> Counter:
    """How many members (or, with `joined=Attempt`, attempts) of the round per value of `key`."""
    query = select(key, func.count())
    if joined is not None:
        query = query.join(Member, Member.id == joined.member_id)
    query = query.where(Member.round_id == round_id).group_by(key)
    return Counter(dict(session.execute(query).all()))
