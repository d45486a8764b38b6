"""Two dancers chat in two browsers: live delivery, the unread badge, a dropped stream resumed
without loss or doubles, and a third browser that receives nothing."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.test_live_browser import sign_in, wait_for_streams
from tests.fixtures.browser import open_navigation
from tests.fixtures.live import trio  # noqa: F401 - a fixture

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("trio")]

HOSTILE = "Salsa tonight? </script><img src=x onerror=alert(1)>"


@pytest.fixture
def live_app(app):
    """The app the browsers talk to is the test's own (its database holds the trio)."""
    return app


def say(page, text: str) -> None:
    page.get_by_label("Message").fill(text)
    page.get_by_role("button", name="Send").click()


def shown(page) -> list[str]:
    return page.locator("#messages li.message .body").all_inner_texts()


def test_a_message_reaches_the_other_browser_live_and_nobody_else(app, browser, live_server):
    live, url = app.extensions["idance.live"], live_server.url
    alerts = []
    alice_context, alice = sign_in(browser, url, "alice")
    bob_context, bob_home = sign_in(browser, url, "bob")
    carol_context, carol = sign_in(browser, url, "carol")
    for page in (alice, bob_home, carol):
        page.on("dialog", lambda dialog: (alerts.append(dialog.message), dialog.dismiss()))
    alice.goto(url + "/chat/alice.bob")
    bob_home.goto(url + "/me")
    for member, page in (("alice", alice), ("bob", bob_home), ("carol", carol)):
        wait_for_streams(live, member, 1, page)
    open_navigation(bob_home)  # on a phone the badges are behind the menu button
    badge = bob_home.locator(".site-header [data-badge=chat]")
    assert badge.is_hidden()

    # Her unread badge counts it within a second, on whatever page she is.
    say(alice, HOSTILE)
    bob_home.wait_for_function(
        "() => document.querySelector('.site-header [data-badge=chat]').textContent === '1'",
        timeout=1000)
    expect(badge).to_be_visible()

    # She opens the chat: the text is text; the next message appears within a second.
    bob_chat = bob_context.new_page()
    bob_chat.on("dialog", lambda dialog: (alerts.append(dialog.message), dialog.dismiss()))
    bob_chat.goto(url + "/chat/alice.bob")
    assert shown(bob_chat) == [HOSTILE]
    say(alice, "Nine o'clock at the Tanzhaus")
    bob_chat.wait_for_function(
        "() => document.querySelectorAll('#messages li.message').length === 2", timeout=1000)
    bob_home.wait_for_function(  # read on the open chat page: the badge goes back
        "() => document.querySelector('.site-header [data-badge=chat]').hidden")

    # Her stream drops; what is said meanwhile arrives after the reconnect, once each.
    (stream,) = live._all("bob")
    live.close(stream)
    say(alice, "Bring water")
    alice.wait_for_function(
        "() => document.querySelectorAll('#messages li.message').length === 3")
    say(alice, "And good shoes")
    bob_chat.wait_for_function(
        "() => document.querySelectorAll('#messages li.message').length === 4")
    bob_chat.wait_for_timeout(500)
    assert shown(bob_chat) == [HOSTILE, "Nine o'clock at the Tanzhaus", "Bring water",
                               "And good shoes"]
    ids = bob_chat.locator("#messages li.message").evaluate_all(
        "items => items.map(li => li.dataset.id)")
    assert len(set(ids)) == 4
    assert bob_chat.locator("#messages img").count() == 0 and alerts == []

    # Carol, in her own browser all along, received nothing of it.
    got = carol.evaluate("window.__live.map(e => e[0])")
    assert "message" not in got and "read" not in got
    assert "Salsa" not in carol.content()
    for context in (alice_context, bob_context, carol_context):
        context.close()
