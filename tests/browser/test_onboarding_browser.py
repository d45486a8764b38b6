"""A new dancer signs up, goes through the set-up on a phone-sized screen, publishes a starter
site, opens it, then follows every link of the main navigation."""

from __future__ import annotations

import pytest
from PIL import Image
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_sign_up_set_up_publish_and_every_main_link_answers(page, live_server, tmp_path):
    url = live_server.url
    page.goto(url + "/signup")
    page.get_by_label("Email").fill("ines@example.com")
    page.get_by_label("Username").fill("ines")
    page.get_by_label("Display name").fill("Inés Carvalho")
    page.get_by_label("Password").fill("samba-until-sunrise")
    page.get_by_role("button", name="Create my account").click()
    page.wait_for_url(url + "/me/welcome/city")
    assert page.locator("[aria-current=step]").inner_text() == "Your city"

    # 1. Her city, picked from the type-ahead's suggestions.
    page.get_by_label("City").fill("Berl")
    page.get_by_role("option", name="Berlin").first.click()
    assert page.get_by_label("City").input_value() == "Berlin, Berlin, Germany"
    assert page.locator("#city_id").input_value() != ""
    page.get_by_role("button", name="Save and continue").click()
    page.wait_for_url(url + "/me/welcome/styles")

    # 2. Styles with level and role; a style listed twice is named first, her rows kept.
    page.select_option("#styles-0-style", "samba")
    page.select_option("#styles-0-level", "advanced")
    page.select_option("#styles-0-role", "follow")
    page.select_option("#styles-1-style", "samba")
    page.get_by_role("button", name="Save and continue").click()
    assert page.locator("#styles-1-error").inner_text() == "You listed this style twice."
    assert page.locator("#styles-0-level").input_value() == "advanced"
    page.select_option("#styles-1-style", "forro")
    page.select_option("#styles-1-level", "beginner")
    page.get_by_role("button", name="Save and continue").click()
    page.wait_for_url(url + "/me/welcome/picture")

    # 3. A picture: a file that is no image is refused with the reason, then a real one.
    fake = tmp_path / "ines.jpg"
    fake.write_text("<html><script>alert(1)</script></html>")
    page.locator("#avatar_file").set_input_files(str(fake))
    page.get_by_label("Describe it for people who cannot see it").fill("Inés dancing samba")
    page.get_by_role("button", name="Upload and continue").click()
    assert "not accepted" in page.locator("#avatar_file-error").inner_text()
    assert page.get_by_label("Describe it for people who cannot see it").input_value() == \
        "Inés dancing samba"
    photo = tmp_path / "ines-photo.jpg"
    Image.new("RGB", (640, 480), (30, 120, 90)).save(photo, "JPEG")
    page.locator("#avatar_file").set_input_files(str(photo))
    page.get_by_role("button", name="Upload and continue").click()
    page.wait_for_url(url + "/me/welcome/site")

    # Start her site: the "Portrait" layout, published at once.
    portrait = page.locator("section", has=page.get_by_role("heading", name="Portrait"))
    assert "Samba (Ballroom) · Forró in Berlin" in portrait.inner_text()
    portrait.get_by_role("button", name="Publish it now").click()
    page.wait_for_url(url + "/me/welcome/done")
    expect(page.get_by_role("status").filter(has_text="Your site is published")).to_be_visible()
    page.get_by_role("link", name="see your site").click()
    page.wait_for_url(url + "/@ines")
    assert page.locator("h1").inner_text() == "Inés Carvalho"
    assert page.locator("img.hero-image").get_attribute("alt") == "Inés dancing samba"
    assert "Samba" in page.locator(".block-styles").inner_text()

    # Every link of the main navigation answers without an error page (read from the page:
    # the navigation is not a fixed list).
    page.goto(url + "/me")
    assert page.locator(".setup-notice").count() == 0  # her set-up is over
    links = page.locator("nav[aria-label=Main] a").evaluate_all("els => els.map(e => e.href)")
    links = [href for href in dict.fromkeys(links) if href.startswith(url)]
    assert len(links) >= 4, links
    for href in links:
        response = page.goto(href)
        assert response is not None and response.status < 400, (href, response and response.status)
        assert page.locator(".error-page").count() == 0, href
