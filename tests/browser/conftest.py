"""A real server and Debian's Chromium driven by Playwright, for the console in a browser."""

from __future__ import annotations

import dataclasses
import shutil
import threading
from collections.abc import Iterator

import pytest
from werkzeug.serving import make_server

from cati.db import make_engine, make_session_factory
from cati.migrate import upgrade
from cati.runtime import Runtime
from cati.web import create_app
from tests.conftest import NOW, fresh_database

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip


@dataclasses.dataclass
class LiveServer:
    url: str
    factory: object


@pytest.fixture
def live_server(tmp_path, settings) -> Iterator[LiveServer]:
    """The application on a loopback port, over a database of its own (committed data)."""
    with fresh_database(tmp_path) as url:
        upgrade(url)
        engine = make_engine(url)
        factory = make_session_factory(engine)
        runtime = Runtime(dataclasses.replace(settings, database_url=url, insecure_cookies=True),
                          factory, clock=lambda: NOW)  # fmt: skip
        app = create_app(runtime, {"TESTING": True})
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield LiveServer(f"http://127.0.0.1:{server.server_port}", factory)
        finally:
            server.shutdown()
            thread.join()
            engine.dispose()


@pytest.fixture(scope="session")
def chromium():
    if not shutil.which("chromium") and not shutil.os.path.exists(CHROMIUM):
        pytest.skip("Debian's chromium is not installed (scripts/test installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
