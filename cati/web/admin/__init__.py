"""Administrators' pages: accounts (add, disable, new password) and the scheduler's state."""

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

from cati.web.admin import views  # noqa: E402,F401  (registers the routes)
