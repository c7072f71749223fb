"""Managers' pages: rounds and their progress, a round's figures."""

from flask import Blueprint

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")

from cati.web.dashboard import flagged, views  # noqa: E402,F401  (registers the routes)
