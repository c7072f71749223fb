"""Weekly survey rounds and the citizens sampled into them."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cati.db import Base, UTCDateTime
from cati.models.cases import Case, Office


class RoundStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class MemberStatus(StrEnum):
    PENDING = "pending"  # not called yet, or may be called again
    IN_PROGRESS = "in_progress"  # a call is under way
    FINAL = "final"  # has its final disposition


class Round(Base):
    __tablename__ = "rounds"
    __table_args__ = (UniqueConstraint("week", "flow"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    week: Mapped[str] = mapped_column(String(8))
    flow: Mapped[str] = mapped_column(String(64))
    mode: Mapped[str] = mapped_column(String(16), server_default="ivr")  # ivr | interviewer | web
    # A web round's follow-up mode (CATI_WEB_THEN): who calls the members who have not
    # completed on the web after CATI_WEB_DAYS; None for the other rounds.
    then_mode: Mapped[str | None] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default=RoundStatus.OPEN)
    seed: Mapped[int] = mapped_column(BigInteger)
    rate: Mapped[float | None] = mapped_column(Float)
    size: Mapped[int | None] = mapped_column(Integer)
    min_per_office: Mapped[int] = mapped_column(Integer)
    week_start_at: Mapped[datetime] = mapped_column(UTCDateTime)
    week_end_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Calls stop and the round closes then (CATI_ROUND_CALLING_DAYS after the week, when sampled).
    calling_ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    frame_size: Mapped[int] = mapped_column(Integer)
    eligible: Mapped[int] = mapped_column(Integer)
    sampled: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When its members' names, numbers and recordings were erased (CATI_RETENTION_DAYS).
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    offices: Mapped[list[RoundOffice]] = relationship(
        back_populates="round", cascade="all, delete-orphan", order_by="RoundOffice.office_id"
    )


class RoundOffice(Base):
    """Per-office counts of a round, frozen when it was sampled."""

    __tablename__ = "round_offices"

    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id"), primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"), primary_key=True)
    frame: Mapped[int] = mapped_column(Integer)
    eligible: Mapped[int] = mapped_column(Integer)
    sampled: Mapped[int] = mapped_column(Integer)

    round: Mapped[Round] = relationship(back_populates="offices")
    office: Mapped[Office] = relationship(lazy="joined")


class Member(Base):
    """A citizen (one phone, one dossier) sampled into a round."""

    __tablename__ = "members"
    __table_args__ = (
        UniqueConstraint("round_id", "case_id"),
        UniqueConstraint("round_id", "phone"),
        Index("ix_members_phone", "phone"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id"))
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"))
    phone: Mapped[str | None] = mapped_column(String(20))
    # Server defaults: sampling inserts members with one INSERT … SELECT of the columns above.
    status: Mapped[str] = mapped_column(String(16), server_default=MemberStatus.PENDING.value)
    disposition: Mapped[str | None] = mapped_column(String(8))
    attempt_count: Mapped[int] = mapped_column(Integer, server_default="0")
    next_call_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The interviewer working on this member, until the lease expires (the console renews it).
    claimed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Interviewer-mode members and those handed over by the IVR go to the console's queue.
    mode: Mapped[str] = mapped_column(String(16), server_default="ivr")
    appointment_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # "call me back at"
    notes: Mapped[str | None] = mapped_column(Text)

    case: Mapped[Case] = relationship()
