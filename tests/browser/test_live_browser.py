"""The live script in Chromium: one stream per browser shared by its tabs, events in every tab,
badges, a dropped stream resumed without loss, another browser taking nothing."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from idance_web.services.notifications import unread_count
from tests.fixtures.auth import PASSWORD
from tests.fixtures.browser import open_navigation
from tests.fixtures.live import send, trio  # noqa: F401 - a fixture

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("trio")]

# Collects the live script's DOM events from the first moment of every page.
COLLECT = """
window.__live = [];
["message", "read", "notification", "badges", "reload"].forEach(function (t) {
  document.addEventListener("idance:" + t, function (e) { window.__live.push([t, e.detail]); });
});
"""


@pytest.fixture
def live_app(app):
    """The app the browser talks to is the test's own (its database holds the trio)."""
    return app


def sign_in(browser, url: str, username: str):
    context = browser.new_context(viewport={"width": 390, "height": 844})
    context.add_init_script(COLLECT)
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(url + "/login")
    page.get_by_label("Email").fill(f"{username}@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(url + "/")
    return context, page


def received(page, kind: str = "message") -> list[dict]:
    return [detail for t, detail in page.evaluate("window.__live") if t == kind]


def wait_for_streams(live, member: str, n: int, page) -> None:
    for _ in range(100):
        if len(live._all(member)) == n:
            return
        page.wait_for_timeout(50)
    assert len(live._all(member)) == n


def test_tabs_share_one_stream_and_nothing_is_lost_or_doubled(app, browser, live_server):
    live = app.extensions["idance.live"]
    url = live_server.url
    bob_context, first = sign_in(browser, url, "bob")
    second = bob_context.new_page()
    second.goto(url + "/me")
    carol_context, carol = sign_in(browser, url, "carol")
    wait_for_streams(live, "bob", 1, second)
    wait_for_streams(live, "carol", 1, carol)
    send(app, "alice", "Salsa tonight? </script><img src=x onerror=alert(1)>")
    unread = unread_count(app.extensions["idance.db"], "bob")  # the match's and this
    assert unread == 2
    for tab in (first, second):  # the leader's tab and the other, once each, within a second
        tab.wait_for_function("() => window.__live.some(e => e[0] === 'message')", timeout=1000)
        tab.wait_for_function(
            "() => document.querySelector('[data-badge=notifications]').textContent === '2'",
            timeout=1000)
        assert [m["html"] for m in received(tab)] == [
            "<p>Salsa tonight? &lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;</p>"]
        # On a phone the badge is behind the menu button, which shows the sum meanwhile.
        total = sum(map(int, tab.locator("#nav-links [data-badge]").all_text_contents()))
        assert total >= 2 and tab.locator("[data-nav-unread]").text_content() == f"{total} unread"
        open_navigation(tab)
        expect(tab.locator("#nav-links [data-badge=notifications]")).to_be_visible()
    assert len(live._all("bob")) == 1

    # The stream drops; a message sent meanwhile arrives after the reconnect, once.
    (stream,) = live._all("bob")
    live.close(stream)
    send(app, "alice", "Are you there?")
    second.wait_for_function("() => window.__live.filter(e => e[0] === 'message').length === 2")

    # The leader's tab closes: the other takes the stream over from where it was.
    first.close()
    wait_for_streams(live, "bob", 1, second)
    send(app, "alice", "See you at nine")
    second.wait_for_function("() => window.__live.filter(e => e[0] === 'message').length === 3")
    second.wait_for_timeout(300)
    assert [m["html"] for m in received(second)][1:] == ["<p>Are you there?</p>",
                                                         "<p>See you at nine</p>"]
    assert received(carol) == [] and received(carol, "notification") == []
    bob_context.close()
    carol_context.close()
