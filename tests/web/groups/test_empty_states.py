"""Empty group lists and pages say what to do next: no group yet (start one), a group with
no site (its managers build it; others read a plain note) and nobody but its owner (invite);
and a search that finds nothing suggests styles and places to browse."""

from __future__ import annotations

from tests.fixtures.auth import member_id
from tests.fixtures.empty import empty_state, empty_states, has_empty_state, page
from tests.fixtures.groups import create
from tests.fixtures.sites import Editor


def test_the_group_list_leads_to_starting_one(app, alice):
    html = page(alice, "/groups")
    assert empty_state(html, "You are in no group yet.").links == ["/groups/new", "#find-h"]
    assert empty_state(html, "No groups yet.").links == ["/groups/new"]
    assert empty_state(page(app.test_client(), "/groups"), "No groups yet.").links == []
    # A filter that finds nothing offers every group.
    state = empty_state(page(alice, "/groups?style=tango_vals"), "No groups match")
    assert state.links == ["/groups", "/groups/new"]

    assert create(alice).status_code == 302
    html = page(alice, "/groups")
    assert "Salsa Lab Berlin" in html and empty_states(html) == []


def test_a_new_group_asks_its_managers_to_build_its_site_and_invite(app, alice, bob, db):
    assert create(alice).status_code == 302
    html = page(alice, "/groups/salsa-lab")
    site = empty_state(html, "Salsa Lab Berlin has no website yet.")
    assert site.links == ["/g/salsa-lab/manage/site"]
    roster = empty_state(html, "Nobody else has joined yet.")
    assert roster.links == ["/g/salsa-lab/manage#invite-username"]
    manage = page(alice, "/g/salsa-lab/manage")
    assert empty_state(manage, "Nobody else is in the group yet.").links == ["#invite-username"]
    assert 'id="invite-username"' in manage
    # Visitors and other members read plain notes, with nothing to do about them.
    for reader in (app.test_client(), bob):
        html = page(reader, "/groups/salsa-lab")
        assert empty_state(html, "has no website yet.").links == []
        assert empty_state(html, "Nobody else has joined yet.").links == []

    with db.system() as s:
        s.query("""CREATE group_member SET user = $bob, role = 'member',
                       group = (SELECT VALUE id FROM group WHERE slug = 'salsa-lab')[0]""",
                {"bob": member_id(db, "bob")})
    editor = Editor(alice, "/g/salsa-lab/manage/site")
    assert editor.post("/create").status_code == 302
    assert editor.add("hero", title="Salsa Lab").status_code == 302
    assert editor.publish().status_code == 302
    html = page(alice, "/groups/salsa-lab")
    assert "Visit the website" in html and empty_states(html) == []
    assert empty_states(page(alice, "/g/salsa-lab/manage")) == []


def test_a_search_that_finds_nothing_suggests_styles_and_browsing(app, alice):
    visitor = app.test_client()
    state = empty_state(page(visitor, "/search?q=Lab"), "Nothing matches “Lab”.")
    assert state.links[-2:] == ["/groups", "/vlogs/explore"]  # after the styles
    assert "/search?q=Salsa" in state.links and "/search?q=Argentine+Tango" in state.links
    assert "/discover" not in state.links  # discovery is for members
    assert "/discover" in empty_state(page(alice, "/search?q=Lab"), "Nothing matches").links

    assert create(alice).status_code == 302
    html = page(visitor, "/search?q=Lab")
    assert "Salsa Lab Berlin" in html and not has_empty_state(html, "Nothing matches")
