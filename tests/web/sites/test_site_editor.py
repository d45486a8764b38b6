"""The site editor: building, ordering, publishing and who may touch a site."""

from __future__ import annotations

import io
import os
import re
import threading

import pytest
from PIL import Image
from werkzeug.test import encode_multipart

from idance_web.services import sites
from tests.fixtures.auth import AuthActions, csrf_token, member_id
from tests.fixtures.sites import Editor, draft_keys, poll
from tests.fixtures.groups import create as create_group


def test_build_publish_and_visitors_see_exactly_the_published_version(app, alice, visitor):
    assert alice.add("hero", title="Alice dances", subtitle="Salsa in Berlin").status_code == 302
    assert alice.add("text", title="About", body="I teach **salsa**.").status_code == 302
    assert alice.add("quote", text="Best teacher ever", author="A student").status_code == 302
    assert visitor.get("/@alice").status_code == 200  # her profile, no site yet
    assert "I teach" not in visitor.get("/@alice").get_data(as_text=True)
    alice.publish()
    html = visitor.get("/@alice").get_data(as_text=True)
    assert "Alice dances" in html and "<strong>salsa</strong>" in html and "Best teacher" in html
    # Edits after publishing stay in the draft until published again.
    alice.add("text", title="Draft only", body="Not yet")
    poll(app)
    assert "Draft only" not in visitor.get("/@alice").get_data(as_text=True)
    alice.publish()
    poll(app)
    assert "Draft only" in visitor.get("/@alice").get_data(as_text=True)


def test_block_errors_name_the_field_and_keep_input(alice):
    response = alice.add("hero", title="", subtitle="kept subtitle", cta_label="Book")
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Title is required." in html and "A button needs both a label and an address." in html
    assert "kept subtitle" in html
    bad_video = alice.add("video", url="https://evil.example/watch?v=x")
    assert "Paste a YouTube or Vimeo link" in bad_video.get_data(as_text=True)


def test_hidden_blocks_and_draft_pages_stay_private(app, alice, visitor, db):
    alice.add("text", body="Visible text")
    alice.add("text", body="Hidden text")
    keys = draft_keys(db)
    alice.post(f"/blocks/{keys[1]}/hide")
    alice.post("/pages", {"title": "Classes", "slug": "classes"})
    alice.add("text", page="classes", body="Class page text")
    alice.publish()
    html = visitor.get("/@alice").get_data(as_text=True)
    assert "Visible text" in html and "Hidden text" not in html
    assert "Class page text" in visitor.get("/@alice/classes").get_data(as_text=True)
    alice.post("/pages", {"title": "Secret", "slug": "secret"})  # added after publishing
    assert visitor.get("/@alice/secret").status_code == 404
    with db.visitor() as s:  # the database itself refuses drafts and hidden blocks
        assert s.rows("SELECT id FROM content_block WHERE stage = 'draft' OR hidden = true") == []
        assert all("draft" not in r for r in s.rows("SELECT * FROM site"))


def test_reserved_and_duplicate_page_slugs_are_refused(alice):
    for slug, message in [("manage", "reserved"), ("home", "reserved"), ("Bad Slug", "lowercase")]:
        html = alice.post("/pages", {"title": "X", "slug": slug}).get_data(as_text=True)
        assert message in html


def test_removing_a_page_keeps_a_page_another_tab_added(alice, db):
    key = str(member_id(db, "alice").id)
    site = sites.get_site(db, key, member_id(db, "alice"))
    sites.add_page(db, key, site, "old", "Old")
    sites.add_block(db, key, site["id"], "old", "text", {"body": "Old news"})
    first_tab = sites.get_site(db, key, member_id(db, "alice"))  # shows home and old
    second_tab = sites.get_site(db, key, member_id(db, "alice"))
    sites.add_page(db, key, second_tab, "classes", "Classes")
    sites.add_block(db, key, site["id"], "classes", "text", {"body": "Mondays"})
    sites.remove_page(db, key, first_tab, "old")  # her list there predates "classes"
    after = sites.get_site(db, key, member_id(db, "alice"))
    assert [p["slug"] for p in after["draft"]["pages"]] == ["home", "classes"]
    assert sites.editor_blocks(db, key, site["id"], "old") == []
    assert [b["data"]["body"] for b in sites.editor_blocks(db, key, site["id"], "classes")] == [
        "Mondays"]


def test_unpublished_and_deleted_sites_are_404(app, alice, visitor, db):
    alice.add("text", body="Hello")
    alice.publish()
    alice.post("/unpublish")
    poll(app)
    # Without a site she still has a profile page; the site's own pages are gone.
    assert "Hello" not in visitor.get("/@alice").get_data(as_text=True)
    alice.publish()
    poll(app)
    assert "Hello" in visitor.get("/@alice").get_data(as_text=True)
    with db.system() as s:
        s.query("UPDATE $me SET deleted_at = time::now()", {"me": member_id(db, "alice")})
    poll(app)
    assert visitor.get("/@alice").status_code == 404


def test_reorder_by_buttons_and_by_drag_and_drop(alice, db):
    for word in ("one", "two", "three"):
        alice.add("text", body=word)
    one, two, three = draft_keys(db)
    alice.post(f"/blocks/{three}/up")
    assert draft_keys(db) == [one, three, two]
    alice.post("/reorder", {"page": "home", "keys": [two, one, three]})
    assert draft_keys(db) == [two, one, three]
    alice.post(f"/blocks/{one}/duplicate")
    alice.post(f"/blocks/{two}/delete")
    assert len(draft_keys(db)) == 3 and two not in draft_keys(db)


def test_concurrent_edits_from_two_tabs_lose_no_block(app, alice, db):
    user = alice.client.application
    key = str(member_id(db, "alice").id)
    site = sites.get_site(db, key, member_id(db, "alice"))
    errors = []

    def tab(word):
        try:
            for i in range(15):
                sites.add_block(db, key, site["id"], "home", "text", {"body": f"{word}{i}"})
                if i % 5 == 4:
                    current = [b["key"] for b in sites.editor_blocks(db, key, site["id"], "home")]
                    sites.reorder(db, key, site["id"], "home", list(reversed(current)))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=tab, args=(w,)) for w in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and user is app
    blocks = sites.editor_blocks(db, key, site["id"], "home")
    assert len(blocks) == 30
    assert len({b["position"] for b in blocks}) == 30
    assert sorted(b["data"]["body"] for b in blocks) == sorted(
        [f"a{i}" for i in range(15)] + [f"b{i}" for i in range(15)]
    )


def test_another_member_cannot_touch_her_blocks(app, alice, db):
    alice.add("text", body="Mine")
    key = draft_keys(db)[0]
    bob = AuthActions(app.test_client())
    bob.signup("bob")
    mallory = Editor(bob.client)
    mallory.post("/create")
    assert mallory.client.get(f"/me/site/blocks/{key}").status_code == 404
    for path in (f"/blocks/{key}", f"/blocks/{key}/delete", f"/blocks/{key}/hide"):
        assert mallory.post(path, {"body": "pwned"}).status_code == 404
    mallory.post("/reorder", {"page": "home", "keys": [key]})
    with db.system() as s:
        row = s.one(
            "SELECT data, hidden, position FROM ONLY type::thing('content_block', $k)", {"k": key}
        )
    assert row == {"data": {"body": "Mine"}, "hidden": False, "position": 1}


def test_preview_shows_the_draft_to_the_owner_only(app, alice, visitor):
    alice.add("text", body="Draft words")
    assert "Draft words" in alice.client.get("/me/site/preview").get_data(as_text=True)
    assert visitor.get("/me/site/preview").status_code == 302  # to sign in


def test_editor_pages_require_sign_in(client):
    for path in ("/me/site", "/me/site/blocks/new?kind=text"):
        assert client.get(path).status_code == 302


def test_image_and_gallery_blocks_take_uploads_with_alt_text(app, alice, visitor):
    import io

    from PIL import Image

    def png(color):
        out = io.BytesIO()
        Image.new("RGB", (800, 500), color).save(out, "PNG")
        return (io.BytesIO(out.getvalue()), "photo.png")

    missing = alice.add("gallery", **{"items-0-caption": "No picture"})
    assert "Image is required: choose a file." in missing.get_data(as_text=True)
    response = alice.post(
        "/blocks/new",
        {
            "kind": "image",
            "page": "home",
            "caption": "On stage",
            "image_file": png("red"),
            "image_alt": "Nina on stage",
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    response = alice.post(
        "/blocks/new",
        {
            "kind": "gallery",
            "page": "home",
            "title": "Shows",
            "items-0-image_file": png("blue"),
            "items-0-image_alt": "Blue show",
            "items-1-image_file": png("green"),
            "items-1-image_alt": "Green show",
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    refused = alice.post(
        "/blocks/new",
        {
            "kind": "image",
            "page": "home",
            "image_file": (io.BytesIO(b"<svg/>"), "x.jpg"),
            "image_alt": "x",
        },
        content_type="multipart/form-data",
    )
    assert refused.status_code == 400
    assert "not accepted" in refused.get_data(as_text=True)
    alice.publish()
    html = visitor.get("/@alice").get_data(as_text=True)
    for alt in ("Nina on stage", "Blue show", "Green show"):
        assert f'alt="{alt}"' in html
    src = re.search(r'<img src="(/media/[^"]+)" alt="Nina on stage"', html).group(1)
    assert visitor.get(src).mimetype == "image/webp"


def test_a_megabyte_of_block_fields_is_refused_before_the_database(alice, db):
    big = {"kind": "text", "page": "home", "body": "x" * 1_100_000}
    many = {"kind": "links", "page": "home", **{f"items-{i}-label": "l" for i in range(5000)}}
    token = csrf_token(alice.client, "/me/settings")
    before = db.query_count
    # As the browser sends the block form (multipart): Werkzeug's limits on a field's size and
    # on the number of parts answer 413 before any view runs. (The body is encoded here: the
    # test client would spool a large one to a file it never closes.)
    for data in (big, many):
        boundary, body = encode_multipart({**data, "csrf_token": token})
        response = alice.client.post("/me/site/blocks/new", data=body,
                                     content_type=f"multipart/form-data; boundary={boundary}")
        assert response.status_code == 413
    assert db.query_count - before <= 2  # each request's session lookup: no view ran
    # URL-encoded, the body is read whole (up to the upload cap): the form's own field limits
    # refuse it, and the form comes back with its problem named.
    before = db.query_count
    for data in (big, many):
        response = alice.post("/blocks/new", data)
        assert response.status_code == 400
        assert "Some fields need attention" in response.get_data(as_text=True)
    # the session and the owner lookups and the navigation's unread count, no write
    assert db.query_count - before <= 6


def test_blocks_go_only_to_pages_the_draft_has(alice, db):
    for page in ("Bad Page!", "nope"):
        response = alice.add("text", page=page, body="Lost words")
        assert response.status_code == 302 and response.location.endswith("/me/site")
        assert "That page does not exist." in alice.client.get(response.location).get_data(
            as_text=True
        )
        form = alice.client.get(f"/me/site/blocks/new?kind=text&page={page}")
        assert form.status_code == 302
    assert draft_keys(db) == []
    alice.add("text", body="one")
    assert alice.post("/reorder", {"page": "nope", "keys": draft_keys(db)}).status_code == 404
    assert alice.post("/reorder", {"page": "Bad Page!", "keys": draft_keys(db)}).status_code == 404
    alice.post("/pages", {"title": "Classes", "slug": "classes"})
    assert alice.add("text", page="classes", body="Class text").status_code == 302


def test_posts_without_a_csrf_token_are_refused(alice, db):
    assert (
        alice.client.post(
            "/me/site/blocks/new", data={"kind": "text", "page": "home", "body": "No token"}
        ).status_code
        == 400
    )
    assert alice.client.post("/me/site/publish").status_code == 400
    assert draft_keys(db) == []


def _media_files(app) -> set[str]:
    root = app.config["IDANCE"].media_root
    return {os.path.join(d, f) for d, _, fs in os.walk(root) for f in fs}


def _png(color):
    out = io.BytesIO()
    Image.new("RGB", (64, 48), color).save(out, "PNG")
    return (io.BytesIO(out.getvalue()), "photo.png")


def test_a_refused_block_form_leaves_no_files_behind(app, alice, db):
    before = _media_files(app)
    # A valid cover image, but the hero has no title.
    refused = alice.post(
        "/blocks/new",
        {
            "kind": "hero",
            "page": "home",
            "title": "",
            "image_file": _png((1, 2, 3)),
            "image_alt": "A stage",
        },
        content_type="multipart/form-data",
    )
    assert refused.status_code == 400 and "Title is required." in refused.get_data(as_text=True)
    assert _media_files(app) == before
    assert "/media/" not in refused.get_data(as_text=True)  # no picture of an unstored file
    # One good gallery image and one refused file.
    refused = alice.post(
        "/blocks/new",
        {
            "kind": "gallery",
            "page": "home",
            "items-0-image_file": _png((4, 5, 6)),
            "items-0-image_alt": "Good",
            "items-1-image_file": (io.BytesIO(b"<svg/>"), "x.png"),
            "items-1-image_alt": "Bad",
        },
        content_type="multipart/form-data",
    )
    assert refused.status_code == 400
    assert _media_files(app) == before and draft_keys(db) == []
    # Once the form is valid, the upload is stored.
    saved = alice.post(
        "/blocks/new",
        {
            "kind": "hero",
            "page": "home",
            "title": "On stage",
            "image_file": _png((1, 2, 3)),
            "image_alt": "A stage",
        },
        content_type="multipart/form-data",
    )
    assert saved.status_code == 302 and _media_files(app) > before


@pytest.fixture(params=["member", "group"])
def editor(request, alice):
    """Alice's member site, or the site of the group she owns: one editor serves both."""
    if request.param == "group":
        assert create_group(alice.client).status_code == 302
        alice = Editor(alice.client, "/g/salsa-lab/manage/site")
        assert alice.post("/create").status_code == 302
    return alice


def test_a_refused_block_edit_shows_the_form_again_and_a_block_opens_for_editing(editor):
    # Both answered 500: the block's key went to url_for twice (TypeError, or KeyError while
    # the refusal was being handled).
    editor.add("text", title="About", body="I teach salsa.")
    listing = editor.client.get(editor.prefix).get_data(as_text=True)
    key = re.search(rf'href="{editor.prefix}/blocks/(\w+)"', listing).group(1)
    refused = editor.post(f"/blocks/{key}", {"title": "x" * 500, "body": "Changed"})
    html = refused.get_data(as_text=True)
    assert refused.status_code == 400 and "Heading must be at most 120 characters." in html
    assert f'action="{editor.prefix}/blocks/{key}"' in html and "Changed" in html
    form = editor.client.get(f"{editor.prefix}/blocks/{key}")
    html = form.get_data(as_text=True)
    assert form.status_code == 200 and "I teach salsa." in html
    assert f'action="{editor.prefix}/blocks/{key}"' in html
    assert f'href="{editor.prefix}?page=home">Cancel' in html  # no stray key in the editor URL
    saved = editor.post(f"/blocks/{key}", {"title": "About me", "body": "Changed"})
    assert saved.status_code == 302 and saved.location == f"{editor.prefix}?page=home"
    assert "About me" in editor.client.get(f"{editor.prefix}/blocks/{key}").get_data(as_text=True)
    hidden = editor.post(f"/blocks/{key}/hide")
    assert hidden.location == f"{editor.prefix}?page=home#block-{key}"


@pytest.mark.parametrize("count", ["²", "0", "-1", "13", "1e309"])
def test_a_count_that_is_no_number_from_1_to_12_is_a_field_error(alice, db, count):
    # "²" is a digit to str.isdigit() but not to int(): it answered 500.
    response = alice.add("vlogs", title="Latest", count=count)
    assert response.status_code == 400
    assert "How many must be a number from 1 to 12." in response.get_data(as_text=True)
    assert draft_keys(db) == []
    assert alice.add("vlogs", title="Latest", count="3").status_code == 302
