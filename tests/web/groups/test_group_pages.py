"""Groups through their pages: creating, editing, the directory, membership."""

from __future__ import annotations

import io
import re

import pytest

from tests.fixtures.auth import AuthActions, csrf_token
from tests.fixtures.groups import FORM, create, group_row, post, roles, signed_in, token
from tests.fixtures.images import png
from tests.fixtures.markup import assert_inert

# -- creating -----------------------------------------------------------------------------------

def test_a_member_creates_a_group_and_owns_it(alice, db):
    response = create(alice)
    assert response.status_code == 302 and response.location.endswith("/g/salsa-lab/manage")
    row = group_row(db)
    assert row["name"] == "Salsa Lab Berlin" and row["kind"] == "studio"
    assert sorted(str(s.id) for s in row["styles"]) == ["bachata", "salsa"]
    assert len(row["location"]) == 3 and row["city"] is not None
    assert roles(db) == {"alice": "owner"}
    html = alice.get("/g/salsa-lab/manage").get_data(as_text=True)
    assert "Manage Salsa Lab Berlin" in html and "/g/salsa-lab/manage/site" in html


def test_signing_in_is_needed_to_create(client):
    response = client.get("/groups/new")
    assert response.status_code == 302 and "/login" in response.location


@pytest.mark.parametrize("field, value, message", [
    ("slug", "Bad Slug!", "Use 3–50 lowercase letters"),
    ("slug", "new", "That address is reserved."),
    ("slug", "manage", "That address is reserved."),
    ("name", "", "Give the group a name"),
    ("kind", "cult", "Choose what kind of group this is."),
    ("city_query", "Atlantis", "We could not find that city."),
    ("styles", ["moonwalk"], "Choose styles from the list."),
    ("join_mode", "anyone", "Choose how people join."),
])
def test_errors_show_next_to_the_field_and_keep_the_input(alice, db, field, value, message):
    response = create(alice, description="typed text stays", **{field: value})
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert message in html and 'aria-invalid="true"' in html
    assert "typed text stays" in html
    assert 'value="Salsa Lab Berlin"' in html or field == "name"
    assert group_row(db, "salsa-lab") is None


def test_a_taken_address_is_a_clear_message_not_an_error_page(alice, bob, db):
    assert create(alice).status_code == 302
    response = create(bob, name="Another Lab")
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and "That address is taken." in html
    assert 'value="Another Lab"' in html
    assert group_row(db)["name"] == "Salsa Lab Berlin"


def test_an_ambiguous_city_offers_a_choice(alice, db):
    with db.system() as s:
        s.query("CREATE city:5083330 SET name = 'Berlin', name_key = 'berlin', country = country:US,"
                " population = 10000, point = (-71.18, 44.47), vector = [-0.23, -0.69, 0.70]")
    response = create(alice)
    assert response.status_code == 400 and "Which one?" in response.get_data(as_text=True)
    assert create(alice, city_id="5083330").status_code == 302
    assert str(group_row(db)["city"].id) == "5083330"




def test_logo_and_cover_go_through_the_media_pipeline(alice, db):
    data = {**FORM, "csrf_token": csrf_token(alice, "/groups/new"),
            "logo_file": (io.BytesIO(png()), "logo.png"), "logo_alt": "A blue square",
            "cover_file": (io.BytesIO(b"not an image"), "cover.png"), "cover_alt": "x"}
    response = alice.post("/groups/new", data=data, content_type="multipart/form-data")
    assert response.status_code == 422 and group_row(db) is None  # the image is refused
    assert 'id="cover_file-error"' in response.get_data(as_text=True)
    data.update(logo_file=(io.BytesIO(png()), "logo.png"), cover_file=(io.BytesIO(png()), "c.png"))
    assert alice.post("/groups/new", data=data,
                      content_type="multipart/form-data").status_code == 302
    row = group_row(db)
    assert row["logo"]["alt"] == "A blue square" and row["logo"]["variants"]
    assert row["cover"]["variants"]
    # Editing the details keeps the pictures; a new description of one changes its alt text.
    edit = {**FORM, "logo_alt": "The studio's blue logo", "csrf_token": token(alice)}
    assert alice.post("/g/salsa-lab/manage/details", data=edit).status_code == 302
    after = group_row(db)
    assert after["logo"]["alt"] == "The studio's blue logo"
    assert after["logo"]["variants"] == row["logo"]["variants"] and after["cover"] == row["cover"]
    edit.update(cover_remove="1")
    alice.post("/g/salsa-lab/manage/details", data=edit)
    assert group_row(db).get("cover") is None and group_row(db)["logo"]


def test_xss_in_name_and_description_is_inert(alice, bob, db):
    evil = '<script>alert(1)</script><img src=x onerror=alert(2)>'
    assert create(alice, name=evil[:100], description=evil + " [x](javascript:alert(3))").status_code == 302
    for client, path in ((alice, "/groups"), (bob, "/groups/salsa-lab"), (alice, "/g/salsa-lab/manage"),
                         (alice, "/g/salsa-lab/manage/details"), (bob, "/groups")):
        html = client.get(path).get_data(as_text=True)
        assert "&lt;script&gt;" in html
        assert_inert(html)


# -- editing and deleting ---------------------------------------------------------------------

def test_an_admin_edits_the_details_but_not_the_address(studio, app, db):
    carol = AuthActions(app.test_client())
    carol.login("carol@example.com")
    page = carol.client.get("/g/salsa-lab/manage/details").get_data(as_text=True)
    assert 'value="Salsa Lab Berlin"' in page and "(fixed)" in page
    data = {**FORM, "slug": "stolen", "name": "Salsa Lab", "city_query": "Paris", "city_id": "",
            "visibility": "unlisted", "csrf_token": token(carol.client)}
    assert carol.client.post("/g/salsa-lab/manage/details", data=data).status_code == 302
    row = group_row(db)
    assert row["name"] == "Salsa Lab" and row["visibility"] == "unlisted"
    assert row["slug"] == "salsa-lab" and group_row(db, "stolen") is None
    with db.system() as s:
        assert s.value("RETURN $c.name", {"c": row["city"]}) == "Paris"


def test_the_owner_deletes_the_group_and_its_site_goes_with_it(studio, alice, app, db, client):
    editor = "/g/salsa-lab/manage/site"
    assert post(alice, editor + "/create").status_code == 302
    assert post(alice, editor + "/blocks/new", kind="text", page="home",
                body="Welcome to the lab").status_code == 302
    assert post(alice, editor + "/publish").status_code == 302
    assert "Welcome to the lab" in client.get("/g/salsa-lab").get_data(as_text=True)
    response = post(alice, "/g/salsa-lab/manage/delete", confirm="salsa-lab-typo")
    assert "Type the group" in alice.get(response.location).get_data(as_text=True)
    assert group_row(db).get("deleted_at") is None
    assert post(alice, "/g/salsa-lab/manage/delete", confirm="salsa-lab").status_code == 302
    app.extensions["idance.hub"].poll_once()  # the hub drops the page
    assert client.get("/g/salsa-lab").status_code == 404
    assert client.get("/groups/salsa-lab").status_code == 404
    assert alice.get("/g/salsa-lab/manage").status_code == 404
    with db.system() as s:
        assert s.value("SELECT VALUE deleted_at FROM site WHERE owner.slug = 'salsa-lab'")[0]
    assert "Salsa Lab Berlin" not in alice.get("/groups").get_data(as_text=True)


def test_an_admin_cannot_delete_the_group(studio, app, db):
    carol = AuthActions(app.test_client())
    carol.login("carol@example.com")
    response = post(carol.client, "/g/salsa-lab/manage/delete", confirm="salsa-lab")
    assert "Only the owner can delete the group." in carol.client.get(response.location).get_data(as_text=True)
    assert group_row(db).get("deleted_at") is None


# -- the directory ------------------------------------------------------------------------------

def test_the_directory_filters_by_style_and_orders_by_distance(alice, bob, db):
    create(alice)
    create(alice, slug="paris-crew", name="Paris Crew", kind="crew", city_query="Paris",
           styles=["hip_hop"])
    create(alice, slug="hidden-crew", name="Hidden Crew", city_query="Paris",
           visibility="unlisted")
    html = bob.get("/groups").get_data(as_text=True)
    assert "Salsa Lab Berlin" in html and "Paris Crew" in html and "Hidden Crew" not in html
    html = bob.get("/groups?style=hip_hop").get_data(as_text=True)
    assert "Paris Crew" in html and "Salsa Lab Berlin" not in html
    html = bob.get("/groups?city=Paris").get_data(as_text=True)
    assert html.index("Paris Crew") < html.index("Salsa Lab Berlin") and "km away" in html
    assert "Hidden Crew" not in html
    html = bob.get("/groups?city=Berlin&style=salsa").get_data(as_text=True)
    assert "Salsa Lab Berlin" in html and "Paris Crew" not in html
    assert "no style" in bob.get("/groups?style=moonwalk").get_data(as_text=True)
    # An unlisted group is reachable by its address.
    assert bob.get("/groups/hidden-crew").status_code == 200


def test_the_directory_pages_newest_first_from_a_cursor(alice, bob, monkeypatch):
    from idance_web.services import groups

    monkeypatch.setattr(groups, "LISTED", 2)
    for n in (1, 2, 3):
        assert create(alice, slug=f"crew-{n}", name=f"Crew {n}", styles=["salsa"]).status_code \
            == 302
    create(alice, slug="crew-hidden", name="Crew Hidden", visibility="unlisted")
    html = bob.get("/groups").get_data(as_text=True)
    assert html.index("Crew 3") < html.index("Crew 2") and "Crew 1" not in html
    after = re.search(r'href="/groups\?after=([^"]+)" rel="next"', html).group(1)
    rest = bob.get(f"/groups?after={after}").get_data(as_text=True)
    assert "Crew 1" in rest and "Crew 2" not in rest and "Crew Hidden" not in rest
    assert 'rel="next"' not in rest
    styled = bob.get("/groups?style=salsa").get_data(as_text=True)
    after = re.search(r'href="/groups\?style=salsa&amp;after=([^"]+)"', styled).group(1)
    assert "Crew 1" in bob.get(f"/groups?style=salsa&after={after}").get_data(as_text=True)
    # A cursor that is not one shows the first page.
    assert "Crew 3" in bob.get("/groups?after=x' OR true").get_data(as_text=True)


def test_follow_and_unfollow_from_the_directory(studio, app, db):
    dave = signed_in(app, "dave")
    assert "Follow Salsa Lab Berlin" in dave.get("/groups").get_data(as_text=True)
    assert post(dave, "/g/salsa-lab/follow", next="/groups").location == "/groups"
    assert "Unfollow Salsa Lab Berlin" in dave.get("/groups").get_data(as_text=True)
    assert "1 follower" in dave.get("/groups/salsa-lab").get_data(as_text=True)
    post(dave, "/g/salsa-lab/unfollow")
    with db.system() as s:
        assert s.value("RETURN count(SELECT id FROM follow WHERE in = user:dave)") == 0
    # A GET is the group site's page named "follow", which it does not have: it changes nothing.
    assert dave.get("/g/salsa-lab/follow").status_code == 404


# -- membership through the pages -------------------------------------------------------------

def test_request_approve_invite_accept_promote_remove(alice, bob, carol, db):
    create(alice)
    assert "Ask to join" in bob.get("/groups/salsa-lab").get_data(as_text=True)
    post(bob, "/g/salsa-lab/join")
    assert roles(db) == {"alice": "owner", "bob": "requested"}
    manage = alice.get("/g/salsa-lab/manage").get_data(as_text=True)
    assert "Approve" in manage and "Bob Okafor" in manage
    post(alice, "/g/salsa-lab/manage/members/bob/approve")
    post(alice, "/g/salsa-lab/manage/invite", username="carol")
    mine = carol.get("/groups").get_data(as_text=True)
    assert "You are invited by Alice Moreau" in mine and ">Accept<" in mine and ">Decline<" in mine
    post(carol, "/g/salsa-lab/accept", next="/groups")
    post(alice, "/g/salsa-lab/manage/members/carol/promote")
    assert roles(db) == {"alice": "owner", "bob": "member", "carol": "admin"}
    post(carol, "/g/salsa-lab/manage/members/bob/remove")
    assert roles(db) == {"alice": "owner", "carol": "admin"}
    log = alice.get("/g/salsa-lab/manage").get_data(as_text=True)
    assert "Recent changes" in log and "member → removed" in log


def test_unknown_usernames_and_duplicates_are_explained(studio, alice):
    response = post(alice, "/g/salsa-lab/manage/invite", username="nobody")
    assert "No member has the username" in alice.get(response.location).get_data(as_text=True)
    response = post(alice, "/g/salsa-lab/manage/invite", username="bob")
    assert "bob is a member already." in alice.get(response.location).get_data(as_text=True)


def test_the_last_owner_cannot_leave_but_can_transfer(studio, alice, db):
    response = post(alice, "/g/salsa-lab/leave")
    assert "transfer it to another member" in alice.get(response.location).get_data(as_text=True)
    assert roles(db)["alice"] == "owner"
    post(alice, "/g/salsa-lab/manage/transfer", username="bob")
    assert roles(db) == {"alice": "admin", "bob": "owner", "carol": "admin"}
    post(alice, "/g/salsa-lab/leave")
    assert "alice" not in roles(db)
