"""The retention job: erase names, numbers and recordings of rounds closed long enough ago,
and the dossier codes and comments of counter ratings as old.

The erasure is one transaction; then each recording is deleted at the provider and, once it
is gone, forgotten in a short transaction of its own. A recording the provider could not
delete stays in the database and is tried again by the next run. Logs carry counts only.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass

from cati.domain.job_results import JobResult
from cati.runtime import Runtime
from cati.services.retention import erase_closed_rounds, forget_recording, list_pending_recordings
from cati.telephony.base import Provider, ProviderError

log = logging.getLogger(__name__)


@dataclass
class RetentionSummary:
    rounds: int = 0
    members: int = 0
    cases: int = 0
    recordings_deleted: int = 0
    recordings_left: int = 0  # the provider failed: tried again by the next run
    opt_outs_hashed: int = 0
    hotline_messages: int = 0
    counter_ratings: int = 0  # lost their dossier code or typed comments

    def result(self) -> JobResult:
        return JobResult("erased", **asdict(self))

    def __str__(self) -> str:
        return str(self.result())


def erase_personal_data(runtime: Runtime, provider: Provider) -> RetentionSummary:
    """Erase what CATI_RETENTION_DAYS says is kept long enough, and delete its recordings at
    the provider (also those an earlier run could not delete)."""
    settings = runtime.settings
    now = runtime.clock()
    with runtime.transaction() as session:
        report = erase_closed_rounds(
            session,
            retention_days=settings.retention_days,
            now=now,
            hash_key=settings.opt_out_key,
            round_days=settings.round_calling_days,
        )
        pending = list_pending_recordings(session, settings.retention_days, now)
    summary = RetentionSummary(
        rounds=report.rounds,
        members=report.members,
        cases=report.cases,
        opt_outs_hashed=report.opt_outs_hashed,
        hotline_messages=report.hotline_messages,
        counter_ratings=report.counter_ratings,
    )
    for url in dict.fromkeys([*report.recordings, *pending]):
        try:
            provider.delete_recording(url)
        except ProviderError as exc:
            # The URL stays in the database: list_pending_recordings finds it next time.
            log.warning("retention: a recording was not deleted (%s, code %s)", exc.kind, exc.code)
            summary.recordings_left += 1
            continue
        with runtime.transaction() as session:
            forget_recording(session, url)
        summary.recordings_deleted += 1
    log.info("retention: %s", summary)
    return summary
