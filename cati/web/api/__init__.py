"""JSON API for other systems (the electronic one-stop system pushes cases here)."""

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api")

from cati.web.api import views  # noqa: E402,F401  (registers the routes)
