"""Behind a TLS proxy (CATI_PROXY_FIX): Twilio signs the public https URL, the app hears http."""

from __future__ import annotations

import dataclasses

import pytest
from werkzeug.middleware.proxy_fix import ProxyFix

from cati.telephony.signatures import sign
from cati.web import create_app
from tests.factories import create_attempt, create_member

PUBLIC = "https://survey.example.vn"
FORWARDED = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "survey.example.vn"}


def make_client(runtime, **settings):
    runtime = dataclasses.replace(
        runtime, settings=dataclasses.replace(runtime.settings, **settings)
    )
    return create_app(runtime, {"TESTING": True}).test_client()


@pytest.fixture
def attempt(session):
    return create_attempt(session, create_member(session))


def post_signed(client, token, signed_url, path, headers=None):
    params = {"CallSid": "CA" + "0" * 31 + "1", "AccountSid": "AC1", "CallStatus": "in-progress"}
    headers = {"X-Twilio-Signature": sign(token, signed_url, params), **(headers or {})}
    return client.post(path, data=params, headers=headers, base_url="http://127.0.0.1:8000")


def test_a_request_signed_for_the_public_https_url_is_accepted_through_a_trusted_proxy(
    runtime, attempt
):
    client = make_client(runtime, proxy_fix=1)
    path = f"/ivr/voice?attempt={attempt.id}"
    response = post_signed(client, runtime.settings.webhook_token, PUBLIC + path, path, FORWARDED)
    assert response.status_code == 200
    assert b"<Gather" in response.data


def test_without_proxy_fix_the_forwarded_headers_are_not_trusted(runtime, attempt):
    client = make_client(runtime, proxy_fix=0)
    path = f"/ivr/voice?attempt={attempt.id}"
    response = post_signed(client, runtime.settings.webhook_token, PUBLIC + path, path, FORWARDED)
    assert response.status_code == 403


@pytest.mark.parametrize("proxy_fix", [0, 1])
def test_the_configured_public_url_is_enough_whatever_the_proxy_setting(
    runtime, attempt, proxy_fix
):
    client = make_client(runtime, proxy_fix=proxy_fix, public_url=PUBLIC)
    path = f"/ivr/voice?attempt={attempt.id}"
    response = post_signed(client, runtime.settings.webhook_token, PUBLIC + path, path)
    assert response.status_code == 200


def test_only_the_hops_the_proxies_add_are_believed(runtime, attempt):
    """With one proxy, a client's own X-Forwarded-Host comes first and is ignored."""
    client = make_client(runtime, proxy_fix=1)
    path = f"/ivr/voice?attempt={attempt.id}"
    spoofed = {**FORWARDED, "X-Forwarded-Host": "attacker.example, survey.example.vn"}
    token = runtime.settings.webhook_token
    assert post_signed(client, token, PUBLIC + path, path, spoofed).status_code == 200
    forged = post_signed(client, token, f"https://attacker.example{path}", path, spoofed)
    assert forged.status_code == 403


def test_a_forwarded_prefix_is_part_of_the_signed_url(runtime, attempt):
    client = make_client(runtime, proxy_fix=1)
    path = f"/ivr/voice?attempt={attempt.id}"
    headers = {**FORWARDED, "X-Forwarded-Prefix": "/cati"}
    token = runtime.settings.webhook_token
    assert post_signed(client, token, f"{PUBLIC}/cati{path}", path, headers).status_code == 200
    assert post_signed(client, token, PUBLIC + path, path, headers).status_code == 403


def test_a_bad_signature_is_refused_even_through_the_proxy(runtime, attempt):
    client = make_client(runtime, proxy_fix=1)
    path = f"/ivr/voice?attempt={attempt.id}"
    response = post_signed(client, "not-the-token", PUBLIC + path, path, FORWARDED)
    assert response.status_code == 403


@pytest.mark.parametrize("hops", [1, 2])
def test_proxy_fix_trusts_as_many_hops_as_configured(runtime, hops):
    runtime = dataclasses.replace(
        runtime, settings=dataclasses.replace(runtime.settings, proxy_fix=hops)
    )
    app = create_app(runtime, {"TESTING": True})
    assert isinstance(app.wsgi_app, ProxyFix)
    fix = app.wsgi_app
    assert (fix.x_for, fix.x_proto, fix.x_host, fix.x_port, fix.x_prefix) == (hops,) * 5


def test_no_proxy_fix_by_default(app):
    assert not isinstance(app.wsgi_app, ProxyFix)


def test_the_client_address_and_scheme_come_from_the_proxy(runtime):
    app = create_app(
        dataclasses.replace(runtime, settings=dataclasses.replace(runtime.settings, proxy_fix=1)),
        {"TESTING": True},
    )
    seen = {}

    @app.get("/whoami")
    def whoami():
        from flask import request

        seen.update(addr=request.remote_addr, secure=request.is_secure, host=request.host)
        return ""

    app.test_client().get("/whoami", headers={**FORWARDED, "X-Forwarded-For": "203.0.113.7"})
    assert seen == {"addr": "203.0.113.7", "secure": True, "host": "survey.example.vn"}
