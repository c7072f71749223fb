"""The invitation SMS through Twilio's Messages API (mocked with `responses`), and the
simulated provider keeping what it was asked to send."""

from __future__ import annotations

from urllib.parse import parse_qs

import pytest
import requests
import responses

from cati.telephony.base import ErrorKind, ProviderError
from cati.telephony.simulated import SentSms, SimulatedProvider
from cati.telephony.twilio import TwilioProvider

MESSAGES_URL = "https://api.twilio.com/2010-04-01/Accounts/AC123/Messages.json"


@pytest.fixture
def provider():
    return TwilioProvider("AC123", "secret")


@responses.activate
def test_twilio_sends_from_the_brand_name(provider):
    responses.add(
        responses.POST, MESSAGES_URL, status=201, json={"sid": "SM" + "0" * 32, "status": "queued"}
    )
    sid = provider.send_sms("+84912345678", "So Noi vu moi Ong/Ba https://k.vn/s/x", "SONOIVU")
    assert sid == "SM" + "0" * 32
    (call,) = responses.calls
    assert parse_qs(call.request.body) == {
        "To": ["+84912345678"],
        "From": ["SONOIVU"],
        "Body": ["So Noi vu moi Ong/Ba https://k.vn/s/x"],
    }


@responses.activate
@pytest.mark.parametrize(
    ("status", "code", "kind"),
    [
        (400, 21211, ErrorKind.INVALID_NUMBER),  # invalid 'To' number
        (400, 21614, ErrorKind.INVALID_NUMBER),  # not a mobile number
        (400, 21610, ErrorKind.INVALID_NUMBER),  # the recipient unsubscribed
        (429, 20429, ErrorKind.TEMPORARY),
        (503, 20503, ErrorKind.TEMPORARY),
        (401, 20003, ErrorKind.FATAL),  # our credentials
        (400, 21212, ErrorKind.FATAL),  # our sender is not valid
    ],
)
def test_twilio_refusals_say_whether_to_retry(provider, status, code, kind):
    responses.add(responses.POST, MESSAGES_URL, status=status, json={"code": code, "message": "no"})
    with pytest.raises(ProviderError) as caught:
        provider.send_sms("+84912345678", "text", "SONOIVU")
    assert caught.value.kind is kind and caught.value.code == code


@responses.activate
def test_twilio_network_error_is_temporary(provider):
    responses.add(responses.POST, MESSAGES_URL, body=requests.ConnectionError("reset"))
    with pytest.raises(ProviderError) as caught:
        provider.send_sms("+84912345678", "text", "SONOIVU")
    assert caught.value.kind is ErrorKind.TEMPORARY


def test_the_simulated_provider_keeps_what_it_sent():
    provider = SimulatedProvider()
    first = provider.send_sms("+84912345678", "one", "SONOIVU")
    second = provider.send_sms("+84912345679", "two", "SONOIVU")
    assert first != second and first.startswith("SM")
    assert provider.messages == [
        SentSms(first, "+84912345678", "one", "SONOIVU"),
        SentSms(second, "+84912345679", "two", "SONOIVU"),
    ]
