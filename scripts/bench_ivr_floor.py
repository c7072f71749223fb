"""The floor of scripts/bench_ivr.py: what any webhook on this stack must do, and nothing more.

Like the baseline it answers one fixed TwiML document (no flow engine, no TwiML building),
but first it does the work no implementation can skip: it checks the Twilio signature and
makes the database round trips a turn needs, with SQLAlchemy Core on cati's own engine, in
one transaction committed before answering:

- voice: the call (attempt, member, round, case and office in one query), its saved answers,
  then where the interview stands (an UPDATE of the attempt);
- gather: the same, plus the key saved as an answer (for the questions the real IVR saves);
- status: the attempt by its call id, the callback stored once, the status updated.

It runs on a database of its own, populated like the real application's, so that its writes
are real writes. The real application does all of this and more (the ORM, the flow engine,
TwiML, the end of the interview), so its latency cannot go below this floor's.

    CATI_DATABASE_URL=... CATI_PUBLIC_URL=... gunicorn --pythonpath scripts bench_ivr_floor:app
"""

from __future__ import annotations

from datetime import UTC, datetime

from bench_ivr_baseline import TWIML
from flask import Flask, Response, abort, request
from sqlalchemy import insert, select, update

from cati.config import Settings
from cati.db import make_engine
from cati.domain.flow import QuestionType
from cati.models import Answer, Attempt, CallEvent, Case, Member, Office, Round
from cati.services.flows import load_flows
from cati.telephony.signatures import is_valid_signature

settings = Settings.from_env()
engine = make_engine(settings.database_url)
SAVED = {  # the questions whose key the real IVR saves (not the recorded comment's choice)
    q.id
    for flow in load_flows(settings.flows_dir).values()
    for q in flow.questions
    if q.type is not QuestionType.RECORD
}
CALL = (
    select(Attempt.id, Attempt.member_id, Attempt.status, Attempt.question_id, Attempt.tries,
           Member.status, Round.flow, Case.procedure_name, Case.returned_at, Office.name)
    .join(Member, Member.id == Attempt.member_id)
    .join(Round, Round.id == Member.round_id)
    .join(Case, Case.id == Member.case_id)
    .join(Office, Office.id == Case.office_id)
)  # fmt: skip
app = Flask(__name__)


@app.post("/ivr/<webhook>")
def ivr(webhook: str) -> Response:
    form = request.form.to_dict(flat=True)
    url = settings.public_url + (request.environ.get("RAW_URI") or request.full_path)
    if not is_valid_signature(
        settings.webhook_token, url, form, request.headers.get("X-Twilio-Signature", "")
    ):
        abort(403)
    now = datetime.now(UTC)
    with engine.begin() as conn:
        if webhook == "status":
            attempt_id = conn.scalar(
                select(Attempt.id).where(Attempt.provider_call_id == form["CallSid"])
            )
            event = {"sequence": int(form["SequenceNumber"]), "status": form["CallStatus"]}
            conn.execute(insert(CallEvent).values(attempt_id=attempt_id, received_at=now, **event))
            conn.execute(
                update(Attempt).where(Attempt.id == attempt_id).values(status=form["CallStatus"])
            )
            return Response(status=204)
        call = conn.execute(CALL.where(Attempt.id == int(request.args["attempt"]))).one()
        conn.execute(
            select(Answer.question_id, Answer.value).where(Answer.member_id == call.member_id)
        ).all()
        question = request.args.get("q")
        if webhook == "gather" and question in SAVED:
            conn.execute(
                insert(Answer).values(member_id=call.member_id, question_id=question,
                                      value=form.get("Digits"), attempt_id=call.id,
                                      answered_at=now)
            )  # fmt: skip
        conn.execute(
            update(Attempt).where(Attempt.id == call.id).values(question_id=question, tries=0)
        )
    return Response(TWIML, mimetype="text/xml")
