"""How an interview ends, whatever its mode (the IVR, the console, the web): shared helpers.

`interview_ending` says what the flow engine's ending means: the attempt's outcome, whether
the citizen asked for a person and whether the number goes on the opt-out list.
`finish_interview` applies it to the ORM's attempt and member (the console, the web, SMS);
the IVR applies the same ending with prebuilt statements (cati/services/ivr.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from cati.domain.dispositions import AttemptOutcome, is_final_now
from cati.domain.flow import FlowRun, Outcome, classify_interview
from cati.models import Attempt, Member, OptOut
from cati.services.dialer import schedule_next_call

OPT_OUT_REASON = "declined the survey call"


@dataclass(frozen=True, slots=True)
class Ending:
    outcome: AttemptOutcome
    handover: bool  # an interviewer calls back as soon as one is free (a due appointment)
    final_now: bool  # the member is final at once, without waiting for the call to end
    opt_out: bool  # the citizen chose an option that puts the number on the opt-out list


def interview_ending(run: FlowRun, outcome: Outcome) -> Ending:
    attempt_outcome = AttemptOutcome(classify_interview(run.flow, run.answered, outcome))
    return Ending(
        attempt_outcome,
        outcome is Outcome.HANDOVER,
        is_final_now(attempt_outcome),
        chose_opt_out(run),
    )


def chose_opt_out(run: FlowRun) -> bool:
    """Whether the citizen chose an option that asks for the opt-out list (declining the
    survey), on the IVR, with an interviewer or on the web."""
    return any(
        (option := q.option(run.answered.get(q.id, ""))) is not None and option.opt_out
        for q in run.flow.questions
    )


def finish_interview(
    session: Session,
    attempt: Attempt,
    member: Member,
    run: FlowRun,
    outcome: Outcome,
    now: datetime,
) -> None:
    """The flow ended with `outcome`: the attempt's outcome (once), the member's next step."""
    if attempt.outcome is not None:
        return
    ending = interview_ending(run, outcome)
    attempt.outcome = ending.outcome
    if ending.handover:
        member.mode, member.appointment_at = "interviewer", now
    if ending.final_now:
        schedule_next_call(session, member, None, now)
    if ending.opt_out:
        record_opt_out(session, member, now)


def record_opt_out_choice(session: Session, member: Member, run: FlowRun, now: datetime) -> None:
    """Put the number on the opt-out list when the citizen chose an option that asks for it."""
    if chose_opt_out(run):
        record_opt_out(session, member, now)


def record_opt_out(session: Session, member: Member, now: datetime) -> None:
    if (
        member.phone
        and session.scalar(select(OptOut.id).where(OptOut.phone == member.phone)) is None
    ):
        session.add(OptOut(phone=member.phone, reason=OPT_OUT_REASON, created_at=now))
