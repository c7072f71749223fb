"""Counter ratings (issue 15): tablets at the desk, the office's QR code, and what citizens
answered there. Self-selected and anonymous: kept apart from members and their answers."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from cati.db import Base, UTCDateTime


class Kiosk(Base):
    """A tablet at an office's desk, opened at `{CATI_PUBLIC_URL}/k/<token>`: only the
    token's SHA-256 is kept (the token is shown once, by `cati kiosks add`)."""

    __tablename__ = "kiosks"

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"))
    name: Mapped[str | None] = mapped_column(String(255))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    active: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class OfficeQr(Base):
    """An office's public rating page `/q/<token>` (the poster's QR code): the token is
    derived again from `nonce` and CATI_SECRET_KEY (see `cati.domain.counter`)."""

    __tablename__ = "office_qr_codes"

    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"), primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    nonce: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CounterRating(Base):
    """One citizen's rating at the counter (mode `kiosk`) or on their phone from the office's
    QR code (mode `qr`). `finished_at` None: a partial rating (the kiosk reset, the page was
    left). `dossier_check` is the check of the optional dossier code (cati.domain.counter's
    CHECK_*); `flags` the integrity flags, comma-separated; `accepted_by` the manager who
    counted a flagged rating in anyway."""

    __tablename__ = "counter_ratings"
    __table_args__ = (
        Index("ix_counter_ratings_office_started", "office_id", "started_at"),
        Index("ix_counter_ratings_dossier_code", "dossier_code"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"))
    kiosk_id: Mapped[int | None] = mapped_column(ForeignKey("kiosks.id"))
    mode: Mapped[str] = mapped_column(String(8))
    flow: Mapped[str] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(8))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the last answer
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    dossier_code: Mapped[str | None] = mapped_column(String(100))
    dossier_check: Mapped[str | None] = mapped_column(String(16))
    officer: Mapped[str | None] = mapped_column(String(255))
    flags: Mapped[str | None] = mapped_column(String(100))
    accepted_by: Mapped[str | None] = mapped_column(String(255))
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class CounterAnswer(Base):
    """An answer of a counter rating: the key pressed (None: skipped), and `text`: the typed
    comment of a `record` question, or on a low score what went wrong ("" when the citizen
    passed over that question, None when not asked yet)."""

    __tablename__ = "counter_answers"

    rating_id: Mapped[int] = mapped_column(ForeignKey("counter_ratings.id"), primary_key=True)
    question_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str | None] = mapped_column(String(16))
    text: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime)
