"""The files of scripts/deploy/ and docs/deployment.md agree with the code they describe."""

from __future__ import annotations

import configparser
import importlib.util
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from importlib.metadata import entry_points
from pathlib import Path

import click
import pytest
from flask import Flask
from gunicorn.util import import_app

from cati.cli import main as cati_main
from cati.config import Settings
from cati.logs import JsonFormatter
from cati.migrate import upgrade

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "scripts" / "deploy"
GUNICORN_CONF = DEPLOY / "gunicorn.conf.py"
CONFIG_SOURCE = (ROOT / "cati" / "config.py").read_text(encoding="utf-8")
INSTALLED_AT = "/srv/cati"  # where the unit files expect the source tree
# Settings read by cati/config.py that a production cati.env leaves out, and why.
NOT_IN_ENV_EXAMPLE = {
    "CATI_FLOWS_DIR": "the flows of the source tree are the ones deployed",
    "CATI_INSECURE_COOKIES": "local development over plain http only",
}
# Commented lines of cati.env.example show defaults, except these examples.
EXAMPLE_VALUES = {"CATI_HOLIDAYS", "CATI_SAMPLING_SIZE", "WEB_CONCURRENCY", "GUNICORN_THREADS"}


@pytest.fixture
def production_env(monkeypatch, tmp_path):
    """The environment of a service: SQLite in a temporary folder, run from there."""
    env = {
        "CATI_DATABASE_URL": f"sqlite:///{tmp_path / 'cati.db'}",
        "CATI_SECRET_KEY": "deploy-test-secret-key-0123456789",
        "CATI_PROXY_FIX": "1",
        "CATI_LOG_FORMAT": "json",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.chdir(tmp_path)
    upgrade(env["CATI_DATABASE_URL"])  # as deployed: the app refuses an unmigrated database
    return env


def load_gunicorn_conf():
    spec = importlib.util.spec_from_file_location("cati_gunicorn_conf", GUNICORN_CONF)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # systemd keys are case-sensitive
    parser.read(DEPLOY / name, encoding="utf-8")
    return parser


def env_example() -> tuple[dict[str, str], dict[str, str]]:
    """(the lines set, the lines commented out) of cati.env.example, as name → value."""
    active, commented = {}, {}
    for line in (DEPLOY / "cati.env.example").read_text(encoding="utf-8").splitlines():
        match = re.fullmatch(r"(#?)([A-Z][A-Z0-9_]*)=(.*)", line.strip())
        if match:
            (commented if match[1] else active)[match[2]] = match[3]
    return active, commented


# -- gunicorn.conf.py -----------------------------------------------------------------------


def test_gunicorn_conf_serves_the_app_factory(production_env):
    conf = load_gunicorn_conf()
    assert conf.wsgi_app == "cati.web:create_app()"
    assert (conf.bind, conf.worker_class) == ("127.0.0.1:8000", "gthread")
    assert conf.workers >= 1 and conf.threads >= 1
    assert 15 < conf.timeout <= 60  # longer than Twilio's 15 s, short enough to notice a hang
    app = import_app(conf.wsgi_app)
    assert isinstance(app, Flask)
    assert app.wsgi_app.__class__.__name__ == "ProxyFix"  # CATI_PROXY_FIX=1


def test_gunicorn_reads_the_conf_with_its_own_loader(production_env, monkeypatch):
    from gunicorn.app.wsgiapp import WSGIApplication

    monkeypatch.setattr(sys, "argv", ["gunicorn", "-c", str(GUNICORN_CONF)])
    application = WSGIApplication("%(prog)s [OPTIONS] [APP_MODULE]")
    cfg = application.cfg
    assert cfg.worker_class_str == "gthread" and cfg.address == [("127.0.0.1", 8000)]
    assert cfg.logger_class.__name__ == "CatiLogger"
    assert isinstance(application.load(), Flask)


def test_workers_follow_web_concurrency(monkeypatch):
    monkeypatch.setenv("WEB_CONCURRENCY", "3")
    monkeypatch.setenv("GUNICORN_THREADS", "8")
    conf = load_gunicorn_conf()
    assert (conf.workers, conf.threads) == (3, 8)


def test_gunicorns_own_lines_follow_cati_log_format(production_env, capsys):
    from gunicorn.config import Config

    conf = load_gunicorn_conf()
    cfg = Config()
    cfg.set("accesslog", "-")
    logger = conf.CatiLogger(cfg)
    try:
        logger.info("Booting worker with pid: %s", 42)
        assert json.loads(capsys.readouterr().err) | {"time": "t"} == {
            "time": "t", "level": "INFO", "logger": "gunicorn.error",
            "message": "Booting worker with pid: 42",
        }  # fmt: skip
        assert all(isinstance(h.formatter, JsonFormatter) for h in logger.access_log.handlers)
    finally:
        for log in (logger.error_log, logger.access_log):
            for handler in list(log.handlers):
                log.removeHandler(handler)


def test_a_bad_setting_stops_gunicorn_with_its_name(production_env, monkeypatch):
    from gunicorn.config import Config

    monkeypatch.setenv("CATI_LOG_FORMAT", "xml")
    with pytest.raises(RuntimeError, match="CATI_LOG_FORMAT"):
        load_gunicorn_conf().CatiLogger(Config())


# -- systemd units --------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["cati-web.service", "cati-scheduler.service"])
def test_units_run_programs_that_exist(name):
    service = unit(name)["Service"]
    argv = shlex.split(service["ExecStart"])
    program = Path(argv[0])
    assert program.parent == Path(INSTALLED_AT, ".venv", "bin")
    scripts = {e.name for e in entry_points(group="console_scripts") if e.dist.name == "cati"}
    assert program.name in scripts | {"gunicorn"}
    if program.name == "gunicorn":
        conf = Path(argv[argv.index("-c") + 1])
        assert (ROOT / conf.relative_to(INSTALLED_AT)) == GUNICORN_CONF
    else:  # the sub-command exists
        with click.Context(cati_main) as ctx:
            assert cati_main.get_command(ctx, argv[1]) is not None, argv
    assert service["User"] == "cati" and service["WorkingDirectory"] == INSTALLED_AT
    assert service["EnvironmentFile"] == "/etc/cati/cati.env"
    assert service["Restart"] == "always"


def test_the_scheduler_gets_time_to_finish_its_job_on_stop():
    service = unit("cati-scheduler.service")["Service"]
    assert service["KillSignal"] == "SIGTERM"
    assert int(service["TimeoutStopSec"]) >= 60
    assert shlex.split(service["ExecStart"])[1:] == ["scheduler"]


# -- settings and docs ----------------------------------------------------------------------


def test_every_variable_of_the_env_example_is_read_by_the_code():
    active, commented = env_example()
    gunicorn_source = GUNICORN_CONF.read_text(encoding="utf-8")
    for name in {**active, **commented}:
        if name.startswith(("CATI_", "TWILIO_")):
            assert f'"{name}"' in CONFIG_SOURCE, f"{name} is not read by cati/config.py"
        else:
            assert f'"{name}"' in gunicorn_source, f"{name} is read by nothing"


def test_every_production_setting_is_in_the_env_example():
    active, commented = env_example()
    read = set(re.findall(r'"((?:CATI|TWILIO)_[A-Z0-9_]+)"', CONFIG_SOURCE))
    missing = read - set(active) - set(commented) - set(NOT_IN_ENV_EXAMPLE)
    assert not missing, f"add to scripts/deploy/cati.env.example: {sorted(missing)}"


def test_the_env_example_is_a_valid_configuration_with_true_defaults():
    active, commented = env_example()
    settings = Settings.from_env(active)
    assert settings.proxy_fix == 1 and settings.log_format == "json"
    assert settings.public_url.startswith("https://") and settings.telephony == "twilio"
    for name, value in commented.items():
        if name in EXAMPLE_VALUES:
            continue
        shown = Settings.from_env({**active, name: value})
        assert shown == settings, f"{name}={value} is not the default"


def test_the_docs_name_only_real_settings():
    docs = (ROOT / "docs" / "deployment.md").read_text(encoding="utf-8")
    named = set(re.findall(r"\b(?:CATI|TWILIO)_[A-Z0-9_]*[A-Z0-9]\b", docs))
    unknown = {name for name in named if f'"{name}"' not in CONFIG_SOURCE}
    assert not unknown, f"docs/deployment.md names settings config.py does not read: {unknown}"
    for path in re.findall(r"scripts/deploy/([\w.-]+)", docs):
        assert (DEPLOY / path).is_file(), path


def test_the_docs_commands_exist():
    """Every `cati …` the guide runs or names resolves to a command (and sub-command)."""
    docs = (ROOT / "docs" / "deployment.md").read_text(encoding="utf-8")
    uses = re.findall(r"(?:^\s*|`)cati ([a-z][a-z-]*)(?: ([a-z][a-z-]*))?", docs, re.MULTILINE)
    assert len(uses) >= 5
    with click.Context(cati_main) as ctx:
        for name, sub in uses:
            command = cati_main.get_command(ctx, name)
            assert command is not None, f"cati {name}"
            if isinstance(command, click.Group) and sub:
                assert sub in command.commands, f"cati {name} {sub}"


def test_nginx_passes_the_headers_proxy_fix_trusts():
    text = (DEPLOY / "nginx.conf.example").read_text(encoding="utf-8")
    for header in ("X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host"):
        assert re.search(rf"proxy_set_header {header} \$", text), header
    assert "location = /healthz" in text and "ssl_certificate " in text
    assert "proxy_pass http://cati_web;" in text and "server 127.0.0.1:8000;" in text


@pytest.mark.skipif(shutil.which("nginx") is None, reason="nginx is not installed")
def test_nginx_accepts_the_example(tmp_path):
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=survey.example.vn", "-keyout", str(tmp_path / "key.pem"),
         "-out", str(tmp_path / "cert.pem")],
        check=True, capture_output=True,
    )  # fmt: skip
    site = (DEPLOY / "nginx.conf.example").read_text(encoding="utf-8")
    site = re.sub(r"/etc/letsencrypt/live/[\w.-]+/fullchain\.pem", str(tmp_path / "cert.pem"), site)
    site = re.sub(r"/etc/letsencrypt/live/[\w.-]+/privkey\.pem", str(tmp_path / "key.pem"), site)
    (tmp_path / "site.conf").write_text(site, encoding="utf-8")
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid; error_log {tmp_path}/error.log; events {{}}\n"
        f"http {{ access_log off; client_body_temp_path {tmp_path}/body; "
        f"proxy_temp_path {tmp_path}/proxy; include {tmp_path}/site.conf; }}\n",
        encoding="utf-8",
    )
    result = subprocess.run(
        ["nginx", "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")],
        capture_output=True, text=True,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr


# -- gunicorn for real ----------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fetch(url: str, method: str = "GET") -> tuple[int, str, bytes]:
    request = urllib.request.Request(url, method=method, data=b"" if method == "POST" else None)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.headers.get_content_type(), response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get_content_type(), error.read()


@pytest.mark.slow
@pytest.mark.loopback
def test_gunicorn_serves_the_app_with_two_workers(tmp_path):
    database_url = f"sqlite:///{tmp_path / 'cati.db'}"
    upgrade(database_url)
    port = free_port()
    env = {
        **os.environ,
        "CATI_DATABASE_URL": database_url,
        "CATI_SECRET_KEY": "deploy-test-secret-key-0123456789",
        "CATI_PROXY_FIX": "1",
        "CATI_LOG_FORMAT": "json",
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("CATI_TEST_POSTGRES_URL", None)
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", str(GUNICORN_CONF),
         "--workers", "2", "--bind", f"127.0.0.1:{port}"],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                status, mimetype, body = fetch(f"{base}/healthz")
                break
            except OSError:
                assert server.poll() is None, server.communicate()[1].decode()
                assert time.monotonic() < deadline, "gunicorn did not answer within 30 s"
                time.sleep(0.2)
        assert status in (200, 503) and mimetype == "application/json"
        health = json.loads(body)
        assert health["database"] == "ok" and health["migrations"] == "current"
        status, _, _ = fetch(f"{base}/ivr/voice?attempt=1", method="POST")
        assert status == 403  # no X-Twilio-Signature
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            _, stderr = server.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            _, stderr = server.communicate()
    lines = [json.loads(line) for line in stderr.decode().splitlines() if line.strip()]
    booted = [line for line in lines if line["message"].startswith("Booting worker")]
    assert len(booted) == 2
    assert any(
        line["logger"] == "cati.web.ivr.views" and "bad signature" in line["message"]
        for line in lines
    )
    assert server.returncode == 0
