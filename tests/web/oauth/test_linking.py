"""Linking and unlinking providers from settings."""

from __future__ import annotations

import html
import re

from tests.fixtures.auth import csrf_token
from tests.fixtures.oauth import (
    at_provider,
    deliver,
    identities,
    link,
    new_browser,
    provider_answer,
    sign_in_with,
    signed_in,
    unlink,
    users,
)

# -- linking from settings -------------------------------------------------------------------------


def test_link_and_unlink_from_settings(client, db, auth, make_user):
    make_user("bob")
    auth.login("bob@example.com")
    settings = client.get("/me/settings").get_data(as_text=True)
    for provider in ("google", "facebook", "apple"):
        assert f"/me/settings/providers/{provider}/link" in settings
    response = link(client, "google")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/me/settings")
    assert link(client, "apple").status_code == 302  # cross-site POST, no session cookie
    assert signed_in(client, db).username == "bob"  # still signed in after Apple's POST
    assert {(i["provider"], i["user"]) for i in identities(db)} == {
        ("google", "bob"),
        ("apple", "bob"),
    }
    settings = client.get("/me/settings").get_data(as_text=True)
    assert "/me/settings/providers/google/unlink" in settings
    assert "/me/settings/providers/google/link" not in settings

    other = new_browser(client)
    sign_in_with(other, "google")
    assert signed_in(other, db).username == "bob" and users(db) == 1

    page = unlink(client, "google").get_data(as_text=True)
    assert "Google is unlinked." in page
    assert [i["provider"] for i in identities(db)] == ["apple"]


def test_link_requires_sign_in_and_csrf(client, auth, make_user):
    # Without a token the CSRF check refuses first; with one, a visitor is sent to sign in.
    assert client.post("/me/settings/providers/google/link").status_code == 400
    visitor_token = csrf_token(client, "/login")
    response = client.post("/me/settings/providers/google/link",
                           data={"csrf_token": visitor_token})
    assert response.status_code == 302 and response.location.startswith("/login?next=")
    make_user("bob")
    auth.login("bob@example.com")
    assert client.post("/me/settings/providers/google/link").status_code == 400
    token = csrf_token(client, "/me/settings")
    assert (
        client.post("/me/settings/providers/github/link", data={"csrf_token": token}).status_code
        == 404
    )


def test_an_identity_linked_to_another_member_cannot_be_linked(client, db, auth, make_user):
    sign_in_with(new_browser(client), "google")
    owner = identities(db)[0]["user"]
    make_user("bob")
    auth.login("bob@example.com")
    response = link(client, "google")
    assert response.status_code == 409
    assert "already linked to another iDance account" in response.get_data(as_text=True)
    assert [(i["provider"], i["user"]) for i in identities(db)] == [("google", owner)]


def test_the_last_way_in_cannot_be_unlinked(client, db, facebook_idp):
    sign_in_with(client, "google")
    page = unlink(client, "google").get_data(as_text=True)
    assert "Google is your only way to sign in, so it cannot be unlinked" in page
    assert [i["provider"] for i in identities(db)] == ["google"]
    assert link(client, "facebook").status_code == 302
    assert "Google is unlinked." in unlink(client, "google").get_data(as_text=True)
    assert "Facebook is your only way to sign in" in unlink(client, "facebook").get_data(
        as_text=True
    )
    assert [i["provider"] for i in identities(db)] == ["facebook"]


def test_link_in_a_session_that_ended_is_refused(client, db, auth, make_user):
    make_user("bob")
    auth.login("bob@example.com")
    token = csrf_token(client, "/me/settings")
    page = client.post("/me/settings/providers/apple/link", data={"csrf_token": token})
    url = html.unescape(re.search(r'href="([^"]+)">Continue to', page.get_data(as_text=True))[1])
    answer = provider_answer(at_provider(url))
    auth.logout()
    response = deliver(client, *answer)
    assert response.status_code == 400 and identities(db) == []


def test_linking_asks_for_a_recent_sign_in(client, db, auth, make_user, monkeypatch):
    """A stolen, older session cannot add a way in that would outlive a password change."""
    from idance_web.services import accounts

    make_user("olivia")
    auth.login("olivia@example.com")
    monkeypatch.setattr(accounts, "RECENT_SIGN_IN_MINUTES", 0)  # her sign-in is now "old"
    response = client.post("/me/settings/providers/google/link",
                           data={"csrf_token": csrf_token(client, "/me/settings")})
    assert response.status_code == 302 and response.headers["Location"].endswith("/me/settings")
    assert "sign in again before linking" in client.get("/me/settings").get_data(as_text=True)
    assert identities(db) == []
