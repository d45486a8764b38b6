"""A member who joins through a provider starts the set-up; signing in again does not."""

from __future__ import annotations

from tests.fixtures.auth import csrf_token
from tests.fixtures.oauth import new_browser, sign_in_with, signed_in


def test_a_new_provider_account_starts_the_set_up_and_links_to_where_she_was_going(
        client, db, google_idp):
    response = sign_in_with(client, "google", next="/groups")
    assert response.status_code == 302 and response.headers["Location"] == "/me/welcome"
    assert signed_in(client, db).onboarding == "city"
    assert client.get("/me/welcome").headers["Location"] == "/me/welcome/city"
    token = csrf_token(client, "/me/welcome/city")
    for step in ("city", "styles", "picture", "site"):
        client.post(f"/me/welcome/{step}/skip", data={"csrf_token": token})
    assert signed_in(client, db).onboarding is None
    done = client.get("/me/welcome/done").get_data(as_text=True)
    assert '<a href="/groups">Continue to where you were going</a>' in done
    # Once: the link is not offered again.
    assert "where you were going" not in client.get("/me/welcome/done").get_data(as_text=True)


def test_signing_in_again_keeps_her_place(client, db, google_idp):
    sign_in_with(client, "google")
    client.post("/me/welcome/city/skip",
                data={"csrf_token": csrf_token(client, "/me/welcome/city")})
    again = new_browser(client)
    response = sign_in_with(again, "google", next="/me/settings")
    assert response.headers["Location"] == "/me/settings"
    assert signed_in(again, db).onboarding == "styles"
    assert again.get("/me/welcome").headers["Location"] == "/me/welcome/styles"
