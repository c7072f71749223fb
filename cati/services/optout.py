"""The opt-out list: numbers never sampled or called again."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from cati.models import OptOut
from cati.phone import normalize_phone


class PhoneInputError(ValueError):
    """A phone number given by a person cannot be understood."""


def parse_phone_argument(raw: str) -> str:
    """Normalise a number typed by a person to E.164, or raise naming what was typed."""
    phone = normalize_phone(raw)
    if phone.e164 is None:
        raise PhoneInputError(f"{raw!r} is not a valid phone number")
    return phone.e164


def add_opt_out(session: Session, raw_phone: str, *, reason: str | None, now: datetime) -> bool:
    """Block a number; return False if it was already blocked (its reason is kept)."""
    phone = parse_phone_argument(raw_phone)
    if session.scalar(select(OptOut.id).where(OptOut.phone == phone)) is not None:
        return False
    session.add(OptOut(phone=phone, reason=reason, created_at=now))
    session.flush()
    return True


def remove_opt_out(session: Session, raw_phone: str) -> bool:
    """Unblock a number; return False if it was not on the list."""
    phone = parse_phone_argument(raw_phone)
    return session.execute(delete(OptOut).where(OptOut.phone == phone)).rowcount > 0


def list_opt_outs(session: Session) -> list[OptOut]:
    return list(session.scalars(select(OptOut).order_by(OptOut.phone)))
