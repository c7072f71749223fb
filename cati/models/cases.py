"""Offices, the completed dossiers (cases) they report, and the opt-out list."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cati.db import Base, UTCDateTime


class Office(Base):
    __tablename__ = "offices"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str | None] = mapped_column(String(255))
    email: Mapped[str | None] = mapped_column(String(254))  # the follow-ups' daily digest


class Case(Base):
    """A dossier whose result was (or will be) returned to a citizen."""

    __tablename__ = "cases"
    __table_args__ = (
        Index("ix_cases_returned_at_office_id", "returned_at", "office_id"),
        Index("ix_cases_phone", "phone"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    dossier_code: Mapped[str] = mapped_column(String(100), unique=True)
    citizen_name: Mapped[str | None] = mapped_column(String(255))
    phone_raw: Mapped[str | None] = mapped_column(String(64))
    # E.164 when the number is valid; phone_type says whether a citizen can be called on it.
    phone: Mapped[str | None] = mapped_column(String(20))
    phone_type: Mapped[str] = mapped_column(String(16))
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"))
    procedure_code: Mapped[str | None] = mapped_column(String(64))
    procedure_name: Mapped[str | None] = mapped_column(String(500))
    officer: Mapped[str | None] = mapped_column(String(255))
    channel: Mapped[str] = mapped_column(String(16))
    immediate_result: Mapped[bool] = mapped_column(Boolean)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    returned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    office: Mapped[Office] = relationship(lazy="joined")


class OptOut(Base):
    """A number that must never be sampled or called again.

    Once no case holds the number any more, retention keeps only its keyed hash: the number
    stays blocked without being stored.
    """

    __tablename__ = "opt_outs"

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str | None] = mapped_column(String(20), unique=True)
    phone_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
