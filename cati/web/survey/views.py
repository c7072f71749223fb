"""The personal survey page: GET shows (and never changes anything: link previews open it),
POST saves one answer and redirects (POST-redirect-GET), with no JavaScript needed.

The blueprint is exempt from the application-wide CSRF check and checks the token itself
(Flask-WTF's, kept in the session that the GET opened), so that a form refused for a missing
or stale session (a phone that dropped the cookie, a page left open for days) shows the same
question again with a fresh token instead of an error page: the next tap goes through.
"""

from __future__ import annotations

from flask import redirect, render_template, request, session, url_for
from flask_wtf.csrf import ValidationError, validate_csrf

from cati.domain.flow import FlowError
from cati.services.flows import find_flow, load_flows
from cati.services.web_links import hotline_text
from cati.services.web_survey import MAX_COMMENT_LENGTH, Screen, answer, screen
from cati.web.i18n import LANGUAGES, current_language, t
from cati.web.i18n import SESSION_KEY as LANGUAGE_KEY
from cati.web.runtime import get_runtime
from cati.web.survey import bp

STATUS = {"question": 200, "done": 200, "busy": 409, "unavailable": 503,
          "unknown": 404, "expired": 404}  # fmt: skip


def _labels() -> dict[str, str]:
    return {"yes": t("survey.yes"), "no": t("survey.no"), "decline": t("survey.decline")}


def _screen(token: str, question_id: str | None):
    runtime = get_runtime()
    with runtime.transaction() as db:
        return screen(db, _flows(), token, tz=runtime.settings.timezone, now=runtime.clock(),
                      language=current_language(), labels=_labels(),
                      question_id=question_id)  # fmt: skip


class _Flows:
    """The flows folder as the survey reads it: a questionnaire that has gone or become
    invalid makes its own links "unavailable", not every page an error."""

    def get(self, name: str):
        folder = get_runtime().settings.flows_dir
        try:
            return load_flows(folder)[name]
        except (FlowError, KeyError):
            try:
                return find_flow(name, folder)
            except FlowError:
                return None


def _flows() -> _Flows:
    return _Flows()


def _render(token: str, shown, *, error: str | None = None, comment: str | None = None,
            status: int | None = None):  # fmt: skip
    settings = get_runtime().settings
    if shown.question is not None and comment is not None:
        shown.question.comment = comment
    html = render_template(
        "survey/page.html",
        token=token,
        screen=shown,
        error=error,
        organisation=settings.organisation,
        hotline=hotline_text(settings),
        limit=MAX_COMMENT_LENGTH,
    )
    response = (html, status or STATUS.get(shown.state, 200))
    return response


@bp.get("/s/<token>")
def page(token: str):
    language = request.args.get("lang")
    if language in LANGUAGES:
        session[LANGUAGE_KEY] = language  # the visitor's cookie only; nothing else changes
    shown = _screen(token, request.args.get("q"))
    return _render(token, shown)


@bp.post("/s/<token>")
def save(token: str):
    question_id = request.form.get("question", "")
    value = request.form.get("answer")
    text = request.form.get("comment")
    try:
        validate_csrf(request.form.get("csrf_token"))
    except ValidationError:
        shown = _screen(token, question_id or None)
        if shown.state != "question":
            return _render(token, shown)
        return _render(token, shown, error=t("survey.csrf"), comment=text, status=400)
    runtime = get_runtime()
    with runtime.transaction() as db:
        result = answer(db, _flows(), token, question_id=question_id, value=value, text=text,
                        now=runtime.clock(), language=current_language())  # fmt: skip
    if result.state == "invalid":
        shown = _screen(token, question_id or None)
        if shown.state != "question":
            return _render(token, shown)
        if result.error == "too_long":
            error = t("survey.too_long", length=len((text or "").strip()),
                      limit=MAX_COMMENT_LENGTH)  # fmt: skip
        else:
            error = t("survey.choose")
        return _render(token, shown, error=error, comment=text, status=422)
    if result.state in ("unknown", "expired"):
        return _render(token, _screen(token, None))
    if result.next:
        return redirect(url_for("survey.page", token=token, q=result.next), 303)
    return redirect(url_for("survey.page", token=token), 303)


@bp.route("/s/", methods=["GET", "POST"])
@bp.route("/s", methods=["GET", "POST"])
def no_token():
    return _render("", Screen("unknown"))
