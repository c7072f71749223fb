"""What the scheduler processes tell each other and the operators through the database:
who they are, who leads, and how each job last went."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from cati.domain.job_results import JobResult, describe_stored
from cati.models import SchedulerJob, SchedulerNode

LEADER, STANDBY = "leader", "standby"
JOB_NAMES = (
    "sampling", "dialing", "reaping", "closing", "retention", "digest", "heartbeat",
)  # fmt: skip


@dataclass(frozen=True)
class NodeInfo:
    """Who a scheduler process is."""

    id: str  # host:pid:random, unique even when a pid is reused
    host: str
    pid: int
    started_at: datetime


def stale_after(heartbeat_s: int) -> timedelta:
    """A node silent this long is dead (three heartbeats missed, and never under a minute)."""
    return timedelta(seconds=max(60, 3 * heartbeat_s))


def beat(session: Session, me: NodeInfo, *, role: str, now: datetime) -> None:
    """Record that this node is alive in `role`; becoming leader starts its `leader_since`."""
    row = session.get(SchedulerNode, me.id)
    if row is None:
        row = SchedulerNode(id=me.id, host=me.host, pid=me.pid, started_at=me.started_at)
        session.add(row)
    if role == LEADER and (row.role != LEADER or row.leader_since is None):
        row.leader_since = now
    elif role != LEADER:
        row.leader_since = None
    row.role, row.heartbeat_at = role, now


def take_over(session: Session, me: NodeInfo, *, now: datetime, heartbeat_s: int) -> None:
    """This node holds the lock now: any other node still marked leader died without saying so
    (or lost its lock, and registers again with its next heartbeat), and nodes silent too long
    are forgotten."""
    session.execute(
        delete(SchedulerNode).where(SchedulerNode.role == LEADER, SchedulerNode.id != me.id)
    )
    forget_dead_nodes(session, now=now, heartbeat_s=heartbeat_s)
    beat(session, me, role=LEADER, now=now)
    session.get(SchedulerNode, me.id).leader_since = now  # a new term, even after a lost one


def forget_dead_nodes(session: Session, *, now: datetime, heartbeat_s: int) -> None:
    session.execute(
        delete(SchedulerNode).where(SchedulerNode.heartbeat_at < now - stale_after(heartbeat_s))
    )


def leave(session: Session, node_id: str) -> None:
    session.execute(delete(SchedulerNode).where(SchedulerNode.id == node_id))


def register_jobs(session: Session, names: Iterable[str]) -> None:
    """Give each job its row once (by the leader as it takes over), so that jobs running at
    the same time only ever update their own rows."""
    known = set(session.scalars(select(SchedulerJob.name)))
    session.add_all(SchedulerJob(name=name) for name in names if name not in known)


def record_job_run(
    session: Session, name: str, *, ran_at: datetime, result: str, next_run_at: datetime | None
) -> None:
    """Store a job's last run; a `JobResult` keeps its figures too, for the dashboard to say
    it in the reader's language (a plain line is shown as it is)."""
    session.execute(
        update(SchedulerJob)
        .where(SchedulerJob.name == name)
        .values(
            last_run_at=ran_at,
            last_result=result,
            last_result_data=result.data() if isinstance(result, JobResult) else None,
            next_run_at=next_run_at,
        )
    )


def record_next_runs(session: Session, next_runs: dict[str, datetime | None]) -> None:
    for name, next_run_at in next_runs.items():
        session.execute(
            update(SchedulerJob).where(SchedulerJob.name == name).values(next_run_at=next_run_at)
        )


def get_leader_heartbeat(session: Session, *, now: datetime, heartbeat_s: int) -> datetime | None:
    """The live leader's last heartbeat, or None when no scheduler leads."""
    return session.scalar(
        select(SchedulerNode.heartbeat_at).where(
            SchedulerNode.role == LEADER,
            SchedulerNode.heartbeat_at >= now - stale_after(heartbeat_s),
        )
    )


def scheduler_status(
    session: Session,
    *,
    now: datetime,
    heartbeat_s: int,
    job_names: tuple[str, ...],
    language: str = "en",
) -> dict[str, Any]:
    """The `cati scheduler status --json` document: the live leader, the live standbys and
    every job (in `job_names` order, then any other recorded) with its last and next run, and
    its last result in `language` (the dashboard's; the command's is English)."""
    alive = session.scalars(
        select(SchedulerNode)
        .where(SchedulerNode.heartbeat_at >= now - stale_after(heartbeat_s))
        .order_by(SchedulerNode.started_at, SchedulerNode.id)
    ).all()
    leader = next((n for n in alive if n.role == LEADER), None)
    jobs = {j.name: j for j in session.scalars(select(SchedulerJob))}
    names = [*job_names, *sorted(set(jobs) - set(job_names))]
    return {
        "leader": None
        if leader is None
        else {
            "host": leader.host,
            "pid": leader.pid,
            "since": _iso(leader.leader_since),
        },
        "standbys": [
            {
                "host": n.host,
                "pid": n.pid,
                "since": _iso(n.started_at),
            }
            for n in alive
            if n.role != LEADER
        ],
        "jobs": [
            {
                "name": name,
                "last_run_at": _iso(jobs[name].last_run_at) if name in jobs else None,
                "next_run_at": _iso(jobs[name].next_run_at) if name in jobs else None,
                "last_result": _result(jobs[name], language) if name in jobs else None,
            }
            for name in names
        ],
    }


def _result(job: SchedulerJob, language: str) -> str | None:
    return describe_stored(job.last_result_data, language) or job.last_result


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
