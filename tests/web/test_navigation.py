"""The navigation marks the entry of the page she is on, sub-pages included, and only that one."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from tests.fixtures.auth import AuthActions
from tests.fixtures.chats import adult, match


class _Header(HTMLParser):
    """The header's entries marked current, and whether her menu's button is."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.depth = 0  # inside <header class="site-header"> while > 0
        self.current: list[str] = []
        self.open: str | None = None  # the marked element whose text is being read
        self.text = ""
        self.account_marked = False
        self.toggles: list[dict] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "header" and "site-header" in (attrs.get("class") or ""):
            self.depth = 1
            return
        if not self.depth:
            return
        if tag == "header":
            self.depth += 1
        if tag == "button" and attrs.get("aria-controls"):
            self.toggles.append(attrs)
            self.account_marked |= "is-current" in (attrs.get("class") or "")
        if attrs.get("aria-current") == "page":
            self.open, self.text = tag, ""

    def handle_endtag(self, tag):
        if not self.depth:
            return
        if tag == self.open:
            self.current.append(self.text.split()[0])
            self.open = None
        if tag == "header":
            self.depth -= 1

    def handle_data(self, data):
        if self.open:
            self.text += data


def header(html: str) -> _Header:
    parsed = _Header()
    parsed.feed(html)
    return parsed


@pytest.fixture
def ana(app, db):
    """Ana, an adult member, matched with Ben; signed in. Returns her client and the chat key."""
    clients = {}
    for name in ("ana", "ben"):
        actions = AuthActions(app.test_client())
        actions.signup(name)
        adult(db, name)
        clients[name] = actions.client
    return clients["ana"], match(db, "ana", "ben")


MEMBER_PAGES = [
    ("/discover", "Discover"), ("/discover/similar", "Discover"),
    ("/discover/groups", "Discover"), ("/matches", "Matches"), ("/chat", "Chat"),
    ("/chat/{chat}", "Chat"), ("/vlogs", "Vlogs"), ("/vlogs/explore", "Vlogs"),
    ("/vlogs/new", "Vlogs"), ("/groups", "Groups"), ("/groups/new", "Groups"),
    ("/notifications", "Notifications"), ("/me", "Profile"), ("/me/profile", "Profile"),
    ("/me/site", "Site"), ("/me/settings", "Settings"), ("/me/blocked", "Settings"),
    ("/u/ben", None), ("/search?q=salsa", None),
]


@pytest.mark.parametrize(("path", "entry"), MEMBER_PAGES)
def test_the_current_entry_is_marked_on_member_pages(ana, path, entry):
    client, chat = ana
    response = client.get(path.format(chat=chat))
    assert response.status_code == 200, path
    found = header(response.get_data(as_text=True))
    assert found.current == ([entry] if entry else []), path
    # Her menu's button shows that one of its entries is current, and only then.
    assert found.account_marked == (entry in ("Profile", "Site", "Settings")), path
    names = [t.get("aria-controls") for t in found.toggles]
    assert names == ["nav-links", "nav-account-menu"]
    assert all(t.get("aria-expanded") == "false" for t in found.toggles)  # closed at first


@pytest.mark.parametrize(("path", "entry"), [("/login", "Sign"), ("/signup", "Join"),
                                             ("/groups", "Groups"), ("/", "iDance"),
                                             ("/search?q=salsa", None)])
def test_the_current_entry_is_marked_for_visitors(client, path, entry):
    found = header(client.get(path).get_data(as_text=True))
    assert found.current == ([entry] if entry else []), path
    assert [t.get("aria-controls") for t in found.toggles] == ["nav-links"]


def test_the_header_public_sites_fetch_marks_nothing(ana):
    """/api/header goes into a dancer's or group's own site: no entry of the app is current
    there, and her menu is whole (sign out stays a POST with its token)."""
    client, _ = ana
    html = client.get("/api/header").get_data(as_text=True)
    found = header(html)
    assert found.current == [] and not found.account_marked
    assert '<form method="post" action="/logout"><input type="hidden" name="csrf_token"' in html


def test_the_menu_button_carries_the_sum_of_the_unread_counts(ana):
    """On a phone the badges are folded behind the Menu button, which shows their sum from the
    first paint (nav.js keeps it up to date)."""
    client, _ = ana
    html = client.get("/me").get_data(as_text=True)
    counts = [int(n) for n in re.findall(r'data-badge="(?:chat|notifications)"(?: hidden)?>(\d+)<',
                                         html)]
    assert len(counts) == 2 and sum(counts) > 0  # the match is a notification
    total = re.search(r'data-nav-unread( hidden)?><span data-count>(\d+)</span>', html)
    assert total.groups() == (None, str(sum(counts)))
