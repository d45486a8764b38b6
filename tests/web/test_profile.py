"""The profile editor, the city type-ahead, and what others see of a profile."""

from __future__ import annotations

import json
import re

import pytest

from tests.fixtures.auth import AuthActions, csrf_token, member_id
from tests.fixtures.markup import assert_inert

FULL = {
    "display_name": "Alice Dancer", "pronouns": "she/her", "bio": "I teach **salsa**.",
    "styles-0-style": "salsa", "styles-0-level": "advanced", "styles-0-role": "follow",
    "styles-1-style": "bachata", "styles-1-level": "intermediate", "styles-1-role": "both",
    "looking_for": ["dance_partner", "students"], "interests": ["festivals"],
    "city_query": "Berlin", "height_cm": "170", "birth_date": "1990-05-01",
    "m_waist_cm": "68", "m_hips_cm": "93", "links-0-platform": "instagram",
    "links-0-handle": "@alice.dance", "discoverable": "on", "show_distance": "on",
}


def save(client, **changes):
    data = {**FULL, **changes, "csrf_token": csrf_token(client, "/me/profile")}
    data = {k: v for k, v in data.items() if v is not None}
    return client.post("/me/profile", data=data)


@pytest.fixture
def alice(app):
    actions = AuthActions(app.test_client())
    actions.signup("alice")
    return actions.client


@pytest.fixture
def bob(app):
    actions = AuthActions(app.test_client())
    actions.signup("bob")
    return actions.client


def test_full_profile_is_saved_with_styles_levels_and_roles(alice, db):
    assert save(alice).status_code == 302
    with db.system() as s:
        styles = s.value("SELECT record::id(out) AS style, level, role FROM user_dance_style "
                         "WHERE in = $me ORDER BY style", {"me": member_id(db, "alice")})
        profile = s.one("SELECT * FROM profile WHERE owner.username = 'alice'")
    assert styles == [{"style": "bachata", "level": "intermediate", "role": "both"},
                      {"style": "salsa", "level": "advanced", "role": "follow"}]
    assert profile["measurements"] == {"waist_cm": 68, "hips_cm": 93}
    assert len(profile["location"]) == 3
    assert profile["social_links"][0]["handle"] == "alice.dance"
    html = alice.get("/me").get_data(as_text=True)
    for text in ("Alice Dancer", "Salsa", "advanced", "Berlin, Berlin, Germany", "Waist (cm): 68"):
        assert text in html


def test_styles_are_stored_as_relations_of_the_seed(alice, db):
    save(alice)
    with db.system() as s:
        rows = s.value("SELECT VALUE record::id(out) FROM user_dance_style WHERE in = $me",
                       {"me": member_id(db, "alice")})
    assert sorted(rows) == ["bachata", "salsa"]


@pytest.mark.parametrize("field, value, message", [
    ("height_cm", "9000", "Height must be between 50 and 260."),
    ("birth_date", "2024-01-01", "You must be at least 13 years old."),
    ("birth_date", "yesterday", "Use the date picker or YYYY-MM-DD."),
    ("links-0-handle", "not a handle!", "That is not a valid Instagram handle."),
    ("styles-0-style", "moonwalk", "Choose a style from the list."),
    ("city_query", "Atlantis", "We could not find that city."),
    ("display_name", "", "Enter a display name"),
])
def test_errors_name_the_field_and_keep_the_input(alice, db, field, value, message):
    response = save(alice, **{field: value, "pronouns": "they/them typed"})
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert message in html
    assert "they/them typed" in html  # her input is kept
    with db.system() as s:
        assert s.value("SELECT VALUE pronouns FROM profile WHERE owner.username = 'alice'") == [None]


@pytest.mark.parametrize("field, label", [("height_cm", "Height"), ("m_waist_cm", "Waist (cm)"),
                                          ("m_shoe_eu", "Shoe size (EU)")])
@pytest.mark.parametrize("value", ["inf", "-Infinity", "nan", "1e309"])
def test_a_measurement_that_is_no_finite_number_is_a_field_error(alice, db, field, label, value):
    # "inf" and "1e309" parse as an infinite float, which int() refused with a 500.
    response = save(alice, **{field: value})
    assert response.status_code == 400
    assert f"{label} must be a number." in response.get_data(as_text=True)
    with db.system() as s:  # nothing of the form was saved
        pronouns = s.value("SELECT VALUE pronouns FROM profile WHERE owner.username = 'alice'")
    assert pronouns == [None]


def test_xss_in_the_bio_is_inert_on_every_page(alice, bob):
    save(alice, bio='<script>alert(1)</script><img src=x onerror=alert(2)> [x](javascript:alert(3))')
    for client, path in ((alice, "/me"), (bob, "/@alice")):
        html = client.get(path).get_data(as_text=True)
        assert_inert(html)


def test_city_type_ahead_json_and_the_fallback_without_javascript(app, alice, db):
    found = alice.get("/api/cities?q=berl").get_json()
    assert found[0]["name"] == "Berlin" and found[0]["country"] == "Germany"
    assert alice.get("/api/cities?q=b").get_json() == []
    assert alice.get("/api/cities?q='; REMOVE TABLE city; --").get_json() == []
    # Typing a city name and submitting without the script resolves it.
    assert save(alice, city_query="paris").status_code == 302
    with db.system() as s:
        assert s.value("SELECT VALUE city.name FROM profile WHERE owner.username = 'alice'") == ["Paris"]


def test_an_ambiguous_city_offers_a_choice(alice, db):
    with db.system() as s:  # a second Berlin, as in the full data (Berlin, New Hampshire)
        s.query("CREATE city:5083330 SET name = 'Berlin', name_key = 'berlin', "
                "country = country:US, population = 10000, point = (-71.18, 44.47), "
                "vector = [-0.23, -0.69, 0.70]")
    response = save(alice, city_query="Berlin")
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and "Which one?" in html
    assert html.count('type="radio" name="city_id"') == 2
    assert save(alice, city_query="Berlin", city_id="5083330").status_code == 302


def test_without_javascript_the_city_she_picks_beats_the_empty_hidden_field(alice, db):
    with db.system() as s:
        s.query("CREATE city:5083330 SET name = 'Berlin', name_key = 'berlin', "
                "country = country:US, population = 10000, point = (-71.18, 44.47), "
                "vector = [-0.23, -0.69, 0.70]")
    html = save(alice, city_query="Berlin").get_data(as_text=True)
    assert html.index('type="hidden" value=""') < html.index('type="radio" name="city_id"')
    # A browser sends the type-ahead's hidden city_id (empty) first, then the radio button.
    assert save(alice, city_query="Berlin", city_id=["", "5083330"]).status_code == 302
    with db.system() as s:
        assert s.value("SELECT VALUE record::id(city) FROM profile "
                       "WHERE owner.username = 'alice'") == [5083330]


@pytest.mark.parametrize("name", ["styles-²-style", "styles-1e9-style", "styles--1-style",
                                  "styles-99999999999999999999-style", "links-٣-handle"])
def test_a_row_number_that_is_no_plain_number_is_ignored(alice, db, name):
    assert save(alice, **{name: "moonwalk"}).status_code == 302
    with db.system() as s:
        styles = s.value("SELECT VALUE record::id(out) FROM user_dance_style WHERE in = $me",
                         {"me": member_id(db, "alice")})
    assert sorted(styles) == ["bachata", "salsa"]


def test_others_see_only_public_parts_and_a_rounded_distance(alice, bob, db):
    save(alice, show_age="on")
    save(bob, city_query="Paris", display_name="Bob", birth_date="1985-02-03", m_waist_cm="80")
    html = bob.get("/@alice").get_data(as_text=True)
    assert "Alice Dancer" in html and "Berlin, Berlin, Germany" in html
    assert re.search(r"\b8[5-9]\d km away", html)  # Berlin–Paris ≈ 878 km, whole km only
    for private in ("1990", "Waist", "68", "alice@example.com", "93"):
        assert private not in html
    assert re.search(r"@alice · she/her · \d\d", html)  # age shown, as she allowed


def test_distance_and_age_hidden_when_she_says_so(alice, bob):
    save(alice, show_distance=None)
    save(bob, city_query="Paris", display_name="Bob")
    html = bob.get("/@alice").get_data(as_text=True)
    assert "km away" not in html
    assert not re.search(r"@alice · she/her · \d", html)


def test_no_response_carries_another_members_coordinates_or_private_fields(app, alice, bob, db):
    save(alice, show_age="on")
    with db.system() as s:
        vector = s.value("SELECT VALUE location FROM profile WHERE owner.username = 'alice'")[0]
    secrets_ = [f"{vector[0]:.6f}"[:8], "52.52", "13.40", "1990-05-01", "alice@example.com",
                "waist"]
    visitor = app.test_client()
    bodies = [
        bob.get("/@alice").get_data(as_text=True),
        visitor.get("/@alice").get_data(as_text=True),
        json.dumps(bob.get("/api/cities?q=berlin").get_json()),
        visitor.get("/").get_data(as_text=True),
    ]
    for body in bodies:
        for secret in secrets_:
            assert secret not in body.lower(), secret


def test_visitor_sees_the_public_profile_without_distance(app, alice):
    save(alice)
    html = app.test_client().get("/@alice").get_data(as_text=True)
    assert "Alice Dancer" in html and "km away" not in html


def test_unknown_dancer_is_404(client):
    assert client.get("/@nobody-here").status_code == 404


def test_profile_editor_requires_sign_in(client):
    assert client.get("/me/profile").status_code == 302
    assert client.post("/me/profile", data=FULL).status_code == 400  # no CSRF token
    token = csrf_token(client, "/login")
    response = client.post("/me/profile", data={**FULL, "csrf_token": token})
    assert response.status_code == 302 and response.location.startswith("/login?next=")


def test_a_link_longer_than_the_database_allows_is_a_field_error(alice, db):
    address = "https://example.com/" + "a" * 90  # a valid address, 110 characters
    response = save(alice, **{"links-0-platform": "website", "links-0-handle": address})
    assert response.status_code == 400
    assert "Keep links under 100 characters." in response.get_data(as_text=True)
    ok = save(alice, **{"links-0-platform": "website", "links-0-handle": address[:100]})
    assert ok.status_code == 302


@pytest.mark.parametrize("city_id", ["1" * 30, "999999999", "12345678901234", "٣٤"])
def test_a_city_id_that_names_no_city_is_a_field_error(alice, db, city_id):
    response = save(alice, city_id=city_id, pronouns="they/them typed")
    assert response.status_code == 400
    assert "We could not find that city." in response.get_data(as_text=True)
    with db.system() as s:
        assert s.value("SELECT VALUE city FROM profile WHERE owner.username = 'alice'") == [None]


def test_posts_without_a_csrf_token_are_refused(alice, db):
    assert alice.post("/me/profile", data=FULL).status_code == 400
    assert alice.post("/me/profile/images/avatar", data={"remove": "1"}).status_code == 400
    with db.system() as s:
        assert s.value("SELECT VALUE pronouns FROM profile WHERE owner.username = 'alice'") == [None]
