"""A provider that vouches for her address confirms it; a typed address is not confirmed."""

from __future__ import annotations

from tests.fixtures.auth import csrf_token
from tests.fixtures.oauth import sign_in_with


def confirmed(client) -> bool:
    html = client.get("/me/settings").get_data(as_text=True)
    assert "Signed in as" in html
    return "not confirmed yet" not in html


def test_a_verified_provider_address_is_confirmed(client, google_idp):
    assert sign_in_with(client, "google").headers["Location"] == "/me/welcome"
    assert confirmed(client)


def test_an_address_she_typed_is_not(client, facebook_idp):
    facebook_idp.user = {"sub": "fb-42", "name": "No Mail"}
    assert sign_in_with(client, "facebook").headers["Location"] == "/auth/email"
    response = client.post("/auth/email", data={
        "email": "nomail@example.com", "csrf_token": csrf_token(client, "/auth/email")})
    assert response.headers["Location"] == "/me/welcome"
    assert not confirmed(client)
