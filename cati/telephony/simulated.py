"""A stand-in provider for the demo and tests: calls are accepted and handed to simulated
citizens (see `cati.simulator`), who answer through the real signed webhooks."""

from __future__ import annotations

import itertools
import secrets
import threading
from collections import deque
from dataclasses import dataclass

from cati.telephony.base import CallRequest, CallState, ErrorKind, Provider, ProviderError


@dataclass(frozen=True)
class SentSms:
    sid: str
    to: str
    body: str
    sender: str


class SimulatedProvider(Provider):
    name = "simulated"

    def __init__(self) -> None:
        self._ids = itertools.count(1)
        # Unique across processes too: a standby scheduler or `cati simulate` numbers its
        # calls afresh, and call ids are unique in the database.
        self._prefix = secrets.token_hex(5)
        self._lock = threading.Lock()
        self.placed: deque[tuple[str, CallRequest]] = deque()  # waiting for a citizen
        self.states: dict[str, CallState] = {}
        self.deleted_recordings: list[str] = []
        self.messages: list[SentSms] = []  # every SMS sent, for tests and the demo

    def place_call(self, call: CallRequest) -> str:
        with self._lock:
            sid = f"SIM{self._prefix}{next(self._ids):020d}"
            self.placed.append((sid, call))
            self.states[sid] = CallState(sid, "queued")
        return sid

    def hang_up(self, sid: str) -> None:
        with self._lock:
            state = self.states.get(sid)
            if state is not None:
                self.states[sid] = CallState(sid, "completed", state.duration_s, state.answered_by)

    def fetch_call(self, sid: str) -> CallState:
        with self._lock:
            state = self.states.get(sid)
        if state is None:
            # Placed by another process's simulated provider, or never placed at all.
            raise ProviderError(f"simulated: no call {sid}", ErrorKind.UNKNOWN_CALL)
        return state

    def send_sms(self, to: str, body: str, sender: str) -> str:
        with self._lock:
            sid = f"SM{self._prefix}{next(self._ids):020d}"
            self.messages.append(SentSms(sid, to, body, sender))
        return sid

    def delete_recording(self, url: str) -> None:
        with self._lock:
            self.deleted_recordings.append(url)
