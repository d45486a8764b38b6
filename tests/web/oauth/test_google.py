"""Google sign-in, configuration, and every refusal of a bad sign-in."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from idance_web import create_app
from idance_web.sign_in_providers import configured_providers
from idance_web.services.identities import username_base
from tests.fixtures.app import make_config
from tests.fixtures.oauth import (
    APPLE_ID,
    FB_ID,
    GOOGLE_ID,
    GOOGLE_SECRET,
    account,
    assert_refused,
    at_provider,
    deliver,
    identities,
    new_browser,
    provider_answer,
    sign_in_with,
    signed_in,
    start,
    users,
)

# -- configuration ------------------------------------------------------------------------------


def test_only_configured_providers_are_offered(google_idp):
    assert configured_providers(make_config()) == ()
    only_google = make_config(
        google_client_id=GOOGLE_ID,
        google_client_secret=GOOGLE_SECRET,
        facebook_client_id=FB_ID,
        apple_client_id=APPLE_ID,
    )
    app = create_app(only_google)
    try:
        assert app.extensions["idance.oauth_providers"] == ("google",)
        client = app.test_client()
        assert client.get("/login/facebook").status_code == 404
        assert client.get("/login/apple").status_code == 404
        html_ = client.get("/login").get_data(as_text=True)
        assert "/login/google" in html_ and "/login/facebook" not in html_
    finally:
        app.extensions["idance.db"].close()


def test_all_providers_in_order_and_unknown_is_404(app, client):
    assert app.extensions["idance.oauth_providers"] == ("google", "facebook", "apple")
    page = client.get("/login").get_data(as_text=True)
    assert [p for p in ("google", "facebook", "apple") if f"/login/{p}" in page] == [
        "google",
        "facebook",
        "apple",
    ]
    assert client.get("/login/github").status_code == 404
    assert client.get("/auth/github/callback?code=x&state=y").status_code == 404


def test_redirect_uri_ignores_forged_host_headers(client, google_idp):
    response = client.get(
        "/login/google", headers={"Host": "evil.example", "X-Forwarded-Host": "evil.example"}
    )
    query = parse_qs(urlsplit(response.headers["Location"]).query)
    assert query["redirect_uri"] == ["http://localhost/auth/google/callback"]


# -- Google ------------------------------------------------------------------------------------


def test_google_signs_up_then_signs_in_the_same_member(client, db, google_idp):
    response = sign_in_with(client, "google")
    assert response.status_code == 302 and response.headers["Location"] == "/me/welcome"
    member = signed_in(client, db)
    assert member is not None and member.email == "dana@example.com"
    assert account(db, member.key) == {
        "username": "dana_dancer",
        "display_name": "Dana Dancer",
        "email": "dana@example.com",
        "has_password": False,
        "profiles": 1,
    }
    assert identities(db) == [
        {
            "provider": "google",
            "subject": "google-sub-1",
            "user": member.key,
            "email": "dana@example.com",
            "email_verified": True,
        }
    ]
    request_ = google_idp.authorize_requests[-1]
    assert request_["state"] and request_["nonce"] and request_["code_challenge_method"] == "S256"
    assert "openid" in request_["scope"].split()
    assert request_["redirect_uri"] == "http://localhost/auth/google/callback"
    assert google_idp.token_requests[-1]["code_verifier"]

    again = new_browser(client)
    response = sign_in_with(again, "google", next="/me/settings")
    assert response.headers["Location"] == "/me/settings"
    assert signed_in(again, db).key == member.key
    assert users(db) == 1


def test_next_is_kept_only_when_it_is_a_local_path(client, db):
    assert sign_in_with(client, "google").status_code == 302
    other = new_browser(client)
    response = sign_in_with(other, "google", next="//evil.example/x")
    assert response.headers["Location"] == "/"


def test_session_records_the_provider_as_method(client, db):
    sign_in_with(client, "google")
    with db.system() as s:
        assert s.value("RETURN SELECT VALUE method FROM user_session") == ["google"]


def test_username_avoids_taken_and_reserved_names(client, db, make_user, google_idp):
    make_user("dana_dancer")
    sign_in_with(client, "google")
    assert signed_in(client, db).username == "dana_dancer2"
    google_idp.user = {
        "sub": "g-admin",
        "email": "root@example.com",
        "email_verified": True,
        "name": "Admin",
    }
    other = new_browser(client)
    sign_in_with(other, "google")
    assert signed_in(other, db).username == "admin2"
    assert username_base("José Müller-Ávila", None) == "jose_muller-avila"
    assert username_base("李", "x.y@example.com") == "x_y"
    assert username_base("", None) == "dancer"


def test_unverified_google_email_is_not_taken_for_the_account(client, db, google_idp):
    google_idp.user["email_verified"] = False
    response = sign_in_with(client, "google")
    assert response.headers["Location"] == "/auth/email"
    assert users(db) == 0


# -- refusals ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fault", ["nonce", "alg_none", "hs256_public", "aud", "iss", "expired", "unknown_kid"]
)
@pytest.mark.parametrize("provider", ["google", "apple"])
def test_bad_id_tokens_are_refused(client, db, idp, provider, fault, caplog):
    idp[provider].faults.add(fault)
    with caplog.at_level("WARNING", logger="idance.oauth"):
        response = sign_in_with(client, provider)
    assert_refused(client, db, response)
    # Refused for the token itself, not for some other reason on the way.
    assert any("ID token refused" in r.getMessage() for r in caplog.records)


def test_an_unreachable_provider_is_a_page_not_a_500(google_idp, caplog):
    broken = make_config(
        google_client_id=GOOGLE_ID,
        google_client_secret=GOOGLE_SECRET,
        google_metadata_url=f"{google_idp.url}/no-such-document",
    )
    app = create_app(broken)
    try:
        with caplog.at_level("ERROR", logger="idance.oauth"):
            response = app.test_client().get("/login/google")
        assert response.status_code == 503
        assert "Google sign-in unavailable" in response.get_data(as_text=True)
    finally:
        app.extensions["idance.db"].close()


def test_missing_and_unknown_state_are_refused(client, db, google_idp):
    _, path, params = provider_answer(at_provider(start(client, "google")))
    assert_refused(client, db, client.get(path, query_string={"code": params["code"]}))
    assert_refused(client, db, client.get(path, query_string={**params, "state": "forged"}))


def test_replayed_state_and_replayed_code_are_refused(client, db, google_idp):
    _, path, params = provider_answer(at_provider(start(client, "google")))
    assert client.get(path, query_string=params).status_code == 302
    key = signed_in(client, db).key
    attacker = new_browser(client)
    assert_refused(attacker, db, attacker.get(path, query_string=params), before=1)
    # The same code with a fresh state of the attacker's own: the provider refuses the code.
    _, _, fresh = provider_answer(at_provider(start(attacker, "google")))
    response = attacker.get(path, query_string={"code": params["code"], "state": fresh["state"]})
    assert_refused(attacker, db, response, before=1)
    assert signed_in(client, db).key == key


def test_a_code_delivered_to_another_providers_callback_is_refused(client, db):
    _, _, params = provider_answer(at_provider(start(client, "google")))
    assert_refused(client, db, client.get("/auth/facebook/callback", query_string=params))
    # The transaction was used up: the right callback refuses it afterwards too.
    assert_refused(client, db, client.get("/auth/google/callback", query_string=params))


def test_a_state_from_another_browser_is_refused(client, db):
    _, path, params = provider_answer(at_provider(start(client, "google")))
    victim = new_browser(client)
    assert_refused(victim, db, victim.get(path, query_string=params))


def test_cancelling_at_the_provider_returns_to_sign_in(client, db, google_idp):
    google_idp.faults.add("deny")
    response = sign_in_with(client, "google")
    assert response.status_code == 302 and response.headers["Location"].endswith("/login")
    assert users(db) == 0


def test_callback_methods_and_csrf_exemption_are_narrow(client):
    assert client.post("/auth/google/callback").status_code == 405
    assert client.get("/auth/apple/callback?code=x&state=y").status_code == 400


def test_a_fresh_code_used_with_another_browsers_sign_in_fails_pkce(client, db, google_idp, caplog):
    """SECURITY 2: browser B replays browser A's unused code with B's own state and cookie;
    the exchange carries B's PKCE verifier, which does not match A's challenge."""
    _, _, theirs = provider_answer(at_provider(start(client, "google")))
    other = new_browser(client)
    _, path, mine = provider_answer(at_provider(start(other, "google")))
    before = users(db)
    response = deliver(other, "GET", path, {**mine, "code": theirs["code"]})
    assert_refused(other, db, response, before)
    assert signed_in(other, db) is None
    assert "invalid_grant" in caplog.text
    # A's code was spent by that attempt: A cannot finish either (a code is used once).
    again = deliver(client, "GET", path, theirs)
    assert again.status_code == 400 and users(db) == before
