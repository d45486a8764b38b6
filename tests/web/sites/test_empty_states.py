"""A page of her site without blocks suggests the first ones: a hero banner on the home page,
text elsewhere; the suggestion goes once the page has a block."""

from __future__ import annotations

from tests.fixtures.empty import empty_state, empty_states, page


def test_an_empty_page_suggests_a_hero_then_text(alice):
    state = empty_state(page(alice.client, "/me/site"), "No blocks on this page yet.")
    assert state.links == ["/me/site/blocks/new?kind=hero&page=home",
                           "/me/site/blocks/new?kind=text&page=home"]
    assert "Hero banner" in page(alice.client, state.links[0])  # the hero's form

    assert alice.post("/pages", {"title": "Classes", "slug": "classes"}).status_code == 302
    state = empty_state(page(alice.client, "/me/site?page=classes"), "No blocks")
    assert state.links[0] == "/me/site/blocks/new?kind=text&page=classes"

    assert alice.add("hero", title="Alice dances").status_code == 302
    assert empty_states(page(alice.client, "/me/site")) == []
    assert empty_states(page(alice.client, "/me/site?page=classes")) != []  # still empty
