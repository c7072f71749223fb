"""`/followups`: an office handles its own follow-ups; managers see every office's."""

from flask import Blueprint

bp = Blueprint("followups", __name__, url_prefix="/followups")

from cati.web.followups import views  # noqa: E402,F401  (registers the routes)
