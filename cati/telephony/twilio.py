"""Twilio as the telephony provider (REST API through twilio-python)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import requests
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from cati.telephony.base import CallRequest, CallState, ErrorKind, Provider, ProviderError

HTTP_TIMEOUT_S = 10  # twilio-python waits forever by default
# Twilio error codes that no retry will fix: invalid or unreachable 'To' numbers.
INVALID_NUMBER_CODES = frozenset(
    {21211, 21214, 21215, 21216, 21217, 21401, 21407, 21408, 21610, 13224}
)
# Twilio error codes of a message that no retry will deliver: not a mobile number, a number
# that cannot be reached or has unsubscribed (as well as the invalid numbers above).
SMS_INVALID_NUMBER_CODES = INVALID_NUMBER_CODES | {
    21211,
    21612,
    21614,
    21408,
    21610,
    30003,
    30005,
    30006,
}
STATUS_EVENTS = ["initiated", "ringing", "answered", "completed"]
# A RecordingUrl ends in the recording's SID, with or without a media extension.
RECORDING_SID = re.compile(r"(RE[0-9a-fA-F]{32})(\.\w+)?")


class TwilioProvider(Provider):
    name = "twilio"

    def __init__(self, account_sid: str, auth_token: str) -> None:
        self.client = Client(
            account_sid, auth_token, http_client=TwilioHttpClient(timeout=HTTP_TIMEOUT_S)
        )

    def place_call(self, call: CallRequest) -> str:
        try:
            created = self.client.calls.create(
                to=call.to,
                from_=call.from_,
                url=call.url,
                method="POST",
                status_callback=call.status_callback,
                status_callback_event=STATUS_EVENTS,
                status_callback_method="POST",
                machine_detection="Enable",
                async_amd="true",
                async_amd_status_callback=call.amd_callback,
                async_amd_status_callback_method="POST",
                timeout=call.timeout_s,
                time_limit=call.time_limit_s,
            )
        except TwilioRestException as exc:
            raise _error(exc) from exc
        except requests.RequestException as exc:
            raise ProviderError(f"twilio: {type(exc).__name__}", ErrorKind.TEMPORARY) from exc
        return created.sid

    def hang_up(self, sid: str) -> None:
        try:
            self.client.calls(sid).update(status="completed")
        except TwilioRestException as exc:
            raise _error(exc) from exc
        except requests.RequestException as exc:
            raise ProviderError(f"twilio: {type(exc).__name__}", ErrorKind.TEMPORARY) from exc

    def fetch_call(self, sid: str) -> CallState:
        try:
            call = self.client.calls(sid).fetch()
        except TwilioRestException as exc:
            if exc.status == 404:  # not a call of this account: it was never placed
                raise ProviderError(
                    f"twilio 404 code {exc.code}: no such call", ErrorKind.UNKNOWN_CALL, exc.code
                ) from exc
            raise _error(exc) from exc
        except requests.RequestException as exc:
            raise ProviderError(f"twilio: {type(exc).__name__}", ErrorKind.TEMPORARY) from exc
        duration = int(call.duration) if call.duration not in (None, "") else None
        return CallState(call.sid, call.status, duration, call.answered_by)

    def send_sms(self, to: str, body: str, sender: str) -> str:
        try:
            # An alphanumeric sender (brand name) as From: Twilio's Messages API takes it as is.
            created = self.client.messages.create(to=to, from_=sender, body=body)
        except TwilioRestException as exc:
            if exc.code in SMS_INVALID_NUMBER_CODES:
                raise ProviderError(
                    f"twilio {exc.status} code {exc.code}: {exc.msg}",
                    ErrorKind.INVALID_NUMBER,
                    exc.code,
                ) from exc
            raise _error(exc) from exc
        except requests.RequestException as exc:
            raise ProviderError(f"twilio: {type(exc).__name__}", ErrorKind.TEMPORARY) from exc
        return created.sid

    def delete_recording(self, url: str) -> None:
        account, sid = recording_sid(url)
        try:
            # Through the account the URL names (a subaccount's hotline, an earlier account):
            # under another account Twilio answers 404, which would pass for "deleted".
            self.client.api.v2010.accounts(account or self.client.account_sid).recordings(
                sid
            ).delete()
        except TwilioRestException as exc:
            if exc.status == 404:  # already deleted: what we wanted
                return
            raise _error(exc) from exc
        except requests.RequestException as exc:
            raise ProviderError(f"twilio: {type(exc).__name__}", ErrorKind.TEMPORARY) from exc


def recording_sid(url: str) -> tuple[str | None, str]:
    """The account (AC…, when the URL names one) and the recording SID (RE…) of a Twilio
    RecordingUrl; ProviderError (fatal: no retry helps) if the URL is not one."""
    parts = urlsplit(url).path.rstrip("/").split("/")
    match = RECORDING_SID.fullmatch(parts[-1])
    if match is None:
        raise ProviderError("twilio: not a recording URL", ErrorKind.FATAL)
    account = next((parts[i + 1] for i, part in enumerate(parts[:-1]) if part == "Accounts"), None)
    return account, match.group(1)


def _error(exc: TwilioRestException) -> ProviderError:
    if exc.code in INVALID_NUMBER_CODES:
        kind = ErrorKind.INVALID_NUMBER
    elif exc.status == 429 or exc.status is None or exc.status >= 500:
        kind = ErrorKind.TEMPORARY
    else:
        kind = ErrorKind.FATAL
    return ProviderError(f"twilio {exc.status} code {exc.code}: {exc.msg}", kind, exc.code)
