"""Web-mode rounds: their members' personal links, listing them again, and the phone after
CATI_WEB_DAYS for those who have not completed on the web (push to web, then phone)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import exists, insert, select, update
from sqlalchemy.orm import Session

from cati.domain.web_links import derive_token, is_well_formed, new_nonce, token_hash
from cati.models import Case, Member, MemberStatus, Office, Round, RoundStatus, WebLink

WEB = "web"
# Links inserted per statement when a round is sampled.
_BATCH = 500


class LinkKeyError(ValueError):
    """CATI_SECRET_KEY is not the key the round's links were made with."""


def create_links(session: Session, round_id: int, key: str, now: datetime) -> int:
    """Give every member of the round without one a link: a random nonce, and the hash of the token
    derived from it (the token itself is not kept). Returns how many were made."""
    member_ids = session.scalars(
        select(Member.id)
        .where(Member.round_id == round_id, ~exists().where(WebLink.member_id == Member.id))
        .order_by(Member.id)
    ).all()
    rows = []
    for member_id in member_ids:
        nonce = new_nonce()
        rows.append(
            {
                "member_id": member_id,
                "nonce": nonce,
                "token_hash": token_hash(derive_token(key, member_id, nonce)),
                "created_at": now,
            }
        )
    for start in range(0, len(rows), _BATCH):
        session.execute(insert(WebLink), rows[start : start + _BATCH])
    return len(rows)


def link_url(public_url: str, token: str) -> str:
    return f"{public_url.rstrip('/')}/s/{token}"


@dataclass(frozen=True)
class LinkRow:
    """One member's link as `cati rounds links` lists it (and the slip prints it)."""

    dossier_code: str
    office_code: str
    office_name: str
    citizen_name: str | None
    url: str


def list_links(session: Session, round_: Round, key: str, public_url: str) -> list[LinkRow]:
    """Every link of a web round, by office and dossier, the tokens derived again from the
    key; LinkKeyError when one does not match its stored hash (the key has changed)."""
    rows = session.execute(
        select(
            WebLink.member_id,
            WebLink.nonce,
            WebLink.token_hash,
            Case.dossier_code,
            Case.citizen_name,
            Office.code,
            Office.name,
        )
        .join(Member, Member.id == WebLink.member_id)
        .join(Case, Case.id == Member.case_id)
        .join(Office, Office.id == Member.office_id)
        .where(Member.round_id == round_.id)
        .order_by(Office.code, Case.dossier_code)
    ).all()
    links = []
    for member_id, nonce, stored, dossier, name, office_code, office_name in rows:
        token = derive_token(key, member_id, nonce)
        if token_hash(token) != stored:
            raise LinkKeyError(
                f"round {round_.id}: CATI_SECRET_KEY is not the key its links were made with, "
                "so they cannot be shown again (the links already handed out still work); "
                "set the key the round was sampled with"
            )
        links.append(
            LinkRow(
                dossier, office_code, office_name or office_code, name, link_url(public_url, token)
            )
        )
    return links


def hotline_text(settings) -> str:
    """The hotline as printed for citizens: CATI_HOTLINE, else CATI_CALLER_ID the national way."""
    from cati.services.console import national_phone

    return settings.hotline or national_phone(settings.caller_id)


def hand_over_web_members(session: Session, now: datetime, web_days: int) -> int:
    """Members of open web rounds who have not finished on the web CATI_WEB_DAYS after their
    link was made become due for the round's follow-up mode (ivr or interviewer) at once.

    Those who completed, declined or were found not eligible on the web are final and stay
    so: they are never called. Returns how many were handed over."""
    cutoff = now - timedelta(days=web_days)
    due = (
        select(Member.id, Round.then_mode)
        .join(Round, Round.id == Member.round_id)
        .where(
            Round.mode == WEB,
            Round.status == RoundStatus.OPEN.value,
            Member.mode == WEB,
            Member.status == MemberStatus.PENDING.value,
            exists().where(WebLink.member_id == Member.id, WebLink.created_at <= cutoff),
        )
    )
    by_mode: dict[str, list[int]] = {}
    for member_id, then_mode in session.execute(due):
        by_mode.setdefault(then_mode or "ivr", []).append(member_id)
    handed = 0
    for then_mode, ids in by_mode.items():
        for start in range(0, len(ids), _BATCH):
            handed += session.execute(
                update(Member)
                .where(Member.id.in_(ids[start : start + _BATCH]), Member.mode == WEB)
                .values(mode=then_mode, next_call_at=None)
                .execution_options(synchronize_session=False)
            ).rowcount
    return handed


@dataclass
class OpenedLink:
    """What a token opens: the member with its round and case, or why nothing."""

    state: str  # "open", "unknown" or "expired"
    member: Member | None = None
    round: Round | None = None
    case: Case | None = None


def open_link(session: Session, token: str, now: datetime) -> OpenedLink:
    """The member a token belongs to, read only. A token that is not 23 letters and digits,
    or whose hash is unknown, is "unknown"; a round past its calling period is "expired"."""
    if not is_well_formed(token):
        return OpenedLink("unknown")
    row = session.execute(
        select(Member, Round, Case)
        .join(WebLink, WebLink.member_id == Member.id)
        .join(Round, Round.id == Member.round_id)
        .join(Case, Case.id == Member.case_id)
        .where(WebLink.token_hash == token_hash(token))
    ).first()
    if row is None:
        return OpenedLink("unknown")
    member, round_, case = row
    if round_.status != RoundStatus.OPEN.value or now >= round_.calling_ends_at:
        return OpenedLink("expired", member, round_, case)
    return OpenedLink("open", member, round_, case)
