"""axe-core (shipped by ``axe-playwright-python``) over the main pages of the demo community,
in Chromium at 360 px and 1280 px: any serious or critical violation fails."""

from __future__ import annotations

import re

import pytest

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
