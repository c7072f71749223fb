"""The telephony provider port: what the dialer and the reaper need from a voice provider
(and the web rounds' invitation SMS).

Twilio first; a domestic provider (Stringee, OmiCall, an Asterisk/FreeSWITCH trunk) can be
added by implementing the same methods, so citizens' data need not leave the country.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from enum import StrEnum


class ErrorKind(StrEnum):
    INVALID_NUMBER = "invalid_number"  # this number can never be called: a final outcome
    TEMPORARY = "temporary"  # rate limit, server error, timeout: retry with backoff
    FATAL = "fatal"  # our side is wrong (credentials, caller id): stop and tell a person
    UNKNOWN_CALL = "unknown_call"  # the provider has no such call: it was never placed


class ProviderError(Exception):
    """A provider refused or failed a request, and what kind of failure it is."""

    def __init__(self, message: str, kind: ErrorKind, code: int | None = None) -> None:
        super().__init__(message)
        self.kind, self.code = kind, code


@dataclass(frozen=True)
class CallRequest:
    to: str  # E.164
    from_: str  # E.164 caller id
    url: str  # our /ivr/voice URL for this attempt
    status_callback: str
    amd_callback: str
    timeout_s: int = 30  # how long to let it ring
    time_limit_s: int = 600  # the whole call is capped


@dataclass(frozen=True)
class CallState:
    sid: str
    status: str
    duration_s: int | None = None
    answered_by: str | None = None


class Provider(ABC):
    name: str

    @abstractmethod
    def place_call(self, call: CallRequest) -> str:
        """Ask the provider to call; return its call id. Raises ProviderError."""

    @abstractmethod
    def hang_up(self, sid: str) -> None:
        """End a live call (an answering machine picked up)."""

    @abstractmethod
    def fetch_call(self, sid: str) -> CallState:
        """The provider's current view of a call (for reconciling stuck attempts). Raises
        ProviderError, of kind UNKNOWN_CALL when the provider has no such call."""

    @abstractmethod
    def send_sms(self, to: str, body: str, sender: str) -> str:
        """Send one text message from `sender` (a registered brand name) to `to` (E.164);
        return the provider's message id. Raises ProviderError: INVALID_NUMBER when the
        number can never take it (not a mobile, unreachable), TEMPORARY when a retry may."""

    @abstractmethod
    def delete_recording(self, url: str) -> None:
        """Delete a recording the provider keeps (retention); one already gone counts as
        deleted. Raises ProviderError."""
