"""The counter rating pages. No login: the kiosk's token (or the office's QR token) is the
credential. The rating under way is remembered in the browser's session cookie (the tablet's,
or the citizen's phone's), never in the address, so the public QR address reaches no one
else's rating. The screens are the web survey's (`survey/page.html`, extended).

The kiosk returns to its welcome screen `CATI_KIOSK_RESET_S` after the last answer or touch
(static/kiosk.js; without JavaScript a `<meta http-equiv="refresh">`), keeping what was
answered as a partial rating.
"""

from __future__ import annotations

from flask import abort, redirect, render_template, request, session, url_for
from flask_wtf.csrf import ValidationError, validate_csrf

from cati.domain.counter import KIOSK, MAX_COMMENT_LENGTH, QR
from cati.models import CounterRating, Office
from cati.services import counter as service
from cati.web.counter import bp
from cati.web.i18n import LANGUAGES, current_language, t
from cati.web.i18n import SESSION_KEY as LANGUAGE_KEY
from cati.web.runtime import get_runtime
from cati.web.survey.views import _flows, _labels

ENDPOINTS = {KIOSK: "counter.kiosk", QR: "counter.qr"}
PREFIXES = {KIOSK: "k", QR: "q"}


def _place(db, mode: str, token: str):
    """(office, kiosk id) of the token, or 404."""
    if mode == KIOSK:
        kiosk = service.open_kiosk(db, token)
        if kiosk is None:
            abort(404)
        return db.get(Office, kiosk.office_id), kiosk.id
    office = service.open_office(db, token)
    if office is None:
        abort(404)
    return office, None


def _key(mode: str, token: str) -> str:
    return f"counter:{mode}:{token[:8]}"


def _current(db, mode: str, token: str, office, kiosk_id):
    rating_id = session.get(_key(mode, token))
    rating = db.get(CounterRating, rating_id) if isinstance(rating_id, int) else None
    if rating is None or rating.office_id != office.id or rating.kiosk_id != kiosk_id:
        return None
    return rating


def _flow():
    return _flows().get(get_runtime().settings.counter_flow)


def _render(mode, token, shown, *, office, officers=(), error=None, status=200):
    settings = get_runtime().settings
    here = url_for(ENDPOINTS[mode], token=token)
    html = render_template(
        "counter/page.html",
        token=token,
        here=here,
        mode=mode,
        screen=shown,
        error=error,
        office_name=office.name or office.code,
        officers=officers,
        organisation=settings.organisation,
        hotline=None,
        limit=MAX_COMMENT_LENGTH,
        reset_s=settings.kiosk_reset_s,
        welcome_url=f"{here}/welcome",
    )
    return html, status


def _show(mode: str, token: str, *, error=None, status=200):
    language = request.args.get("lang")
    if language in LANGUAGES:
        session[LANGUAGE_KEY] = language
    runtime = get_runtime()
    flow = _flow()
    with runtime.transaction() as db:
        office, kiosk_id = _place(db, mode, token)
        if flow is None:
            return _render(mode, token, service.CounterScreen("unavailable"), office=office,
                           status=503)  # fmt: skip
        rating = _current(db, mode, token, office, kiosk_id)
        if rating is None:
            officers = service.recent_officers(db, office.id, runtime.clock())
            return _render(mode, token, service.CounterScreen("welcome"), office=office,
                           officers=officers if mode == KIOSK else ())  # fmt: skip
        shown = service.rating_screen(db, flow, rating, office_name=office.name or office.code,
                                      language=current_language(), labels=_labels(),
                                      question_id=request.args.get("q"))  # fmt: skip
        return _render(mode, token, shown, office=office, error=error, status=status)


def _checked() -> bool:
    try:
        validate_csrf(request.form.get("csrf_token"))
    except ValidationError:
        return False
    return True


def _welcome(mode: str, token: str):
    """Back to the welcome screen (the reset): the rating under way stays as it is."""
    session.pop(_key(mode, token), None)
    return redirect(url_for(ENDPOINTS[mode], token=token), 303)


def _start(mode: str, token: str):
    if not _checked():
        return _show(mode, token, error=t("survey.csrf"), status=400)
    runtime = get_runtime()
    flow = _flow()
    with runtime.transaction() as db:
        office, kiosk_id = _place(db, mode, token)
        if flow is None:
            abort(503)
        officer = request.form.get("officer") or None
        rating = service.start_rating(
            db, flow, office_id=office.id, kiosk_id=kiosk_id, mode=mode,
            language=current_language(), now=runtime.clock(),
            dossier_code=request.form.get("dossier_code"),
            officer=officer if mode == KIOSK else None,
        )  # fmt: skip
        session[_key(mode, token)] = rating.id
    return redirect(url_for(ENDPOINTS[mode], token=token), 303)


def _stop(mode: str, token: str):
    """ "Kết thúc": the citizen stops; what was answered stays, as a partial rating."""
    session.pop(_key(mode, token), None)
    runtime = get_runtime()
    with runtime.transaction() as db:
        office, _ = _place(db, mode, token)
    return _render(mode, token, service.CounterScreen("done"), office=office)


def _answer(mode: str, token: str):
    question_id = request.form.get("question", "")
    if not _checked():
        return _show(mode, token, error=t("survey.csrf"), status=400)
    runtime = get_runtime()
    flow = _flow()
    with runtime.transaction() as db:
        office, kiosk_id = _place(db, mode, token)
        rating = _current(db, mode, token, office, kiosk_id)
        if rating is None or flow is None:
            return redirect(url_for(ENDPOINTS[mode], token=token), 303)
        state, detail = service.answer_rating(
            db, flow, rating, question_id=question_id, value=request.form.get("answer"),
            text=request.form.get("comment"), now=runtime.clock(), settings=runtime.settings,
        )  # fmt: skip
    if state == "invalid":
        if detail == "too_long":
            text = (request.form.get("comment") or "").strip()
            error = t("survey.too_long", length=len(text), limit=MAX_COMMENT_LENGTH)
        else:
            error = t("survey.choose")
        return _show(mode, token, error=error, status=422)
    if state == "saved" and detail:
        return redirect(url_for(ENDPOINTS[mode], token=token, q=detail), 303)
    return redirect(url_for(ENDPOINTS[mode], token=token), 303)


def _for_place(view, mode: str, name: str):
    def handle(token: str):
        return view(mode, token)

    handle.__name__ = name  # the endpoint's name, which extensions read
    return handle


# The same screens for both places: `/k/<kiosk token>…` (endpoints kiosk, kiosk_welcome, …)
# and `/q/<office token>…` (qr, qr_welcome, …).
for _mode, _prefix in PREFIXES.items():
    for _path, _suffix, _view, _method in (
        ("", "", _show, "GET"),
        ("", "_answer", _answer, "POST"),
        ("/welcome", "_welcome", _welcome, "GET"),
        ("/start", "_start", _start, "POST"),
        ("/stop", "_stop", _stop, "POST"),
    ):
        bp.add_url_rule(
            f"/{_prefix}/<token>{_path}",
            f"{_mode}{_suffix}",
            _for_place(_view, _mode, f"{_mode}{_suffix}"),
            methods=[_method],
        )
