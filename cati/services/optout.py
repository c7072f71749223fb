"""The opt-out list: numbers never sampled or called again.

Retention keeps some entries only as a keyed hash of the number (`cati.services.retention`):
they still block it, so adding or removing a number looks for its hash too.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from cati.models import OptOut
from cati.phone import normalize_phone
from cati.services.retention import opt_out_hash


class AddOutcome(StrEnum):
    ADDED = "added"
    LISTED = "listed"  # already on the list as a number
    HASHED = "hashed"  # already blocked by the keyed hash retention kept of it


class PhoneInputError(ValueError):
    """A phone number given by a person cannot be understood."""


def parse_phone_argument(raw: str) -> str:
    """Normalise a number typed by a person to E.164, or raise naming what was typed."""
    phone = normalize_phone(raw)
    if phone.e164 is None:
        raise PhoneInputError(f"{raw!r} is not a valid phone number")
    return phone.e164


def add_opt_out(
    session: Session, raw_phone: str, *, reason: str | None, now: datetime, hash_key: str | None
) -> AddOutcome:
    """Block a number, unless it is already blocked (then its entry and reason are kept; a
    hashed one is not turned back into a stored number)."""
    phone = parse_phone_argument(raw_phone)
    if session.scalar(select(OptOut.id).where(OptOut.phone == phone)) is not None:
        return AddOutcome.LISTED
    if hash_key is not None:
        digest = opt_out_hash(hash_key, phone)
        if session.scalar(select(OptOut.id).where(OptOut.phone_hash == digest)) is not None:
            return AddOutcome.HASHED
    session.add(OptOut(phone=phone, reason=reason, created_at=now))
    session.flush()
    return AddOutcome.ADDED


def remove_opt_out(session: Session, raw_phone: str, *, hash_key: str | None) -> bool:
    """Unblock a number, whether stored or kept as a hash (given its key); return False if
    it was not blocked."""
    phone = parse_phone_argument(raw_phone)
    matching = OptOut.phone == phone
    if hash_key is not None:
        matching = or_(matching, OptOut.phone_hash == opt_out_hash(hash_key, phone))
    return (
        session.execute(
            delete(OptOut).where(matching).execution_options(synchronize_session="fetch")
        ).rowcount
        > 0
    )


def list_opt_outs(session: Session) -> list[OptOut]:
    """The entries that still store their number (hashed ones cannot be shown)."""
    return list(
        session.scalars(select(OptOut).where(OptOut.phone.is_not(None)).order_by(OptOut.phone))
    )


def count_hashed_opt_outs(session: Session) -> int:
    """How many blocked numbers are kept only as a keyed hash (erased by retention)."""
    return (
        session.scalar(select(func.count()).select_from(OptOut).where(OptOut.phone.is_(None))) or 0
    )
