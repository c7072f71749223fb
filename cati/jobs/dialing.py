"""The dialing job: place the calls that are due, within the provider's limits.

Each call is two short transactions around the provider request: the claim and the attempt
are committed first (the intent), the call is placed, then its result is committed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select

from cati.domain.flow import FlowError
from cati.jobs.sms import send_invitations
from cati.logs import scrub
from cati.models import Round
from cati.runtime import Runtime
from cati.services.dialer import (
    claim_next_member,
    count_live_calls,
    record_invalid_number,
    record_placed,
    release_unplaced,
)
from cati.services.flows import find_flow
from cati.telephony.base import CallRequest, ErrorKind, Provider, ProviderError

log = logging.getLogger(__name__)
BACKOFF_S = (1.0, 2.0, 4.0)  # waits between tries of a call the provider could not take


class DialerError(Exception):
    """The provider refuses us (credentials, caller id): dialing stops until a person acts."""


class RoundFlowError(Exception):
    """The round's questionnaire is missing or invalid: none of its calls can be placed
    (the IVR would have nothing to ask)."""


def check_round_flow(runtime: Runtime, round_id: int) -> None:
    """RoundFlowError, one line, unless the round's flow is a valid file of CATI_FLOWS_DIR."""
    with runtime.transaction() as session:
        flow = session.scalar(select(Round.flow).where(Round.id == round_id))
    if flow is None:
        return
    try:
        find_flow(flow, runtime.settings.flows_dir)
    except FlowError as exc:
        raise RoundFlowError(
            f"round {round_id}: no call placed, its questionnaire {flow!r} cannot be used "
            f"({exc}); restore the file or fix it (cati flows check)"
        ) from None


def hand_over_from_web(runtime: Runtime) -> int:
    """Web rounds' members not done on the web after CATI_WEB_DAYS become due for the phone."""
    from cati.services.web_links import hand_over_web_members

    with runtime.transaction() as session:
        return hand_over_web_members(session, runtime.clock(), runtime.settings.web_days)


@dataclass
class DialReport:
    placed: int = 0
    invalid_numbers: int = 0
    deferred: int = 0  # the provider kept failing; the member is back in the queue
    at_capacity: bool = False  # stopped by CATI_MAX_CONCURRENT_CALLS
    sms_sent: int = 0  # web rounds' invitations (CATI_SMS=1), sent before the calls


def dial_pass(
    runtime: Runtime,
    provider: Provider,
    round_id: int,
    *,
    sleep: Callable[[float], None] = time.sleep,
    monotonic: Callable[[], float] = time.monotonic,
    should_stop: Callable[[], bool] = lambda: False,
) -> DialReport:
    """Send a web round's invitation SMS due (CATI_SMS=1, calling hours), then place every call
    due now, at most CATI_MAX_CPS per second and CATI_MAX_CONCURRENT_CALLS at once; return
    what happened. `should_stop` ends the pass early, between two calls.
    RoundFlowError, before any call, when the round's questionnaire cannot be used."""
    check_round_flow(runtime, round_id)
    settings = runtime.settings
    policy = settings.calling_policy
    interval = 1.0 / settings.max_cps
    report = DialReport()
    hand_over_from_web(runtime)
    report.sms_sent = send_invitations(runtime, provider, round_id, should_stop=should_stop).sent
    next_slot = monotonic()
    while not should_stop():
        with runtime.transaction() as session:
            if count_live_calls(session) >= settings.max_concurrent_calls:
                report.at_capacity = True
                return report
            claimed = claim_next_member(session, round_id, policy, runtime.clock())
        if claimed is None:
            return report
        wait = next_slot - monotonic()
        if wait > 0:
            sleep(wait)
        base = settings.public_url
        request = CallRequest(
            to=claimed.phone,
            from_=settings.caller_id or "+84000000000",
            url=f"{base}/ivr/voice?attempt={claimed.attempt_id}",
            status_callback=f"{base}/ivr/status?attempt={claimed.attempt_id}",
            amd_callback=f"{base}/ivr/amd?attempt={claimed.attempt_id}",
        )
        try:
            sid = _place(provider, request, sleep)
        except ProviderError as error:
            with runtime.transaction() as session:
                if error.kind is ErrorKind.INVALID_NUMBER:
                    record_invalid_number(session, claimed.attempt_id, policy, runtime.clock())
                    report.invalid_numbers += 1
                else:
                    release_unplaced(session, claimed.attempt_id, runtime.clock())
                    report.deferred += 1
            # The provider's message may quote the number: log the code and kind only.
            log.warning(
                "dial: attempt %s not placed: %s (code %s)",
                claimed.attempt_id,
                error.kind,
                error.code,
                extra={"attempt_id": claimed.attempt_id, "error_code": error.code},
            )
            if error.kind is ErrorKind.FATAL:
                # Shown by `cati dial` and kept as the job's last result: no number in it.
                raise DialerError(scrub(str(error))) from error
        else:
            with runtime.transaction() as session:
                record_placed(session, claimed.attempt_id, provider.name, sid)
            report.placed += 1
            log.info(
                "dial: attempt %s placed as %s",
                claimed.attempt_id,
                sid,
                extra={"attempt_id": claimed.attempt_id, "call_sid": sid},
            )
        next_slot = monotonic() + interval
    return report


def _place(provider: Provider, request: CallRequest, sleep: Callable[[float], None]) -> str:
    """Place one call, retrying temporary failures with backoff."""
    for wait in (*BACKOFF_S, None):
        try:
            return provider.place_call(request)
        except ProviderError as error:
            if error.kind is not ErrorKind.TEMPORARY or wait is None:
                raise
            sleep(wait)
    raise AssertionError("unreachable")
