"""Sign in with Apple: form_post, its own transaction cookie, the client secret."""

from __future__ import annotations

import time

import pytest
from joserfc import jwt

from idance_web.sign_in_providers import AppleClientSecret, apple_client_secret
from tests.fixtures.oidc_provider import SIX_MONTHS
from tests.fixtures.oauth import (
    APPLE_ID,
    APPLE_KID,
    APPLE_TEAM,
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

# -- Apple -----------------------------------------------------------------------------------------


def test_apple_transaction_cookie_is_its_own_and_the_session_stays_lax(client, db):
    response = client.get("/login/apple")
    cookies = response.headers.getlist("Set-Cookie")
    tx = next(c for c in cookies if c.startswith("idance_apple_tx="))
    attrs = {
        a.strip().split("=")[0].lower(): (a.split("=", 1)[1] if "=" in a else True)
        for a in tx.split(";")[1:]
    }
    assert attrs["secure"] is True and attrs["httponly"] is True
    assert attrs["samesite"] == "None" and attrs["path"] == "/auth/apple/callback"
    assert 0 < int(attrs["max-age"]) <= 600
    assert not any(c.startswith("session=") for c in cookies)
    answer = provider_answer(at_provider(response.headers["Location"]))
    response = deliver(client, *answer)
    session_cookie = next(
        c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")
    )
    assert "SameSite=Lax" in session_cookie
    assert any(
        c.startswith("idance_apple_tx=;")
        or 'idance_apple_tx=""' in c
        or c.startswith("idance_apple_tx=")
        and "Max-Age=0" in c
        for c in response.headers.getlist("Set-Cookie")
    )


def test_apple_signs_up_with_private_relay_and_takes_the_name_only_once(client, db, apple_idp):
    response = sign_in_with(client, "apple")
    assert response.status_code == 302 and response.headers["Location"] == "/me/welcome"
    member = signed_in(client, db)
    assert member.email == "dana@privaterelay.appleid.com"
    assert member.display_name == "Dana Dancer"
    assert identities(db)[0]["email_verified"] is True
    request_ = apple_idp.authorize_requests[-1]
    assert request_["response_mode"] == "form_post" and request_["nonce"]
    assert request_["code_challenge_method"] == "S256"

    # Later sign-ins carry no `user`; a forged one changes nothing.
    again = new_browser(client)
    method, path, params = provider_answer(at_provider(start(again, "apple")))
    assert "user" not in params
    params["user"] = '{"name": {"firstName": "Eve", "lastName": "Forged"}, "email": "e@x.io"}'
    assert deliver(again, method, path, params).status_code == 302
    assert signed_in(again, db).key == member.key
    assert account(db, member.key)["display_name"] == "Dana Dancer"
    assert account(db, member.key)["email"] == "dana@privaterelay.appleid.com"


def test_apple_email_comes_only_from_the_signed_token(client, db, apple_idp):
    apple_idp.user["email"] = "token@privaterelay.appleid.com"
    method, path, params = provider_answer(at_provider(start(client, "apple")))
    params["user"] = '{"name": {"firstName": "Dana"}, "email": "victim@example.com"}'
    deliver(client, method, path, params)
    assert signed_in(client, db).email == "token@privaterelay.appleid.com"


def test_apple_email_verified_false_string_is_not_taken(client, db, apple_idp):
    apple_idp.user["email_verified"] = "false"
    response = sign_in_with(client, "apple")
    assert response.headers["Location"] == "/auth/email"
    assert users(db) == 0


def test_apple_post_without_the_transaction_cookie_is_a_clear_error(client, db):
    _, path, params = provider_answer(at_provider(start(client, "apple")))
    client.delete_cookie("idance_apple_tx", path="/auth/apple/callback")
    response = client.post(path, data=params)
    assert response.status_code == 400
    assert "started in another browser" in response.get_data(as_text=True)
    assert users(db) == 0


def test_apple_state_mismatch_and_forged_cookie_are_refused(client, db):
    method, path, params = provider_answer(at_provider(start(client, "apple")))
    assert_refused(client, db, deliver(client, method, path, {**params, "state": "other"}))
    start(client, "apple")
    client.set_cookie("idance_apple_tx", "forged.value.sig", path="/auth/apple/callback")
    assert_refused(client, db, deliver(client, method, path, params))


def test_apple_replay_after_success_is_refused(client, db):
    method, path, params = provider_answer(at_provider(start(client, "apple")))
    assert deliver(client, method, path, params).status_code == 302
    replay = client.post(path, data=params)  # the transaction cookie was deleted
    assert replay.status_code == 400 and users(db) == 1


def test_apple_client_secret_is_an_es256_jwt_with_apples_claims(client, app, apple_key, apple_idp):
    sign_in_with(client, "apple")
    secret = apple_idp.client_secrets[-1]
    token = jwt.decode(secret, apple_key, algorithms=["ES256"])
    assert token.header["alg"] == "ES256" and token.header["kid"] == APPLE_KID
    claims = token.claims
    assert claims["iss"] == APPLE_TEAM and claims["sub"] == APPLE_ID
    assert claims["aud"] == apple_idp.issuer
    assert 0 < claims["exp"] - claims["iat"] <= SIX_MONTHS
    assert abs(claims["iat"] - time.time()) < 60


def test_apple_client_secret_is_cached_and_renewed_before_it_expires(app, apple_key):
    with app.app_context():
        maker = apple_client_secret()
    first = maker.get()
    assert maker.get() == first
    start_time = time.time()
    maker.clock = lambda: start_time + maker.lifetime - maker.renew_before + 1
    renewed = maker.get()
    assert renewed != first
    claims = jwt.decode(renewed, apple_key, algorithms=["ES256"]).claims
    assert claims["iat"] >= start_time + maker.lifetime - maker.renew_before
    with pytest.raises(ValueError):
        AppleClientSecret(
            team_id="T",
            client_id="c",
            key_id="k",
            audience="a",
            private_key=apple_key.as_pem(private=True).decode(),
            lifetime=SIX_MONTHS + 1,
        )


def test_apple_invalid_client_is_a_page_not_a_500(client, db, apple_idp):
    apple_idp.faults.add("invalid_client")
    response = sign_in_with(client, "apple")
    assert response.status_code == 503
    assert "Apple sign-in unavailable" in response.get_data(as_text=True)
    assert users(db) == 0 and signed_in(client, db) is None
