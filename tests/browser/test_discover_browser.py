"""Two dancers in one city find each other, like each other and match; a third who blocks
one of them disappears from her discovery. Phone-sized screens, the page's own script."""

from __future__ import annotations

import datetime as dt

import pytest
from surrealdb import RecordID

from tests.browser.conftest import sign_up

pytestmark = pytest.mark.browser

BERLIN = 2950159


def _in_berlin(db, username: str) -> None:
    with db.system() as s:
        s.query("""LET $u = (SELECT VALUE id FROM user WHERE username = $name)[0];
                   UPDATE profile SET city = $city, location = $city.vector, birth_date = $born
                       WHERE owner = $u;
                   RELATE $u->user_dance_style->dance_style:salsa SET level = 'advanced',
                       role = 'both';""",
                {"name": username, "city": RecordID("city", BERLIN),
                 "born": dt.datetime(1992, 3, 4, tzinfo=dt.UTC)})


def test_two_dancers_match_and_a_block_hides_the_blocker(browser, live_app, live_server):
    db = live_app.extensions["idance.db"]
    pages = {}
    for username, name in (("ana", "Ana García"), ("ben", "Ben Okafor"), ("cat", "Cat Novak")):
        context = browser.new_context(viewport={"width": 390, "height": 844})
        pages[username] = context.new_page()
        pages[username].set_default_timeout(10_000)
        sign_up(pages[username], live_server.url, username, name)
        _in_berlin(db, username)
    ana, ben, cat = pages["ana"], pages["ben"], pages["cat"]

    ana.goto(live_server.url + "/discover")
    print(ana.locator("main").inner_text())
    card = ana.locator('.dancer-card[data-username="ben"]')
    assert "Berlin" in card.inner_text()
    card.get_by_role("button", name="Like Ben Okafor").click()
    ana.get_by_role("status").filter(has_text="Liked.").wait_for()
    assert ana.locator('.dancer-card[data-username="ben"]').count() == 0

    ben.goto(live_server.url + "/discover")
    ben.locator('.dancer-card[data-username="ana"]').get_by_role(
        "button", name="Like Ana García").click()
    ben.wait_for_url(live_server.url + "/matches")
    assert "Ana García" in ben.locator("main").inner_text()
    ana.goto(live_server.url + "/matches")
    assert "Ben Okafor" in ana.locator("main").inner_text()

    ana.goto(live_server.url + "/discover")
    assert ana.locator('.dancer-card[data-username="cat"]').count() == 1
    cat.goto(live_server.url + "/u/ana")
    cat.get_by_role("button", name="Block").click()
    cat.wait_for_url(live_server.url + "/discover")
    ana.goto(live_server.url + "/discover")
    assert ana.locator('.dancer-card[data-username="cat"]').count() == 0
    assert ana.goto(live_server.url + "/u/cat").status == 404
    for page in pages.values():
        page.context.close()
