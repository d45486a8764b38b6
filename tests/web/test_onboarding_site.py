"""The set-up's last step: a starter site published at once or opened in the editor, and a
site she already built left alone."""

from __future__ import annotations

import pytest

from tests.fixtures.auth import AuthActions, csrf_token, member_id
from tests.fixtures.sites import Editor, draft_keys


@pytest.fixture
def alice(app):
    actions = AuthActions(app.test_client())
    actions.signup("alice", display_name="Alice Moreau")
    client = actions.client
    token = csrf_token(client, "/me/welcome/city")
    client.post("/me/welcome/city", data={"csrf_token": token, "city_query": "Berlin"})
    client.post("/me/welcome/styles", data={"csrf_token": token, "styles-0-style": "salsa",
                                            "styles-0-level": "advanced",
                                            "styles-0-role": "follow"})
    client.post("/me/welcome/picture/skip", data={"csrf_token": token})
    return client


def choose(client, layout: str, action: str = "publish"):
    return client.post("/me/welcome/site", data={
        "csrf_token": csrf_token(client, "/me/welcome/site"), "layout": layout, action: "y"})


def site_row(db, username="alice"):
    with db.system() as s:
        return s.one("SELECT draft, published_version FROM site WHERE owner = $me",
                     {"me": member_id(db, username)})


def test_the_page_offers_three_layouts_from_her_profile(alice):
    html = alice.get("/me/welcome/site").get_data(as_text=True)
    for title in ("Portrait", "Essentials", "Stage"):
        assert f">{title}</h2>" in html
    assert html.count('name="publish"') == 3 and html.count('name="edit"') == 3
    assert "<strong>Alice Moreau</strong>" in html and "Salsa in Berlin" in html
    assert "your site is live at <strong>/@alice</strong>" in html


def test_publish_at_once_puts_her_site_online(app, alice, db):
    response = choose(alice, "portrait")
    assert response.status_code == 302 and response.headers["Location"] == "/me/welcome/done"
    done = alice.get("/me/welcome/done").get_data(as_text=True)
    assert "Your site is published at /@alice." in done and 'href="/@alice">see your site' in done
    public = app.test_client().get("/@alice")
    html = public.get_data(as_text=True)
    assert public.status_code == 200
    assert "<h1>Alice Moreau</h1>" in html and "Salsa in Berlin" in html
    assert "Salsa <span class=\"muted\">· advanced · follow</span>" in html
    assert 'action="/@alice/contact"' in html
    assert site_row(db)["draft"]["theme"] == "rose"
    with db.system() as s:
        assert s.value("RETURN $me.onboarding", {"me": member_id(db, "alice")}) is None


def test_edit_first_opens_the_editor_with_the_draft_unpublished(app, alice, db):
    response = choose(alice, "essentials", "edit")
    assert response.headers["Location"] == "/me/site"
    editor = alice.get("/me/site").get_data(as_text=True)
    assert "the “Essentials” layout" in editor and "Not published yet" in editor
    assert len(draft_keys(db)) == 3
    assert site_row(db)["published_version"] is None
    # Visitors still see her profile page, not the draft.
    assert "block-hero" not in app.test_client().get("/@alice").get_data(as_text=True)


def test_an_unknown_layout_shows_the_choice_again(alice, db):
    response = choose(alice, "mystery")
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and "Choose one of the layouts below." in html
    assert site_row(db) is None


def test_a_site_with_blocks_is_never_overwritten(alice, db):
    editor = Editor(alice)
    editor.post("/create")
    editor.add("text", body="My own words")
    before = draft_keys(db)
    html = alice.get("/me/welcome/site").get_data(as_text=True)
    assert "Your site already has content (1 block)" in html
    assert 'name="publish"' not in html and "Keep my site and finish" in html
    # A layout posted anyway (an old tab) changes nothing and says why.
    response = choose(alice, "portrait")
    assert response.status_code == 409
    assert "Your site already has content, so we left it as it is." in response.get_data(
        as_text=True)
    assert draft_keys(db) == before and site_row(db)["published_version"] is None
    kept = alice.post("/me/welcome/site/skip",
                      data={"csrf_token": csrf_token(alice, "/me/welcome/site")})
    assert kept.headers["Location"] == "/me/welcome/done"


def test_a_published_site_is_not_overwritten_either(alice, db):
    editor = Editor(alice)
    editor.post("/create")
    editor.publish()  # online with no blocks: still hers to change, not ours
    version = site_row(db)["published_version"]
    assert "and is published at" in alice.get("/me/welcome/site").get_data(as_text=True)
    assert choose(alice, "stage").status_code == 409
    assert draft_keys(db) == [] and site_row(db)["published_version"] == version


def test_the_editor_without_a_site_offers_the_starter_layouts(alice):
    alice.post("/me/welcome/finish", data={"csrf_token": csrf_token(alice, "/me/site")})
    editor = alice.get("/me/site").get_data(as_text=True)
    assert 'href="/me/welcome/site"' in editor
    assert choose(alice, "essentials").status_code == 302
    assert 'href="/me/welcome/site"' not in alice.get("/me/site").get_data(as_text=True)
