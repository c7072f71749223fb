"""The words of the web interface: Vietnamese by default, English on request.

The catalogs are gettext `.po` files, one per language under `translations/`, whose message
ids are dotted keys by area (`auth.…`, `console.…`); both hold exactly the same keys (a test
checks it, and that every key the code and templates name is there). Translators edit them
with their usual tools (Poedit, or Weblate's monolingual gettext with English as the
template); `scripts/translations` adds the keys new code uses. Templates call
`t("key", name=value)`; the language is kept in the Flask session and changed with
`POST /language`.
"""

from __future__ import annotations

import string
from pathlib import Path
from urllib.parse import urlsplit

from babel.messages.pofile import read_po
from flask import Blueprint, Flask, abort, has_request_context, redirect, request, session, url_for

from cati.web.auth.roles import local_path

LANGUAGES = ("vi", "en")
DEFAULT_LANGUAGE = "vi"
SESSION_KEY = "language"
TRANSLATIONS = Path(__file__).parent / "translations"


def load_catalogs(folder: Path, languages: tuple[str, ...]) -> dict[str, dict[str, str]]:
    """Each language's `<folder>/<language>/LC_MESSAGES/messages.po` as {key: text}; an
    entry not translated yet (empty) is left out, so `t` falls back to Vietnamese."""
    catalogs = {}
    for language in languages:
        with open(folder / language / "LC_MESSAGES" / "messages.po", "rb") as handle:
            catalog = read_po(handle, locale=language)
        catalogs[language] = {m.id: m.string for m in catalog if m.id and m.string}
    return catalogs


# The catalogs: gettext .po files, one per language, message ids are the keys (translators
# edit them with their usual tools; `scripts/translations` extracts and updates them).
MESSAGES: dict[str, dict[str, str]] = load_catalogs(TRANSLATIONS, LANGUAGES)

bp = Blueprint("i18n", __name__)


def current_language() -> str:
    """The language of this request's session (Vietnamese outside a request or when unset)."""
    if has_request_context():
        language = session.get(SESSION_KEY)
        if language in LANGUAGES:
            return language
    return DEFAULT_LANGUAGE


def t(key: str, **params: object) -> str:
    """The text of `key` in the current language, with `{name}` placeholders filled in.

    A key missing from the language falls back to Vietnamese, then to the key itself, so a
    forgotten entry shows up on the page instead of breaking it.
    """
    language = current_language()
    text = MESSAGES[language].get(key)
    if text is None:
        text = MESSAGES[DEFAULT_LANGUAGE].get(key, key)
    return text.format(**params) if params else text


@bp.post("/language")
def set_language():
    """Switch the interface language, then go back where the form was (local pages only)."""
    language = request.form.get("language", "")
    if language not in LANGUAGES:
        abort(400)
    session[SESSION_KEY] = language
    return redirect(
        local_path(request.form.get("next")) or _local_referrer() or url_for("auth.login")
    )


def _local_referrer() -> str | None:
    referrer = request.referrer
    if not referrer:
        return None
    parts = urlsplit(referrer)
    if parts.scheme not in ("http", "https") or parts.netloc != request.host:
        return None
    return local_path(parts.path + (f"?{parts.query}" if parts.query else ""))


def keys_in_source(package: Path = Path(__file__).parents[1]) -> dict[str, str]:
    """Every literal key that the package's code and templates give `t`, with where it is
    first named ("path:line"); keys built at run time (`t("outcome." ~ o)`) are not seen."""
    from babel.messages.extract import extract_from_dir

    method_map = [("**/templates/**.html", "jinja2"), ("**.py", "python")]
    found: dict[str, str] = {}
    for filename, lineno, key, _comments, _context in extract_from_dir(
        package, method_map, keywords={"t": None}
    ):
        if isinstance(key, str):
            found.setdefault(key, f"{filename}:{lineno}")
    return found


def catalog_problems(used: dict[str, str]) -> list[str]:
    """What stops the catalogs from serving every page: a key the source uses (`used`, as
    `keys_in_source` gives it) missing or untranslated in a language, a key one language has
    and the other not, or a translation whose {placeholders} differ from the Vietnamese."""
    catalogs = load_catalogs(TRANSLATIONS, LANGUAGES)
    problems = [
        f"{where}: {key!r} is not translated in {language}"
        for key, where in sorted(used.items())
        for language in LANGUAGES
        if key not in catalogs[language]
    ]
    reference = catalogs[DEFAULT_LANGUAGE]
    for language, catalog in catalogs.items():
        for key in sorted(set(reference) ^ set(catalog)):
            if key not in used:
                problems.append(f"{key!r} is in one catalog only ({language} differs)")
        for key in sorted(set(reference) & set(catalog)):
            if _placeholders(reference[key]) != _placeholders(catalog[key]):
                problems.append(f"{key!r}: {language} has other placeholders than vi")
    return problems


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def init_app(app: Flask) -> None:
    app.jinja_env.globals["t"] = t
    app.jinja_env.globals["current_language"] = current_language
    app.register_blueprint(bp)
