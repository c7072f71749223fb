"""API routes: authenticate, hand the payload to a service, answer JSON."""

from __future__ import annotations

import hmac
import json

from flask import abort, jsonify, request
from werkzeug.exceptions import RequestEntityTooLarge

from cati.domain.intake import canonical_column
from cati.services.flows import load_flows
from cati.services.intake import StrictImportAborted, import_records
from cati.services.reports import ReportError
from cati.services.reports import round_report as build_round_report
from cati.web.api import bp
from cati.web.runtime import get_runtime

MAX_CASES_PER_REQUEST = 50_000


@bp.before_request
def require_token():
    if request.endpoint == "api.round_report" and _is_signed_in_manager():
        return None
    token = get_runtime().settings.api_token
    given = request.headers.get("Authorization", "")
    scheme, _, value = given.partition(" ")
    if (
        not token
        or scheme.lower() != "bearer"
        or not hmac.compare_digest(value.strip().encode(), token.encode())
    ):
        response = jsonify(error="a valid 'Authorization: Bearer <CATI_API_TOKEN>' is required")
        response.status_code = 401
        response.headers["WWW-Authenticate"] = 'Bearer realm="cati"'
        abort(response)


@bp.post("/cases")
def post_cases():
    """Upsert a JSON list of dossier records; `?strict=1` stores nothing if one is rejected.

    Records use the import's column names (English or Vietnamese); `line` in a rejection is the
    record's 1-based position in the list. A value that is not text (an object, a list,
    true/false outside a yes/no column, NaN, an infinity, a lone surrogate) rejects its record;
    numbers are read as their decimal form.
    """
    payload, error = _json_body()
    if error is not None:
        return {"error": error}, 400
    if not isinstance(payload, list) or not all(isinstance(item, dict) for item in payload):
        return {"error": "the body must be a JSON list of case objects"}, 400
    if len(payload) > MAX_CASES_PER_REQUEST:
        return {"error": f"at most {MAX_CASES_PER_REQUEST} cases per request"}, 413
    strict = request.args.get("strict", "").lower() in ("1", "true", "yes")
    records = [
        (position, {canonical_column(key) or key: value for key, value in item.items()})
        for position, item in enumerate(payload, start=1)
    ]
    runtime = get_runtime()
    try:
        with runtime.transaction() as session:
            summary = import_records(
                session, records, tz=runtime.settings.timezone, now=runtime.clock(), strict=strict
            )
    except StrictImportAborted as exc:
        return exc.summary.as_dict(), 422
    return summary.as_dict(), 200


def _json_body() -> tuple[object, str | None]:
    """The request's JSON, or the reason it has none: a body that is not JSON, not UTF-8, or
    nested deeper than the parser goes is a 400, never a 500."""
    if not request.is_json:
        return None, "the body must be JSON (Content-Type: application/json)"
    data = request.get_data(cache=False)  # 413 past MAX_CONTENT_LENGTH
    try:
        return json.loads(data), None
    except RecursionError:
        return None, "the body is not a list of case objects: it is nested too deeply"
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError
        return None, f"the body is not valid JSON ({exc})"


@bp.errorhandler(RequestEntityTooLarge)
def body_too_large(exc: RequestEntityTooLarge):
    return {"error": "the body is too large; send the cases in several requests"}, 413


def _is_signed_in_manager() -> bool:
    from flask_login import current_user

    return current_user.is_authenticated and current_user.role in ("manager", "admin")


@bp.get("/rounds/<int:round_id>/report")
def round_report(round_id: int):
    """The round's report, as `cati report ROUND` prints it (a manager's session or the token)."""
    runtime = get_runtime()
    settings = runtime.settings
    with runtime.transaction() as session:
        try:
            data = build_round_report(
                session, round_id, load_flows(settings.flows_dir), settings.timezone
            )
        except ReportError as exc:
            return {"error": str(exc)}, 404
    return data
