"""A new dancer signs up and signs in through the real pages, on a phone-sized screen."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.fixtures.browser import open_navigation, sign_out

pytestmark = pytest.mark.browser


def test_sign_up_sign_out_and_sign_in(page, live_server):
    page.goto(live_server.url + "/signup")
    page.get_by_label("Email").fill("maria@example.com")
    page.get_by_label("Username").fill("maria")
    page.get_by_label("Display name").fill("María Fernández")
    page.get_by_label("Password").fill("short")
    page.get_by_role("button", name="Create my account").click()
    # The form comes back with the problem named and the input kept.
    assert page.locator("#password-error").inner_text() == "Use at least 10 characters."
    assert page.get_by_label("Display name").input_value() == "María Fernández"

    page.get_by_label("Password").fill("tango-every-night")
    page.get_by_role("button", name="Create my account").click()
    # A new member starts her set-up; "Finish later" keeps her place and leads to her page.
    page.wait_for_url(live_server.url + "/me/welcome/city")
    page.get_by_role("link", name="Finish later").click()
    page.wait_for_url(live_server.url + "/me")
    assert page.get_by_role("heading", level=1).inner_text() == "María Fernández"

    sign_out(page)
    page.wait_for_url(live_server.url + "/")
    open_navigation(page)
    expect(page.locator(".site-header").get_by_role("link", name="Sign in")).to_be_visible()

    page.goto(live_server.url + "/me/settings")
    page.wait_for_url("**/login?next=*")
    page.get_by_label("Email").fill("MARIA@example.com")
    page.get_by_label("Password").fill("wrong password!")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_text("Wrong email or password.").wait_for()
    page.get_by_label("Password").fill("tango-every-night")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(live_server.url + "/me/settings")
    expect(page.get_by_role("heading", name="Account settings")).to_be_visible()
