"""Dialing: which members are due, claiming one atomically, and what became of each call."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, bindparam, exists, func, select, update
from sqlalchemy.orm import Session

from cati.db import Prepared
from cati.domain.calling import CallingPolicy, PastAttempt, RoundQueue
from cati.domain.dispositions import (
    AttemptOutcome,
    Code,
    is_final_now,
    is_human_contact,
    roll_up_disposition,
)
from cati.models import Answer, Attempt, CallEvent, Member, MemberStatus, OptOut, Round, RoundStatus

LIVE_STATUSES = ("queued", "initiated", "ringing", "in-progress")
RETRY_AFTER_PROVIDER_FAILURE = timedelta(minutes=10)


def round_ends_at(round_: Round) -> datetime:
    return round_.calling_ends_at


def round_still_calling(now: datetime):
    """SQL condition: the member's round (joined as `Round`) is open and not past its end."""
    return and_(
        Round.status == RoundStatus.OPEN.value,
        Round.calling_ends_at > now,
    )


def not_opted_out():
    """SQL condition: the member's number is not on the opt-out list (checked at every call,
    not only at sampling: a citizen may opt out while the round runs)."""
    return ~exists().where(OptOut.phone == Member.phone)


def count_live_calls(session: Session) -> int:
    """Calls placed and not yet finished (for the concurrency limit)."""
    return session.scalar(
        select(func.count())
        .select_from(Attempt)
        .where(Attempt.mode == "ivr", Attempt.status.in_(LIVE_STATUSES))
    )


def list_rounds_to_dial(session: Session, now: datetime) -> list[int]:
    """Open rounds still in their calling period with robot calls due now."""
    return list(
        session.scalars(
            select(Round.id)
            .where(
                round_still_calling(now),
                exists().where(
                    Member.round_id == Round.id,
                    Member.status == MemberStatus.PENDING.value,
                    Member.mode == "ivr",
                    (Member.next_call_at.is_(None)) | (Member.next_call_at <= now),
                ),
            )
            .order_by(Round.week_end_at, Round.id)
        )
    )


@dataclass(frozen=True)
class Claimed:
    attempt_id: int
    member_id: int
    phone: str


def claim_next_member(
    session: Session, round_id: int, policy: CallingPolicy, now: datetime
) -> Claimed | None:
    """Claim the next due member of an open round and record the intent to call it.

    1. Nothing is due outside calling hours, or once the round has ended.
    2. Candidates: pending members whose next call time has come (never called first), with a
       phone. On PostgreSQL they are locked with SKIP LOCKED, so concurrent dialers pass over
       each other's rows.
    3. The claim itself is a compare-and-set (pending → in progress) that holds on SQLite too:
       of two dialers racing for one member, exactly one wins.
    4. The attempt row is written now, before the call is placed: the caller commits it, then
       calls out, so a crash in between leaves a visible attempt instead of a lost one.
    """
    round_ = session.get(Round, round_id)
    if round_ is None or round_.status != RoundStatus.OPEN or now >= round_ends_at(round_):
        return None
    if not policy.is_callable_at(now):
        return None
    due = (
        select(Member.id)
        .where(
            *_robot_callable(round_id, policy),
            (Member.next_call_at.is_(None)) | (Member.next_call_at <= now),
        )
        .order_by(Member.next_call_at.is_not(None), Member.next_call_at, Member.id)
    )
    if session.get_bind().dialect.name == "postgresql":
        # Lock just the member taken: the others stay free for a second dialer.
        due = due.limit(1).with_for_update(skip_locked=True)
    else:
        due = due.limit(20)
    for member_id in session.scalars(due).all():
        won = session.execute(
            update(Member)
            .where(Member.id == member_id, Member.status == MemberStatus.PENDING.value)
            .values(status=MemberStatus.IN_PROGRESS.value, attempt_count=Member.attempt_count + 1)
            .execution_options(synchronize_session=False)
        ).rowcount
        if not won:
            continue
        member = session.get(Member, member_id)
        session.refresh(member)  # the compare-and-set bypassed the identity map
        attempt = Attempt(
            member_id=member_id, mode="ivr", status="queued", language="vi", tries=0, started_at=now
        )
        session.add(attempt)
        session.flush()
        return Claimed(attempt.id, member_id, member.phone)
    return None


def _robot_callable(round_id: int, policy: CallingPolicy) -> tuple:
    """SQL conditions: a member of the round the robot may call, once its time has come."""
    return (
        Member.round_id == round_id,
        Member.status == MemberStatus.PENDING.value,
        Member.phone.is_not(None),
        Member.attempt_count < policy.max_attempts,
        Member.mode == "ivr",
        not_opted_out(),
    )


def get_round_queue(
    session: Session, round_: Round, policy: CallingPolicy, now: datetime, max_concurrent: int
) -> RoundQueue:
    """What the dialer sees of a round now, for `idle_reasons` (why no call is placed)."""
    callable_ = _robot_callable(round_.id, policy)
    due_now = session.scalar(
        select(func.count()).where(
            *callable_, (Member.next_call_at.is_(None)) | (Member.next_call_at <= now)
        )
    )
    next_due_at = session.scalar(
        select(func.min(Member.next_call_at)).where(*callable_, Member.next_call_at > now)
    )
    in_progress = session.scalar(
        select(func.count()).where(
            Member.round_id == round_.id, Member.status == MemberStatus.IN_PROGRESS.value
        )
    )
    with_interviewers = session.scalar(
        select(func.count()).where(
            Member.round_id == round_.id,
            Member.status != MemberStatus.FINAL.value,
            Member.mode == "interviewer",
        )
    )
    return RoundQueue(
        is_open=round_.status == RoundStatus.OPEN,
        calling_ends_at=round_ends_at(round_),
        due_now=due_now,
        next_due_at=next_due_at,
        in_progress=in_progress,
        with_interviewers=with_interviewers,
        live_calls=count_live_calls(session),
        max_concurrent_calls=max_concurrent,
    )


def record_placed(session: Session, attempt_id: int, provider: str, sid: str) -> None:
    """The provider accepted the call: the attempt now counts."""
    attempt = session.get(Attempt, attempt_id)
    attempt.provider, attempt.provider_call_id = provider, sid


def record_invalid_number(
    session: Session, attempt_id: int, policy: CallingPolicy, now: datetime
) -> None:
    """The provider says the number cannot be called: a final outcome for this member."""
    attempt = session.get(Attempt, attempt_id)
    attempt.status, attempt.ended_at = "failed", now
    attempt.outcome = AttemptOutcome.INVALID_NUMBER
    schedule_next_call(session, session.get(Member, attempt.member_id), policy, now)


def release_unplaced(session: Session, attempt_id: int, now: datetime) -> None:
    """The provider could not take the call (still failing after retries), or says it never
    had it: the attempt does not count, and the member goes back to the queue a little later."""
    attempt = session.get(Attempt, attempt_id)
    member = session.get(Member, attempt.member_id)
    session.execute(CallEvent.__table__.delete().where(CallEvent.attempt_id == attempt_id))
    session.delete(attempt)
    member.attempt_count -= 1
    member.status = MemberStatus.PENDING
    member.next_call_at = now + RETRY_AFTER_PROVIDER_FAILURE


def schedule_next_call(
    session: Session,
    member: Member,
    policy: CallingPolicy | None,
    now: datetime,
    *,
    ivr_attempts: int | None = None,
) -> None:
    """After a call ends: set the member's next call, or close it with its disposition
    (`plan_next_call`, on the ORM's member; what the session holds is flushed first)."""
    session.flush()
    for name, value in plan_next_call(
        session.connection(), member, policy, now, ivr_attempts=ivr_attempts
    ).items():
        setattr(member, name, value)


# Built once: the IVR settles its calls with them (scripts/bench_ivr_cpu.py).
_OUTCOMES = Prepared(
    select(Attempt.__table__.c.started_at, Attempt.__table__.c.outcome, Attempt.__table__.c.mode)
    .where(
        Attempt.__table__.c.member_id == bindparam("member_id"),
        Attempt.__table__.c.outcome.is_not(None),
    )
    .order_by(Attempt.__table__.c.started_at, Attempt.__table__.c.id)
)
_CALLING_ENDS = Prepared(
    select(Round.__table__.c.calling_ends_at).where(Round.__table__.c.id == bindparam("round_id"))
)


def plan_next_call(
    connection: Connection,
    member,
    policy: CallingPolicy | None,
    now: datetime,
    *,
    ivr_attempts: int | None = None,
    calling_ends_at: datetime | None = None,
) -> dict[str, Any]:
    """What becomes of `member` (its `id`, `round_id`, `mode` and `appointment_at`: an ORM
    member or a plain row) now that a call has ended: the member's columns to change, read
    from the outcomes its attempts have in the database.

    A final outcome (complete, refusal, not eligible, invalid number …) closes the member at
    once; otherwise the calling policy says when to try again, and when it says never (no
    attempts left, the round is over) the attempts are rolled up into the final disposition.
    After `ivr_attempts` robot calls without reaching a person, the member moves to the
    interviewers' queue. Without a policy only the final-at-once case is settled. The round's
    `calling_ends_at` is read unless given.
    """
    attempts = _OUTCOMES.rows(connection, {"member_id": member.id})  # started, outcome, mode
    outcomes = [AttemptOutcome(outcome) for _, outcome, _ in attempts]
    next_at = None
    if not any(is_final_now(o) for o in outcomes):
        if policy is None:
            return {}
        if calling_ends_at is None:
            calling_ends_at = _CALLING_ENDS.rows(connection, {"round_id": member.round_id})[0][0]
        history = [PastAttempt(started_at, outcome) for started_at, outcome, _ in attempts]
        next_at = policy.next_attempt_at(
            history, now=now, round_ends_at=calling_ends_at, appointment_at=member.appointment_at
        )
    if next_at is None:
        disposition = roll_up_disposition(outcomes)
        return {
            "status": MemberStatus.FINAL.value,
            "disposition": disposition.code.value if disposition else None,
            "next_call_at": None,
        }
    changes: dict[str, Any] = {"status": MemberStatus.PENDING.value, "next_call_at": next_at}
    robot_calls = [mode for _, _, mode in attempts if mode == "ivr"]
    if (
        ivr_attempts is not None
        and member.mode == "ivr"
        and len(robot_calls) >= ivr_attempts
        and not any(is_human_contact(o) for o in outcomes)
    ):
        # The robot never reached a person: interviewers take over the remaining calls.
        changes["mode"] = "interviewer"
    return changes


STUCK_AFTER = timedelta(minutes=15)  # longer than any call: the time limit is 10 minutes
UNPLACED_AFTER = timedelta(minutes=5)


def list_stuck_attempts(session: Session, now: datetime) -> tuple[list[tuple[int, str]], list[int]]:
    """Attempts whose status callbacks never came: (id, call id) of placed calls still 'live'
    after STUCK_AFTER, and ids of attempts never placed (the dialer stopped in between)."""
    live = session.execute(
        select(Attempt.id, Attempt.provider_call_id).where(
            Attempt.mode == "ivr",
            Attempt.status.in_(LIVE_STATUSES),
            Attempt.provider_call_id.is_not(None),
            Attempt.started_at < now - STUCK_AFTER,
        )
    ).all()
    unplaced = session.scalars(
        select(Attempt.id).where(
            Attempt.mode == "ivr",
            Attempt.provider_call_id.is_(None),
            Attempt.outcome.is_(None),
            Attempt.started_at < now - UNPLACED_AFTER,
        )
    ).all()
    return [(i, sid) for i, sid in live], list(unplaced)


def was_answered(session: Session, attempt_id: int) -> bool:
    """Whether our webhooks saw a person (or a machine) on this call: it was answered, or an
    answer was saved. A call the provider no longer knows is requeued only when not."""
    attempt = session.get(Attempt, attempt_id)
    if attempt.status == "in-progress" or attempt.answered_by or attempt.question_id:
        return True
    return (
        session.scalar(select(Answer.id).where(Answer.attempt_id == attempt_id).limit(1))
        is not None
    )


def close_ended_rounds(session: Session, policy: CallingPolicy, now: datetime) -> int:
    """Rounds past their calling period: every member still open gets its final disposition
    (its attempts rolled up; never called at all is 3.11, not attempted) and the round is
    closed. Returns the number of rounds closed."""
    ended = session.scalars(
        select(Round).where(
            Round.status == RoundStatus.OPEN.value,
            Round.calling_ends_at <= now,
        )
    ).all()
    for round_ in ended:
        open_members = session.scalars(
            select(Member).where(
                Member.round_id == round_.id, Member.status != MemberStatus.FINAL.value
            )
        ).all()
        for member in open_members:
            member.claimed_by = member.lease_expires_at = None
            schedule_next_call(session, member, policy, now)
            if member.disposition is None:
                member.disposition = Code.NOT_ATTEMPTED.value
        round_.status = RoundStatus.CLOSED.value
        round_.closed_at = now
    return len(ended)
