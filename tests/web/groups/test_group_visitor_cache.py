"""Visitors share one render of the group directory and of a group's page, dropped by the
hub as soon as anything they show changes; members always get their own."""

from __future__ import annotations

from tests.fixtures.groups import create, post, signed_in


def queries(db, client, path):
    before = db.query_count
    response = client.get(path)
    assert response.status_code == 200
    return db.query_count - before, response.get_data(as_text=True)


def test_a_visitor_is_served_from_the_cache_and_sees_changes_at_once(studio, alice, bob, app,
                                                                      db):
    visitor = app.test_client()
    for path in ("/groups", "/groups/salsa-lab"):
        queries(db, visitor, path)
        spent, html = queries(db, visitor, path)
        assert spent == 0, path  # the second visit is a hit
        assert "Salsa Lab Berlin" in html and "csrf_token" not in html

    # A new group, a rename and a new member are on the visitors' pages at once.
    assert create(bob, slug="bachata-club", name="Bachata Club").status_code == 302
    assert "Bachata Club" in visitor.get("/groups").get_data(as_text=True)
    post(alice, "/g/salsa-lab/manage/details", kind="studio", name="Salsa Lab Kreuzberg",
         description="New rooms.", city_query="Berlin", styles=["salsa"],
         join_mode="open", visibility="public")
    html = visitor.get("/groups/salsa-lab").get_data(as_text=True)
    assert "Salsa Lab Kreuzberg" in html and "New rooms." in html
    dave = signed_in(app, "dave", "Dave Lindqvist")
    post(dave, "/g/salsa-lab/join")
    assert "Dave Lindqvist" in visitor.get("/groups/salsa-lab").get_data(as_text=True)


def test_a_member_never_gets_the_visitors_render(studio, app, bob, db):
    visitor = app.test_client()
    queries(db, visitor, "/groups/salsa-lab")
    spent, html = queries(db, bob, "/groups/salsa-lab")
    assert spent > 0 and "Bob Okafor" in html and "Sign in</a> to join" not in html
    spent, html = queries(db, visitor, "/groups/salsa-lab")
    assert spent == 0 and "Bob Okafor" in html  # on the roster, not as the signed-in header
    assert "Sign out" not in html
