"""The set-up after sign-up, through its pages: each step, its errors, skipping, resuming."""

from __future__ import annotations

import io
import os
import zlib

import pytest
from PIL import Image

from tests.fixtures.app import build_app, make_config
from tests.fixtures.auth import AuthActions, csrf_token, member_id
from tests.fixtures.images import png_header_only

STEPS = ("city", "styles", "picture", "site")
SALSA = {"styles-0-style": "salsa", "styles-0-level": "advanced", "styles-0-role": "lead"}


def jpeg(size=(320, 320)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (180, 40, 90)).save(out, "JPEG")
    return out.getvalue()


def post(client, step: str, files: bool = False, **data):
    """Submit a step's form as the browser would (its CSRF token from the step's page)."""
    token = csrf_token(client, f"/me/welcome/{step}")
    return client.post(f"/me/welcome/{step}", data={"csrf_token": token, **data},
                       content_type="multipart/form-data" if files else None)


def skip(client, step: str):
    return client.post(f"/me/welcome/{step}/skip",
                       data={"csrf_token": csrf_token(client, f"/me/welcome/{step}")})


def upload(client, data: bytes, name="me.jpg", alt="Alice mid-spin"):
    return post(client, "picture", files=True, alt=alt, file=(io.BytesIO(data), name))


def place(db, username="alice"):
    """Where her set-up stands, read as the system."""
    with db.system() as s:
        return s.value("RETURN $me.onboarding", {"me": member_id(db, username)})


def profile_row(db, username="alice") -> dict:
    with db.system() as s:
        return s.one("SELECT city.name AS city, avatar, (SELECT record::id(out) AS style, level,"
                     " role FROM user_dance_style WHERE in = $me) AS styles"
                     " FROM profile WHERE owner = $me", {"me": member_id(db, username)})


@pytest.fixture
def alice(app):
    actions = AuthActions(app.test_client())
    actions.signup("alice", display_name="Alice Moreau")
    return actions.client


def test_sign_up_starts_the_set_up_at_her_city(app, db):
    response = AuthActions(app.test_client()).signup("alice")
    assert response.headers["Location"] == "/me/welcome"
    assert place(db) == "city"


def test_the_steps_save_where_the_profile_editor_keeps_things(alice, db):
    saved = post(alice, "city", city_query="Berlin")
    assert saved.status_code == 302 and saved.headers["Location"] == "/me/welcome/styles"
    assert place(db) == "styles"
    saved = post(alice, "styles", **SALSA, **{
        "styles-1-style": "bachata", "styles-1-level": "beginner", "styles-1-role": "both"})
    assert saved.headers["Location"] == "/me/welcome/picture" and place(db) == "picture"
    saved = upload(alice, jpeg())
    assert saved.headers["Location"] == "/me/welcome/site" and place(db) == "site"
    row = profile_row(db)
    assert row["city"] == "Berlin" and row["avatar"]["alt"] == "Alice mid-spin"
    assert sorted(row["styles"], key=lambda s: s["style"]) == [
        {"style": "bachata", "level": "beginner", "role": "both"},
        {"style": "salsa", "level": "advanced", "role": "lead"}]
    # The profile editor shows what the steps saved: one storage, not two.
    editor = alice.get("/me/profile").get_data(as_text=True)
    assert 'value="Berlin, Berlin, Germany"' in editor
    assert '<option selected value="bachata">' in editor
    # Going back shows what she saved, in the step's own form.
    assert '<option selected value="salsa">' in alice.get("/me/welcome/styles").get_data(
        as_text=True)


def test_the_city_type_ahead_id_is_taken(alice, db):
    berlin = alice.get("/api/cities?q=berl").get_json()[0]
    assert post(alice, "city", city_query=berlin["label"], city_id=berlin["id"]).status_code == 302
    assert profile_row(db)["city"] == "Berlin"


@pytest.mark.parametrize("typed, message", [
    ("Atlantis", "We could not find that city."),
    ("", "Type your city and pick it from the list, or skip this step."),
])
def test_a_city_that_is_not_found_shows_the_form_again(alice, db, typed, message):
    response = post(alice, "city", city_query=typed)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'id="city_query-error"' in html and message in html
    assert f'value="{typed}"' in html  # what she typed is kept
    assert place(db) == "city" and profile_row(db)["city"] is None


def test_an_ambiguous_city_asks_which_one(alice, db):
    with db.system() as s:  # a second Berlin, as in the full data (Berlin, New Hampshire)
        s.query("CREATE city:5083330 SET name = 'Berlin', name_key = 'berlin', "
                "country = country:US, population = 10000, point = (-71.18, 44.47), "
                "vector = [-0.23, -0.69, 0.70]")
    html = post(alice, "city", city_query="Berlin").get_data(as_text=True)
    assert "Which one?" in html and html.count('type="radio" name="city_id"') == 2
    assert post(alice, "city", city_query="Berlin", city_id=["", "5083330"]).status_code == 302
    assert place(db) == "styles"


@pytest.mark.parametrize("rows, message", [
    ({}, "Choose at least one style, or skip this step."),
    ({"styles-0-style": "moonwalk", "styles-0-level": "advanced", "styles-0-role": "lead"},
     "Choose a style from the list."),
    ({**SALSA, "styles-1-style": "salsa", "styles-1-level": "beginner",
      "styles-1-role": "both"}, "You listed this style twice."),
    ({**SALSA, "styles-0-level": "legendary"}, "Choose a level and a role for this style."),
])
def test_style_errors_name_the_row_and_keep_the_input(alice, db, rows, message):
    response = post(alice, "styles", **rows)
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and message in html
    if rows.get("styles-1-style") == "salsa":  # both rows come back as she chose them
        assert html.count('<option selected value="salsa">') == 2
    assert place(db) == "city" and profile_row(db)["styles"] == []


@pytest.fixture
def small_uploads():
    app = build_app(make_config(max_image_bytes=200_000))
    yield app
    app.extensions["idance.db"].close()


@pytest.mark.parametrize("data, name, message, status", [
    (b"<html><script>alert(1)</script></html>", "x.jpg", "SVG and HTML files are not accepted",
     422),
    (jpeg()[:600], "cut.jpg", "", 422),
    (png_header_only(50_000, 50_000, zlib.compress(b"\x00" * 10_000)), "bomb.png", "too large",
     422),
    (b"", "", "Choose an image to upload.", 400),
])
def test_a_refused_picture_is_named_and_nothing_changes(alice, db, data, name, message, status):
    response = upload(alice, data, name=name, alt="Kept description")
    html = response.get_data(as_text=True)
    assert response.status_code == status
    assert 'id="avatar_file-error"' in html and message in html
    assert 'value="Kept description"' in html
    assert profile_row(db)["avatar"] is None and place(db) == "city"


def test_a_picture_over_the_size_cap_is_refused_before_it_is_read(small_uploads):
    actions = AuthActions(small_uploads.test_client())
    actions.signup("alice")
    response = upload(actions.client, b"\xff\xd8" + os.urandom(400_000))
    assert response.status_code == 413
    assert "That upload is too large." in response.get_data(as_text=True)
    assert place(small_uploads.extensions["idance.db"]) == "city"


def test_a_picture_without_a_description_is_refused_with_the_reason(alice, db):
    response = upload(alice, jpeg(), alt="")
    assert response.status_code == 422
    assert "Describe the image" in response.get_data(as_text=True)
    assert profile_row(db)["avatar"] is None


def test_each_step_can_be_skipped_and_nothing_is_saved(alice, db):
    for step, following in zip(STEPS, [*STEPS[1:], "done"]):
        response = skip(alice, step)
        assert response.headers["Location"] == f"/me/welcome/{following}"
    assert place(db) is None
    row = profile_row(db)
    assert row["city"] is None and row["styles"] == [] and row["avatar"] is None
    with db.system() as s:
        assert s.value("RETURN count(SELECT id FROM site WHERE owner = $me)",
                       {"me": member_id(db, "alice")}) == 0
    done = alice.get("/me/welcome/done").get_data(as_text=True)
    assert "add your city" in done and "start your site" in done


def test_she_resumes_where_she_left_off_in_another_session(app, alice, db):
    post(alice, "city", city_query="Paris")
    skip(alice, "styles")
    later = AuthActions(app.test_client())
    later.login(email="alice@example.com")
    assert later.client.get("/me/welcome").headers["Location"] == "/me/welcome/picture"
    page = later.client.get("/me").get_data(as_text=True)
    assert "Your set-up is not finished." in page
    assert '<a href="/me/welcome">Continue with your picture</a>' in page
    # The notice is not on the set-up's own pages.
    assert "Your set-up is not finished." not in later.client.get(
        "/me/welcome/picture").get_data(as_text=True)


def test_going_back_to_a_step_keeps_her_place(alice, db):
    post(alice, "city", city_query="Paris")
    post(alice, "styles", **SALSA)
    assert place(db) == "picture"
    assert post(alice, "city", city_query="Berlin").headers["Location"] == "/me/welcome/styles"
    assert place(db) == "picture" and profile_row(db)["city"] == "Berlin"
    assert alice.get("/me/welcome").headers["Location"] == "/me/welcome/picture"


def test_she_may_stop_the_set_up_and_the_notice_goes(alice, db):
    assert "Your set-up is not finished." in alice.get("/me").get_data(as_text=True)
    response = alice.post("/me/welcome/finish",
                          data={"csrf_token": csrf_token(alice, "/me")})
    assert response.headers["Location"] == "/me" and place(db) is None
    assert "Your set-up is not finished." not in alice.get("/me").get_data(as_text=True)
    assert alice.get("/me/welcome").headers["Location"] == "/me/welcome/done"


def test_members_from_before_have_no_set_up_to_finish(app, db, make_user):
    make_user("bob")
    bob = AuthActions(app.test_client())
    bob.login(email="bob@example.com")
    assert place(db, "bob") is None
    assert "Your set-up is not finished." not in bob.client.get("/me").get_data(as_text=True)


@pytest.mark.parametrize("path", ["/me/welcome/city", "/me/welcome/styles",
                                  "/me/welcome/picture", "/me/welcome/site",
                                  "/me/welcome/city/skip", "/me/welcome/finish"])
def test_every_post_needs_her_csrf_token(alice, db, path):
    response = alice.post(path, data={"city_query": "Berlin", **SALSA, "layout": "portrait",
                                      "publish": "y"})
    assert response.status_code == 400
    assert place(db) == "city" and profile_row(db)["city"] is None


@pytest.mark.parametrize("path", ["/me/welcome", "/me/welcome/city", "/me/welcome/styles",
                                  "/me/welcome/picture", "/me/welcome/site",
                                  "/me/welcome/done"])
def test_visitors_are_sent_to_sign_in(client, path):
    response = client.get(path)
    assert response.status_code == 302 and "/login?next=" in response.headers["Location"]


def test_an_unknown_step_is_not_found(alice):
    token = csrf_token(alice, "/me/welcome/city")
    assert alice.post("/me/welcome/nowhere/skip", data={"csrf_token": token}).status_code == 404
    assert alice.get("/me/welcome/nowhere").status_code == 404


def test_a_step_changes_only_her_own_profile(app, alice, db, make_user):
    make_user("bob")
    bob = AuthActions(app.test_client())
    bob.login(email="bob@example.com")
    post(bob.client, "city", city_query="Tokyo")
    post(bob.client, "styles", **SALSA)
    assert profile_row(db, "bob")["city"] == "Tokyo"
    assert profile_row(db)["city"] is None and profile_row(db)["styles"] == []
    assert place(db) == "city" and place(db, "bob") is None
