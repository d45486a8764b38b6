"""``/search``: who finds whom, the ranking, and odd queries that must never break the page."""

from __future__ import annotations

import re

import pytest

from idance_web.services import social
from tests.fixtures.auth import AuthActions
from tests.fixtures.groups import create
from tests.fixtures.sites import Editor


def found(client, q: str) -> dict[str, list[str]]:
    response = client.get("/search", query_string={"q": q})
    assert response.status_code == 200, (q, response.status_code)
    html = response.get_data(as_text=True)
    sections = {}
    for name in ("dancers", "groups", "styles"):
        m = re.search(rf'<section aria-labelledby="{name}-h">(.*?)</section>', html, re.S)
        sections[name] = re.findall(r'<li><a href="([^"]+)"', m.group(1)) if m else []
        if name == "styles" and m:
            sections[name] = re.findall(r"<li>([^:<]+):", m.group(1))
    return sections


def member(app, username: str, name: str) -> AuthActions:
    actions = AuthActions(app.test_client())
    assert actions.signup(username, display_name=name).status_code == 302
    return actions


@pytest.fixture
def community(app, db):
    alice = member(app, "alice", "Alice Moreau")
    site = Editor(alice.client)
    site.post("/create")
    site.add("hero", title="Hi")
    site.publish()
    member(app, "alicia", "Alicia Keys")  # no site, discoverable
    member(app, "aliquiet", "Ali Quiet")  # no site, not discoverable
    blocked = member(app, "alibad", "Ali Blocked")
    with db.system() as s:
        s.query("UPDATE profile SET discoverable = false WHERE owner.username = 'aliquiet'")
    assert create(alice.client).status_code == 302  # "Salsa Lab Berlin", public
    assert create(alice.client, slug="quiet-crew", name="Salsa Quiet Crew",
                  visibility="unlisted").status_code == 302
    return {"alice": alice, "alibad": blocked}


def test_visitors_find_dancers_with_a_published_site_and_public_groups(app, community):
    visitor = app.test_client()
    result = found(visitor, "ali")
    assert result["dancers"] == ["/@alice"]
    assert found(visitor, "salsa")["groups"] == ["/groups/salsa-lab"]
    assert "Salsa" in found(visitor, "salsa")["styles"]


def test_members_find_the_profiles_they_may_see(app, db, community):
    bob = member(app, "bob", "Bob")
    with db.system() as s:
        key = s.value("RETURN (SELECT VALUE record::id(id) FROM user WHERE username = 'bob')[0]")
    social.block(db, key, "alibad")
    result = found(bob.client, "ali")
    assert sorted(result["dancers"]) == ["/u/alice", "/u/alicia"]
    # The blocked pair no longer find each other; the others still find her.
    assert "/u/alibad" in found(community["alice"].client, "ali blocked")["dancers"]
    assert found(bob.client, "blocked")["dancers"] == []
    # Checked as the blocked member too, who cannot read the block.
    assert found(community["alibad"].client, "bob")["dancers"] == []
    assert found(community["alice"].client, "bob")["dancers"] == ["/u/bob"]


def test_names_are_found_by_any_word_accents_and_case_aside(app, db, community):
    visitor = app.test_client()
    for q in ("moreau", "MOR", "alice moreau", "moreau alice", "@alice", "Alicé"):
        assert found(visitor, q)["dancers"] == ["/@alice"], q
    assert found(visitor, "alice keys")["dancers"] == []  # both words must match one dancer
    assert found(visitor, "lab berlin")["groups"] == ["/groups/salsa-lab"]


def test_ranking_puts_the_exact_username_and_whole_words_first(app, db):
    for username, name in (("anabel", "Ana Belle"), ("ana", "Zed Ana"), ("anakin", "Anakin Sky")):
        member(app, username, name)
    viewer = member(app, "viewer", "Viewer")
    assert found(viewer.client, "ana")["dancers"] == ["/u/ana", "/u/anabel", "/u/anakin"]


def test_renamed_and_deleted_members(app, db, community):
    with db.system() as s:
        s.query("UPDATE user SET display_name = 'Lisa Moreau' WHERE username = 'alice'")
    visitor = app.test_client()
    assert found(visitor, "lisa")["dancers"] == ["/@alice"]
    assert found(visitor, "alice moreau")["dancers"] == ["/@alice"]  # her username still
    assert found(visitor, "ali")["dancers"] == ["/@alice"]
    with db.system() as s:
        s.query("UPDATE user SET deleted_at = time::now() WHERE username = 'alice'")
    assert found(visitor, "moreau")["dancers"] == []


@pytest.mark.parametrize("q, says", [
    ("", "Type a dancer's name"),
    ("a", "Type at least 2 letters"),
    ("x" * 500, "Only the first 100 characters were searched."),
    ('"alice"', None),
    ("'alice'", None),
    ("alice OR 1=1", "Nothing matches"),
    ("' OR true --", "Nothing matches"),
    ("a AND b", "Nothing matches"),
    ("-alice +moreau", None),
    ("*", "Type at least 2 letters"),
    ("%_%", "Nothing matches"),
    ("\\u{ffff}", "Nothing matches"),
    ("💃", "Type at least 2 letters"),
    ("💃💃 🕺", "Nothing matches"),
    ("<script>alert(1)</script>", "Nothing matches"),
    ("Анна", "Nothing matches"),
    ("   ", "Type a dancer's name"),
])
def test_odd_queries_get_a_sensible_page(app, community, q, says):
    for client in (app.test_client(), community["alice"].client):
        response = client.get("/search", query_string={"q": q})
        assert response.status_code == 200, q
        html = response.get_data(as_text=True)
        assert "<script>alert" not in html
        if says:
            assert says in html, q
    if q in ('"alice"', "'alice'", "-alice +moreau"):
        assert found(app.test_client(), q)["dancers"] == ["/@alice"]


def test_the_landing_page_and_the_navigation_have_a_search_box(app, community):
    for client, path in ((app.test_client(), "/"), (community["alice"].client, "/me"),
                         (app.test_client(), "/groups")):
        html = client.get(path).get_data(as_text=True)
        assert re.search(r'<form method="get" action="/search" role="search"', html), path
