"""axe-core (shipped by ``axe-playwright-python``) over the main pages of the demo community,
in Chromium at 360 px and 1280 px: any serious or critical violation fails."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from idance_web.demo import DEMO_PASSWORD, load_demo
from idance_web.services.sites import THEMES
from tests.fixtures.app import build_app, make_config
from tests.fixtures.browser import LiveServer

pytestmark = pytest.mark.browser

VIEWPORTS = {"phone": {"width": 360, "height": 800}, "desktop": {"width": 1280, "height": 800}}
# A published dancer site in each theme: contrast is the theme's.
VISITOR_PAGES = ["landing", "sign-up", "sign-in", "group page",
                 *(f"published site, {theme} theme" for theme in THEMES)]
MEMBER_PAGES = ["her home", "her account", "discover", "profile", "matches", "chat", "vlog", "notifications",
                "settings", "site editor"]


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory):
    app = build_app(make_config(media_root=str(tmp_path_factory.mktemp("media"))))
    db = app.extensions["idance.db"]
    load_demo(db, app.config["IDANCE"])
    with db.system() as s:
        email = s.value("SELECT VALUE email FROM ONLY user:demo_000")
    with LiveServer(app) as server:
        yield server, email
    db.close()


@pytest.fixture(scope="module")
def member_state(browser, demo_server):
    """The demo dancer's signed-in cookies, and the URLs of her pages found by following links."""
    server, email = demo_server
    url = server.url
    context = browser.new_context()
    page = context.new_page()
    page.goto(url + "/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(re.escape(url) + r"/(me)?$"))

    def first_link(path: str, pattern: str) -> str:
        page.goto(url + path)
        hrefs = page.locator("main a[href]").evaluate_all(
            "links => links.map(a => a.getAttribute('href'))")
        for href in hrefs:
            if re.fullmatch(pattern, href or ""):
                return href
        raise AssertionError(f"no link like {pattern} on {path}")

    urls = {
        "landing": "/", "sign-up": "/signup", "sign-in": "/login",
        "her home": "/", "her account": "/me", "discover": "/discover", "matches": "/matches",
        "notifications": "/notifications", "settings": "/me/settings", "site editor": "/me/site",
        "profile": first_link("/discover", r"/u/[^/?#]+"),
        "chat": first_link("/chat", r"/chat/[^/?#]+"),
        "vlog": first_link("/vlogs", r"/vlogs/(?!new|explore)[^/?#]+"),
    }
    from idance_web.demo.groups import DEMO_GROUPS

    urls["group page"] = f"/g/{DEMO_GROUPS[0][0]}"  # every demo group has a published site
    with server.app.extensions["idance.db"].system() as s:
        for theme in THEMES:
            username = s.value("SELECT VALUE owner.username FROM ONLY site WHERE "
                               "record::tb(owner) = 'user' AND published.theme = $theme LIMIT 1",
                               {"theme": theme})
            assert username, f"no published demo site in the {theme} theme"
            urls[f"published site, {theme} theme"] = f"/@{username}"
    state = context.storage_state()
    context.close()
    return urls, state


def _serious(violations: list[dict]) -> dict[str, list[str]]:
    return {v["id"]: [f"{n['target']}: {n.get('failureSummary', '')[:160]}" for n in v["nodes"][:4]]
            for v in violations if v.get("impact") in ("serious", "critical")}


@pytest.mark.parametrize("viewport", VIEWPORTS)
@pytest.mark.parametrize("name", VISITOR_PAGES + MEMBER_PAGES)
def test_no_serious_or_critical_axe_violation(browser, demo_server, member_state, name,
                                              viewport):
    from axe_playwright_python.sync_playwright import Axe

    server, _ = demo_server
    urls, state = member_state
    # The app's CSP stays on (what it blocks, a visitor does not see); Playwright's evaluate
    # injects axe through the DevTools protocol, which CSP does not govern.
    context = browser.new_context(viewport=VIEWPORTS[viewport],
                                  storage_state=state if name in MEMBER_PAGES else None)
    try:
        page = context.new_page()
        response = page.goto(server.url + urls[name])
        assert response.status == 200, f"{name}: {urls[name]} answered {response.status}"
        page.wait_for_load_state("load")
        found = _serious(Axe().run(page).response["violations"])
    finally:
        context.close()
    assert not found, f"{name} ({urls[name]}, {viewport}): {found}"


# -- Keyboard and focus ------------------------------------------------------------------------

FOCUSED = """() => {
  const e = document.activeElement;
  const item = e.closest('.block-item');
  return {tag: e.tagName.toLowerCase(), id: e.id, controls: e.getAttribute('aria-controls'),
          expanded: e.getAttribute('aria-expanded'),
          text: (e.innerText || e.value || '').trim().split(/\\s+/).slice(0, 2).join(' '),
          block: item ? item.dataset.key : null};
}"""


def focused(page) -> dict:
    return page.evaluate(FOCUSED)


def tab_until(page, wanted, limit: int = 60, key: str = "Tab") -> list[dict]:
    """Press Tab until ``wanted(focused)``; the elements passed on the way, the wanted last."""
    seen = []
    for _ in range(limit):
        page.keyboard.press(key)
        seen.append(focused(page))
        if wanted(seen[-1]):
            return seen
    raise AssertionError(f"not reached in {limit} presses of {key}: {seen}")


def first_words(seen: list[dict]) -> list[str]:
    return [f["text"].split(" ")[0] for f in seen]


@pytest.fixture
def member_page(browser, demo_server, member_state):
    """Opens a page at a width of ``VIEWPORTS``: the demo dancer's (signed in) or a visitor's,
    with JavaScript or without."""
    server, _ = demo_server
    contexts = []

    def open_page(viewport: str, member: bool = True, javascript: bool = True):
        contexts.append(browser.new_context(
            viewport=VIEWPORTS[viewport], java_script_enabled=javascript,
            storage_state=member_state[1] if member else None))
        page = contexts[-1].new_page()
        page.set_default_timeout(10_000)
        return page, server.url

    yield open_page
    for context in contexts:
        context.close()


def test_the_menu_button_works_by_keyboard_alone_at_360_px(member_page):
    page, url = member_page("phone")
    page.goto(url + "/discover")
    links = page.locator("#nav-links")
    assert links.is_hidden()
    # Tab reaches the menu button; the folded links take no stops on the way.
    passed = tab_until(page, lambda f: f["controls"] == "nav-links")
    assert "Discover" not in first_words(passed)
    assert passed[-1]["text"].startswith("Menu") and passed[-1]["expanded"] == "false"
    # The unread counts it folds away show on it, summed.
    counts = page.locator("#nav-links [data-badge]").all_text_contents()
    total = page.locator(".nav-toggle [data-nav-unread]")
    assert sum(map(int, counts)) > 0, "the demo dancer has unread messages and notifications"
    expect(total).to_be_visible()
    assert total.text_content() == f"{sum(map(int, counts))} unread"

    page.keyboard.press("Enter")
    assert focused(page)["expanded"] == "true"
    expect(links).to_be_visible()
    entries = tab_until(page, lambda f: f["controls"] == "nav-account-menu")
    assert first_words(entries) == ["Discover", "Matches", "Chat", "Vlogs", "Groups",
                                    "Notifications", "Ana"]
    page.keyboard.press("Space")  # Space opens her menu too
    assert focused(page)["expanded"] == "true"
    mine = tab_until(page, lambda f: f["text"] == "Sign out")
    assert first_words(mine) == ["Profile", "Site", "Settings", "Sign"]

    # Escape closes the innermost open part and gives focus back to its button, then the next.
    page.keyboard.press("Escape")
    assert focused(page)["controls"] == "nav-account-menu"
    assert focused(page)["expanded"] == "false"
    expect(page.locator("#nav-account-menu").is_hidden() and links).to_be_visible()
    page.keyboard.press("Escape")
    assert focused(page)["controls"] == "nav-links" and focused(page)["expanded"] == "false"
    assert links.is_hidden()
    # And open again from there; Escape on the button itself closes.
    page.keyboard.press("Space")
    expect(links).to_be_visible()
    page.keyboard.press("Escape")
    assert links.is_hidden() and focused(page)["controls"] == "nav-links"


def test_on_a_desktop_every_link_shows_and_her_menu_opens_by_keyboard(member_page):
    page, url = member_page("desktop")
    page.goto(url + "/discover")
    assert page.locator("button[aria-controls=nav-links]").is_hidden()
    passed = tab_until(page, lambda f: f["controls"] == "nav-account-menu")
    assert first_words(passed)[-7:] == ["Discover", "Matches", "Chat", "Vlogs", "Groups",
                                        "Notifications", "Ana"]
    menu = page.locator("#nav-account-menu")
    assert menu.is_hidden()
    page.keyboard.press("Enter")
    expect(menu).to_be_visible()
    page.keyboard.press("Escape")
    assert menu.is_hidden() and focused(page)["controls"] == "nav-account-menu"
    # Tabbing out of her open menu closes it behind her.
    page.keyboard.press("Enter")
    tab_until(page, lambda f: f["text"] == "Sign out")
    page.keyboard.press("Tab")
    assert menu.is_hidden()


def test_with_the_menu_open_a_tap_on_the_page_follows_its_link(member_page):
    """The open menu closes on a tap elsewhere, after the tap: the page does not move under
    her finger first (it once closed on focus leaving, before the click landed)."""
    page, url = member_page("phone")
    page.goto(url + "/chat")
    page.locator("button[aria-controls=nav-links]").click()
    expect(page.locator("#nav-links")).to_be_visible()
    link = page.locator("main a[href^='/chat/']").first
    href = link.get_attribute("href")
    link.click()
    page.wait_for_url(url + href)


def test_without_javascript_every_link_shows_at_360_px(member_page):
    page, url = member_page("phone", javascript=False)
    page.goto(url + "/discover")
    header = page.locator(".site-header")
    for name in ("Discover", "Matches", "Chat", "Vlogs", "Groups", "Notifications",
                 "Profile", "Site", "Settings"):
        expect(header.get_by_role("link", name=name).first, name).to_be_visible()
    expect(header.get_by_role("button", name="Sign out")).to_be_visible()
    assert header.locator("button[aria-controls]:visible").count() == 0
    assert page.evaluate("document.documentElement.scrollWidth") <= 360


CURRENT = """() => {
  const marked = [...document.querySelectorAll('.site-header [aria-current="page"]')];
  const style = e => getComputedStyle(e).fontWeight + ' ' + getComputedStyle(e).textDecorationLine;
  const other = document.querySelector('.nav-links a:not([aria-current]):not(.button)');
  const toggle = document.querySelector('.nav-account-toggle');
  return {marked: marked.map(e => e.textContent.trim().split(/\\s+/)[0]),
          styles: marked.map(style), plain: style(other),
          account: toggle ? style(toggle) : null};
}"""


def test_the_current_entry_is_marked_and_looks_it(member_page, member_state):
    page, url = member_page("desktop")
    urls = member_state[0]
    for path, entry in [(urls["chat"], "Chat"), ("/vlogs/explore", "Vlogs"),
                        ("/discover/similar", "Discover"), (urls["vlog"], "Vlogs"),
                        ("/groups", "Groups"), ("/notifications", "Notifications"),
                        ("/me/profile", "Profile"), ("/me/site", "Site"),
                        ("/me/settings", "Settings")]:
        page.goto(url + path)
        found = page.evaluate(CURRENT)
        assert found["marked"] == [entry], path
        assert found["styles"][0] != found["plain"], f"{path}: the current entry looks plain"
        if entry in ("Profile", "Site", "Settings"):  # folded in her menu: its button shows it
            assert found["account"] != found["plain"], path
    # A dancer's public site: its own header, the member's swapped in, nothing of it current;
    # its menu button works there too.
    page.set_viewport_size(VIEWPORTS["phone"])
    page.goto(url + urls["published site, rose theme"])
    toggle = page.locator("#session-header button[aria-controls=nav-links]")
    toggle.wait_for(state="visible")
    assert page.evaluate(CURRENT)["marked"] == []
    toggle.focus()
    page.keyboard.press("Enter")
    expect(page.locator("#session-header").get_by_role("link", name="Discover")).to_be_visible()
    page.keyboard.press("Escape")
    assert page.locator("#nav-links").is_hidden()


LOOK = """(e => { const s = getComputedStyle(e);
  return [s.outlineStyle, s.outlineWidth, s.outlineColor, s.boxShadow].join(' | '); })"""


@pytest.mark.parametrize(("who", "path", "stops"), [("visitor", "/login", 9),
                                                    ("member", "/me/settings", 30)])
def test_focus_is_visible_through_the_header_and_a_form(member_page, who, path, stops):
    page, url = member_page("desktop", member=who == "member")
    page.goto(url + path)
    # Each control's look before anything has focus, then as Tab reaches it.
    page.evaluate(f"""() => document.querySelectorAll(
        'a[href], button, input, select, textarea, summary, [tabindex]')
        .forEach(e => {{ e.dataset.unfocused = {LOOK}(e); }})""")
    kinds = set()
    for _ in range(stops):
        page.keyboard.press("Tab")
        element = page.evaluate_handle("document.activeElement")
        unfocused = element.evaluate("e => e.dataset.unfocused")
        now = element.evaluate(LOOK)
        label = element.evaluate("e => e.outerHTML.slice(0, 80)")
        assert unfocused is not None, f"focus went to something that is no control: {label}"
        assert now != unfocused, f"no visible focus on {label}"
        style, width = now.split(" | ")[:2]
        assert style != "none" and float(width.rstrip("px")) >= 2, label
        kinds.add(element.evaluate("e => e.closest('header') ? 'header' : e.tagName"))
    assert "header" in kinds and "INPUT" in kinds, kinds


def test_blocks_reorder_by_keyboard_and_the_order_is_saved(member_page):
    page, url = member_page("desktop")
    page.goto(url + "/me/site")
    order = lambda: page.locator("#block-list .block-item").evaluate_all(  # noqa: E731
        "items => items.map(i => i.dataset.key)")
    before = order()
    assert len(before) >= 3
    moved = before[0]
    # Keyboard only: Tab to the first block's Down button, Enter twice, then Up once.
    tab_until(page, lambda f: f["block"] == moved and f["text"] == "↓ Down", limit=80)
    page.keyboard.press("Enter")
    # The block moved in place and the focus stayed on its button: Enter moves it on.
    assert focused(page)["block"] == moved and focused(page)["text"] == "↓ Down"
    assert order()[:2] == [before[1], moved]
    page.keyboard.press("Enter")
    assert order()[:3] == [before[1], before[2], moved]
    if focused(page)["text"] == "↓ Down":  # (at the bottom the focus is on Up already)
        page.keyboard.press("Shift+Tab")
    assert focused(page)["text"] == "↑ Up" and focused(page)["block"] == moved
    page.keyboard.press("Enter")
    expected = [before[1], moved, *before[2:]]
    assert order() == expected
    assert page.get_by_role("status").inner_text().endswith(f"to place 2 of {len(before)}.")
    page.locator("#block-list:not([aria-busy])").wait_for()
    page.reload()
    assert order() == expected  # saved
    # At the top a block has no Up, at the bottom no Down.
    assert page.locator(".block-item").first.get_by_role("button", name="↑ Up").is_hidden()
    assert page.locator(".block-item").last.get_by_role("button", name="↓ Down").is_hidden()


def test_without_javascript_a_moved_block_keeps_the_keyboard_near_it(member_page):
    page, url = member_page("desktop", javascript=False)
    page.goto(url + "/me/site")
    keys = page.locator(".block-item").evaluate_all("items => items.map(i => i.dataset.key)")
    page.locator(".block-item").nth(1).get_by_role("button", name="↑ Up").focus()
    with page.expect_navigation(url=f"**/me/site?page=home#block-{keys[1]}"):
        page.keyboard.press("Enter")
    order = page.locator(".block-item").evaluate_all("items => items.map(i => i.dataset.key)")
    assert order[:2] == [keys[1], keys[0]]
    # The page comes back at the block: the next Tab is inside it (Edit; at the top it
    # has no Up), the one after on Down.
    page.keyboard.press("Tab")
    assert focused(page)["block"] == keys[1]
    page.keyboard.press("Tab")
    assert focused(page)["text"] == "↓ Down" and focused(page)["block"] == keys[1]
    with page.expect_navigation(url=f"**#block-{keys[1]}"):
        page.keyboard.press("Enter")
    order = page.locator(".block-item").evaluate_all("items => items.map(i => i.dataset.key)")
    assert order == keys


@pytest.mark.parametrize("viewport", VIEWPORTS)
@pytest.mark.parametrize("name", ["sign-in", "discover", "published site, ocean theme"])
def test_the_skip_link_moves_focus_to_main_and_the_page_has_a_language(member_page,
                                                                       member_state, name,
                                                                       viewport):
    page, url = member_page(viewport, member=name == "discover")
    page.goto(url + member_state[0][name])
    assert page.evaluate("document.documentElement.lang") == "en"
    page.keyboard.press("Tab")
    skip = page.evaluate("""() => { const e = document.activeElement, r = e.getBoundingClientRect();
        return {text: e.textContent.trim(), href: e.getAttribute('href'),
                onScreen: r.left >= 0 && r.top >= 0 && r.right <= innerWidth && r.width > 0}; }""")
    assert skip == {"text": "Skip to content", "href": "#main", "onScreen": True}
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    page.keyboard.press("Tab")  # the next stop is in the page's content, past the header
    assert page.evaluate("!!document.activeElement.closest('main')")
