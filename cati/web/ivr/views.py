"""IVR routes: check the signature, hand the request to a use case, answer TwiML.

A webhook never answers 5xx for a business condition: an unknown call or a fault on our side
gets a polite goodbye, and the call ends cleanly.
"""

from __future__ import annotations

import logging

from flask import Response, abort, request
from werkzeug.exceptions import HTTPException

from cati.services.flows import load_flows
from cati.services.ivr import (
    UNKNOWN_FLOW,
    Turn,
    apply_call_status,
    apply_machine_detection,
    inbound_turn,
    key_turn,
    recording_turn,
    save_hotline_message,
    start_turn,
)
from cati.telephony import make_provider
from cati.telephony.base import ProviderError
from cati.telephony.signatures import is_valid_signature
from cati.telephony.twiml import goodbye_twiml, render_twiml, unknown_caller_twiml
from cati.web.ivr import bp
from cati.web.runtime import get_runtime

log = logging.getLogger(__name__)
SORRY = "Xin lỗi, hiện chúng tôi chưa thể tiếp tục cuộc gọi. Xin cảm ơn và hẹn gọi lại sau."
# A replayed or late request for a call that has ended, or for a survey already finished.
ENDED = "Cuộc khảo sát này đã kết thúc. Xin cảm ơn ông bà. Xin chào."


@bp.before_request
def require_signature():
    settings = get_runtime().settings
    params = request.form.to_dict(flat=True)
    signature = request.headers.get("X-Twilio-Signature", "")
    if not any(
        is_valid_signature(settings.webhook_token, url, params, signature)
        for url in _signed_urls(settings.public_url, settings.proxy_fix)
    ):
        log.warning(
            "ivr: rejected a request with a bad signature on %s",
            request.path,
            extra={"path": request.path},
        )
        abort(403)


def _signed_urls(public_url: str, proxy_fix: int) -> list[str]:
    """The URLs Twilio may have signed for this request.

    First CATI_PUBLIC_URL and the path as received, undecoded (Flask decodes %2F and UTF-8
    escapes, which the signature covers as sent). Behind CATI_PROXY_FIX trusted proxies, also
    the URL they report: their scheme, host and prefix (X-Forwarded-*) with the same path, as
    when Twilio calls a host name other than CATI_PUBLIC_URL's (a hotline number set up by
    hand in Twilio's console).
    """
    raw = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI")
    if not raw:
        query = request.query_string.decode("latin-1")
        raw = request.path + (f"?{query}" if query else "")
    urls = [public_url + raw]
    if proxy_fix:
        # The raw URI includes the server's own mount point, which a forwarded prefix replaces.
        mount = (request.environ.get("werkzeug.proxy_fix.orig") or {}).get("SCRIPT_NAME") or ""
        rest = raw[len(mount) :] if mount and raw.startswith(mount) else raw
        forwarded = f"{request.scheme}://{request.host}{request.script_root}{rest}"
        if forwarded not in urls:
            urls.append(forwarded)
    return urls


@bp.errorhandler(Exception)
def polite_goodbye(error):
    if isinstance(error, HTTPException) and (error.code or 500) < 500:
        # The request's own fault (a bad signature, an oversize or unreadable body): its 4xx,
        # one log line and no traceback; the body may not even be readable.
        if error.code not in (403, 405):
            log.warning(
                "ivr: refused a request on %s: %s %s",
                request.path,
                error.code,
                error.name,
                extra={"path": request.path},
            )
        return error
    sid = _form_value("CallSid")
    log.exception(
        "ivr: failed on %s (call %s)",
        request.path,
        sid,
        extra={"call_sid": sid, "attempt_id": _attempt_arg(), "path": request.path},
    )
    return _twiml(goodbye_twiml(SORRY))


@bp.post("/voice")
def voice():
    """Twilio fetches this when the citizen picks up an outbound call."""
    return _turn(
        lambda connection, flows, tz, now, deadlines: start_turn(
            connection,
            flows,
            _arg_int("attempt"),
            request.form.get("CallSid", ""),
            tz=tz,
            now=now,
            deadlines=deadlines,
        )
    )


@bp.post("/gather")
def gather():
    """A key pressed (Digits) or silence (no Digits) for the question in the URL."""
    return _turn(
        lambda connection, flows, tz, now, deadlines: key_turn(
            connection,
            flows,
            _arg_int("attempt"),
            request.form.get("CallSid", ""),
            request.args.get("q", ""),
            _arg_int("t"),
            request.form.get("Digits"),
            tz=tz,
            now=now,
            deadlines=deadlines,
        )
    )


@bp.post("/recording")
def recording():
    """The voice comment has been recorded."""
    return _turn(
        lambda connection, flows, tz, now, deadlines: recording_turn(
            connection,
            flows,
            _arg_int("attempt"),
            request.form.get("CallSid", ""),
            request.args.get("q", ""),
            request.form.get("RecordingUrl"),
            tz=tz,
            now=now,
            deadlines=deadlines,
        )
    )


@bp.post("/status")
def status():
    """Status callbacks of every call: may come twice or out of order."""
    runtime = get_runtime()
    with runtime.connection() as connection:
        apply_call_status(
            connection,
            load_flows(runtime.settings.flows_dir),
            request.form,
            policy=runtime.settings.calling_policy,
            now=runtime.clock(),
            ivr_attempts=runtime.settings.ivr_attempts,
            attempt_id=_arg_int("attempt") if "attempt" in request.args else None,
        )
    return Response(status=204)


HOTLINE_UNKNOWN = (
    "Xin chào. Đây là đường dây khảo sát sự hài lòng của Sở Nội vụ. Chúng tôi chưa tìm thấy "
    "khảo sát nào dành cho số điện thoại này. Nếu muốn góp ý về bộ phận một cửa, xin nói sau "
    "tiếng bíp, tối đa sáu mươi giây. Bấm phím thăng khi xong."
)
HOTLINE_THANKS = "Cảm ơn ông bà đã góp ý. Xin chào."


@bp.post("/inbound")
def inbound():
    """The hotline: a citizen calls the survey number."""
    form = request.form
    settings = get_runtime().settings
    return _turn(
        lambda session, flows, tz, now, _deadlines: inbound_turn(
            session, flows, form.get("CallSid", ""), form.get("From", ""),
            settings.telephony, tz=tz, now=now,
        ),
        on_unknown=lambda: unknown_caller_twiml(
            HOTLINE_UNKNOWN, f"{settings.public_url}/ivr/hotline-message"
        ),
        orm=True,
    )  # fmt: skip


@bp.post("/hotline-message")
def hotline_message():
    """The recording an unknown caller left on the hotline."""
    runtime = get_runtime()
    form = request.form
    with runtime.transaction() as session:
        save_hotline_message(
            session,
            form.get("CallSid", ""),
            form.get("From", ""),
            form.get("RecordingUrl"),
            form.get("RecordingDuration"),
            now=runtime.clock(),
        )
    return _twiml(goodbye_twiml(HOTLINE_THANKS))


@bp.post("/amd")
def amd():
    """Asynchronous answering-machine detection: a machine gets no survey; we hang up."""
    runtime = get_runtime()
    with runtime.transaction() as session:
        machine = apply_machine_detection(session, request.form)
    if machine:
        try:
            make_provider(runtime.settings).hang_up(request.form["CallSid"])
        except ProviderError as exc:
            # The provider's message may quote the number: log the kind and code only.
            sid = request.form.get("CallSid")
            log.warning(
                "ivr: could not hang up on a machine (call %s): %s (code %s)",
                sid,
                exc.kind,
                exc.code,
                extra={"call_sid": sid, "attempt_id": _attempt_arg()},
            )
    return Response(status=204)


def _turn(use_case, on_unknown=lambda: goodbye_twiml(SORRY), *, orm: bool = False) -> Response:
    """Run one turn of an interview in a transaction and answer its TwiML: on a Core
    connection, or in an ORM session for a use case that needs one (`orm`)."""
    runtime = get_runtime()
    settings = runtime.settings
    with runtime.transaction() if orm else runtime.connection() as unit:
        turn: Turn = use_case(
            unit,
            load_flows(settings.flows_dir),
            settings.timezone,
            runtime.clock(),
            settings.follow_up_deadlines,
        )
        if turn.refused:
            sid = request.form.get("CallSid")
            log.info(
                "ivr: refused %s (call %s): %s, nothing changed",
                request.path,
                sid,
                turn.refused,
                extra={"call_sid": sid, "attempt_id": _attempt_arg(), "path": request.path},
            )
            return _twiml(goodbye_twiml(SORRY if turn.refused == UNKNOWN_FLOW else ENDED))
        if turn.attempt is None:
            return _twiml(on_unknown())
        attempt_id = turn.attempt.id
    base = settings.public_url
    xml = render_twiml(
        turn.events,
        language=turn.language,
        voice=settings.tts_voice,
        gather_url=lambda q: f"{base}/ivr/gather?attempt={attempt_id}&q={q}&t={turn.tries}",
        record_url=lambda q: f"{base}/ivr/recording?attempt={attempt_id}&q={q}",
    )
    return _twiml(xml)


def _twiml(xml: str) -> Response:
    return Response(xml, mimetype="text/xml")


def _form_value(name: str) -> str | None:
    """A form value for a log line, or None when the body cannot be read."""
    try:
        return request.form.get(name)
    except Exception:  # the body is what failed: the log line must not fail too
        return None


def _attempt_arg() -> int | None:
    """The attempt id in the URL, for log lines (None when absent or not a number)."""
    value = _arg_int("attempt")
    return value if value >= 0 else None


def _arg_int(name: str) -> int:
    try:
        return int(request.args.get(name, ""))
    except ValueError:
        return -1
