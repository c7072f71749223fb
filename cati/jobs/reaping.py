"""The reaper: reconcile calls whose status callbacks never arrived."""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass

from cati.domain.job_results import JobResult
from cati.runtime import Runtime
from cati.services.console import release_expired_leases
from cati.services.dialer import close_ended_rounds, list_stuck_attempts, release_unplaced
from cati.services.flows import load_flows
from cati.services.ivr import FINAL_STATUSES, apply_call_status
from cati.telephony.base import Provider, ProviderError

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
    would; requeue attempts never placed; return abandoned console cases to the queue."""
    settings = runtime.settings
    report = ReapReport()
    with runtime.transaction() as session:
        now = runtime.clock()
        report.leases_returned = release_expired_leases(session, now, settings.calling_policy)
        live, unplaced = list_stuck_attempts(session, now)
        for attempt_id in unplaced:
            release_unplaced(session, attempt_id, runtime.clock())
            report.released += 1
    for attempt_id, sid in live:
        try:
            state = provider.fetch_call(sid)
        except ProviderError as exc:
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
        params = {"CallSid": sid, "CallStatus": state.status}
        if state.duration_s is not None:
            params["CallDuration"] = str(state.duration_s)
        if state.answered_by:
            params["AnsweredBy"] = state.answered_by
        with runtime.transaction() as session:
            apply_call_status(
                session,
                load_flows(settings.flows_dir),
                params,
                policy=settings.calling_policy,
                now=runtime.clock(),
                ivr_attempts=settings.ivr_attempts,
            )
        report.reconciled += 1
    return report
