"""The demo account reads her notifications: grouped, linked, all marked read, the badge
cleared; without VAPID keys the push switch says it is unavailable."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from idance_web.demo import DEMO_PASSWORD, load_demo
from tests.fixtures.browser import open_navigation

pytestmark = pytest.mark.browser


def test_she_reads_her_notifications_and_the_badge_clears(live_app, live_server, page):
    db = live_app.extensions["idance.db"]
    load_demo(db, live_app.config["IDANCE"])
    with db.system() as s:
        email = s.value("SELECT VALUE email FROM ONLY user:demo_000")
    url = live_server.url
    page.goto(url + "/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(re.escape(url) + r"/(me)?$"))

    open_navigation(page)  # on a phone the badges are behind the menu button
    badge = page.locator('header [data-badge="notifications"]')
    expect(badge).to_be_visible()
    assert int(badge.inner_text()) > 0
    page.get_by_role("link", name=re.compile("^Notifications")).click()
    page.wait_for_url(url + "/notifications")
    items = page.locator("#notification-list > li")
    assert items.count() >= 10
    liked = page.get_by_role("link", name=re.compile(r" and 3 others liked "))
    assert liked.count() == 1
    assert page.locator(".notification.unread").count() > 0

    # A follow links to the follower's page.
    follow = page.get_by_role("link", name=re.compile(r"followed you\.$")).first
    target = follow.get_attribute("href")
    assert re.fullmatch(r"/u/[a-z0-9_-]+", target)
    follow.click()
    page.wait_for_url(url + target)
    assert page.locator("main h1").count() == 1

    page.goto(url + "/notifications")
    page.get_by_role("button", name="Mark all read").click()
    page.wait_for_url(url + "/notifications")
    assert page.locator(".notification.unread").count() == 0
    open_navigation(page)
    assert page.locator('header [data-badge="notifications"]').is_hidden()

    # A visitor's contact message, shown in full.
    page.get_by_role("link", name=re.compile("wrote via your site")).click()
    assert "three months" in page.locator(".message-body").inner_text()

    page.goto(url + "/me/settings")
    switch = page.get_by_role("switch", name="Notify me on this device")
    assert switch.is_disabled() and not switch.is_checked()
    assert "Push notifications are off" in page.locator("#push-status").inner_text()
