"""Who may do what to a group through its pages, and bad input."""

from __future__ import annotations

import io
import os
import re

import pytest

from tests.fixtures.auth import AuthActions, csrf_token
from tests.fixtures.groups import FORM, create, group_row, post, roles, signed_in, token
from tests.fixtures.images import png

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
        # Only the details form is a page; the other actions answer POST alone.
        assert bob.get(path).status_code == (403 if path.endswith("/details") else 405), path
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


# -- bad input -------------------------------------------------------------------------------

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
                     cover_alt="x").status_code == 422
    assert with_logo(alice, name="").status_code == 400
    assert media_files(app) == set() and group_row(db) is None
    assert create(alice).status_code == 302
    # The address is taken: only the database can tell, after the logo was stored.
    assert with_logo(bob).status_code == 400
    assert media_files(app) == set()
    assert with_logo(bob, slug="bob-lab").status_code == 302 and media_files(app)
