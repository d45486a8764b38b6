"""A dancer who forgot her password sets a new one through the email a real SMTP server on
127.0.0.1 received, in Chromium."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from idance_web.services import accounts
from tests.fixtures.app import build_app, make_config
from tests.fixtures.browser import sign_out
from tests.fixtures.mail import deliver, link_in

pytestmark = pytest.mark.browser


@pytest.fixture
def live_app(smtp_server):
    app = build_app(make_config(smtp_url=smtp_server.url))
    yield app
    app.extensions["idance.db"].close()


def test_reset_a_forgotten_password_through_the_email(page, live_app, live_server,
                                                        smtp_server):
    accounts.sign_up(live_app.extensions["idance.db"], "lena@example.com", "lena", "Lena Novak",
                     "the-old-forgotten-one")
    url = live_server.url
    # Links in emails are built from the public address (IDANCE_PUBLIC_URL), known once the
    # server has its port.
    live_app.config["IDANCE_SERVING_HOST"] = url.removeprefix("http://")
    page.goto(url + "/login")
    page.get_by_role("link", name="Forgot your password?").click()
    page.get_by_label("Email").fill("lena@example.com")
    page.get_by_role("button", name="Send me a link").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()

    assert deliver(live_app) >= 1  # the worker's turn (tests run no worker thread)
    message = smtp_server.inbox.to("lena@example.com")[-1]
    link = link_in(message, "/password/reset/")
    assert link.startswith(url + "/password/reset/")

    page.goto(link)
    expect(page.get_by_role("heading", name="Set a new password")).to_be_visible()
    page.get_by_label("New password", exact=True).fill("tango-under-the-stars")
    page.get_by_label("New password again").fill("tango-under-the-star")
    page.get_by_role("button", name="Set password").click()
    assert page.locator("#confirm-error").inner_text() == "The two passwords are not the same."
    page.get_by_label("New password", exact=True).fill("tango-under-the-stars")
    page.get_by_label("New password again").fill("tango-under-the-stars")
    page.get_by_role("button", name="Set password").click()
    page.wait_for_url(url + "/me")
    assert page.get_by_role("heading", level=1).inner_text() == "Lena Novak"

    sign_out(page)
    page.goto(link)  # used once: a clear page, not an error
    assert "already used" in page.content()
    page.goto(url + "/login")
    page.get_by_label("Email").fill("lena@example.com")
    page.get_by_label("Password").fill("tango-under-the-stars")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(url + "/")
