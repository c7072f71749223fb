"""`/s/<token>`: the questionnaire on a sampled citizen's own phone (web mode, issue 15)."""

from flask import Blueprint

bp = Blueprint("survey", __name__)

from cati.web.survey import views  # noqa: E402,F401  (registers the routes)
