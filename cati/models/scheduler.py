"""The scheduler's own state: the processes running `cati scheduler` and its jobs."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from cati.db import Base, UTCDateTime


class SchedulerNode(Base):
    """One `cati scheduler` process: the leader runs the jobs, standbys wait to take over.

    Each node refreshes `heartbeat_at`; a node whose heartbeat is stale is dead.
    """

    __tablename__ = "scheduler_nodes"

    id: Mapped[str] = mapped_column(String(80), primary_key=True)  # host:pid:random
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    role: Mapped[str] = mapped_column(String(16))  # leader | standby
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    leader_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    heartbeat_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SchedulerJob(Base):
    """The last run and the next run of one scheduler job, as its leader last saw them."""

    __tablename__ = "scheduler_jobs"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    last_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_result: Mapped[str | None] = mapped_column(Text)  # in English
    # The same result as a message key and its figures (cati.domain.job_results), for the dashboard
    # to say in the reader's language; None for a plain line.
    last_result_data: Mapped[str | None] = mapped_column(Text)
