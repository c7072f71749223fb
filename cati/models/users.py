"""People who use the system, and the audit trail of what they saw or changed."""

from __future__ import annotations

import secrets
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from cati.db import Base, UTCDateTime


class Role(StrEnum):
    INTERVIEWER = "interviewer"
    MANAGER = "manager"
    ADMIN = "admin"
    OFFICE = "office"  # handles its own office's follow-ups, nothing else


def new_session_token() -> str:
    return secrets.token_hex(16)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Carried in every session of this account (and checked at each request): a new value,
    # given at sign-out, a password change or disabling, ends every session signed in before.
    session_token: Mapped[str] = mapped_column(String(64), default=new_session_token)
    office_id: Mapped[int | None] = mapped_column(ForeignKey("offices.id"))  # role office


class AuditEvent(Base):
    """Who saw or changed what: a revealed phone number, saved answers, a disposition."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    action: Mapped[str] = mapped_column(String(32))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"), index=True)
    details: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
