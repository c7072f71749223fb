"""Call attempts, their status timeline, and the answers they collect."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cati.db import Base, UTCDateTime


class Attempt(Base):
    """One call to a member (by the IVR or an interviewer)."""

    __tablename__ = "attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    mode: Mapped[str] = mapped_column(String(16))  # ivr | interviewer
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # the interviewer
    provider: Mapped[str | None] = mapped_column(String(16))
    provider_call_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(16))  # the provider's call status
    outcome: Mapped[str | None] = mapped_column(String(24))  # AttemptOutcome once known
    answered_by: Mapped[str | None] = mapped_column(String(32))
    duration_s: Mapped[int | None] = mapped_column(Integer)
    sip_response_code: Mapped[int | None] = mapped_column(Integer)
    language: Mapped[str] = mapped_column(String(8))
    # Where the IVR stands: the question being asked and how many tries it has had.
    question_id: Mapped[str | None] = mapped_column(String(64))
    tries: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    notes: Mapped[str | None] = mapped_column(Text)


class CallEvent(Base):
    """A status callback as received; (attempt, sequence) makes a repeated delivery harmless."""

    __tablename__ = "call_events"
    __table_args__ = (UniqueConstraint("attempt_id", "sequence"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("attempts.id"))
    sequence: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Answer(Base):
    """A member's answer to one question, saved the moment it arrives.

    `value` is the key pressed ('0' for don't know); NULL records "no answer" after the tries.
    For a `record` question answered in the console, `value` is '1' and `text` the comment.
    """

    __tablename__ = "answers"
    __table_args__ = (UniqueConstraint("member_id", "question_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    question_id: Mapped[str] = mapped_column(String(64))
    value: Mapped[str | None] = mapped_column(String(8))
    attempt_id: Mapped[int | None] = mapped_column(ForeignKey("attempts.id"))
    recording_url: Mapped[str | None] = mapped_column(Text)
    text: Mapped[str | None] = mapped_column(Text)  # a comment typed by an interviewer
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime)


class HotlineMessage(Base):
    """A voice message left on the survey number by a caller who is not in an open round."""

    __tablename__ = "hotline_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_call_id: Mapped[str] = mapped_column(String(64), unique=True)
    caller: Mapped[str | None] = mapped_column(String(20))  # E.164; erased with retention
    recording_url: Mapped[str | None] = mapped_column(Text)
    duration_s: Mapped[int | None] = mapped_column(Integer)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
