"""Browser-test fixtures shared by every browser test module (a pytest plugin loaded by
conftest): the served app with CSRF on, a live server, one session-wide headless Chromium and
a fresh tab per test; plus the page helpers the flows share."""
from __future__ import annotations

import re

import pytest

from browser_support import LiveServer, launch_chromium
from conftest import PASSWORD


@pytest.fixture(scope="session")
def served_app(app):
    """The app once more, on the session app's database, with CSRF on as in production."""
    from app import create_app
    from app.extensions import db
    served = create_app("test", SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
                        WTF_CSRF_ENABLED=True)
    yield served
    with served.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def live_server(app, served_app):
    """The base URL of the served app; `app` is requested so the database is emptied after."""
    server = LiveServer(served_app).start()
    yield server.url
    server.stop()


@pytest.fixture(scope="session")
def chromium():
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        try:
            browser = launch_chromium(playwright)
        except RuntimeError as err:
            pytest.skip(str(err))
        yield browser
        browser.close()


@pytest.fixture
def page(chromium):
    """A fresh browser tab; the test fails if the server answered any request with a 5xx."""
    context = chromium.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    context.set_default_timeout(5_000)
    page = context.new_page()
    server_errors: list[str] = []
    page.on("response", lambda r: server_errors.append(f"{r.status} {r.request.method} {r.url}")
            if r.status >= 500 else None)
    yield page
    context.close()
    assert not server_errors, f"the server failed: {server_errors}"


def sign_in(page, base_url: str, username: str) -> None:
    from playwright.sync_api import expect
    page.goto(f"{base_url}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("form button[type=submit]")
    expect(page).to_have_url(f"{base_url}/")


def in_chinese(served_app, msgid: str) -> str:
    """What the Chinese page shows for `msgid`: its translation, or the msgid itself while
    the catalogue lacks it."""
    from flask_babel import force_locale, gettext
    with served_app.test_request_context(), force_locale("zh_Hans_CN"):
        return gettext(msgid)


def expect_state(page, state: str) -> None:
    from playwright.sync_api import expect
    expect(page.locator(".case-head .state")).to_have_class(re.compile(rf"\bstate-{state}\b"))


