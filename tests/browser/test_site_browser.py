"""A dancer builds her site from six kinds of blocks, publishes, and a visitor sees exactly that."""

from __future__ import annotations

import pytest

from tests.fixtures.browser import sign_up

pytestmark = pytest.mark.browser


def add_block(page, url, kind, fill):
    page.goto(url + "/me/site")
    page.select_option("#kind", kind)
    page.get_by_role("button", name="Add", exact=True).click()
    for selector, value in fill.items():
        if selector.startswith("select:"):
            page.select_option(selector[7:], value)
        else:
            page.fill(selector, value)
    page.get_by_role("button", name="Save block").click()
    page.wait_for_url(url + "/me/site**")
    assert "need attention" not in page.content(), kind


def test_build_publish_and_a_visitor_sees_the_published_version(browser, live_server, page):
    url = live_server.url
    sign_up(page, url, "nina", "Nina Okafor")
    page.goto(url + "/me/site")
    page.get_by_role("button", name="Create my site").click()

    add_block(page, url, "hero", {"#title": "Dance with Nina", "#subtitle": "Afro house & hip hop"})
    add_block(page, url, "text", {"#title": "About me", "#body": "I teach **every Tuesday**."})
    add_block(page, url, "schedule", {"#title": "Classes", "#items-0-title": "Afro house",
                                      "select:#items-0-weekday": "tuesday", "#items-0-time": "19:00"})
    add_block(page, url, "quote", {"#text": "Nina's classes changed my life", "#author": "Sam"})
    add_block(page, url, "pricing", {"#items-0-name": "Drop-in", "#items-0-price": "€15"})
    add_block(page, url, "video", {"#url": "https://youtu.be/dQw4w9WgXcQ"})
    add_block(page, url, "cta", {"#label": "Book a class", "#url": "/@nina"})

    # A validation error comes back next to its field with the input kept.
    page.goto(url + "/me/site/blocks/new?kind=text&page=home")
    page.fill("#title", "Kept title")
    page.get_by_role("button", name="Save block").click()
    assert page.locator("#body-error").inner_text() == "Text is required."
    assert page.locator("#title").input_value() == "Kept title"

    page.goto(url + "/me/site")
    page.get_by_role("button", name="Publish").click()
    page.wait_for_url(url + "/me/site")
    # An edit after publishing stays in the draft.
    add_block(page, url, "text", {"#body": "Draft-only surprise"})
    # Reorder: move the last block up.
    page.locator(".block-item").last.get_by_role("button", name="↑ Up").click()

    visitor_context = browser.new_context(viewport={"width": 360, "height": 740})
    visitor = visitor_context.new_page()
    visitor.goto(url + "/@nina")
    assert visitor.locator("h1").count() == 1
    assert visitor.locator("h1").inner_text() == "Dance with Nina"
    text = visitor.locator("main").inner_text()
    for expected in ("About me", "every Tuesday", "Afro house", "changed my life", "Drop-in",
                     "Book a class"):
        assert expected in text, expected
    assert "Draft-only surprise" not in visitor.content()
    assert visitor.locator("iframe[src^='https://www.youtube-nocookie.com/embed/']").count() == 1
    # Works at 360 px: nothing wider than the screen.
    width = visitor.evaluate("document.documentElement.scrollWidth")
    assert width <= 360
    for img in visitor.locator("img").all():
        assert img.get_attribute("alt") is not None
    visitor_context.close()
