"""Replies to the invitation SMS, where a provider delivers them (`POST /sms/inbound`)."""

from flask import Blueprint

bp = Blueprint("sms", __name__, url_prefix="/sms")

from cati.web.sms import views  # noqa: E402,F401  (registers the routes)
