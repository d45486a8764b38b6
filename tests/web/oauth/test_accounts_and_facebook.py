"""Which account an OAuth sign-in reaches, and Facebook."""

from __future__ import annotations

from tests.fixtures.auth import AuthActions, csrf_token
from tests.fixtures.oauth import (
    FB_SECRET,
    identities,
    new_browser,
    sign_in_with,
    signed_in,
    users,
)

# -- accounts and emails -------------------------------------------------------------------------


def test_email_used_by_an_account_shows_a_page_and_creates_nothing(client, db, make_user):
    make_user("carol", email="dana@example.com")
    response = sign_in_with(client, "google")
    page = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "Sign in with your password, then link Google from Settings" in page
    assert users(db) == 1 and identities(db) == []
    assert signed_in(client, db) is None


def test_pre_hijack_an_attackers_account_with_her_email_is_never_attached(client, db):
    attacker = AuthActions(new_browser(client))
    attacker.signup("mallory", email="dana@example.com")
    response = sign_in_with(client, "google")
    assert response.status_code == 409
    assert signed_in(client, db) is None
    assert identities(db) == []
    # Signing in again changes nothing: still no session, no identity on her account.
    assert sign_in_with(new_browser(client), "google").status_code == 409
    assert identities(db) == [] and users(db) == 1


def test_google_and_apple_with_the_same_email_are_never_merged(client, db, apple_idp):
    sign_in_with(client, "google")
    google_member = signed_in(client, db)
    apple_idp.user.update(email="dana@example.com", email_verified="true")
    same_email = new_browser(client)
    assert sign_in_with(same_email, "apple").status_code == 409
    assert signed_in(same_email, db) is None
    assert [i["provider"] for i in identities(db)] == ["google"]
    # With Hide My Email she gets a second, separate account.
    apple_idp.user.update(email="x7yq@privaterelay.appleid.com")
    apple_idp.seen_subjects.clear()
    relay = new_browser(client)
    assert sign_in_with(relay, "apple").status_code == 302
    apple_member = signed_in(relay, db)
    assert apple_member.key != google_member.key
    assert {i["provider"]: i["user"] for i in identities(db)} == {
        "google": google_member.key,
        "apple": apple_member.key,
    }


def test_a_deleted_account_is_never_signed_into_again(client, db):
    sign_in_with(client, "google")
    key = signed_in(client, db).key
    with db.member(key) as s:
        s.query("UPDATE type::thing('user', $k) SET deleted_at = time::now()", {"k": key})
    # Deletion erased the provider link: the same Google account starts a new membership.
    again = new_browser(client)
    response = sign_in_with(again, "google")
    assert response.status_code == 302
    fresh = signed_in(again, db)
    assert fresh is not None and fresh.key != key
    with db.system() as s:
        assert s.value("RETURN type::thing('user', $k).deleted_at", {"k": key}) is not None


# -- Facebook ---------------------------------------------------------------------------------


def test_facebook_signs_up_and_in_with_appsecret_proof_on_every_graph_call(
    client, db, facebook_idp
):
    response = sign_in_with(client, "facebook")
    assert response.status_code == 302
    member = signed_in(client, db)
    assert member.email == "dana@example.com" and member.display_name == "Dana Dancer"
    again = new_browser(client)
    sign_in_with(again, "facebook")
    assert signed_in(again, db).key == member.key and users(db) == 1
    calls = facebook_idp.graph_calls
    assert len(calls) == 2
    assert all(c["proof_ok"] and c["fields"] == "id,name,email" for c in calls)
    assert facebook_idp.token_requests[-1]["client_secret"] == FB_SECRET
    assert facebook_idp.authorize_requests[-1]["state"]
    assert identities(db)[0]["email_verified"] is False


def test_facebook_without_email_asks_for_one(client, db, facebook_idp):
    facebook_idp.user = {"sub": "fb-42", "name": "No Mail"}
    response = sign_in_with(client, "facebook")
    assert response.status_code == 302 and response.headers["Location"] == "/auth/email"
    page = client.get("/auth/email")
    assert page.status_code == 200 and "did not give us" in page.get_data(as_text=True)
    assert users(db) == 0
    # No CSRF token: refused. The identity comes from the signed session, never the form.
    assert client.post("/auth/email", data={"email": "nomail@example.com"}).status_code == 400
    token = csrf_token(client, "/auth/email")
    response = client.post(
        "/auth/email",
        data={
            "email": "NoMail@Example.com",
            "csrf_token": token,
            "provider": "google",
            "subject": "someone-else",
        },
    )
    assert response.status_code == 302 and response.headers["Location"] == "/me/welcome"
    member = signed_in(client, db)
    assert member.email == "nomail@example.com" and member.display_name == "No Mail"
    assert identities(db) == [
        {
            "provider": "facebook",
            "subject": "fb-42",
            "user": member.key,
            "email": None,
            "email_verified": False,
        }
    ]
    # The pending identity is gone once used.
    assert new_browser(client).get("/auth/email").status_code == 400


def test_email_form_refuses_an_address_in_use(client, db, facebook_idp, make_user):
    make_user("carol", email="carol@example.com")
    facebook_idp.user = {"sub": "fb-43", "name": "No Mail"}
    sign_in_with(client, "facebook")
    token = csrf_token(client, "/auth/email")
    response = client.post("/auth/email", data={"email": "carol@example.com", "csrf_token": token})
    assert response.status_code == 400
    assert "link Facebook from Settings" in response.get_data(as_text=True)
    assert users(db) == 1 and identities(db) == []


def test_email_form_without_a_pending_sign_in_is_refused(client):
    assert client.get("/auth/email").status_code == 400
