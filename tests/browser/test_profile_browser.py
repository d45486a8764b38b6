"""A dancer fills in her whole profile on a phone, with an avatar; another member sees the public parts."""

from __future__ import annotations

import re

import pytest
from PIL import Image

from tests.fixtures.browser import sign_up

pytestmark = pytest.mark.browser




def test_full_profile_with_avatar_and_what_others_see(browser, live_server, page, tmp_path):
    url = live_server.url
    sign_up(page, url, "lucia", "Lucía Romero")
    page.goto(url + "/me/profile")

    avatar = tmp_path / "lucia.jpg"
    Image.new("RGB", (400, 400), (180, 40, 90)).save(avatar, "JPEG")
    form = page.locator("form.image-form").first
    form.locator("input[type=file]").set_input_files(str(avatar))
    form.get_by_label("Describe it for people who cannot see it").fill("Lucía mid-spin")
    form.get_by_role("button", name="Upload profile picture").click()
    page.wait_for_url(url + "/me/profile")
    assert page.locator("img.avatar").get_attribute("alt") == "Lucía mid-spin"

    page.get_by_label("Pronouns").fill("she/her")
    page.get_by_label("Bio").fill("Tango dancer and *teacher*.")
    page.select_option("#styles-0-style", "argentine_tango")
    page.select_option("#styles-0-level", "professional")
    page.select_option("#styles-0-role", "follow")
    page.get_by_label("Dance partner").check()
    page.get_by_label("City").fill("Buenos")
    page.get_by_role("option", name="Buenos Aires").first.click()
    assert page.locator("#city_id").input_value() != ""
    page.get_by_label("Height in cm").fill("165")
    page.get_by_label("Date of birth").fill("1992-03-14")
    page.get_by_label("Waist (cm)").fill("66")
    page.select_option("#links-0-platform", "instagram")
    page.fill("#links-0-handle", "lucia.tango")
    page.get_by_role("button", name="Save profile").click()
    page.wait_for_url(url + "/me")
    body = page.content()
    for text in ("Lucía Romero", "Argentine Tango", "professional", "Buenos Aires", "Waist (cm): 66",
                 "14 March 1992"):
        assert text in body, text
    assert page.locator(".bio em").inner_text() == "teacher"

    other = browser.new_context(viewport={"width": 390, "height": 844})
    viewer = other.new_page()
    sign_up(viewer, url, "marco", "Marco")
    viewer.goto(url + "/@lucia")
    public = viewer.content()
    assert "Lucía Romero" in public and "Argentine Tango" in public and "Buenos Aires" in public
    assert viewer.locator("img.avatar").get_attribute("alt") == "Lucía mid-spin"
    # A CSRF token is random text with a timestamp and may hold "66" or "1992": left out.
    public = re.sub(r"<input[^>]*csrf_token[^>]*>", "", public)
    for private in ("1992", "Waist", "66", "lucia@example.com"):
        assert private not in public, private
    other.close()
