"""Log lines for people and for machines: one line per event on stderr, as text or JSON.

`configure_logging` installs one handler on the root logger, formatted as CATI_LOG_FORMAT says:

    text  2026-11-23T03:00:00Z INFO cati.jobs.dialing dial: attempt 12 placed as CA…
    json  {"time": "2026-11-23T03:00:00Z", "level": "INFO", "logger": "cati.jobs.dialing",
           "message": "dial: attempt 12 placed as CA…", "attempt_id": 12, "call_sid": "CA…"}

Fields given with `extra=` (attempt_id, call_sid, job, …) become JSON keys; an exception
becomes `exc`. Log calls name citizens by ids only (attempt, member, call sid), never by phone
number, name or recording URL; as a second line of defence the formatters mask anything that
looks like a Vietnamese phone number and hide the row values the database quotes in its errors.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import IO, Any

from sqlalchemy.exc import StatementError

from cati.config import Settings

HANDLER_NAME = "cati"
# Attributes every LogRecord has; anything else on a record came from `extra=`.
_RECORD_FIELDS = frozenset(logging.makeLogRecord({}).__dict__) | {
    "message",
    "asctime",
    "taskName",
}
# +84…, 84…, 0… (also "(+84)" and URL-encoded "%2B84") followed by 8 to 10 digits, which may
# be grouped by spaces, dots or dashes, as people write them. Not inside a longer run of
# digits or letters and digits (call sids, ids).
_PHONE = re.compile(
    r"(?<![0-9A-Za-z+])(?:(?:\(\+84\)|(?:\+|%2B)?84)[ .\-]?|0)\d(?:[ .\-]?\d){7,9}(?![0-9])"
)
# PostgreSQL's own error text quotes the failing row ("DETAIL:  Failing row contains (…)"),
# whatever SQLAlchemy is told: such lines go entirely.
_ROW_DETAIL = re.compile(r"(?m)^(\s*)DETAIL:.*$")


def configure_logging(
    settings: Settings, *, level: int = logging.INFO, stream: IO[str] | None = None
) -> bool:
    """Send log records to stderr, one line each, in CATI_LOG_FORMAT; return whether it did.

    Only the root handler and a few levels are set: `cati.*` at `level`, other libraries at
    WARNING (SQLAlchemy's INFO lines quote every statement's parameters: phone numbers and
    names), the development server's request lines at INFO. Calling it again only switches
    the format; when the root logger already has a handler that is not ours (set up by the
    user, gunicorn's `--log-config`, pytest), nothing changes.
    """
    root = logging.getLogger()
    ours = [h for h in root.handlers if h.get_name() == HANDLER_NAME]
    if ours:
        for handler in ours:
            handler.setFormatter(make_formatter(settings.log_format))
        return False
    if root.handlers:
        return False
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.set_name(HANDLER_NAME)
    handler.setFormatter(make_formatter(settings.log_format))
    root.addHandler(handler)
    logging.getLogger("cati").setLevel(level)
    for name, library_level in (
        ("sqlalchemy.engine", logging.WARNING),
        ("twilio", logging.WARNING),  # the REST client narrates every request at INFO
        ("apscheduler.executors", logging.WARNING),  # "Running job…" twice a minute
        ("werkzeug", logging.INFO),  # `cati serve`: one line per request
    ):
        logger = logging.getLogger(name)
        if logger.level == logging.NOTSET:
            logger.setLevel(library_level)
    logging.captureWarnings(True)  # Python warnings as one line too, not two on stderr
    return True


def make_formatter(log_format: str) -> logging.Formatter:
    """The formatter for CATI_LOG_FORMAT ("text" or "json")."""
    if log_format == "json":
        return JsonFormatter()
    if log_format == "text":
        return TextFormatter()
    raise ValueError(f"unknown log format {log_format!r} (text or json)")


class TextFormatter(logging.Formatter):
    """`time level logger message`, an exception appended on the same line."""

    def format(self, record: logging.LogRecord) -> str:
        line = f"{_time(record)} {record.levelname} {record.name} {_message(record)}"
        exc = _exception(self, record)
        if exc:
            line = f"{line} | {exc}"
        return _one_line(line)


class JsonFormatter(logging.Formatter):
    """One JSON object: time, level, logger, message, the `extra=` fields, exc when raised."""

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "time": _time(record),
            "level": record.levelname,
            "logger": record.name,
            "message": _message(record),
        }
        for key, value in extra_fields(record).items():
            if key not in payload:
                payload[key] = scrub(value) if isinstance(value, str) else value
        exc = _exception(self, record)
        if exc:
            payload["exc"] = exc
        return json.dumps(payload, ensure_ascii=False, default=_jsonable)


def extra_fields(record: logging.LogRecord) -> dict[str, Any]:
    """The fields a log call added with `extra=`."""
    return {k: v for k, v in record.__dict__.items() if k not in _RECORD_FIELDS}


def scrub(text: str) -> str:
    """Mask what looks like a Vietnamese phone number."""
    return _PHONE.sub("[phone]", text)


def _time(record: logging.LogRecord) -> str:
    return datetime.fromtimestamp(record.created, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _message(record: logging.LogRecord) -> str:
    try:
        message = record.getMessage()
    except (TypeError, ValueError) as exc:  # a bad format string must not lose the event
        message = f"{record.msg!r} {record.args!r} (unformattable: {exc})"
    return scrub(message)


def _exception(formatter: logging.Formatter, record: logging.LogRecord) -> str:
    parts = []
    if record.exc_info and record.exc_info[1] is not None:
        _hide_statement_parameters(record.exc_info[1])
        parts.append(formatter.formatException(record.exc_info))
    elif record.exc_text:
        parts.append(record.exc_text)
    if record.stack_info:
        parts.append(formatter.formatStack(record.stack_info))
    return scrub(_ROW_DETAIL.sub(r"\1DETAIL: [hidden]", "\n".join(parts).rstrip()))


def _hide_statement_parameters(exc: BaseException) -> None:
    """The database's errors print the statement's parameters (row values: phone numbers,
    names) unless told not to; tell them, through the whole chain of causes."""
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        current = todo.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, StatementError):
            current.hide_parameters = True
        todo += [current.__cause__, current.__context__]
        if isinstance(current, BaseExceptionGroup):
            todo += list(current.exceptions)


def _one_line(text: str) -> str:
    return text.replace("\r", "\\r").replace("\n", "\\n")


def _jsonable(value: Any) -> str:
    return str(value)
