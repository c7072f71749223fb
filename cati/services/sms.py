"""Web rounds' invitation SMS (CATI_SMS=1): which members are due one, claiming it before it
is sent, and what became of it; and a reply that declines (`POST /sms/inbound`).

Each member of a web round gets at most one: `web_links.sms_sent_at` is set by a
compare-and-set claim committed *before* the provider is asked (the intent), given back when
the provider refuses for now (a retry may succeed), and kept with `sms_error` when it refuses
for good (an invalid or non-mobile number: no other is tried; the phone follows after
CATI_WEB_DAYS as for everyone). A process that dies between the claim and the send leaves the
claim: that member gets no SMS rather than two.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from cati.domain.flow import Flow, Outcome
from cati.domain.sms import is_opt_out_reply
from cati.domain.web_links import is_consent, walk
from cati.models import Answer, Attempt, Member, MemberStatus, Office, Round, WebLink
from cati.services.dialer import not_opted_out, round_still_calling
from cati.services.interviews import finish_interview
from cati.services.ivr import save_answer
from cati.services.optout import PhoneInputError, add_opt_out, parse_phone_argument

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


@dataclass(frozen=True)
class Declined:
    """What a declining reply did: the number blocked, and the members it made refusals."""

    phone: str
    refusals: int


def decline_by_sms(
    session: Session,
    sender: str,
    body: str,
    flows: Mapping[str, Flow],
    now: datetime,
    hash_key: str | None,
) -> Declined | None:
    """A reply `TC`, `TU CHOI` or `STOP` from `sender`: the number goes on the opt-out list, so
    it is never called; and each of its members still waiting in an open round whose flow's
    refusal opts out becomes a refusal (2.11), as declining on the web page does (the consent
    question answered with that refusal, in an attempt of mode `sms`). Anything else, or a
    sender that is not a phone number, does nothing (None)."""
    if not is_opt_out_reply(body):
        return None
    try:
        phone = parse_phone_argument(sender)
    except PhoneInputError:
        return None
    add_opt_out(session, phone, reason="declined by SMS", now=now, hash_key=hash_key)
    waiting = session.execute(
        select(Member, Round.flow)
        .join(Round, Round.id == Member.round_id)
        .where(
            Member.phone == phone,
            Member.status == MemberStatus.PENDING.value,
            round_still_calling(now),
        )
        .order_by(Member.id)
    ).all()
    refusals = 0
    for member, flow_name in waiting:
        flow = flows.get(flow_name)
        refusal = _refusal_that_opts_out(flow) if flow is not None else None
        if refusal is None:
            continue
        question, option = refusal
        answered = session.scalar(
            select(Answer.id).where(Answer.member_id == member.id, Answer.question_id == question)
        )
        if answered is not None:  # consent given already: the opt-out alone keeps the phone away
            continue
        attempt = Attempt(member_id=member.id, mode="sms", status="completed",
                          language=flow.languages[0], tries=0, started_at=now, ended_at=now,
                          duration_s=0)  # fmt: skip
        session.add(attempt)
        session.flush()
        save_answer(session, member.id, attempt.id, question, option, now, exists=False, flow=flow)
        _, run = walk(flow, {question: option})
        finish_interview(session, attempt, member, run, run.outcome, now)
        attempt.question_id = None
        refusals += 1
    session.flush()
    return Declined(phone, refusals)


def _refusal_that_opts_out(flow: Flow) -> tuple[str, str] | None:
    """The consent question's refusal (question id, key) when it puts the number on the
    opt-out list, else None."""
    first = flow.questions[0]
    if not is_consent(flow, first):
        return None
    for option in first.options:
        if option.end is Outcome.REFUSED and option.opt_out:
            return first.id, option.key
    return None
