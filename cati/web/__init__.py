"""The web application: `create_app()` builds it; blueprints stay thin."""

from __future__ import annotations

from typing import Any

from flask import Flask

from cati.config import Settings
from cati.runtime import Runtime


def create_app(runtime: Runtime | None = None, test_config: dict[str, Any] | None = None) -> Flask:
    """Build the application around a runtime (settings, sessions, clock)."""
    app = Flask(__name__)
    app.config.from_mapping(JSON_AS_ASCII=False, MAX_CONTENT_LENGTH=32 * 1024 * 1024)
    if test_config:
        app.config.update(test_config)
    app.extensions["cati"] = runtime or Runtime.from_settings(Settings.from_env())
    app.json.ensure_ascii = False  # type: ignore[attr-defined]

    from cati.web.api import bp as api_bp
    from cati.web.ivr import bp as ivr_bp

    app.register_blueprint(api_bp)
    app.register_blueprint(ivr_bp)

    @app.get("/")
    def index():
        return {"service": "cati", "status": "ok"}

    return app
