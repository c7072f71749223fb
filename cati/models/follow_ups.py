"""Follow-ups: answers (or hotline messages) that need the office's action, their reasons
and the audit of every change."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from cati.db import Base, UTCDateTime


class FollowUp(Base):
    """One per member, per hotline message or (later) per counter rating, never raised twice:
    each source column is unique (NULLs apart), so duplicated webhooks find the row there."""

    __tablename__ = "follow_ups"
    __table_args__ = (Index("ix_follow_ups_office_id_status", "office_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"), unique=True)
    hotline_message_id: Mapped[int | None] = mapped_column(
        ForeignKey("hotline_messages.id"), unique=True
    )
    counter_rating_id: Mapped[int | None] = mapped_column(Integer, unique=True)  # to come
    # The office concerned; None for a hotline message whose caller matches no dossier
    # (then only managers see it).
    office_id: Mapped[int | None] = mapped_column(ForeignKey("offices.id"))
    status: Mapped[str] = mapped_column(String(16))
    # Whether the citizen agreed to be contacted (and so to be named to the office):
    # None until asked.
    contact_allowed: Mapped[bool | None] = mapped_column(Boolean)
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    note: Mapped[str | None] = mapped_column(Text)  # the latest note
    # Closing the loop: the citizen called back says whether they are satisfied.
    callback_satisfied: Mapped[bool | None] = mapped_column(Boolean)
    callback_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The interviewer calling the citizen back now, and until when (a lease, as for cases).
    callback_claimed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    callback_lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class FollowUpReason(Base):
    """One reason of a follow-up, and where it came from (a question id, or `hotline`)."""

    __tablename__ = "follow_up_reasons"
    __table_args__ = (UniqueConstraint("follow_up_id", "reason", "source"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    follow_up_id: Mapped[int] = mapped_column(ForeignKey("follow_ups.id"))
    reason: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(64))
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime)


class FollowUpChange(Base):
    """The audit of a follow-up: who (None: the system or the command line), when, from which
    status to which, and the note."""

    __tablename__ = "follow_up_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    follow_up_id: Mapped[int] = mapped_column(ForeignKey("follow_ups.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text)


class DigestSend(Base):
    """An office's daily digest, sent: one per office and local day, so a job run twice (two
    schedulers, a restart) mails nothing twice. Claimed (inserted) before the mail goes and
    removed again when sending fails."""

    __tablename__ = "digest_sends"
    __table_args__ = (UniqueConstraint("office_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"))
    day: Mapped[date] = mapped_column(Date)  # the local day (CATI_TIMEZONE)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime)
    new_count: Mapped[int] = mapped_column(Integer)
    overdue_count: Mapped[int] = mapped_column(Integer)
