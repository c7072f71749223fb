"""Sign-in and sign-out pages, and the pages shown for a refused request (403, bad CSRF, too
many sign-ins)."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from flask import (
    Flask,
    flash,
    g,
    redirect,
    render_template,
    render_template_string,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_user, logout_user
from flask_wtf.csrf import CSRFError

from cati.services.users import LOCKOUT, MAX_FAILED_LOGINS, authenticate, record_logout
from cati.web.auth import CurrentUser, bp, mark_seen
from cati.web.auth.roles import current_user_id, home_path, local_path
from cati.web.i18n import SESSION_KEY as LANGUAGE_KEY
from cati.web.i18n import t
from cati.web.runtime import get_runtime

log = logging.getLogger(__name__)

# Blueprints that answer machines, not people: their errors stay as they are.
MACHINE_BLUEPRINTS = ("api", "ivr", "sms")
# Set on `g` when the response must not touch the session cookie (see `csrf_failed`).
KEEP_SESSION_COOKIE = "cati_keep_session_cookie"

ERROR_PAGE = """{% extends "base.html" %}
{% block title %}{{ heading }} – {{ t("app.name") }}{% endblock %}
{% block content %}
<section class="card">
  <h1>{{ heading }}</h1>
  <p data-testid="error-message">{{ message }}</p>
  <p><a href="{{ url_for('auth.login') }}">{{ t("nav.home") }}</a></p>
</section>
{% endblock %}
"""


@bp.route("/login", methods=["GET", "POST"])
def login():
    next_path = local_path(request.values.get("next"))
    if next_path and urlsplit(next_path).path == url_for("auth.login"):
        next_path = None  # signed in, the login page would only send the user on
    if request.method == "GET":
        if current_user.is_authenticated:
            return redirect(next_path or home_path(current_user.role))
        return _login_page(next_path)

    username = request.form.get("username", "")
    password = request.form.get("password", "")
    if not username.strip() or not password:
        return _login_page(next_path, username, t("auth.login.missing"))
    runtime = get_runtime()
    with runtime.transaction() as db:
        outcome = authenticate(
            db, username, password, now=runtime.clock(), remote_addr=request.remote_addr
        )
        identity = CurrentUser.of(outcome.user) if outcome.user else None
    if identity is None:
        minutes = int(LOCKOUT.total_seconds() // 60)
        error = t("auth.login.failed", attempts=MAX_FAILED_LOGINS, minutes=minutes)
        return _login_page(next_path, username, error)

    _fresh_session()  # a new session at each sign-in: nothing carried over but the language
    login_user(identity)
    mark_seen(runtime.clock().timestamp())
    return redirect(next_path or home_path(identity.role))


@bp.post("/logout")
def logout():
    user_id = current_user_id()
    if user_id is not None:
        runtime = get_runtime()
        with runtime.transaction() as db:
            record_logout(db, user_id, now=runtime.clock())
    _fresh_session()
    logout_user()
    flash(t("auth.logout.done"), "info")
    return redirect(url_for("auth.login"))


def register_error_pages(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_failed(error: CSRFError):
        if request.blueprint in MACHINE_BLUEPRINTS:
            return error
        if not request.is_secure and app.config.get("SESSION_COOKIE_SECURE"):
            log.warning(
                "CSRF check failed on plain http while session cookies are Secure-only "
                "(browsers do not send them back): serve over https, or set "
                "CATI_INSECURE_COOKIES=1 for local development"
            )
        # A cross-site form arrives without the session cookie (SameSite=Lax): a page that
        # saved a session here would replace the visitor's cookie with an anonymous one and
        # sign them out. The refusal leaves the cookie alone, whatever came with it.
        g.setdefault(KEEP_SESSION_COOKIE, True)
        return _error_page(t("auth.error.csrf_title"), t("auth.error.csrf"), 400, bare=True)

    @app.errorhandler(429)
    def too_many_requests(error):
        if request.blueprint in MACHINE_BLUEPRINTS:
            return error
        return _error_page(t("auth.error.rate_limited_title"), t("auth.error.rate_limited"), 429)

    @app.errorhandler(403)
    def forbidden(error):
        if request.blueprint in MACHINE_BLUEPRINTS:
            return error
        return _error_page(t("auth.error.forbidden_title"), t("auth.error.forbidden"), 403)


def _login_page(next_path: str | None, username: str = "", error: str | None = None):
    html = render_template("auth/login.html", next_path=next_path, username=username, error=error)
    return html, 200


def _error_page(heading: str, message: str, status: int, *, bare: bool = False):
    """`bare`: without the top bar's forms, whose tokens would live in an unsaved session."""
    html = render_template_string(ERROR_PAGE, heading=heading, message=message, bare=bare)
    return html, status


def _fresh_session() -> None:
    language = session.get(LANGUAGE_KEY)
    session.clear()
    if language:
        session[LANGUAGE_KEY] = language
