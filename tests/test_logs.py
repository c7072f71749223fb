"""Log lines (cati.logs): one line per event, text or JSON, and never a citizen's number or name."""

from __future__ import annotations

import dataclasses
import json
import logging
import re
import sys
from contextlib import contextmanager
from datetime import timedelta
from urllib.parse import parse_qs

import pytest
import responses
from click.testing import CliRunner
from sqlalchemy.exc import IntegrityError

from cati.cli import main as cati_main
from cati.jobs.dialing import DialerError, dial_pass
from cati.jobs.reaping import reap
from cati.logs import (
    HANDLER_NAME,
    JsonFormatter,
    TextFormatter,
    configure_logging,
    extra_fields,
    make_formatter,
    scrub,
)
from cati.telephony.twilio import TwilioProvider
from cati.web import create_app
from tests.conftest import NOW
from tests.factories import create_attempt, create_member, create_round
from tests.web.test_ivr import Call

CALLS_URL = "https://api.twilio.com/2010-04-01/Accounts/AC123/Calls.json"


def record(message="dial: attempt %s placed as %s", args=(12, "CA1"), exc=None, **extra):
    logger = logging.getLogger("cati.jobs.dialing")
    exc_info = (type(exc), exc, exc.__traceback__) if exc is not None else None
    return logger.makeRecord(
        logger.name, logging.INFO, __file__, 1, message, args, exc_info, extra=extra
    )


def raised(exc: BaseException) -> BaseException:
    try:
        raise exc
    except BaseException as caught:
        return caught


# -- the formats -------------------------------------------------------------------------


def test_a_json_line_carries_the_extra_fields_and_the_exception():
    line = JsonFormatter().format(
        record(exc=raised(ValueError("bad\nthing")), attempt_id=12, call_sid="CA1", job="dialing")
    )
    assert "\n" not in line
    data = json.loads(line)
    assert data["level"] == "INFO" and data["logger"] == "cati.jobs.dialing"
    assert data["message"] == "dial: attempt 12 placed as CA1"
    assert (data["attempt_id"], data["call_sid"], data["job"]) == (12, "CA1", "dialing")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", data["time"])
    assert data["exc"].startswith("Traceback") and "ValueError: bad\nthing" in data["exc"]


def test_a_json_line_without_extras_has_the_four_keys_only():
    data = json.loads(JsonFormatter().format(record()))
    assert set(data) == {"time", "level", "logger", "message"}


def test_values_json_cannot_hold_are_written_as_text():
    data = json.loads(JsonFormatter().format(record(when=NOW, ids={1, 2})))
    assert data["when"] == str(NOW) and data["ids"] in ("{1, 2}", "{2, 1}")


def test_a_text_line_is_one_line_even_with_a_traceback():
    line = TextFormatter().format(
        record("first\nsecond %s", ("x",), exc=raised(RuntimeError("boom")), attempt_id=1)
    )
    assert "\n" not in line
    assert re.match(
        r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ INFO cati\.jobs\.dialing first\\nsecond x \| Traceback",
        line,
    )
    assert "RuntimeError: boom" in line


def test_the_text_line_reads_time_level_logger_message():
    rec = record()
    rec.created = NOW.timestamp()
    assert TextFormatter().format(rec) == (
        "2026-11-23T03:00:00Z INFO cati.jobs.dialing dial: attempt 12 placed as CA1"
    )


def test_extra_fields_are_only_what_the_call_added():
    assert extra_fields(record(attempt_id=3)) == {"attempt_id": 3}


def test_an_unknown_format_is_refused():
    with pytest.raises(ValueError, match="yaml"):
        make_formatter("yaml")


def test_phone_numbers_are_masked_but_call_ids_are_not():
    text = "to +84912345678, 0912345678, 84912345678, 02333852123; CA0912345678901 attempt 12"
    assert scrub(text) == "to [phone], [phone], [phone], [phone]; CA0912345678901 attempt 12"


def test_the_database_errors_row_values_stay_out_of_the_line():
    error = raised(
        IntegrityError(
            "INSERT INTO cases (citizen_name, phone) VALUES (?, ?)",
            ("Lê Thị Hồng Nhung", "+84912345678"),
            Exception("UNIQUE constraint failed: cases.phone"),
        )
    )
    for formatter in (JsonFormatter(), TextFormatter()):
        line = formatter.format(record("ivr: failed", (), exc=error))
        assert "Nhung" not in line and "912345678" not in line
        assert "UNIQUE constraint failed" in line


# -- configuring -------------------------------------------------------------------------


@contextmanager
def bare_root():
    """The root logger as a fresh process has it (no handler), restored afterwards.

    Entered inside the test: pytest adds its capturing handlers when the test body starts.
    """
    root = logging.getLogger()
    handlers = root.handlers
    names = ("cati", "sqlalchemy.engine", "twilio", "apscheduler.executors", "werkzeug")
    levels = {name: logging.getLogger(name).level for name in names}
    root.handlers = []
    try:
        yield root
    finally:
        root.handlers = handlers
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)
        logging.captureWarnings(False)


def test_configure_installs_one_stderr_handler_and_is_idempotent(settings, capsys):
    json_settings = dataclasses.replace(settings, log_format="json")
    with bare_root() as root:
        assert configure_logging(json_settings) is True
        assert configure_logging(json_settings) is False
        [handler] = root.handlers
        assert handler.get_name() == HANDLER_NAME
        logging.getLogger("cati.jobs.dialing").info("placed", extra={"attempt_id": 7})
        logging.getLogger("sqlalchemy.engine.Engine").info("INSERT … ('+84912345678',)")
        logging.getLogger("twilio.http_client").info("-- BEGIN Twilio API Request --")
        configure_logging(settings)  # the text format now
        [handler] = root.handlers
        assert isinstance(handler.formatter, TextFormatter)
    lines = capsys.readouterr().err.splitlines()
    assert [json.loads(line)["attempt_id"] for line in lines] == [7]


def test_configure_leaves_a_logging_set_up_by_someone_else_alone(settings):
    theirs = logging.NullHandler()
    with bare_root() as root:
        root.handlers.append(theirs)
        assert configure_logging(settings) is False
        assert root.handlers == [theirs]


def test_pytest_log_capture_keeps_working_after_configure(settings, caplog, capsys):
    with bare_root() as root:
        configure_logging(settings)
        root.handlers.append(caplog.handler)  # as when pytest starts capturing afterwards
        logging.getLogger("cati.web.ivr.views").warning(
            "ivr: rejected", extra={"path": "/ivr/voice"}
        )
    assert [r.path for r in caplog.records] == ["/ivr/voice"]
    assert capsys.readouterr().err.endswith("cati.web.ivr.views ivr: rejected\n")


def test_the_cli_configures_logging_unless_given_a_runtime(runtime, monkeypatch, tmp_path):
    calls = []
    monkeypatch.setattr("cati.logs.configure_logging", lambda s, **kw: calls.append(s))
    monkeypatch.setenv("CATI_DATABASE_URL", f"sqlite:///{tmp_path / 'cati.db'}")
    monkeypatch.setenv("CATI_LOG_FORMAT", "json")
    runner = CliRunner()
    assert runner.invoke(cati_main, ["flows", "--help"]).exit_code == 0
    assert [s.log_format for s in calls] == ["json"]
    assert runner.invoke(cati_main, ["flows", "--help"], obj=runtime).exit_code == 0
    assert len(calls) == 1


def test_a_bad_setting_is_left_for_the_command_to_report(monkeypatch):
    calls = []
    monkeypatch.setattr("cati.logs.configure_logging", lambda s, **kw: calls.append(s))
    monkeypatch.setenv("CATI_LOG_FORMAT", "xml")
    result = CliRunner().invoke(cati_main, ["db", "--help"])
    assert result.exit_code == 0 and calls == []


# -- no personal data --------------------------------------------------------------------

CITIZENS = [
    ("Trần Thị Bích Ngọc", "+84912345678"),
    ("Phạm Văn Khôi", "+84987654321"),
    ("Hoàng Minh Tuấn", "+84355555555"),
]


def assert_no_personal_data(records, citizens=CITIZENS):
    """Neither the message nor an extra field of any record, nor the line our formatters
    write for it, holds a citizen's name or any spelling of their number."""
    assert records, "nothing was logged: the test proves nothing"
    forbidden = []
    for name, phone in citizens:
        subscriber = phone.removeprefix("+84")
        forbidden += [name, subscriber]  # covers +84…, 84… and 0…
    for rec in records:
        texts = [
            rec.getMessage(),
            *map(str, extra_fields(rec).values()),
            JsonFormatter().format(rec),
            TextFormatter().format(rec),
        ]
        for text in texts:
            for word in forbidden:
                assert word not in text, (word, text)


def quoting_the_number(outcomes):
    """A Twilio stand-in whose errors quote the 'To' number, as Twilio's do."""
    replies = iter(outcomes)

    def reply(request):
        to = parse_qs(request.body)["To"][0]
        status, code = next(replies)
        if status == 201:
            return 201, {}, json.dumps({"sid": f"CA{code:032d}", "status": "queued"})
        body = {"code": code, "status": status, "message": f"The number {to} cannot be called"}
        return status, {}, json.dumps(body)

    return reply


@responses.activate
def test_the_dialer_and_the_reaper_log_no_number_or_name(twilio_runtime, session, caplog):
    caplog.set_level(logging.DEBUG, logger="cati")
    round_ = create_round(session)
    for name, phone in CITIZENS:
        create_member(session, round_, citizen_name=name, phone=phone)
    responses.add_callback(
        responses.POST,
        CALLS_URL,
        callback=quoting_the_number([(201, 1), (400, 21211), (400, 21219)]),
    )
    provider = TwilioProvider("AC123", "secret")
    with pytest.raises(DialerError) as stopped:  # 21219: the account may not call it
        dial_pass(twilio_runtime, provider, round_.id, sleep=lambda s: None)
    assert "cannot be called" in str(stopped.value)
    assert not any(phone.removeprefix("+84") in str(stopped.value) for _, phone in CITIZENS)

    stuck = create_attempt(
        session,
        create_member(session, round_, citizen_name="Đỗ Thu Hà", phone="+84911111111"),
        "CA" + "7" * 32,
        started_at=NOW - timedelta(hours=3),
    )
    responses.add(
        responses.GET,
        f"https://api.twilio.com/2010-04-01/Accounts/AC123/Calls/{stuck.provider_call_id}.json",
        status=404,
        json={"code": 20404, "status": 404, "message": "No call to +84911111111"},
    )
    reap(twilio_runtime, provider)

    messages = [r.getMessage() for r in caplog.records]
    assert any("placed as" in m for m in messages)
    assert sum("not placed" in m for m in messages) == 2
    assert any(m.startswith(f"reap: attempt {stuck.id}") for m in messages)
    placed = next(r for r in caplog.records if "placed as" in r.getMessage())
    assert placed.call_sid == f"CA{1:032d}" and isinstance(placed.attempt_id, int)
    assert_no_personal_data(caplog.records, [*CITIZENS, ("Đỗ Thu Hà", "+84911111111")])


class CitizenCall(Call):
    """A call to one member, with the 'To' number Twilio would send."""

    def __init__(self, client, settings, attempt, phone):
        super().__init__(client, settings, attempt)
        self.phone = phone

    def post(self, url, **params):
        return super().post(url, **{"To": self.phone, **params})


@responses.activate
def test_an_ivr_call_logs_no_number_or_name(twilio_runtime, session, caplog, monkeypatch):
    caplog.set_level(logging.DEBUG, logger="cati")
    settings = twilio_runtime.settings
    client = create_app(twilio_runtime, {"TESTING": True}).test_client()
    round_ = create_round(session)
    members = [
        create_member(session, round_, citizen_name=name, phone=phone) for name, phone in CITIZENS
    ]

    # 1. An interview from start to end, a repeated request and the status callback.
    call = CitizenCall(
        client, settings, create_attempt(session, members[0], "CA" + "1" * 32), CITIZENS[0][1]
    )
    call.answer()
    for key in ["1", "9", "8", "1", "2", "2", "9", "3"]:
        call.press(key)
    call.replay()
    call.status("completed", 5, CallDuration="95")

    # 2. A machine answers and the provider refuses to hang up, quoting the number.
    machine = CitizenCall(
        client, settings, create_attempt(session, members[1], "CA" + "2" * 32), CITIZENS[1][1]
    )
    responses.add(
        responses.POST,
        f"https://api.twilio.com/2010-04-01/Accounts/AC123/Calls/{machine.sid}.json",
        status=400,
        json={"code": 21220, "status": 400, "message": f"Call to {CITIZENS[1][1]} not live"},
    )
    assert machine.post(
        f"/ivr/amd?attempt={machine.attempt.id}", AnsweredBy="machine_start"
    ).status_code == 204  # fmt: skip

    # 3. A turn fails on our side with a database error quoting row values.
    failing = CitizenCall(
        client, settings, create_attempt(session, members[2], "CA" + "3" * 32), CITIZENS[2][1]
    )

    def fail(*args, **kwargs):
        raise IntegrityError(
            "UPDATE members SET phone=? WHERE id=?", (CITIZENS[2][1], CITIZENS[2][0]), Exception()
        )

    monkeypatch.setattr("cati.web.ivr.views.start_turn", fail)
    assert failing.post(
        f"/ivr/voice?attempt={failing.attempt.id}", CallStatus="in-progress"
    ).status_code == 200  # fmt: skip

    # 4. Someone posts without a valid signature; a caller rings the hotline.
    forged = client.post(
        "/ivr/voice?attempt=1",
        data={"CallSid": "CAx", "From": CITIZENS[0][1]},
        headers={"X-Twilio-Signature": "forged"},
    )
    assert forged.status_code == 403
    hotline = CitizenCall(
        client, settings, type("Inbound", (), {"id": None, "provider_call_id": None})(), "x"
    )
    hotline.post("/ivr/inbound", From="0987654321", CallStatus="ringing")
    hotline.post(
        "/ivr/hotline-message", From="0987654321", RecordingUrl="https://api.twilio.com/rec/RE1"
    )

    messages = [r.getMessage() for r in caplog.records]
    assert any("could not hang up" in m for m in messages)
    assert any(m.startswith("ivr: failed on /ivr/voice") for m in messages)
    assert any("bad signature" in m for m in messages)
    failed = next(r for r in caplog.records if r.getMessage().startswith("ivr: failed"))
    assert (failed.call_sid, failed.attempt_id) == (failing.sid, failing.attempt.id)
    assert_no_personal_data(caplog.records)
    assert not any("api.twilio.com/rec" in line for line in messages)


@pytest.mark.parametrize(
    "written",
    ["0912 345 678", "0912.345.678", "+84 912.345.678", "(+84) 912345678", "%2B84912345678",
     "số0912345678"],
)  # fmt: skip
def test_numbers_written_the_way_people_write_them_are_masked(written):
    assert "[phone]" in scrub(f"call to {written} failed")
    assert "912" not in scrub(f"call to {written} failed").replace("[phone]", "")


def test_the_failing_row_a_database_error_quotes_is_hidden():
    record = logging.LogRecord("cati.x", logging.ERROR, __file__, 1, "job failed", (), None)
    try:
        raise RuntimeError(
            "null value in column\nDETAIL:  Failing row contains (3, Lê Văn C, 0987 654 321)"
        )
    except RuntimeError:
        record.exc_info = sys.exc_info()
    line = make_formatter("json").format(record)
    assert "Lê Văn C" not in line and "0987" not in line
    assert "DETAIL: [hidden]" in json.loads(line)["exc"]
