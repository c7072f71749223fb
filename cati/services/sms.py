"""Web rounds' invitation SMS (CATI_SMS=1): which members are due one, claiming it before it
is sent, and what became of it.

Each member of a web round gets at most one: `web_links.sms_sent_at` is set by a
compare-and-set claim committed *before* the provider is asked (the intent), given back when
the provider refuses for now (a retry may succeed), and kept with `sms_error` when it refuses
for good (an invalid or non-mobile number: no other is tried; the phone follows after
CATI_WEB_DAYS as for everyone). A process that dies between the claim and the send leaves the
claim: that member gets no SMS rather than two.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from cati.models import Member, MemberStatus, Office, Round, WebLink
from cati.services.dialer import not_opted_out, round_still_calling

WEB = "web"


@dataclass(frozen=True)
class Invitation:
    """A claimed SMS: to whom, and what it needs to be written (the token is derived again
    from the nonce and the key; only its hash is stored)."""

    member_id: int
    phone: str
    nonce: str
    token_hash: str
    office_code: str
    office_name: str


def claim_invitations(
    session: Session, now: datetime, limit: int, round_id: int | None = None
) -> list[Invitation]:
    """Claim up to `limit` members due their invitation (of one round, or of every open web
    round): members still on the web, pending, with a number not on the opt-out list, never
    sent one. Two schedulers at once never claim the same member."""
    rows = session.execute(
        select(
            WebLink.member_id,
            Member.phone,
            WebLink.nonce,
            WebLink.token_hash,
            Office.code,
            Office.name,
        )
        .join(Member, Member.id == WebLink.member_id)
        .join(Round, Round.id == Member.round_id)
        .join(Office, Office.id == Member.office_id)
        .where(
            *([Round.id == round_id] if round_id is not None else []),
            Round.mode == WEB,
            round_still_calling(now),
            Member.mode == WEB,
            Member.status == MemberStatus.PENDING.value,
            Member.phone.is_not(None),
            not_opted_out(),
            WebLink.sms_sent_at.is_(None),
            WebLink.sms_error.is_(None),
        )
        .order_by(WebLink.member_id)
        .limit(limit)
    ).all()
    claimed = []
    for member_id, phone, nonce, stored, office_code, office_name in rows:
        won = session.execute(
            update(WebLink)
            .where(WebLink.member_id == member_id, WebLink.sms_sent_at.is_(None))
            .values(sms_sent_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
        if won:
            claimed.append(
                Invitation(member_id, phone, nonce, stored, office_code, office_name or office_code)
            )
    return claimed


def release_invitation(session: Session, member_id: int) -> None:
    """Give a claim back: the SMS was not sent and a later pass may send it."""
    session.execute(
        update(WebLink)
        .where(WebLink.member_id == member_id)
        .values(sms_sent_at=None)
        .execution_options(synchronize_session=False)
    )


def record_refused_invitation(session: Session, member_id: int, error: str) -> None:
    """The provider will never deliver it (invalid number): keep why; none is sent again."""
    session.execute(
        update(WebLink)
        .where(WebLink.member_id == member_id)
        .values(sms_error=error[:64])
        .execution_options(synchronize_session=False)
    )
