"""The dialer against Twilio's REST API (mocked with `responses`): limits, errors, retries."""

from __future__ import annotations

import dataclasses
import threading
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs

import pytest
import responses
from click.testing import CliRunner
from sqlalchemy import select

from cati.cli import main
from cati.db import make_engine, make_session_factory
from cati.jobs.dialing import DialerError, dial_pass
from cati.migrate import upgrade
from cati.models import Attempt, Member
from cati.services.dialer import claim_next_member
from cati.telephony.twilio import TwilioProvider
from tests.conftest import NOW, fresh_database
from tests.factories import create_attempt, create_member, create_round

CALLS_URL = "https://api.twilio.com/2010-04-01/Accounts/AC123/Calls.json"


class FakeClock:
    """Monotonic time that only moves when the dialer sleeps."""

    def __init__(self):
        self.now, self.sleeps = 0.0, []

    def sleep(self, seconds):
        self.sleeps.append(round(seconds, 3))
        self.now += seconds

    def monotonic(self):
        return self.now


@pytest.fixture
def provider():
    return TwilioProvider("AC123", "secret")


@pytest.fixture
def members(session):
    round_ = create_round(session)
    return [create_member(session, round_) for _ in range(3)]


def created(sid: str, status: int = 201, **body):
    return responses.Response(
        responses.POST, CALLS_URL, status=status,
        json={"sid": sid, "status": "queued", **body} if status == 201 else body,
    )  # fmt: skip


def dial(runtime, provider, round_id, clock=None):
    clock = clock or FakeClock()
    return dial_pass(runtime, provider, round_id, sleep=clock.sleep, monotonic=clock.monotonic)


def reload(session, model, ident):
    session.expire_all()
    return session.get(model, ident)


@responses.activate
def test_places_every_due_call_with_the_promised_parameters(
    twilio_runtime, provider, session, members
):
    for i in range(3):
        responses.add(created(f"CA{i:032d}"))
    clock = FakeClock()
    report = dial(twilio_runtime, provider, members[0].round_id, clock)
    assert (report.placed, report.invalid_numbers, report.deferred) == (3, 0, 0)
    assert clock.sleeps == [0.5, 0.5]  # CATI_MAX_CPS=2: half a second between calls
    sent = [parse_qs(call.request.body) for call in responses.calls]
    attempts = session.scalars(select(Attempt).order_by(Attempt.id)).all()
    assert [a.provider_call_id for a in attempts] == [f"CA{i:032d}" for i in range(3)]
    first = sent[0]
    assert first["To"] == [members[0].phone] and first["From"] == ["+842333852123"]
    assert first["Url"] == [f"https://cati.example.vn/ivr/voice?attempt={attempts[0].id}"]
    assert first["StatusCallback"] == [
        f"https://cati.example.vn/ivr/status?attempt={attempts[0].id}"
    ]
    assert first["StatusCallbackEvent"] == ["initiated", "ringing", "answered", "completed"]
    assert first["MachineDetection"] == ["Enable"] and first["AsyncAmd"] == ["true"]
    assert first["AsyncAmdStatusCallback"] == [
        f"https://cati.example.vn/ivr/amd?attempt={attempts[0].id}"
    ]
    assert first["Timeout"] == ["30"] and first["TimeLimit"] == ["600"]
    for member in members:
        member = reload(session, Member, member.id)
        assert (member.status, member.attempt_count) == ("in_progress", 1)
    assert dial(twilio_runtime, provider, members[0].round_id).placed == 0  # nothing due now


@responses.activate
def test_invalid_number_is_a_final_outcome(twilio_runtime, provider, session, members):
    responses.add(created("", status=400, code=21211, message="Invalid 'To' Phone Number"))
    for i in range(2):
        responses.add(created(f"CA{i:032d}"))
    report = dial(twilio_runtime, provider, members[0].round_id)
    assert (report.placed, report.invalid_numbers) == (2, 1)
    bad = reload(session, Member, members[0].id)
    assert (bad.status, bad.disposition, bad.attempt_count) == ("final", "2.20", 1)
    attempt = session.scalar(select(Attempt).where(Attempt.member_id == bad.id))
    assert (attempt.outcome, attempt.status, attempt.provider_call_id) == (
        "invalid_number", "failed", None)  # fmt: skip


@responses.activate
def test_rate_limited_request_is_retried_without_a_second_attempt(
    twilio_runtime, provider, session, members
):
    responses.add(created("", status=429, code=20429, message="Too Many Requests"))
    for i in range(3):
        responses.add(created(f"CA{i:032d}"))
    clock = FakeClock()
    report = dial(twilio_runtime, provider, members[0].round_id, clock)
    assert report.placed == 3
    assert 1.0 in clock.sleeps  # the backoff before the retry
    assert len(session.scalars(select(Attempt)).all()) == 3


@responses.activate
def test_a_provider_that_keeps_failing_leaves_no_attempt_and_requeues(
    twilio_runtime, provider, session, members
):
    for _ in range(4):
        responses.add(created("", status=503, code=20500, message="Service Unavailable"))
    for i in range(2):
        responses.add(created(f"CA{i:032d}"))
    report = dial(twilio_runtime, provider, members[0].round_id)
    assert (report.placed, report.deferred) == (2, 1)
    member = reload(session, Member, members[0].id)
    assert (member.status, member.attempt_count) == ("pending", 0)
    assert member.next_call_at == NOW + timedelta(minutes=10)
    assert session.scalar(select(Attempt).where(Attempt.member_id == member.id)) is None


@responses.activate
def test_bad_credentials_stop_the_dialer(twilio_runtime, provider, session, members):
    responses.add(created("", status=401, code=20003, message="Authenticate"))
    with pytest.raises(DialerError, match="20003"):
        dial(twilio_runtime, provider, members[0].round_id)
    assert reload(session, Member, members[0].id).status == "pending"
    assert len(responses.calls) == 1


@responses.activate
def test_the_concurrency_limit_holds(twilio_runtime, provider, session, members):
    runtime = dataclasses.replace(
        twilio_runtime,
        settings=dataclasses.replace(twilio_runtime.settings, max_concurrent_calls=2),
    )
    for i in range(3):
        responses.add(created(f"CA{i:032d}"))
    report = dial(runtime, provider, members[0].round_id)
    assert (report.placed, report.at_capacity) == (2, True)


@responses.activate
@pytest.mark.parametrize(
    "moment",
    [
        datetime(2026, 11, 22, 3, 0, tzinfo=UTC),  # Sunday 10:00 local
        datetime(2026, 11, 23, 5, 0, tzinfo=UTC),  # Monday 12:00 local, lunch
        datetime(2026, 11, 23, 11, 0, tzinfo=UTC),  # Monday 18:00 local
        datetime(2026, 12, 15, 3, 0, tzinfo=UTC),  # after the round's calling period
    ],
    ids=["sunday", "lunch", "evening", "round-over"],
)
def test_nothing_is_dialled_outside_calling_hours_or_after_the_round(
    twilio_runtime, provider, members, moment
):
    runtime = dataclasses.replace(twilio_runtime, clock=lambda: moment)
    assert dial(runtime, provider, members[0].round_id).placed == 0
    assert len(responses.calls) == 0


def test_a_member_waiting_for_its_next_call_is_not_due(runtime, session, members):
    members[0].next_call_at = NOW + timedelta(hours=2)
    create_attempt(session, members[1], "CA-live")
    members[1].status = "in_progress"
    members[2].status = "final"
    session.flush()
    policy = runtime.settings.calling_policy
    assert claim_next_member(session, members[0].round_id, policy, NOW) is None
    later = claim_next_member(session, members[0].round_id, policy, NOW + timedelta(hours=4))
    assert later is not None and later.member_id == members[0].id


def test_two_dialers_never_claim_the_same_member(tmp_path, settings):
    """Real concurrency: two connections race for one due member on a committed database."""
    with fresh_database(tmp_path) as url:
        upgrade(url)
        engine = make_engine(url)
        factory = make_session_factory(engine)
        with factory.begin() as session:
            round_id = create_member(session).round_id
        policy = settings.calling_policy
        barrier = threading.Barrier(2)
        results = []

        def claim():
            with factory() as session:
                barrier.wait()
                results.append(claim_next_member(session, round_id, policy, NOW))
                session.commit()

        threads = [threading.Thread(target=claim) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        engine.dispose()
    assert sorted(r is None for r in results) == [False, True]


@responses.activate
def test_dial_command_reports_and_validates(twilio_runtime, session, members):
    """(Simulated telephony, whose citizens answer through a loopback web server, is tested
    on a database of its own in tests/cli/test_dial.py.)"""

    def cli(*args):
        return CliRunner().invoke(main, list(args), obj=twilio_runtime, catch_exceptions=False)

    for i in range(3):
        responses.add(created(f"CA{i:032d}"))
    result = cli("dial", "--round", "999999")
    assert result.exit_code == 2 and "no round with id 999999" in result.output
    result = cli("dial", "--round", str(members[0].round_id), "--once")
    assert result.exit_code == 0, result.output
    assert (
        result.output
        == f"round {members[0].round_id}: 3 calls placed, 0 invalid numbers, 0 deferred\n"
    )
