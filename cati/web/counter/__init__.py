"""`/k/<kiosk token>` and `/q/<office token>`: counter ratings on a tablet at the desk and on
the citizen's own phone from the office's QR code (issue 15, section 2)."""

from flask import Blueprint

bp = Blueprint("counter", __name__)

from cati.web.counter import views  # noqa: E402,F401  (registers the routes)
