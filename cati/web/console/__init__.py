"""The interviewer console: the queue, the case screen with the script, the statistics."""

from flask import Blueprint

bp = Blueprint("console", __name__, url_prefix="/console")

from cati.web.console import callbacks, views  # noqa: E402,F401  (registers the routes)
