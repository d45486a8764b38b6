"""Groups through the pages: the create and details forms, the directory, joining and
following, managing members, the group site editor, and members replaying what is not theirs."""

from __future__ import annotations

import io
import os
import re

import pytest
from PIL import Image

from tests.conftest import AuthActions, assert_inert, csrf_token, make_config, member_id

FORM = {"kind": "studio", "slug": "salsa-lab", "name": "Salsa Lab Berlin",
        "description": "Classes **every** night.", "city_query": "Berlin",
        "styles": ["salsa", "bachata"], "join_mode": "request", "visibility": "public"}


@pytest.fixture
def config(tmp_path):
    return make_config(media_root=str(tmp_path / "media"))


def signed_in(app, username, display_name=None):
    actions = AuthActions(app.test_client())
    actions.signup(username, display_name=display_name)
    return actions.client


@pytest.fixture
def alice(app):
    return signed_in(app, "alice", "Alice Moreau")


@pytest.fixture
def bob(app):
    return signed_in(app, "bob", "Bob Okafor")


@pytest.fixture
def carol(app):
    return signed_in(app, "carol", "Carol Tanaka")


def token(client):
    return csrf_token(client, "/me/settings")


def create(client, **changes):
    data = {**FORM, **changes, "csrf_token": csrf_token(client, "/groups/new")}
    return client.post("/groups/new", data={k: v for k, v in data.items() if v is not None})


def post(client, path, **data):
    return client.post(path, data={"csrf_token": token(client), **data})


def group_row(db, slug="salsa-lab"):
    with db.system() as s:
        return s.one("SELECT *, record::id(id) AS key FROM group WHERE slug = $s", {"s": slug})


def roles(db, slug="salsa-lab"):
    with db.system() as s:
        rows = s.value("SELECT user.username AS u, role, deleted_at FROM group_member "
                       "WHERE group = (SELECT VALUE id FROM group WHERE slug = $s)[0]", {"s": slug})
    return {r["u"]: r["role"] for r in rows if r["deleted_at"] is None}


@pytest.fixture
def studio(alice, bob, carol, db):
    """Alice's studio with Bob as a plain member and Carol as an admin."""
    assert create(alice).status_code == 302
    with db.system() as s:
        s.query("""LET $g = (SELECT VALUE id FROM group WHERE slug = 'salsa-lab')[0];
                   CREATE group_member SET group = $g, user = $bob, role = 'member';
                   CREATE group_member SET group = $g, user = $carol, role = 'admin';""",
                 {"bob": member_id(db, "bob"), "carol": member_id(db, "carol")})
    return "salsa-lab"


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


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (300, 200), (20, 120, 200)).save(out, "PNG")
    return out.getvalue()


def test_logo_and_cover_go_through_the_media_pipeline(alice, db):
    data = {**FORM, "csrf_token": csrf_token(alice, "/groups/new"),
            "logo_file": (io.BytesIO(png()), "logo.png"), "logo_alt": "A blue square",
            "cover_file": (io.BytesIO(b"not an image"), "cover.png"), "cover_alt": "x"}
    response = alice.post("/groups/new", data=data, content_type="multipart/form-data")
    assert response.status_code in (400, 415, 422) and group_row(db) is None
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
    app.extensions["idance.public_cache"].follower.poll_once()  # the follower drops the page
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


def test_follow_and_unfollow_from_the_directory(studio, app, db):
    dave = signed_in(app, "dave")
    assert "Follow Salsa Lab Berlin" in dave.get("/groups").get_data(as_text=True)
    assert post(dave, "/g/salsa-lab/follow", next="/groups").location == "/groups"
    assert "Unfollow Salsa Lab Berlin" in dave.get("/groups").get_data(as_text=True)
    assert "1 follower" in dave.get("/groups/salsa-lab").get_data(as_text=True)
    post(dave, "/g/salsa-lab/unfollow")
    with db.system() as s:
        assert s.value("RETURN count(SELECT id FROM follow WHERE in = user:dave)") == 0
    assert dave.get("/g/salsa-lab/follow").status_code in (404, 405)  # GET changes nothing


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


# -- others replaying ids and slugs -----------------------------------------------------------

def test_a_plain_member_gets_403_everywhere_in_manage_and_nothing_changes(studio, bob, db):
    before = roles(db), group_row(db)["name"]
    for path in ("/g/salsa-lab/manage", "/g/salsa-lab/manage/details", "/g/salsa-lab/manage/site"):
        assert bob.get(path).status_code == 403, path
    for path, data in (("/g/salsa-lab/manage/members/carol/demote", {}),
                       ("/g/salsa-lab/manage/members/bob/promote", {}),
                       ("/g/salsa-lab/manage/members/alice/remove", {}),
                       ("/g/salsa-lab/manage/invite", {"username": "dave"}),
                       ("/g/salsa-lab/manage/transfer", {"username": "bob"}),
                       ("/g/salsa-lab/manage/delete", {"confirm": "salsa-lab"}),
                       ("/g/salsa-lab/manage/details", {**FORM, "name": "Taken"}),
                       ("/g/salsa-lab/manage/site/create", {}),
                       ("/g/salsa-lab/manage/site/publish", {})):
        assert post(bob, path, **data).status_code == 403, path
        assert bob.get(path).status_code in (403, 405), path
    assert (roles(db), group_row(db)["name"]) == before


def test_an_admin_of_one_group_has_no_power_over_another(studio, app, alice, db):
    dave = signed_in(app, "dave")
    create(dave, slug="dave-crew", name="Dave Crew")
    carol = AuthActions(app.test_client())
    carol.login("carol@example.com")  # admin of salsa-lab only
    for path in ("/g/dave-crew/manage", "/g/dave-crew/manage/site", "/g/dave-crew/manage/details"):
        assert carol.client.get(path).status_code == 403
    for path in ("/g/dave-crew/manage/site/create", "/g/dave-crew/manage/site/publish",
                 "/g/dave-crew/manage/members/dave/remove", "/g/dave-crew/manage/delete"):
        assert post(carol.client, path, confirm="dave-crew").status_code == 403
    assert roles(db, "dave-crew") == {"dave": "owner"}
    with db.system() as s:
        assert s.value("RETURN count(SELECT id FROM site WHERE owner.slug = 'dave-crew')") == 0


def test_unknown_groups_are_404(alice):
    for path in ("/groups/nope-nope", "/g/nope-nope/manage", "/g/nope-nope/manage/site"):
        assert alice.get(path).status_code == 404
    assert post(alice, "/g/nope-nope/join").status_code == 404
    assert post(alice, "/g/nope-nope/manage/members/x/remove").status_code == 404


def test_posts_without_a_csrf_token_are_refused(studio, bob, db):
    assert bob.post("/g/salsa-lab/leave").status_code == 400
    assert bob.post("/groups/new", data=FORM).status_code == 400
    assert roles(db)["bob"] == "member"


# -- the group site editor ------------------------------------------------------------------

def test_an_admin_builds_the_group_site_with_a_live_roster(studio, app, client):
    carol = AuthActions(app.test_client())
    carol.login("carol@example.com")
    editor = "/g/salsa-lab/manage/site"
    assert "Create my site" in carol.client.get(editor).get_data(as_text=True)
    assert post(carol.client, editor + "/create").status_code == 302
    post(carol.client, editor + "/blocks/new", kind="members", page="home", title="Our team")
    assert post(carol.client, editor + "/publish").status_code == 302
    html = client.get("/g/salsa-lab").get_data(as_text=True)
    for name in ("Our team", "Alice Moreau", "Bob Okafor", "Carol Tanaka"):
        assert name in html
    assert re.search(r'href="/g/salsa-lab"', carol.client.get(editor).get_data(as_text=True))


# -- review fixes -------------------------------------------------------------------------------

@pytest.mark.parametrize("city_id", ["1" * 30, "999999999"])
def test_a_city_id_that_names_no_city_is_a_field_error(alice, db, city_id):
    response = create(alice, city_id=city_id)
    assert response.status_code == 400
    assert "We could not find that city." in response.get_data(as_text=True)
    assert group_row(db) is None


def test_the_form_is_checked_once(alice, monkeypatch):
    from idance_web.services import groups

    calls, real = [], groups.check
    monkeypatch.setattr(groups, "check", lambda *a, **kw: calls.append(1) or real(*a, **kw))
    assert create(alice).status_code == 302
    assert len(calls) == 1
    edit = {**FORM, "name": "Renamed", "csrf_token": token(alice)}
    assert alice.post("/g/salsa-lab/manage/details", data=edit).status_code == 302
    assert len(calls) == 2


def media_files(app) -> set[str]:
    root = app.config["IDANCE"].media_root
    return {os.path.join(d, f) for d, _, fs in os.walk(root) for f in fs}


def test_a_refused_group_form_leaves_no_files_behind(app, alice, bob, db):
    def with_logo(client, **changes):
        data = {**FORM, **changes, "csrf_token": csrf_token(client, "/groups/new"),
                "logo_file": (io.BytesIO(png()), "logo.png"), "logo_alt": "A blue square"}
        return client.post("/groups/new", data=data, content_type="multipart/form-data")

    # A good logo with a refused cover; then a good logo with a bad name.
    assert with_logo(alice, cover_file=(io.BytesIO(b"not an image"), "c.png"),
                     cover_alt="x").status_code in (400, 415, 422)
    assert with_logo(alice, name="").status_code == 400
    assert media_files(app) == set() and group_row(db) is None
    assert create(alice).status_code == 302
    # The address is taken: only the database can tell, after the logo was stored.
    assert with_logo(bob).status_code == 400
    assert media_files(app) == set()
    assert with_logo(bob, slug="bob-lab").status_code == 302 and media_files(app)
