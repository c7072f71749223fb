"""The README's first-use walkthrough, run as written: its shell block, line by line, in a new
folder with a new database, then the web server it starts and the manager's dashboard."""

from __future__ import annotations

import http.cookiejar
import os
import re
import subprocess
import sys
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from tests.processes import free_port, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.loopback]

README = Path(__file__).resolve().parent.parent / "README.md"
PASSWORD = "manager-password-1"


def walkthrough() -> list[str]:
    text = README.read_text(encoding="utf-8")
    block = re.search(r"^## First use\n.*?^```sh\n(.*?)^```", text, re.S | re.M)
    assert block, "README.md has no '## First use' section with a sh block"
    return [line for line in block[1].splitlines() if line.strip()]


def test_the_readme_starts_with_the_walkthrough():
    headings = re.findall(r"^## (.+)$", README.read_text(encoding="utf-8"), re.M)
    assert headings[0] == "First use"
    lines = walkthrough()
    assert lines[:3] == [
        "python3 -m venv .venv && .venv/bin/pip install --quiet -e .",
        ". .venv/bin/activate",
        "cati db upgrade",
    ]
    assert any(line.startswith("cati simulate") for line in lines)
    assert any(line.startswith("cati report") for line in lines)
    assert lines[-1].endswith("cati serve")


def test_the_walkthrough_runs_line_by_line(tmp_path):
    lines = walkthrough()
    setup, steps, serve = lines[:2], lines[2:-1], lines[-1]
    assert "venv" in setup[0] and "activate" in setup[1]
    # This test's own virtualenv stands in for the first two lines (creating one would install
    # every package again); `cati` is on the PATH as after `activate`.
    bin_dir = Path(sys.executable).parent
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CATI_", "TWILIO_"))}
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    script = "set -e\n" + "\n".join(f"echo '$ {line}'\n{line}" for line in steps) + "\n"
    # The password prompt reads standard input when there is no terminal (a new session).
    result = subprocess.run(
        ["bash", "-c", script],
        cwd=tmp_path,
        env=env,
        input=f"{PASSWORD}\n{PASSWORD}\n",
        capture_output=True,
        text=True,
        timeout=900,
        start_new_session=True,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    database = tmp_path / "instance" / "cati.db"
    assert f"database sqlite:///{database} is up to date" in result.stdout
    assert "Tỷ lệ trả lời" in result.stdout and "Xếp hạng các cơ quan" in result.stdout
    week = re.search(r"dossiers returned in (\d{4}-W\d\d)", result.stdout)[1]
    assert oct(database.stat().st_mode & 0o777) == "0o600"

    port = free_port()
    server = subprocess.Popen(
        ["bash", "-c", f"{serve} --port {port}"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        browser = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )

        def login_page():
            try:
                return browser.open(f"{base}/login", timeout=5).read().decode()
            except OSError:
                return None

        page = wait_until(login_page, timeout=60, what="the web server")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page)[1]
        form = {"csrf_token": token, "username": "manager", "password": PASSWORD}
        response = browser.open(f"{base}/login", urllib.parse.urlencode(form).encode())
        assert response.geturl() == f"{base}/dashboard"
        year, number = week.split("-W")  # round 1 on the dashboard, its week as people say it
        assert f"Tuần {int(number)}/{year}" in response.read().decode()
    finally:
        os.killpg(server.pid, 15)
        server.wait(30)
