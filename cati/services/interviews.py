"""How an interview ends, whatever its mode (the IVR, the console, the web): shared helpers.

`finish_interview` gives the attempt its outcome when the flow engine says the interview is
over, makes the member final at once when that outcome is final, hands a citizen who asked
for a person to the interviewers, and records the opt-out the flow asks for.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from cati.domain.dispositions import AttemptOutcome, is_final_now
from cati.domain.flow import FlowRun, Outcome, classify_interview
from cati.models import Attempt, Member, OptOut
from cati.services.dialer import schedule_next_call


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
    attempt.outcome = AttemptOutcome(classify_interview(run.flow, run.answered, outcome))
    if outcome is Outcome.HANDOVER:
        # An interviewer calls back as soon as one is free: a due appointment in the queue.
        member.mode, member.appointment_at = "interviewer", now
    if is_final_now(attempt.outcome):
        # Final at once, without waiting for the call to end.
        session.flush()
        schedule_next_call(session, member, None, now)
    record_opt_out_choice(session, member, run, now)


def record_opt_out_choice(session: Session, member: Member, run: FlowRun, now: datetime) -> None:
    """Put the number on the opt-out list when the citizen chose an option that asks for it
    (declining the survey), on the IVR, with an interviewer or on the web."""
    chose_opt_out = any(
        (option := q.option(run.answered.get(q.id, ""))) is not None and option.opt_out
        for q in run.flow.questions
    )
    if (
        chose_opt_out
        and member.phone
        and session.scalar(select(OptOut.id).where(OptOut.phone == member.phone)) is None
    ):
        session.add(OptOut(phone=member.phone, reason="declined the survey call", created_at=now))
