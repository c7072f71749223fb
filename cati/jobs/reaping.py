"""The reaper: reconcile calls whose status callbacks never arrived."""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass

from cati.domain.job_results import JobResult
from cati.models import Attempt
from cati.runtime import Runtime
from cati.services.console import release_expired_leases
from cati.services.dialer import (
    LIVE_STATUSES,
    close_ended_rounds,
    list_stuck_attempts,
    release_unplaced,
    was_answered,
)
from cati.services.flows import load_flows
from cati.services.ivr import FINAL_STATUSES, apply_call_status
from cati.services.web_links import hand_over_web_members
from cati.telephony.base import CallState, ErrorKind, Provider, ProviderError

log = logging.getLogger(__name__)


@dataclass
class ReapReport:
    reconciled: int = 0
    still_live: int = 0
    released: int = 0
    errors: int = 0
    leases_returned: int = 0

    def result(self) -> JobResult:
        return JobResult("reaped", **asdict(self))

    def __str__(self) -> str:
        return str(self.result())


def close_rounds(runtime: Runtime) -> int:
    """Close the rounds past their calling period, with every member's final disposition."""
    with runtime.transaction() as session:
        return close_ended_rounds(session, runtime.settings.calling_policy, runtime.clock())


def reap(runtime: Runtime, provider: Provider) -> ReapReport:
    """Ask the provider about stuck calls and apply what it says, as a late status callback
    would; requeue attempts never placed; return abandoned console cases to the queue.

    A call the provider does not know (never placed, or placed by a simulated provider in
    another process) costs the member no attempt: it is requeued, unless our webhooks saw it
    answered, in which case it is over by now (calls last ten minutes at most) and settled as
    completed with what was said.
    """
    settings = runtime.settings
    report = ReapReport()
    with runtime.transaction() as session:
        now = runtime.clock()
        report.leases_returned = release_expired_leases(session, now, settings.calling_policy)
        # The console's queue gets the web rounds' members due for interviewers.
        hand_over_web_members(session, now, settings.web_days)
        live, unplaced = list_stuck_attempts(session, now)
        for attempt_id in unplaced:
            release_unplaced(session, attempt_id, runtime.clock())
            report.released += 1
    for attempt_id, sid in live:
        try:
            state = provider.fetch_call(sid)
        except ProviderError as exc:
            if exc.kind is ErrorKind.UNKNOWN_CALL:
                state = _unknown_call(runtime, attempt_id, sid, report)
                if state is not None:
                    _settle(runtime, state, report)
                continue
            # The provider's message may quote the number: log the kind and code only.
            log.warning(
                "reap: attempt %s (%s): %s (code %s)",
                attempt_id,
                sid,
                exc.kind,
                exc.code,
                extra={"attempt_id": attempt_id, "call_sid": sid, "error_code": exc.code},
            )
            report.errors += 1
            continue
        if state.status not in FINAL_STATUSES:
            report.still_live += 1
            continue
        _settle(runtime, state, report)
    return report


def _unknown_call(
    runtime: Runtime, attempt_id: int, sid: str, report: ReapReport
) -> CallState | None:
    """The provider has no such call: requeue the attempt without charging it, or, when our
    webhooks saw the call answered, the state to settle it with."""
    with runtime.transaction() as session:
        attempt = session.get(Attempt, attempt_id)
        if attempt is None or attempt.status not in LIVE_STATUSES:
            return None  # settled meanwhile by a late callback
        if was_answered(session, attempt_id):
            return CallState(sid, "completed", attempt.duration_s, attempt.answered_by)
        release_unplaced(session, attempt_id, runtime.clock())
    report.released += 1
    log.warning(
        "reap: attempt %s (%s): the provider has no such call; requeued, no attempt charged",
        attempt_id,
        sid,
        extra={"attempt_id": attempt_id, "call_sid": sid},
    )
    return None


def _settle(runtime: Runtime, state: CallState, report: ReapReport) -> None:
    """Apply a final status, as a late status callback would."""
    settings = runtime.settings
    params = {"CallSid": state.sid, "CallStatus": state.status}
    if state.duration_s is not None:
        params["CallDuration"] = str(state.duration_s)
    if state.answered_by:
        params["AnsweredBy"] = state.answered_by
    with runtime.connection() as connection:
        apply_call_status(
            connection,
            load_flows(settings.flows_dir),
            params,
            policy=settings.calling_policy,
            now=runtime.clock(),
            ivr_attempts=settings.ivr_attempts,
        )
    report.reconciled += 1
