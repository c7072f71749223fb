"""`cati scheduler`: the one process that runs the jobs, with standbys ready to take over.

Every copy started on the same database registers itself and beats a heartbeat. The copy that
holds the leadership lock (see `leadership`) runs the jobs with APScheduler; the others poll
the lock every heartbeat and take over as soon as the leader is gone. A leader that loses
its lock (its database connection broke) stops its jobs and goes back to standing by.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from apscheduler.executors.base import MaxInstancesReachedError
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.combining import OrTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.exc import SQLAlchemyError

from cati.domain.job_results import JobResult
from cati.jobs import tasks
from cati.jobs.leadership import Leadership, make_leadership
from cati.logs import scrub
from cati.runtime import Runtime
from cati.services.scheduler import (
    LEADER,
    STANDBY,
    NodeInfo,
    beat,
    leave,
    record_job_run,
    record_next_runs,
    register_jobs,
    take_over,
)
from cati.telephony.base import Provider

log = logging.getLogger(__name__)


class OneRunAtATime(ThreadPoolExecutor):
    """Runs each job in a thread of its own, one run of a job at a time. A run that comes due
    while the previous one is still going is not started: the run under way does that work
    (a dialing pass places every call due until none is left, which takes longer than
    CATI_DIAL_INTERVAL_S whenever many calls are due), and the job runs again at its next time
    after. APScheduler would log a warning for every such run; that is normal work, not a
    fault, so it is a debug line here. Each run's duration is in the `job …` line."""

    def submit_job(self, job, run_times):
        try:
            super().submit_job(job, run_times)
        except MaxInstancesReachedError:
            log.debug("job %s: still running, the run due now is left out", job.id)


@dataclass(frozen=True)
class JobSpec:
    name: str
    run: Callable[[], str]  # a JobResult, or a plain line (shown as it is)
    trigger: object


class SchedulerNode:
    """One `cati scheduler` process."""

    def __init__(
        self,
        runtime: Runtime,
        provider: Provider,
        *,
        leadership: Leadership | None = None,
        stop: threading.Event | None = None,
    ) -> None:
        self.runtime = runtime
        self.settings = runtime.settings
        self.provider = provider
        engine = runtime.session_factory.kw["bind"]
        self.leadership = leadership or make_leadership(engine)
        self.stop = stop or threading.Event()
        self.lost = threading.Event()
        self.me = NodeInfo(
            id=f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}",
            host=socket.gethostname(),
            pid=os.getpid(),
            started_at=runtime.clock(),
        )
        self._triggers: dict[str, object] = {}
        # When the lock was last known to be ours; past the lease, the lead is given up even
        # if the check itself hangs (a silent network): a standby may have the lock by then.
        self._confirmed_at = 0.0
        self.lease_s = max(3 * self.settings.heartbeat_s, 15)

    # -- the main loop -------------------------------------------------------------------
    def run(self) -> None:
        """Stand by or lead until `stop` is set; then finish the running job and leave."""
        log.info("scheduler %s started", self.me.id, extra={"node": self.me.id})
        try:
            while not self.stop.is_set():
                if self._try_acquire():
                    self._lead()
                else:
                    self._beat(STANDBY)
                    self.stop.wait(self.settings.heartbeat_s)
        finally:
            self.leadership.release()
            self._leave()
            log.info("scheduler %s stopped", self.me.id, extra={"node": self.me.id})

    def _try_acquire(self) -> bool:
        try:
            return self.leadership.try_acquire()
        except SQLAlchemyError as exc:
            log.warning("scheduler: database unreachable (%s), retrying", type(exc).__name__)
            return False

    def _lead(self) -> None:
        log.info("scheduler %s leads", self.me.id, extra={"node": self.me.id})
        specs = self.job_specs()
        try:
            with self.runtime.transaction() as session:
                now, heartbeat_s = self.runtime.clock(), self.settings.heartbeat_s
                take_over(session, self.me, now=now, heartbeat_s=heartbeat_s)
                register_jobs(session, [spec.name for spec in specs])
        except SQLAlchemyError as exc:
            log.warning("scheduler: could not record leadership (%s)", type(exc).__name__)
            self.leadership.release()
            self.stop.wait(self.settings.heartbeat_s)
            return
        self.lost.clear()
        self._confirmed_at = time.monotonic()
        scheduler = self._build_scheduler(specs)
        scheduler.start()
        try:
            while not self.stop.is_set() and not self.lost.is_set():
                self.stop.wait(0.2)
                if time.monotonic() - self._confirmed_at > self.lease_s:
                    log.warning("scheduler: the lock was not confirmed for %s s", self.lease_s)
                    self.lost.set()
        finally:
            # Waits for the jobs running now; dialing notices `stop`/`lost` between calls.
            scheduler.shutdown(wait=True)
            if self.lost.is_set():
                log.warning("scheduler %s lost the lead", self.me.id, extra={"node": self.me.id})
                self.leadership.release()

    # -- jobs --------------------------------------------------------------------------------
    def job_specs(self) -> list[JobSpec]:
        settings, runtime, provider = self.settings, self.runtime, self.provider
        tz = settings.timezone
        return [
            JobSpec(
                "sampling",
                lambda: tasks.sample_due_week(runtime),
                # On schedule, and every hour as well: the week due is worked out from the
                # schedule, so a run missed or failed (the database down at 07:00) is made up.
                OrTrigger(
                    [
                        CronTrigger.from_crontab(settings.sampling_cron, timezone=tz),
                        IntervalTrigger(hours=1, timezone=tz),
                    ]
                ),
            ),
            JobSpec(
                "dialing",
                lambda: tasks.dial_due(runtime, provider, self._should_stop),
                IntervalTrigger(seconds=settings.dial_interval_s, timezone=tz),
            ),
            JobSpec(
                "reaping",
                lambda: tasks.reap_calls(runtime, provider),
                IntervalTrigger(seconds=settings.reap_interval_s, timezone=tz),
            ),
            JobSpec(
                "closing",
                lambda: tasks.close_due_rounds(runtime),
                IntervalTrigger(seconds=settings.reap_interval_s, timezone=tz),
            ),
            JobSpec(
                "retention",
                lambda: tasks.erase_expired_data(runtime, provider),
                CronTrigger.from_crontab(settings.retention_cron, timezone=tz),
            ),
            JobSpec(
                "digest",
                lambda: tasks.mail_follow_up_digests(runtime),
                CronTrigger.from_crontab(settings.digest_cron, timezone=tz),
            ),
            JobSpec(
                "heartbeat",
                self._leader_heartbeat,
                IntervalTrigger(seconds=settings.heartbeat_s, timezone=tz),
            ),
        ]

    def _build_scheduler(self, specs: list[JobSpec]) -> BackgroundScheduler:
        scheduler = BackgroundScheduler(
            executors={"default": OneRunAtATime(len(specs))},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 300},
            timezone=self.settings.timezone,
        )
        now = datetime.now(self.settings.timezone)
        self._triggers = {spec.name: spec.trigger for spec in specs}
        for spec in specs:
            # Every job runs once at once: a new leader catches up with what it missed
            # (a week not sampled yet, rounds past their end), then follows the schedule.
            scheduler.add_job(
                self._run_job,
                spec.trigger,
                args=(spec,),
                id=spec.name,
                name=spec.name,
                next_run_time=now,
            )
        return scheduler

    def _run_job(self, spec: JobSpec) -> None:
        if self._should_stop():
            return
        ran_at = self.runtime.clock()
        started = time.monotonic()
        try:
            result = spec.run()
        except Exception as exc:  # recorded and logged; the next run tries again
            result = JobResult("error", message=_describe(exc))
            log.exception("job %s failed", spec.name, extra={"job": spec.name})
        else:
            log.info(
                "job %s: %s (%.1f s)",
                spec.name,
                result,
                time.monotonic() - started,
                extra={"job": spec.name},
            )
        try:
            with self.runtime.transaction() as session:
                record_job_run(
                    session,
                    spec.name,
                    ran_at=ran_at,
                    result=result,
                    next_run_at=self._next_run_at(spec.name),
                )
        except SQLAlchemyError as exc:
            log.warning("job %s: result not recorded (%s)", spec.name, type(exc).__name__)

    def _leader_heartbeat(self) -> JobResult:
        if not self.leadership.still_held():
            self.lost.set()
            return JobResult("lost_lead")
        self._confirmed_at = time.monotonic()
        with self.runtime.transaction() as session:
            beat(session, self.me, role=LEADER, now=self.runtime.clock())
            record_next_runs(session, {name: self._next_run_at(name) for name in self._triggers})
        return JobResult("ok")

    def _next_run_at(self, name: str) -> datetime | None:
        # From the trigger, not the scheduler: a job must not take the scheduler's locks,
        # which its shutdown holds while it waits for the running jobs.
        trigger = self._triggers.get(name)
        now = datetime.now(self.settings.timezone)
        return None if trigger is None else trigger.get_next_fire_time(None, now)

    def _should_stop(self) -> bool:
        return self.stop.is_set() or self.lost.is_set()

    # -- membership ------------------------------------------------------------------------
    def _beat(self, role: str) -> None:
        try:
            with self.runtime.transaction() as session:
                beat(session, self.me, role=role, now=self.runtime.clock())
        except SQLAlchemyError as exc:
            log.warning("scheduler: heartbeat not recorded (%s)", type(exc).__name__)

    def _leave(self) -> None:
        try:
            with self.runtime.transaction() as session:
                leave(session, self.me.id)
        except SQLAlchemyError as exc:
            log.warning("scheduler: could not sign off (%s)", type(exc).__name__)


def _describe(exc: Exception) -> str:
    """An error for the status table: the database's own messages can quote row values, so
    those are named by kind only, and anything shaped like a phone number is masked."""
    if isinstance(exc, SQLAlchemyError):
        return f"database error ({type(exc).__name__})"
    return scrub(f"{type(exc).__name__}: {exc}")[:500]
