"""`POST /sms/inbound`: a reply to the invitation SMS (Twilio's messaging webhook).

Signed like the IVR's webhooks (the same check: a bad or missing signature is 403). A reply
`TC`, `TU CHOI` or `STOP` declines: the sender's number goes on the opt-out list and its
members still waiting become refusals when the flow's refusal opts out (see
`cati.services.sms.decline_by_sms`); anything else is ignored. The answer is always an empty
TwiML `<Response/>` (no reply is sent: replies are not relied on, and Twilio offers no
two-way SMS in Vietnam).
"""

from __future__ import annotations

import logging

from flask import Response, request
from werkzeug.exceptions import HTTPException

from cati.services.sms import decline_by_sms
from cati.web.ivr.views import require_signature
from cati.web.runtime import get_runtime
from cati.web.sms import bp
from cati.web.survey.views import _flows

log = logging.getLogger(__name__)
EMPTY = '<?xml version="1.0" encoding="UTF-8"?><Response/>'

bp.before_request(require_signature)


@bp.post("/inbound")
def inbound():
    runtime = get_runtime()
    with runtime.transaction() as session:
        declined = decline_by_sms(
            session,
            request.form.get("From", ""),
            request.form.get("Body", ""),
            _flows(),
            runtime.clock(),
            runtime.settings.opt_out_key,
        )
    if declined is not None:
        log.info(
            "sms: a reply declined; the number is opted out, %d members refused",
            declined.refusals,
            extra={"message_sid": request.form.get("MessageSid")},
        )
    return _empty()


@bp.errorhandler(Exception)
def empty_answer(error):
    if isinstance(error, HTTPException) and (error.code or 500) < 500:
        return error
    log.exception("sms: failed on %s", request.path, extra={"path": request.path})
    return _empty()


def _empty() -> Response:
    return Response(EMPTY, mimetype="text/xml")
