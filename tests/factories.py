"""Factories for test data: small functions with sensible defaults, overridable per test."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from cati.models import Case, Office
from tests.conftest import NOW, TZ

_serial = itertools.count(1)


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A Vietnamese wall-clock time as an aware datetime."""
    return datetime(year, month, day, hour, minute, tzinfo=TZ)


def create_office(session: Session, code: str = "DH", name: str | None = None) -> Office:
    office = session.scalar(select(Office).where(Office.code == code))
    if office is None:
        office = Office(code=code, name=name or f"Office {code}")
        session.add(office)
        session.flush()
    return office


def create_case(session: Session, **values) -> Case:
    """A case eligible for the 2026-W47 round unless told otherwise."""
    n = next(_serial)
    office = create_office(session, values.pop("office_code", "DH"))
    defaults = {
        "dossier_code": f"HS-{n:06d}",
        "citizen_name": "Nguyễn Văn An",
        "phone": f"+8491{n:07d}",
        "phone_type": "mobile",
        "channel": "in_person",
        "immediate_result": False,
        "received_at": local(2026, 11, 10, 9),
        "returned_at": local(2026, 11, 18, 10),
        "created_at": NOW,
        "updated_at": NOW,
    }
    defaults.update(values)
    case = Case(office_id=office.id, **defaults)
    session.add(case)
    session.flush()
    return case


def create_round(session: Session, week: str = "2026-W47", flow: str = "mscore"):
    from cati.domain.weeks import IsoWeek
    from cati.models import Round

    start, end = IsoWeek.parse(week).bounds_utc(TZ)
    round_ = Round(week=week, flow=flow, status="open", seed=1, rate=0.2, min_per_office=5,
                   week_start_at=start, week_end_at=end, frame_size=0, eligible=0, sampled=0,
                   calling_ends_at=end + timedelta(days=14), created_at=NOW)  # fmt: skip
    session.add(round_)
    session.flush()
    return round_


def create_member(session: Session, round_=None, case: Case | None = None, **case_values):
    from cati.models import Member

    round_ = round_ or create_round(session)
    case = case or create_case(session, **case_values)
    member = Member(round_id=round_.id, case_id=case.id, office_id=case.office_id,
                    phone=case.phone, status="pending", attempt_count=0)  # fmt: skip
    session.add(member)
    session.flush()
    return member


def create_attempt(session: Session, member, call_sid: str | None = None, **values):
    from cati.models import Attempt

    values = {"status": "queued", "language": "vi", "tries": 0, "started_at": NOW, **values}
    attempt = Attempt(member_id=member.id, mode="ivr", provider="twilio",
                      provider_call_id=call_sid, **values)  # fmt: skip
    session.add(attempt)
    member.attempt_count += 1
    session.flush()
    return attempt


def create_user(session: Session, username: str = "lan", role: str = "interviewer"):
    from werkzeug.security import generate_password_hash

    from cati.models import User

    user = User(username=username, password_hash=generate_password_hash("correct horse 1"),
                role=role, active=True, failed_logins=0, created_at=NOW)  # fmt: skip
    session.add(user)
    session.flush()
    return user


def create_web_member(session: Session, key: str, round_=None, **case_values):
    """A member of a web round with its personal link; returns (member, token)."""
    from cati.domain.web_links import derive_token
    from cati.models import WebLink
    from cati.services.web_links import create_links

    if round_ is None:
        round_ = create_round(session)
        round_.mode, round_.then_mode = "web", "ivr"
    member = create_member(session, round_, **case_values)
    member.mode = "web"
    session.flush()
    create_links(session, round_.id, key, NOW)
    session.flush()
    link = session.get(WebLink, member.id)
    return member, derive_token(key, member.id, link.nonce)
