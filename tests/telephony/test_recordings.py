"""Deleting recordings at the provider (retention): Twilio through `responses`, simulated."""

from __future__ import annotations

import pytest
import requests
import responses

from cati.telephony.base import ErrorKind, ProviderError
from cati.telephony.simulated import SimulatedProvider
from cati.telephony.twilio import TwilioProvider

SID = "RE" + "0123456789abcdef" * 2
RECORDING_URL = f"https://api.twilio.com/2010-04-01/Accounts/AC123/Recordings/{SID}"
DELETE_URL = f"{RECORDING_URL}.json"


@pytest.fixture
def provider():
    return TwilioProvider("AC123", "secret")


@responses.activate
@pytest.mark.parametrize("suffix", ["", ".mp3", ".wav", ".json"])
def test_twilio_deletes_the_recording_the_url_names(provider, suffix):
    responses.add(responses.DELETE, DELETE_URL, status=204)
    provider.delete_recording(RECORDING_URL + suffix)
    assert [(c.request.method, c.request.url) for c in responses.calls] == [("DELETE", DELETE_URL)]


@responses.activate
def test_twilio_recording_already_gone_is_deleted(provider):
    responses.add(
        responses.DELETE,
        DELETE_URL,
        status=404,
        json={"code": 20404, "message": "The requested resource was not found"},
    )
    provider.delete_recording(RECORDING_URL)
    assert len(responses.calls) == 1


@responses.activate
@pytest.mark.parametrize(
    ("status", "kind"),
    [(503, ErrorKind.TEMPORARY), (429, ErrorKind.TEMPORARY), (401, ErrorKind.FATAL)],
)
def test_twilio_failures_say_whether_to_retry(provider, status, kind):
    responses.add(
        responses.DELETE, DELETE_URL, status=status, json={"code": 20000 + status, "message": "no"}
    )
    with pytest.raises(ProviderError) as caught:
        provider.delete_recording(RECORDING_URL)
    assert caught.value.kind is kind


@responses.activate
def test_twilio_network_error_is_temporary(provider):
    responses.add(responses.DELETE, DELETE_URL, body=requests.ConnectionError("reset"))
    with pytest.raises(ProviderError) as caught:
        provider.delete_recording(RECORDING_URL)
    assert caught.value.kind is ErrorKind.TEMPORARY


@responses.activate
def test_twilio_refuses_a_url_that_is_not_a_recording(provider):
    with pytest.raises(ProviderError) as caught:
        provider.delete_recording("http://127.0.0.1/recordings/SIM1.wav")
    assert caught.value.kind is ErrorKind.FATAL
    assert len(responses.calls) == 0


def test_simulated_provider_remembers_what_it_deleted():
    provider = SimulatedProvider()
    provider.delete_recording("http://127.0.0.1/recordings/SIM1.wav")
    assert provider.deleted_recordings == ["http://127.0.0.1/recordings/SIM1.wav"]


@responses.activate
def test_twilio_deletes_through_the_account_the_url_names(provider):
    """A subaccount's recording is deleted under that subaccount: under the main account
    Twilio would answer 404, and the recording would be forgotten but kept."""
    sub_url = f"https://api.twilio.com/2010-04-01/Accounts/ACsub42/Recordings/{SID}"
    responses.delete(f"{sub_url}.json", status=204)
    provider.delete_recording(sub_url)
    assert [call.request.url for call in responses.calls] == [f"{sub_url}.json"]
