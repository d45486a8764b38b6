"""The documented demo dancer signs in and finds on her home a match, an unread chat and
notifications waiting; the unread chat leads to its conversation."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from idance_web.demo import DEMO_PASSWORD, load_demo

pytestmark = pytest.mark.browser

README_EMAIL = "ana-dubois@demo.idance.example"  # the README's demo account


def test_the_demo_dancer_finds_her_home_waiting(live_app, live_server, page):
    load_demo(live_app.extensions["idance.db"], live_app.config["IDANCE"])
    url = live_server.url
    page.goto(url + "/login")
    page.get_by_label("Email").fill(README_EMAIL)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(url + "/")
    assert page.locator("main h1").inner_text() == "Hello, Ana Dubois"

    matches = page.locator("#home-matches")
    assert matches.get_by_role("link", name=re.compile("^Message ")).count() >= 1
    notices = page.locator("#home-notifications")
    assert int(notices.locator("h2 .badge").inner_text()) > 0
    assert notices.locator(".notification.unread").count() > 0
    expect(notices.get_by_role("link", name="All notifications", exact=False)).to_be_visible()
    chats = page.locator("#home-chats")
    assert int(chats.locator("h2 .badge").inner_text()) > 0
    # The navigation's badges carry the same counts, read with the page.
    assert page.locator('header [data-badge="chat"]').inner_text() == \
        chats.locator("h2 .badge").inner_text()
    assert page.locator('header [data-badge="notifications"]').inner_text() == \
        notices.locator("h2 .badge").inner_text()
    assert page.locator("#home-nearby .dancer-card").count() > 0
    assert page.locator("#home-feed .vlog-card").count() > 0
    assert "live at" in page.locator("#home-site").inner_text()

    # The first unread chat leads to its conversation, whose latest message the home showed.
    first = chats.locator("li.unread").first
    link = first.locator("a").first
    title, preview = link.inner_text(), first.locator(".home-preview").inner_text()
    assert re.search(r"\b[1-9]\d* unread", first.inner_text())
    link.click()
    page.wait_for_url(re.compile(re.escape(url) + r"/chat/[A-Za-z0-9_.-]+$"))
    assert page.locator("main h1").inner_text() == title
    assert page.locator("#messages .message .body").last.inner_text() == preview
