"""The retention job: one erasure, then each recording deleted at the provider and forgotten;
a provider failure leaves the recording for the next run."""

from __future__ import annotations

import dataclasses
import logging
from datetime import timedelta

from sqlalchemy import select

from cati.jobs.retention import RetentionSummary, erase_personal_data
from cati.models import Answer, Case, CounterRating, HotlineMessage, Member, OptOut
from cati.services.retention import opt_out_hash
from cati.telephony.base import ErrorKind, ProviderError
from cati.telephony.simulated import SimulatedProvider
from tests.conftest import NOW
from tests.factories import create_member, create_round

LATER = NOW + timedelta(days=180)


class FlakyProvider(SimulatedProvider):
    """Fails to delete the recordings it is told to, as a provider outage would."""

    def __init__(self, failing: set[str]) -> None:
        super().__init__()
        self.failing = failing

    def delete_recording(self, url: str) -> None:
        if url in self.failing:
            raise ProviderError("twilio 503 code 20500: Service Unavailable", ErrorKind.TEMPORARY)
        super().delete_recording(url)


def at(runtime, when):
    return dataclasses.replace(runtime, clock=lambda: when)


def closed_round_with_recordings(session, urls):
    round_ = create_round(session)
    round_.status, round_.closed_at = "closed", NOW
    members = []
    for n, url in enumerate(urls):
        member = create_member(session, round_, citizen_name=f"Phạm Thị Dung {n}")
        session.add(
            Answer(
                member_id=member.id,
                question_id="overall",
                value="8",
                recording_url=url,
                answered_at=NOW,
            )
        )
        members.append(member)
    session.add(OptOut(phone=members[0].phone, reason="asked", created_at=NOW))
    session.add(
        HotlineMessage(
            provider_call_id="CA1",
            caller="+84915550001",
            recording_url="https://rec.example/RE-hotline",
            received_at=NOW,
        )
    )
    session.flush()
    return round_, members


def pending(session):
    session.expire_all()
    return set(
        session.scalars(select(Answer.recording_url).where(Answer.recording_url.is_not(None)))
    )


def test_erases_and_deletes_every_recording(runtime, session, caplog):
    urls = ["https://rec.example/RE1", "https://rec.example/RE2"]
    _, members = closed_round_with_recordings(session, urls)
    provider = SimulatedProvider()
    phone = members[0].phone

    with caplog.at_level(logging.INFO):
        summary = erase_personal_data(at(runtime, LATER), provider)

    assert dataclasses.astuple(summary) == (1, 2, 2, 3, 0, 1, 1, 0)
    assert str(summary) == (
        "1 round erased: 2 members, 2 cases, 3 recordings deleted, "
        "1 opt-out kept as a hash, 1 hotline message"
    )
    assert set(provider.deleted_recordings) == {*urls, "https://rec.example/RE-hotline"}
    assert pending(session) == set()
    assert session.scalar(select(HotlineMessage.recording_url)) is None
    assert session.scalars(select(Case.citizen_name)).all() == [None, None]
    assert session.scalars(select(Member.phone)).all() == [None, None]
    assert session.scalar(select(OptOut.phone_hash)) == opt_out_hash(
        runtime.settings.resolve_secret_key(), phone
    )
    assert session.scalars(select(Answer.value)).all() == ["8", "8"]
    for secret in (phone, "Phạm Thị Dung", "rec.example", "+84915550001"):
        assert secret not in caplog.text


def test_a_provider_failure_leaves_the_recording_for_the_next_run(runtime, session):
    urls = ["https://rec.example/RE1", "https://rec.example/RE2"]
    closed_round_with_recordings(session, urls)

    first = erase_personal_data(at(runtime, LATER), FlakyProvider({urls[1]}))

    assert (first.rounds, first.recordings_deleted, first.recordings_left) == (1, 2, 1)
    assert "2 recordings deleted (1 left for the next run)" in str(first)
    assert pending(session) == {urls[1]}

    provider = SimulatedProvider()
    second = erase_personal_data(at(runtime, LATER + timedelta(days=1)), provider)

    assert dataclasses.astuple(second) == (0, 0, 0, 1, 0, 0, 0, 0)
    assert provider.deleted_recordings == [urls[1]]
    assert pending(session) == set()


def test_rerunning_does_nothing(runtime, session):
    closed_round_with_recordings(session, ["https://rec.example/RE1"])
    erase_personal_data(at(runtime, LATER), SimulatedProvider())
    provider = SimulatedProvider()

    again = erase_personal_data(at(runtime, LATER + timedelta(days=1)), provider)

    assert again == RetentionSummary()
    assert provider.deleted_recordings == []
    assert str(again) == (
        "0 rounds erased: 0 members, 0 cases, 0 recordings deleted, "
        "0 opt-outs kept as hashes, 0 hotline messages"
    )


def test_old_counter_ratings_are_counted_in_the_result(runtime, session):
    from tests.services.test_retention import counter_rating

    old = counter_rating(session, NOW, "HS-000123", reason="Chờ lâu")
    counter_rating(session, NOW + timedelta(days=1), "HS-000124")

    summary = erase_personal_data(at(runtime, LATER), SimulatedProvider())

    assert summary.counter_ratings == 1
    assert str(summary).endswith("0 hotline messages, 1 counter rating")
    assert summary.result().params["counter_ratings"] == 1
    session.expire_all()
    assert session.get(CounterRating, old.id).dossier_code is None


def test_nothing_is_erased_before_the_retention_period(runtime, session):
    _, members = closed_round_with_recordings(session, ["https://rec.example/RE1"])
    provider = SimulatedProvider()
    summary = erase_personal_data(at(runtime, LATER - timedelta(seconds=1)), provider)
    assert summary == RetentionSummary()
    assert provider.deleted_recordings == []
    session.expire_all()
    assert session.get(Member, members[0].id).phone is not None
