"""A notification arrives while she looks: her empty notifications page and her home show it
at once, her home's counts follow the stream, and following it from her home marks it read."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from surrealdb import RecordID

from idance_web.services.notifications import unread_count
from tests.browser.test_live_browser import sign_in, wait_for_streams
from tests.fixtures.live import trio  # noqa: F401 - a fixture

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("trio")]


@pytest.fixture
def live_app(app):
    """The app the browsers talk to is the test's own (its database holds the trio)."""
    return app


def follow(app, who: str, whom: str) -> None:
    db = app.extensions["idance.db"]
    with db.member(who) as s:
        s.query("RELATE $me->follow->$other RETURN NONE",
                {"me": RecordID("user", who), "other": RecordID("user", whom)})
    app.extensions["idance.hub"].sync()


def test_a_new_notification_shows_on_her_empty_page_and_her_home(app, browser, live_server):
    live, url, db = app.extensions["idance.live"], live_server.url, app.extensions["idance.db"]
    context, home = sign_in(browser, url, "carol")  # she knows nobody: nothing waits for her
    notices = home.locator("#home-notifications")
    badge = notices.locator("[data-badge=notifications]")
    expect(notices.get_by_text("Nothing yet.")).to_be_visible()
    expect(badge).to_be_hidden()
    page = context.new_page()
    page.goto(url + "/notifications")
    expect(page.get_by_text("No notifications yet.")).to_be_visible()
    wait_for_streams(live, "carol", 1, page)

    follow(app, "alice", "carol")
    for tab in (page, home):
        item = tab.locator("#notification-list .notification.unread")
        expect(item).to_have_count(1)
        expect(item.get_by_role("link")).to_have_text("Alice followed you.")
        expect(tab.locator("#notifications-empty")).to_be_hidden()
    expect(badge).to_have_text("1")
    follow(app, "bob", "carol")
    expect(badge).to_have_text("2")
    expect(notices.locator(".notification.unread")).to_have_count(2)

    # Following one from her home marks it read on the way (the other stays unread).
    assert unread_count(db, "carol") == 2
    notices.get_by_role("link", name="Bob followed you.").click()
    home.wait_for_url(url + "/u/bob")
    for _ in range(50):
        if unread_count(db, "carol") == 1:
            break
        home.wait_for_timeout(100)
    assert unread_count(db, "carol") == 1
    home.goto(url + "/")
    expect(home.locator("#home-notifications [data-badge=notifications]")).to_have_text("1")
    context.close()
