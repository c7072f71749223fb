"""The web application: `create_app()` builds it; blueprints stay thin."""

from __future__ import annotations

import functools
import secrets
from typing import Any

from flask import Flask, abort, g, request
from flask.sessions import SecureCookieSessionInterface
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_wtf.csrf import CSRFProtect
from werkzeug.middleware.proxy_fix import ProxyFix

from cati.config import Settings
from cati.migrate import require_current_schema
from cati.runtime import Runtime

# Every form posted to the application carries a CSRF token, except the machine-facing
# blueprints (the API authenticates with a bearer token, the IVR with Twilio signatures).
csrf = CSRFProtect()

# Sent with every response. The pages load only their own scripts and styles (no inline
# <script>, <style> or style=), so the policy allows nothing else; nobody may frame them.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        # Citizens' recorded comments play from the provider (after an audited redirect).
        "media-src 'self' https://api.twilio.com",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


# Blueprints called by machines (the telephony provider's webhooks): no person, so no session
# cookie, no signed-in user, no CSRF token, no sign-in rate limit and no browser headers. The
# application-wide hooks for people are skipped on them (see `_people_only`).
MACHINE_BLUEPRINTS = frozenset({"ivr", "sms"})
MACHINE_PREFIXES = ("/ivr/", "/sms/")


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, except that a response may leave the cookie alone
    (`g.cati_keep_session_cookie`, set by the page refusing a form without a valid CSRF token),
    and that the machines' webhooks (`MACHINE_PREFIXES`) get a null session: no cookie is
    read, signed or set for them."""

    def open_session(self, app, request):
        if request.path.startswith(MACHINE_PREFIXES):
            return None  # Flask's null session: read as empty, never saved
        return super().open_session(app, request)

    def save_session(self, app, session, response) -> None:
        from cati.web.auth.views import KEEP_SESSION_COOKIE

        if g.get(KEEP_SESSION_COOKIE):
            return
        super().save_session(app, session, response)


def create_app(runtime: Runtime | None = None, test_config: dict[str, Any] | None = None) -> Flask:
    """Build the application around a runtime (settings, sessions, clock)."""
    app = Flask(__name__)
    if runtime is None:
        settings = Settings.from_env()
        # A server on a missing or unmigrated database refuses to start (one line: what to do).
        require_current_schema(settings.database_url)
        runtime = Runtime.from_settings(settings)
    settings = runtime.settings
    app.config.from_mapping(
        JSON_AS_ASCII=False,
        MAX_CONTENT_LENGTH=32 * 1024 * 1024,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=not settings.insecure_cookies,
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_SECURE=not settings.insecure_cookies,
        # A token lives as long as the session: a console left open all day still posts.
        WTF_CSRF_TIME_LIMIT=None,
    )
    if test_config:
        app.config.update(test_config)
    if not app.config.get("SECRET_KEY"):
        if app.testing and not settings.secret_key:
            # Tests never write into the working directory's instance folder.
            app.config["SECRET_KEY"] = secrets.token_hex(32)
        else:
            app.config["SECRET_KEY"] = settings.resolve_secret_key()
    app.extensions["cati"] = runtime
    if settings.proxy_fix:
        # Behind CATI_PROXY_FIX proxies (nginx): the client's address, scheme, host and
        # prefix come from their X-Forwarded-* headers; trusting more hops would let clients
        # forge them.
        n = settings.proxy_fix
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=n, x_proto=n, x_host=n, x_port=n, x_prefix=n
        )
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.session_interface = SessionInterface()

    @app.after_request
    def security_headers(response):
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    from cati.web import formats, i18n, nav
    from cati.web.admin import bp as admin_bp
    from cati.web.api import bp as api_bp
    from cati.web.auth import init_app as init_auth
    from cati.web.console import bp as console_bp
    from cati.web.counter import bp as counter_bp
    from cati.web.dashboard import bp as dashboard_bp
    from cati.web.followups import bp as followups_bp
    from cati.web.health import bp as health_bp
    from cati.web.ivr import bp as ivr_bp
    from cati.web.sms import bp as sms_bp
    from cati.web.survey import bp as survey_bp

    @app.before_request
    def refuse_oversize_bodies():
        # Every route answers 413 to a body over MAX_CONTENT_LENGTH, before anything (a
        # signature or CSRF check, a token, a route that ignores the body) looks at it.
        limit = app.config.get("MAX_CONTENT_LENGTH")
        if limit is not None and (request.content_length or 0) > limit:
            abort(413)

    csrf.init_app(app)
    csrf.exempt(api_bp)
    csrf.exempt(ivr_bp)
    csrf.exempt(sms_bp)
    csrf.exempt(survey_bp)  # checks its forms itself, answering with the question again
    csrf.exempt(counter_bp)  # the same
    app.register_blueprint(api_bp)
    app.register_blueprint(ivr_bp)
    app.register_blueprint(sms_bp)
    app.register_blueprint(console_bp)
    app.register_blueprint(dashboard_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(followups_bp)
    app.register_blueprint(health_bp)
    app.register_blueprint(survey_bp)
    app.register_blueprint(counter_bp)
    i18n.init_app(app)
    formats.init_app(app)
    nav.init_app(app)
    init_auth(app)
    _limit_sign_ins(app, settings)
    _people_only(app, keep={refuse_oversize_bodies})

    @app.get("/")
    def index():
        from flask import redirect
        from flask_login import current_user

        from cati.web.auth.roles import home_path

        if current_user.is_authenticated:
            return redirect(home_path(current_user.role))
        return redirect("/login")

    return app


def _people_only(app: Flask, keep: set) -> None:
    """Make the application-wide request hooks registered so far (CSRF, the rate limiter,
    Flask-Login's cookie, the security headers) return at once on `MACHINE_BLUEPRINTS`, whose
    requests no person sends; the hooks in `keep` still run on every request."""

    def people_only(hook, passthrough: bool):
        @functools.wraps(hook)
        def hooked(*args):
            if request.blueprint in MACHINE_BLUEPRINTS:
                return args[0] if passthrough else None
            return hook(*args)

        return hooked

    for hooks, passthrough in (
        (app.before_request_funcs, False),
        (app.after_request_funcs, True),  # they take and return the response
        (app.teardown_request_funcs, False),
    ):
        if None in hooks:
            hooks[None] = [h if h in keep else people_only(h, passthrough) for h in hooks[None]]


def _limit_sign_ins(app: Flask, settings: Settings) -> None:
    """Failed sign-ins per client address (behind CATI_PROXY_FIX proxies, the forwarded one)
    are limited to CATI_LOGIN_RATE_LIMIT; past it, `POST /login` answers 429 unchecked.

    The counters live in this process, or in Redis (CATI_REDIS_URL) shared by every worker;
    if Redis stops answering, each worker counts on its own until it is back.
    """
    limiter = Limiter(
        key_func=get_remote_address,
        storage_uri=settings.redis_url or "memory://",
        strategy="moving-window",
        headers_enabled=True,
        in_memory_fallback_enabled=bool(settings.redis_url),
        key_prefix="cati",
    )
    limiter.init_app(app)
    app.view_functions["auth.login"] = limiter.limit(
        settings.login_rate_limit,
        methods=["POST"],
        # A sign-in that succeeds redirects; everything else counts.
        deduct_when=lambda response: response.status_code != 302,
    )(app.view_functions["auth.login"])
