"""Browser tests: the app on a real port, driven by Playwright in Debian's Chromium.

Under pytest-xdist one worker runs them all, so one Chromium starts (tests/fixtures/xdist.py).
"""

from __future__ import annotations

import pytest

from tests.fixtures.app import build_app, make_config
from tests.fixtures.browser import CHROMIUM_ARGS, LiveServer, chromium_path
# Compatibility shim, to remove once no branch imports helpers from here.
from tests.fixtures.browser import sign_up  # noqa: F401


@pytest.fixture
def live_app():
    app = build_app(make_config())
    yield app
    app.extensions["idance.db"].close()


@pytest.fixture
def live_server(live_app):
    with LiveServer(live_app) as server:
        yield server


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), headless=True,
                                    args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()
