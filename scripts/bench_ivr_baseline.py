"""The baseline of scripts/bench_ivr.py: a bare Flask app answering one fixed TwiML document.

It runs under the same WSGI server, with the same settings, as the real application, and gets
the same requests; so it pays for the server, HTTP and Flask routing, but not for the signature
check, the database or the flow engine. The document is a question as the IVR asks it (a
<Gather> around a <Say>, then a <Redirect>) and about as long as the real one.

    gunicorn --pythonpath scripts bench_ivr_baseline:app
"""

from __future__ import annotations

from flask import Flask, Response

ACTION = "http://127.0.0.1:8000/ivr/gather?attempt=1&amp;q=staff_attitude&amp;t=0"
TWIML = (
    '<?xml version="1.0" encoding="UTF-8"?><Response>'
    f'<Gather action="{ACTION}" input="dtmf" method="POST" numDigits="1" timeout="6">'
    '<Say language="vi-VN" voice="Google.vi-VN-Standard-A">'
    "Câu 1. Thái độ của cán bộ tiếp nhận hồ sơ. "
    "Bấm một phím từ 1 đến 9. 1 là rất không hài lòng, 9 là rất hài lòng.</Say></Gather>"
    f'<Redirect method="POST">{ACTION}</Redirect></Response>'
).encode()

app = Flask(__name__)


@app.post("/ivr/<path:webhook>")
def ivr(webhook: str) -> Response:
    return Response(TWIML, mimetype="text/xml")
