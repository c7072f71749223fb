"""The application as a whole: what every route shares."""

from __future__ import annotations

import logging

import pytest

OVERSIZE = b"a=" + b"x" * (32 * 1024 * 1024)  # one byte over MAX_CONTENT_LENGTH


def _routes_taking_a_body(app) -> list[tuple[str, str]]:
    routes = []
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods & {"POST", "PUT", "PATCH", "DELETE"}):
            values = {name: 1 for name in rule.arguments}
            with app.test_request_context():
                routes.append((method, app.url_for(rule.endpoint, **values)))
    return routes


@pytest.mark.parametrize("content_type", ["application/x-www-form-urlencoded", "application/json"])
def test_an_oversize_body_is_413_on_every_route(app, caplog, content_type):
    """Signed in or not, with a token or not: the size is refused first, never a 500."""
    app.config["PROPAGATE_EXCEPTIONS"] = False  # as in production: a fault would be a 500
    client = app.test_client()
    routes = _routes_taking_a_body(app)
    assert ("POST", "/ivr/gather") in routes and ("POST", "/api/cases") in routes
    answers = {
        f"{method} {path}": client.open(
            path,
            method=method,
            data=OVERSIZE,
            content_type=content_type,
            headers={"Authorization": "Bearer test-token", "X-Twilio-Signature": "x"},
        ).status_code
        for method, path in routes
    }
    assert answers == dict.fromkeys(answers, 413)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
