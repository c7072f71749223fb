"""Signing in and out, roles, CSRF, the secret key and the interface language."""

from __future__ import annotations

import json
import re
import stat
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask, render_template_string
from sqlalchemy import select

from cati.config import Settings, SettingsError, instance_secret_key
from cati.models import AuditEvent, User
from cati.runtime import Runtime
from cati.services import users as users_service
from cati.services.users import create_user, disable_user
from cati.web import create_app
from cati.web.auth.roles import current_user_id, local_path, role_required
from cati.web.i18n import MESSAGES, t
from tests.conftest import NOW

PASSWORD = "mật khẩu đủ dài"
NO_CSRF = {"TESTING": True, "WTF_CSRF_ENABLED": False}
WITH_CSRF = {"TESTING": True, "WTF_CSRF_ENABLED": True}
FAILED_VI = "Tên đăng nhập hoặc mật khẩu không đúng"
FAILED_EN = "Wrong username or password"


@pytest.fixture(autouse=True)
def fast_hashes(monkeypatch):
    """A cheap hash method for speed; `tests/services/test_users.py` checks the real one."""
    monkeypatch.setattr(users_service, "PASSWORD_HASH_METHOD", "pbkdf2:sha256:1000")


class Clock:
    def __init__(self):
        self.now = NOW

    def __call__(self):
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def web_runtime(settings, session_factory, clock) -> Runtime:
    return Runtime(settings, session_factory, clock=clock)


PAGE = (
    '{% extends "base.html" %}{% block title %}Page{% endblock %}'
    "{% block content %}<p>page</p>{% endblock %}"
)


def add_test_page(app: Flask) -> Flask:
    """`/t/page`: any page of the application, for the top bar of a signed-in user."""
    app.add_url_rule("/t/page", "test_page", lambda: render_template_string(PAGE))
    return app


@pytest.fixture
def web(web_runtime) -> Flask:
    """The application with CSRF checks off: for tests about something else."""
    return add_test_page(create_app(web_runtime, NO_CSRF))


@pytest.fixture
def browser(web):
    return web.test_client()


@pytest.fixture
def users(session) -> dict[str, User]:
    return {
        role: create_user(session, name, PASSWORD, role, now=NOW)
        for name, role in (("lan", "interviewer"), ("minh", "manager"), ("an", "admin"))
    }


def login(client, username: str, password: str = PASSWORD, **extra):
    return client.post("/login", data={"username": username, "password": password, **extra})


def text(response) -> str:
    return response.get_data(as_text=True)


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token in the page"
    return match.group(1)


def html_lang(html: str) -> str:
    return re.search(r'<html lang="([a-z]+)">', html).group(1)


def audit(session, action: str) -> list[AuditEvent]:
    session.expire_all()
    return list(
        session.scalars(
            select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        )
    )


# --------------------------------------------------------------------------------------------
# the login page and CSRF
# --------------------------------------------------------------------------------------------


def test_the_login_page_is_vietnamese_with_test_ids_and_a_csrf_token(web_runtime):
    client = create_app(web_runtime, WITH_CSRF).test_client()
    response = client.get("/login")
    assert response.status_code == 200
    html = text(response)
    for testid in ("login-username", "login-password", "login-submit"):
        assert f'data-testid="{testid}"' in html
    assert csrf_token(html)
    assert html_lang(html) == "vi"
    assert "<title>Đăng nhập – Dân chấm điểm</title>" in html
    assert "Tên đăng nhập" in html and "Mật khẩu" in html
    assert 'href="/static/cati.css"' in html
    assert 'data-testid="logout-submit"' not in html  # nobody is signed in


def test_the_stylesheet_is_served_locally(browser):
    response = browser.get("/static/cati.css")
    assert response.status_code == 200
    css = text(response)
    assert "font-size: 16px" in css and ":focus-visible" in css
    assert "http" not in css  # no CDN, no remote fonts


def test_a_post_without_a_csrf_token_is_refused(web_runtime, session, users):
    client = create_app(web_runtime, WITH_CSRF).test_client()
    client.get("/login")
    response = login(client, "lan")
    assert response.status_code == 400
    assert "Biểu mẫu đã hết hạn hoặc không hợp lệ" in text(response)
    assert audit(session, "login") == []

    response = login(client, "lan", csrf_token="forged")
    assert response.status_code == 400


def test_a_post_with_the_form_token_signs_in(web_runtime, users):
    client = create_app(web_runtime, WITH_CSRF).test_client()
    token = csrf_token(text(client.get("/login")))
    response = login(client, "lan", csrf_token=token)
    assert response.status_code == 302
    assert response.headers["Location"] == "/console"


def test_logout_is_a_post_with_a_csrf_token(web_runtime, session, users):
    client = add_test_page(create_app(web_runtime, WITH_CSRF)).test_client()
    login(client, "lan", csrf_token=csrf_token(text(client.get("/login"))))
    page = text(client.get("/t/page"))  # a signed-in page with the top bar
    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 400
    assert audit(session, "logout") == []

    response = client.post("/logout", data={"csrf_token": csrf_token(page)})
    assert (response.status_code, response.headers["Location"]) == (302, "/login")
    [event] = audit(session, "logout")
    assert event.user_id == users["interviewer"].id
    html = text(client.get("/login"))
    assert "Bạn đã đăng xuất." in html
    assert 'data-testid="current-user"' not in html


def test_api_and_ivr_are_not_csrf_protected(web_runtime):
    client = create_app(web_runtime, WITH_CSRF).test_client()
    response = client.post("/api/cases", json=[], headers={"Authorization": "Bearer test-token"})
    assert response.status_code == 200  # not 400: the API is authenticated by its token
    assert client.post("/api/cases", json=[]).status_code == 401
    # A request without a Twilio signature is refused by the IVR's own check, not by CSRF.
    assert client.post("/ivr/status", data={"CallSid": "CA1"}).status_code == 403


# --------------------------------------------------------------------------------------------
# signing in
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("username", "home"),
    [("lan", "/console"), ("minh", "/dashboard"), ("an", "/dashboard")],
)
def test_signing_in_goes_home_by_role(browser, users, username, home):
    response = login(browser, username)
    assert (response.status_code, response.headers["Location"]) == (302, home)
    # Once signed in, the login page sends the user home as well.
    assert browser.get("/login").headers["Location"] == home


def test_the_top_bar_shows_the_user_and_role(browser, users):
    login(browser, "minh")
    html = text(browser.get("/t/page"))
    assert "<title>Page – Dân chấm điểm</title>" in html
    assert "Đang đăng nhập: minh (Quản lý)" in html
    assert 'data-testid="logout-submit"' in html


def test_session_cookies_are_http_only_lax_and_secure(browser, users):
    response = login(browser, "lan")
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" in cookie


def test_insecure_cookies_for_plain_http_development(settings, session_factory, users):
    runtime = Runtime(replace(settings, insecure_cookies=True), session_factory, clock=lambda: NOW)
    client = create_app(runtime, NO_CSRF).test_client()
    response = login(client, "lan")
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie


def test_sign_in_is_audited_with_the_address_but_no_password(browser, session, users):
    login(browser, "lan", "wrong password")
    login(browser, "ghost")
    login(browser, "lan")
    failed = audit(session, "login_failed")
    assert [(e.user_id, json.loads(e.details)) for e in failed] == [
        (users["interviewer"].id, {"reason": "bad_password", "ip": "127.0.0.1"}),
        (None, {"reason": "unknown_user", "ip": "127.0.0.1"}),
    ]
    [ok] = audit(session, "login")
    assert (ok.user_id, json.loads(ok.details)) == (users["interviewer"].id, {"ip": "127.0.0.1"})
    everything = session.scalars(select(AuditEvent.details)).all()
    assert all(PASSWORD not in (d or "") and "ghost" not in (d or "") for d in everything)


@pytest.mark.parametrize(
    "target", ["/round/7?tab=calls", "/console", "/dashboard?week=2026-W47&office=DH"]
)
def test_a_local_next_is_honoured(browser, users, target):
    response = login(browser, "lan", next=target)
    assert response.headers["Location"] == target


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/console",
        "//evil.example/console",
        "/\\evil.example",
        "\\\\evil.example",
        "javascript:alert(1)",
        "console",
        "/console\r\nSet-Cookie: x=1",
        "",
    ],
)
def test_a_foreign_next_is_ignored(browser, users, target):
    response = login(browser, "lan", next=target)
    assert response.headers["Location"] == "/console"


def test_next_is_carried_through_the_login_form(browser, users):
    html = text(browser.get("/login?next=/dashboard%3Fweek%3D2026-W47"))
    assert '<input type="hidden" name="next" value="/dashboard?week=2026-W47">' in html
    html = text(browser.get("/login?next=https://evil.example/"))
    assert 'name="next" value="https:' not in html


def test_a_wrong_password_and_an_unknown_user_get_the_same_generic_message(browser, users):
    wrong = login(browser, "lan", "wrong password")
    unknown = login(browser, "ghost", "wrong password")
    assert wrong.status_code == unknown.status_code == 200
    messages = [
        re.search(r'data-testid="login-error">([^<]*)<', text(r)).group(1) for r in (wrong, unknown)
    ]
    assert messages[0] == messages[1]
    assert messages[0].startswith(FAILED_VI)
    assert "5 lần" in messages[0] and "15 phút" in messages[0]
    assert 'value="lan"' in text(wrong)  # the username is kept, never the password
    assert "wrong password" not in text(wrong)
    assert browser.get("/login").status_code == 200  # still not signed in


def test_empty_fields_are_asked_for(browser):
    response = login(browser, "  ", "")
    assert "Vui lòng nhập tên đăng nhập và mật khẩu." in text(response)


def test_what_was_typed_is_escaped(browser):
    response = login(browser, '"><script>alert(1)</script>', "x")
    assert "<script>alert(1)" not in text(response)
    assert "&lt;script&gt;" in text(response)


def test_lockout_after_five_failures_says_nothing_more_and_lifts_after_fifteen_minutes(
    browser, users, clock
):
    generic = None
    for _ in range(5):
        generic = text(login(browser, "lan", "wrong password"))
    locked = login(browser, "lan")  # the right password, but locked
    assert locked.status_code == 200
    message = re.search(r'data-testid="login-error">([^<]*)<', text(locked)).group(1)
    assert message in generic  # the same words as any failure: nothing tells it is locked
    assert text(login(browser, "ghost", "wrong password")).count(message) == 1

    clock.now = NOW + timedelta(minutes=14, seconds=59)
    assert login(browser, "lan").status_code == 200
    clock.now = NOW + timedelta(minutes=15)
    assert login(browser, "lan").headers["Location"] == "/console"


def test_a_disabled_user_cannot_sign_in(browser, session, users):
    disable_user(session, "lan", now=NOW)
    response = login(browser, "lan")
    assert response.status_code == 200
    assert FAILED_VI in text(response)


def test_disabling_an_account_ends_its_sessions(web, browser, session, users):
    @web.get("/t/any")
    @role_required()
    def anyone():
        return "ok"

    login(browser, "lan")
    assert browser.get("/t/any").status_code == 200
    disable_user(session, "lan", now=NOW)
    assert browser.get("/t/any").status_code == 302


# --------------------------------------------------------------------------------------------
# role_required
# --------------------------------------------------------------------------------------------


@pytest.fixture
def guarded(web_runtime) -> Flask:
    app = create_app(web_runtime, NO_CSRF)

    @app.get("/t/interviewer")
    @role_required("interviewer")
    def interviewer_page():
        return {"user": current_user_id()}

    @app.get("/t/manager")
    @role_required("manager")
    def manager_page():
        return {"user": current_user_id()}

    @app.get("/t/whoami")
    def whoami():
        return {"user": current_user_id()}

    return app


def test_role_required_sends_anonymous_visitors_to_login_and_back(guarded, users):
    client = guarded.test_client()
    response = client.get("/t/manager?week=2026-W47")
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location.path == "/login"
    assert parse_qs(location.query) == {"next": ["/t/manager?week=2026-W47"]}
    assert "Vui lòng đăng nhập để tiếp tục." in text(client.get(response.headers["Location"]))

    signed_in = login(client, "minh", next="/t/manager?week=2026-W47")
    assert signed_in.headers["Location"] == "/t/manager?week=2026-W47"
    assert client.get("/t/manager").json == {"user": users["manager"].id}


def test_role_required_refuses_another_role_with_403(guarded, users):
    client = guarded.test_client()
    login(client, "lan")
    assert client.get("/t/interviewer").json == {"user": users["interviewer"].id}
    response = client.get("/t/manager")
    assert response.status_code == 403
    assert "Không có quyền truy cập" in text(response)


def test_an_admin_passes_every_role_check(guarded, users):
    client = guarded.test_client()
    login(client, "an")
    assert client.get("/t/interviewer").status_code == 200
    assert client.get("/t/manager").json == {"user": users["admin"].id}


def test_current_user_id_is_none_when_nobody_is_signed_in(guarded):
    assert guarded.test_client().get("/t/whoami").json == {"user": None}


def test_role_required_rejects_an_unknown_role():
    with pytest.raises(ValueError, match="unknown role"):
        role_required("boss")


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/console", "/console"),
        ("/a?b=c#d", "/a?b=c#d"),
        ("//evil.example", None),
        ("/\\evil.example", None),
        ("https://evil.example/", None),
        ("/a\nb", None),
        (None, None),
    ],
)
def test_local_path(target, expected):
    assert local_path(target) == expected


# --------------------------------------------------------------------------------------------
# language
# --------------------------------------------------------------------------------------------


def test_switching_to_english_and_back(browser, users):
    response = browser.post("/language", data={"language": "en", "next": "/login?next=/console"})
    assert (response.status_code, response.headers["Location"]) == (302, "/login?next=/console")
    html = text(browser.get("/login"))
    assert html_lang(html) == "en"
    assert "<title>Sign in – Dân chấm điểm</title>" in html
    assert "Username" in html and "Tên đăng nhập" not in html
    assert FAILED_EN in text(login(browser, "lan", "wrong password"))

    login(browser, "lan")  # a new session at sign-in keeps the language
    assert "Signed in as lan (Interviewer)" in text(browser.get("/t/page"))

    browser.post("/language", data={"language": "vi", "next": "/login"})
    assert html_lang(text(browser.get("/t/page"))) == "vi"


def test_the_language_switch_returns_to_a_local_referrer_only(browser):
    here = browser.post("/language", data={"language": "en"},
                        headers={"Referer": "http://localhost/login?next=/console"})  # fmt: skip
    assert here.headers["Location"] == "/login?next=/console"
    away = browser.post("/language", data={"language": "en"},
                        headers={"Referer": "https://evil.example/phish"})  # fmt: skip
    assert away.headers["Location"] == "/login"
    foreign_next = browser.post("/language", data={"language": "en", "next": "//evil.example"})
    assert foreign_next.headers["Location"] == "/login"


def test_an_unknown_language_is_refused(browser):
    assert browser.post("/language", data={"language": "fr"}).status_code == 400
    assert html_lang(text(browser.get("/login"))) == "vi"


def test_the_language_switch_needs_a_csrf_token(web_runtime):
    client = create_app(web_runtime, WITH_CSRF).test_client()
    token = csrf_token(text(client.get("/login")))
    assert client.post("/language", data={"language": "en"}).status_code == 400
    response = client.post("/language", data={"language": "en", "csrf_token": token})
    assert response.status_code == 302
    assert html_lang(text(client.get("/login"))) == "en"


def test_the_catalog_has_the_same_keys_in_both_languages_alphabetised():
    assert set(MESSAGES) == {"vi", "en"}
    assert list(MESSAGES["vi"]) == sorted(MESSAGES["vi"])
    assert list(MESSAGES["en"]) == sorted(MESSAGES["en"])
    assert MESSAGES["vi"].keys() == MESSAGES["en"].keys()
    for key, vietnamese in MESSAGES["vi"].items():
        placeholders = set(re.findall(r"{(\w+)}", vietnamese))
        assert placeholders == set(re.findall(r"{(\w+)}", MESSAGES["en"][key])), key
        assert vietnamese.strip() and MESSAGES["en"][key].strip(), key


def test_the_auth_templates_use_only_catalogued_keys():
    folder = Path(__file__).resolve().parents[2] / "cati" / "web" / "templates"
    keys = set()
    for template in (folder / "base.html", folder / "auth" / "login.html"):
        keys |= set(re.findall(r"""\bt\(\s*["']([\w.]+\w)["']""", template.read_text("utf-8")))
    keys |= {f"role.{role}" for role in ("interviewer", "manager", "admin")}
    keys |= {f"language.{code}" for code in ("vi", "en")}
    assert keys and keys <= MESSAGES["vi"].keys()


def test_t_outside_a_request_is_vietnamese_and_falls_back_to_the_key():
    assert t("auth.login.submit") == "Đăng nhập"
    assert t("auth.signed_in_as", username="lan", role="x") == "Đang đăng nhập: lan (x)"
    assert t("no.such.key") == "no.such.key"


# --------------------------------------------------------------------------------------------
# the secret key and the settings
# --------------------------------------------------------------------------------------------


def test_a_generated_secret_key_is_kept_private_and_shared(tmp_path, monkeypatch, web_runtime):
    monkeypatch.chdir(tmp_path)
    web_runtime = replace(web_runtime, settings=replace(web_runtime.settings, secret_key=None))
    first = create_app(web_runtime)  # not TESTING: as a worker would start
    second = create_app(web_runtime)
    path = tmp_path / "instance" / "secret_key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert first.secret_key == second.secret_key == path.read_text().strip()
    assert len(first.secret_key) >= 32
    assert [p.name for p in path.parent.iterdir()] == ["secret_key"]  # no temporary file left


def test_an_existing_secret_key_file_is_read(tmp_path):
    (tmp_path / "secret_key").write_text("an existing key of some length\n")
    assert instance_secret_key(tmp_path) == "an existing key of some length"


def test_the_secret_key_setting_wins_and_writes_no_file(tmp_path, monkeypatch, web_runtime):
    monkeypatch.chdir(tmp_path)
    runtime = replace(web_runtime, settings=replace(web_runtime.settings, secret_key="k" * 32))
    assert create_app(runtime).secret_key == "k" * 32
    assert not (tmp_path / "instance").exists()


def test_web_settings_from_the_environment():
    settings = Settings.from_env(
        {"CATI_SECRET_KEY": " " + "s" * 20 + " ", "CATI_INSECURE_COOKIES": "1"}
    )
    assert (settings.secret_key, settings.insecure_cookies) == ("s" * 20, True)
    assert "s" * 20 not in repr(settings)
    defaults = Settings.from_env({})
    assert (defaults.secret_key, defaults.insecure_cookies) == (None, False)
    with pytest.raises(SettingsError, match="CATI_SECRET_KEY"):
        Settings.from_env({"CATI_SECRET_KEY": "short"})
    with pytest.raises(SettingsError, match="CATI_INSECURE_COOKIES"):
        Settings.from_env({"CATI_INSECURE_COOKIES": "maybe"})


# --------------------------------------------------------------------------------------------
# sessions end on the server: sign-out, a new password, disabling, inactivity
# --------------------------------------------------------------------------------------------


@pytest.fixture
def anywhere(web) -> Flask:
    """`/t/any`: a page any signed-in user may open."""

    @web.get("/t/any")
    @role_required()
    def anyone():
        return "ok"

    return web


def kept_copy(web: Flask, client):
    """Another browser holding a copy of `client`'s session cookie, as an attacker would."""
    other = web.test_client()
    other.set_cookie("session", client.get_cookie("session").value)
    return other


def signed_in_status(client) -> int:
    return client.get("/t/any").status_code


def test_a_cookie_kept_from_before_logout_opens_nothing_afterwards(anywhere, browser, users):
    login(browser, "lan")
    copy = kept_copy(anywhere, browser)
    assert signed_in_status(copy) == 200
    browser.post("/logout")
    assert signed_in_status(copy) == 302
    assert copy.get("/console").headers["Location"].startswith("/login")
    assert copy.post("/console/next").headers["Location"].startswith("/login")
    # Signing in again opens a new session; the old cookie stays dead.
    login(browser, "lan")
    assert (signed_in_status(browser), signed_in_status(copy)) == (200, 302)


def test_a_new_password_or_disabling_ends_every_session(anywhere, browser, session, users):
    login(browser, "lan")
    other = anywhere.test_client()
    login(other, "lan")
    users_service.change_password(session, "lan", "một mật khẩu mới", now=NOW)
    assert (signed_in_status(browser), signed_in_status(other)) == (302, 302)

    login(browser, "minh")
    disable_user(session, "minh", now=NOW)
    users_service.create_user(session, "minh2", PASSWORD, "manager", now=NOW)
    assert signed_in_status(browser) == 302


def test_a_session_ends_after_twelve_hours_without_a_request(anywhere, browser, users, clock):
    login(browser, "lan")
    for hours in (11, 22, 33):  # in use all along: it lives on
        clock.now = NOW + timedelta(hours=hours, minutes=59)
        assert signed_in_status(browser) == 200
    clock.now += timedelta(hours=12)
    assert signed_in_status(browser) == 302
    clock.now += timedelta(minutes=1)
    assert signed_in_status(browser) == 302  # ended for good, not just that once


def test_a_thirty_day_old_cookie_is_refused(anywhere, browser, users, clock):
    login(browser, "lan")
    copy = kept_copy(anywhere, browser)
    clock.now = NOW + timedelta(days=30)
    assert signed_in_status(copy) == 302


def test_the_idle_time_is_a_setting(settings, session_factory, clock, users):
    runtime = Runtime(replace(settings, session_hours=1), session_factory, clock=clock)
    app = create_app(runtime, NO_CSRF)
    app.add_url_rule("/t/any", "any", role_required()(lambda: "ok"))
    client = app.test_client()
    login(client, "lan")
    clock.now = NOW + timedelta(minutes=59)
    assert signed_in_status(client) == 200
    clock.now += timedelta(hours=1)
    assert signed_in_status(client) == 302
    assert Settings.from_env({"CATI_SESSION_HOURS": "8"}).session_hours == 8
    assert Settings.from_env({}).session_hours == 12
    with pytest.raises(SettingsError, match="CATI_SESSION_HOURS"):
        Settings.from_env({"CATI_SESSION_HOURS": "0"})


def test_a_session_without_the_accounts_token_is_not_signed_in(anywhere, browser, users):
    """Sessions from before tokens (a bare user id), or with a made-up token, are refused."""
    for user_id in (str(users["interviewer"].id), f"{users['interviewer'].id}:guess"):
        with browser.session_transaction() as session:
            session.update({"_user_id": user_id, "_fresh": True, "seen": NOW.timestamp()})
        assert signed_in_status(browser) == 302


def test_no_remember_me_cookie_is_set(browser, users):
    response = login(browser, "lan")
    cookies = " ".join(response.headers.getlist("Set-Cookie"))
    assert "remember_token" not in cookies and "session=" in cookies


# --------------------------------------------------------------------------------------------
# sign-in rate limit per client
# --------------------------------------------------------------------------------------------


def limited_app(web_runtime, limit: str = "3/minute", **settings) -> Flask:
    runtime = replace(
        web_runtime,
        settings=replace(web_runtime.settings, login_rate_limit=limit, **settings),
    )
    return create_app(runtime, NO_CSRF)


def from_address(client, address: str, username: str, password: str = "wrong password"):
    return client.post(
        "/login",
        data={"username": username, "password": password},
        environ_base={"REMOTE_ADDR": address},
    )


def test_failed_sign_ins_are_limited_per_client_whatever_the_account(web_runtime, session, users):
    client = limited_app(web_runtime).test_client()
    for name in ("lan", "minh", "an"):  # one try on each account
        assert from_address(client, "10.0.0.1", name).status_code == 200
    refused = from_address(client, "10.0.0.1", "lan", PASSWORD)  # even the right password
    assert refused.status_code == 429
    html = text(refused)
    assert "Có quá nhiều lần đăng nhập từ máy này" in html and html_lang(html) == "vi"
    assert int(refused.headers["Retry-After"]) > 0
    assert audit(session, "login") == []
    # Reading the page is not limited; no account was locked, and another client signs in.
    assert client.get("/login", environ_base={"REMOTE_ADDR": "10.0.0.1"}).status_code == 200
    assert from_address(client, "10.0.0.2", "lan", PASSWORD).status_code == 302


def test_successful_sign_ins_do_not_count(web_runtime, users):
    client = limited_app(web_runtime).test_client()
    for _ in range(5):
        assert from_address(client, "10.0.0.1", "lan", PASSWORD).status_code == 302
        client.post("/logout")
    assert from_address(client, "10.0.0.1", "lan").status_code == 200


def test_the_rate_limited_page_is_in_the_users_language(web_runtime, users):
    client = limited_app(web_runtime, "1/minute").test_client()
    client.post("/language", data={"language": "en"})
    from_address(client, "10.0.0.1", "lan")
    refused = from_address(client, "10.0.0.1", "lan")
    assert refused.status_code == 429
    assert "Too many sign-in attempts from this computer" in text(refused)


def test_behind_a_proxy_the_forwarded_address_is_the_client(web_runtime, users):
    def attempt(client, forwarded_for):
        return client.post(
            "/login",
            data={"username": "lan", "password": "wrong password"},
            headers={"X-Forwarded-For": forwarded_for},
        ).status_code

    proxied = limited_app(web_runtime, "1/minute", proxy_fix=1).test_client()
    assert [attempt(proxied, ip) for ip in ("203.0.113.1", "203.0.113.2", "203.0.113.1")] == [
        200, 200, 429]  # fmt: skip
    direct = limited_app(web_runtime, "1/minute").test_client()  # X-Forwarded-For not believed
    assert [attempt(direct, ip) for ip in ("203.0.113.1", "203.0.113.2")] == [200, 429]


def redis_reachable(url: str = "redis://127.0.0.1:6379/0") -> bool:
    try:
        import redis

        return bool(redis.Redis.from_url(url, socket_connect_timeout=0.5).ping())
    except Exception:
        return False


@pytest.mark.loopback
@pytest.mark.skipif(not redis_reachable(), reason="no Redis on 127.0.0.1:6379")
def test_with_redis_every_worker_shares_the_count(web_runtime, users):
    import secrets

    # Two workers (two applications) counting in the same Redis; an address of this run only,
    # so counts left by an earlier run do not matter.
    address = f"10.{secrets.randbelow(256)}.{secrets.randbelow(256)}.{secrets.randbelow(256)}"
    url = "redis://127.0.0.1:6379/0"
    first, second = (
        limited_app(web_runtime, "2/minute", redis_url=url).test_client() for _ in range(2)
    )
    assert from_address(first, address, "lan").status_code == 200
    assert from_address(second, address, "minh").status_code == 200
    assert from_address(first, address, "an").status_code == 429
    assert from_address(second, address, "an").status_code == 429


@pytest.mark.loopback
def test_when_redis_does_not_answer_each_worker_counts_on_its_own(web_runtime, users):
    client = limited_app(web_runtime, "2/minute", redis_url="redis://127.0.0.1:1/0").test_client()
    codes = [from_address(client, "10.0.0.1", "lan").status_code for _ in range(3)]
    assert codes == [200, 200, 429]  # not a 500: the limit still holds, in memory


def test_rate_limit_settings():
    assert Settings.from_env({}).login_rate_limit == "10/minute;50/hour"
    assert Settings.from_env({"CATI_LOGIN_RATE_LIMIT": "5 per minute"}).login_rate_limit == (
        "5 per minute"
    )
    with pytest.raises(SettingsError, match="CATI_LOGIN_RATE_LIMIT"):
        Settings.from_env({"CATI_LOGIN_RATE_LIMIT": "often"})
    assert Settings.from_env({}).redis_url is None
    redis_url = "redis://:s3cret@127.0.0.1:6379/0"
    settings = Settings.from_env({"CATI_REDIS_URL": redis_url})
    assert settings.redis_url == redis_url and "s3cret" not in repr(settings)
    with pytest.raises(SettingsError, match="CATI_REDIS_URL") as error:
        Settings.from_env({"CATI_REDIS_URL": "http://:s3cret@127.0.0.1"})
    assert "s3cret" not in str(error.value)


# --------------------------------------------------------------------------------------------
# a refused form (CSRF) leaves the session alone
# --------------------------------------------------------------------------------------------


def test_a_cross_site_form_refused_for_csrf_leaves_the_session_cookie_alone(web_runtime, users):
    app = add_test_page(create_app(web_runtime, WITH_CSRF))
    client = app.test_client()
    login(client, "lan", csrf_token=csrf_token(text(client.get("/login"))))
    # A form auto-submitted by another site arrives without the cookie (SameSite=Lax) ...
    cross_site = app.test_client()
    refused = cross_site.post("/logout")
    assert refused.status_code == 400
    assert "Biểu mẫu đã hết hạn hoặc không hợp lệ. Vui lòng tải lại trang" in text(refused)
    # ... and its answer must not set one: the browser would drop the signed-in cookie for it.
    assert refused.headers.getlist("Set-Cookie") == []
    assert 'name="csrf_token"' not in text(refused)  # no form whose token nobody keeps
    assert client.get("/t/page").status_code == 200
    assert 'data-testid="current-user"' in text(client.get("/t/page"))


def test_a_stale_form_is_refused_in_the_users_language_and_keeps_them_signed_in(
    web_runtime, users, clock
):
    app = add_test_page(create_app(web_runtime, WITH_CSRF))
    client = app.test_client()
    login(client, "lan", csrf_token=csrf_token(text(client.get("/login"))))
    page = text(client.get("/t/page"))
    client.post("/language", data={"language": "en", "csrf_token": csrf_token(page)})
    clock.now = NOW + timedelta(hours=1)  # whatever the request would renew in the session
    refused = client.post("/logout", data={"csrf_token": "expired"})
    assert refused.status_code == 400
    assert "The form has expired or is not valid. Please reload the page" in text(refused)
    assert refused.headers.getlist("Set-Cookie") == []
    assert 'data-testid="current-user"' in text(client.get("/t/page"))


# --------------------------------------------------------------------------------------------
# security headers and the content security policy
# --------------------------------------------------------------------------------------------


def test_every_response_carries_the_security_headers(anywhere, browser, users):
    login(browser, "lan")
    for response in (
        browser.get("/login"),
        browser.get("/t/any"),
        browser.get("/console"),
        browser.get("/static/cati.css"),
        browser.get("/no-such-page"),
        browser.post("/api/cases", json=[]),
    ):
        headers = response.headers
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "same-origin"
        csp = headers["Content-Security-Policy"]
        policy = dict(part.partition(" ")[::2] for part in csp.split("; "))
        assert policy["script-src"] == policy["style-src"] == "'self'"
        assert policy["default-src"] == "'self'" and policy["frame-ancestors"] == "'none'"


def test_templates_have_no_inline_scripts_or_styles():
    from cati.web.auth.views import ERROR_PAGE

    folder = Path(__file__).resolve().parents[2] / "cati" / "web" / "templates"
    sources = {str(p.relative_to(folder)): p.read_text() for p in folder.rglob("*.html")}
    sources["ERROR_PAGE"] = ERROR_PAGE
    assert len(sources) > 5
    for name, source in sources.items():
        assert not re.search(r"\sstyle\s*=", source), name
        assert "<style" not in source, name
        assert not re.search(r"\son[a-z]+\s*=", source), name  # onclick= and friends
        for tag in re.findall(r"<script\b[^>]*>", source):
            assert "src=" in tag or 'type="application/json"' in tag, (name, tag)
