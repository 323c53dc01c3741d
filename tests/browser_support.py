"""Helpers for the browser tests: a live server in a background thread, headless Chromium,
and full-page screenshots under tests/artifacts/browser/."""
from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

from werkzeug.serving import BaseWSGIServer, make_server

SYSTEM_CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
ARTIFACTS = Path(__file__).parent / "artifacts" / "browser"


def chromium_path() -> str | None:
    """The system Chromium (never a downloaded one: `playwright install` cannot run here)."""
    if os.access(SYSTEM_CHROMIUM, os.X_OK):
        return SYSTEM_CHROMIUM
    return shutil.which("chromium")


def skip_reason(test_db: str) -> str | None:
    """Why the browser tests should not run in this pass, or None to run them."""
    if test_db == "postgresql" and os.environ.get("CONCORD_BROWSER_ALL") != "1":
        return ("browser tests run in the SQLite pass only (the flow is the same on "
                "PostgreSQL); set CONCORD_BROWSER_ALL=1 to run them here too")
    if chromium_path() is None:
        return (f"no Chromium at {SYSTEM_CHROMIUM} or on PATH: install the Debian package "
                "chromium (make setup does) to run the browser tests")
    return None


class LiveServer:
    """A WSGI app served by werkzeug on 127.0.0.1 and a free port, in a daemon thread."""

    def __init__(self, wsgi_app) -> None:
        self._server: BaseWSGIServer = make_server("127.0.0.1", 0, wsgi_app, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        name="concord-live-server", daemon=True)

    def start(self) -> LiveServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def launch_chromium(playwright):
    """Headless system Chromium; raises RuntimeError with the cause when it cannot start."""
    try:
        return playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS,
                                          headless=True, timeout=20_000)
    except Exception as err:  # any launch failure means "no usable browser here"
        raise RuntimeError(f"Chromium at {chromium_path()} failed to launch: "
                           f"{str(err).splitlines()[0]}") from err


class Screenshots:
    """Numbered full-page screenshots of one test: <prefix>01-login.png, ...; a new series
    replaces the old files of the same prefix."""

    def __init__(self, page, prefix: str = "", directory: Path = ARTIFACTS) -> None:
        self.page = page
        self.prefix = prefix
        self.directory = directory
        self.count = 0
        directory.mkdir(parents=True, exist_ok=True)
        for old in directory.glob(f"{prefix}[0-9][0-9]-*.png"):
            old.unlink()

    def take(self, step: str) -> Path:
        self.count += 1
        path = self.directory / f"{self.prefix}{self.count:02d}-{step}.png"
        # From the top: scrolled, a sticky header would be painted mid-page.
        self.page.evaluate("window.scrollTo(0, 0)")
        self.page.screenshot(path=str(path), full_page=True)
        return path
