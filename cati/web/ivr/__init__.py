"""Twilio voice webhooks: the robot interviewer."""

from flask import Blueprint

bp = Blueprint("ivr", __name__, url_prefix="/ivr")

from cati.web.ivr import views  # noqa: E402,F401  (registers the routes)
