"""A studio from start to its public site: created, a second member invited and made admin,
who builds and publishes the site; a visitor sees it with the roster."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.fixtures.browser import sign_up

pytestmark = pytest.mark.browser




def test_a_studio_grows_and_publishes_its_site(page, browser, live_server):
    url = live_server.url
    sign_up(page, url, "maria", "María Fernández")
    page.goto(url + "/groups/new")
    page.get_by_label("Kind", exact=True).select_option("studio")
    page.get_by_label("Name", exact=True).fill("Studio Sol")
    page.get_by_label("Address", exact=True).fill("studio-sol")
    page.get_by_label("Description").fill("Salsa and bachata in **Berlin**.")
    page.get_by_label("City", exact=True).fill("Berlin")
    page.get_by_label("Dance styles").select_option(["salsa", "bachata"])
    page.get_by_label("On request: admins approve who joins").check()
    page.get_by_role("button", name="Create the group").click()
    page.wait_for_url(url + "/g/studio-sol/manage")

    lena_context = browser.new_context(viewport={"width": 390, "height": 844})
    lena = lena_context.new_page()
    lena.set_default_timeout(10_000)
    sign_up(lena, url, "lena", "Lena Novak")

    page.get_by_label("Invite a member by username").fill("lena")
    page.get_by_role("button", name="Invite", exact=True).click()
    assert "lena is invited." in page.content()

    lena.goto(url + "/groups")
    expect(lena.get_by_text("You are invited by María Fernández")).to_be_visible()
    lena.get_by_role("button", name="Accept").click()
    assert "Welcome to the group." in lena.content()

    page.reload()
    page.get_by_role("button", name="Make admin: Lena Novak").click()
    assert page.locator(".roster li", has_text="Lena Novak").locator(".badge").inner_text() == "admin"

    lena.goto(url + "/g/studio-sol/manage")
    lena.get_by_role("link", name="Edit the group's site").click()
    lena.get_by_role("button", name="Create my site").click()
    lena.get_by_label("Add a block").select_option("text")
    lena.get_by_role("button", name="Add", exact=True).click()
    lena.get_by_label("Heading").fill("Welcome")
    lena.locator("textarea#body").fill("Classes every *evening*.")
    lena.get_by_role("button", name="Save block").click()
    lena.get_by_label("Add a block").select_option("members")
    lena.get_by_role("button", name="Add", exact=True).click()
    lena.get_by_label("Heading").fill("Our team")
    lena.get_by_role("button", name="Save block").click()
    lena.get_by_role("button", name="Publish", exact=True).click()
    assert "Published" in lena.content()
    lena_context.close()

    visitor_context = browser.new_context()
    visitor = visitor_context.new_page()
    response = visitor.goto(url + "/g/studio-sol")
    assert response.status == 200
    expect(visitor.get_by_role("heading", name="Welcome")).to_be_visible()
    expect(visitor.get_by_text("Classes every")).to_be_visible()
    roster = visitor.locator(".block-members")
    expect(roster.get_by_text("María Fernández")).to_be_visible()
    expect(roster.get_by_text("Lena Novak")).to_be_visible()
    visitor_context.close()
