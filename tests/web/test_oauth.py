"""Sign in with Google, Facebook and Apple: the whole redirect → callback → token → ID-token flow
over real HTTP against local providers (tests/oidc_provider.py), the app through its test client.
"""

from __future__ import annotations

import html
import re
import time
from urllib.parse import parse_qs, quote, urlsplit

import pytest
import requests
from joserfc import jwt
from joserfc.jwk import ECKey

from idance_web import create_app
from idance_web.oauth import AppleClientSecret, apple_client_secret, configured_providers
from idance_web.services.accounts import load_session_user
from idance_web.services.identities import username_base
from tests.conftest import AuthActions, csrf_token, make_config
from tests.oidc_provider import SIX_MONTHS, Provider

GOOGLE_ID, GOOGLE_SECRET = "google-client.apps.example", "google-secret-123"
FB_ID, FB_SECRET = "1234567890", "facebook-app-secret"
APPLE_ID, APPLE_TEAM, APPLE_KID = "com.idance.web", "TEAM123456", "KEY7654321"
INVALID = "Sign-in expired or invalid, try again"


# -- providers, shared by the module ------------------------------------------------------------

@pytest.fixture(scope="module")
def apple_key() -> ECKey:
    """The app's Sign in with Apple key (Apple keeps the public half)."""
    return ECKey.generate_key("P-256", private=True)


@pytest.fixture(scope="module")
def google_idp():
    provider = Provider.google(GOOGLE_ID, GOOGLE_SECRET)
    yield provider
    provider.stop()


@pytest.fixture(scope="module")
def facebook_idp():
    provider = Provider.facebook(FB_ID, FB_SECRET)
    yield provider
    provider.stop()


@pytest.fixture(scope="module")
def apple_idp(apple_key):
    public = ECKey.import_key(apple_key.as_dict(private=False))
    provider = Provider.apple(APPLE_ID, APPLE_TEAM, APPLE_KID, public)
    yield provider
    provider.stop()


@pytest.fixture(autouse=True)
def fresh_providers(google_idp, facebook_idp, apple_idp):
    for provider in (google_idp, facebook_idp, apple_idp):
        provider.reset()
    apple_idp.user = {"sub": "001234.apple.abcdef", "email": "dana@privaterelay.appleid.com",
                      "email_verified": "true", "name": "Dana Dancer"}


def provider_settings(google_idp, facebook_idp, apple_idp, apple_key) -> dict:
    return {
        "public_url": "http://localhost",
        "google_client_id": GOOGLE_ID, "google_client_secret": GOOGLE_SECRET,
        "google_metadata_url": f"{google_idp.url}/.well-known/openid-configuration",
        "facebook_client_id": FB_ID, "facebook_client_secret": FB_SECRET,
        "facebook_authorize_url": f"{facebook_idp.url}/authorize",
        "facebook_token_url": f"{facebook_idp.url}/token",
        "facebook_graph_url": facebook_idp.url,
        "apple_client_id": APPLE_ID, "apple_team_id": APPLE_TEAM, "apple_key_id": APPLE_KID,
        "apple_private_key": apple_key.as_pem(private=True).decode(),
        "apple_metadata_url": f"{apple_idp.url}/.well-known/openid-configuration",
        "apple_audience": apple_idp.issuer,
    }


@pytest.fixture
def config(google_idp, facebook_idp, apple_idp, apple_key):
    return make_config(**provider_settings(google_idp, facebook_idp, apple_idp, apple_key))


@pytest.fixture
def idp(google_idp, facebook_idp, apple_idp):
    return {"google": google_idp, "facebook": facebook_idp, "apple": apple_idp}


# -- the browser's part -----------------------------------------------------------------------

def at_provider(url: str) -> requests.Response:
    """The browser at the provider: it signs in and answers with a redirect or a form."""
    assert url.startswith("http://127.0.0.1:"), url
    return requests.get(url, allow_redirects=False, timeout=5)


def provider_answer(response: requests.Response) -> tuple[str, str, dict]:
    """(method, app path, parameters) the provider sends the browser back with."""
    if response.status_code == 302:
        location = urlsplit(response.headers["Location"])
        assert f"{location.scheme}://{location.netloc}" == "http://localhost"
        return "GET", location.path, {k: v[0] for k, v in parse_qs(location.query).items()}
    assert response.status_code == 200, response.text
    action = html.unescape(re.search(r'action="([^"]+)"', response.text).group(1))
    fields = {k: html.unescape(v) for k, v in
              re.findall(r'name="([^"]+)" value="([^"]*)"', response.text)}
    assert action.startswith("http://localhost/")
    return "POST", urlsplit(action).path, fields


def deliver(client, method: str, path: str, params: dict):
    """Back at the app. Apple's POST is cross-site: the Lax session cookie is not sent."""
    if method == "GET":
        return client.get(path, query_string=params)
    kept = client.get_cookie("session")
    if kept is not None:
        client.delete_cookie("session")
    response = client.post(path, data=params)
    if kept is not None and client.get_cookie("session") is None:
        client.set_cookie("session", kept.value)
    return response


def start(client, provider: str, next: str | None = None) -> str:
    url = f"/login/{provider}" + (f"?next={quote(next, safe='')}" if next else "")
    response = client.get(url)
    assert response.status_code == 302, response.get_data(as_text=True)
    return response.headers["Location"]


def sign_in_with(client, provider: str, next: str | None = None):
    return deliver(client, *provider_answer(at_provider(start(client, provider, next))))


def link(client, provider: str):
    """From settings: the link form, the hand-off page, the provider, the callback."""
    token = csrf_token(client, "/me/settings")
    page = client.post(f"/me/settings/providers/{provider}/link", data={"csrf_token": token})
    assert page.status_code == 200, page.get_data(as_text=True)
    body = page.get_data(as_text=True)
    url = html.unescape(re.search(r'<a class="button" href="([^"]+)">Continue to', body).group(1))
    assert 'http-equiv="refresh"' in body
    return deliver(client, *provider_answer(at_provider(url)))


def unlink(client, provider: str):
    token = csrf_token(client, "/me/settings")
    return client.post(f"/me/settings/providers/{provider}/unlink", data={"csrf_token": token},
                       follow_redirects=True)


def signed_in(client, db):
    """The member the client's session cookie signs in, or None."""
    with client.session_transaction() as s:
        cookie_id = s.get("_user_id")
    return load_session_user(db, cookie_id) if cookie_id else None


def users(db) -> int:
    with db.system() as s:
        return s.value("RETURN count(SELECT id FROM user)")


def identities(db) -> list[dict]:
    with db.system() as s:
        rows = s.rows("""SELECT provider, subject, record::id(user) AS user, email,
                         email_verified, created_at FROM oauth_identity ORDER BY created_at""")
    return [{k: v for k, v in row.items() if k != "created_at"} for row in rows]


def account(db, key: str) -> dict:
    with db.system() as s:
        return s.one("""SELECT username, display_name, email, password != NONE AS has_password,
                        count(SELECT id FROM profile WHERE owner = $parent.id) AS profiles
                        FROM ONLY type::thing('user', $key)""", {"key": key})


def new_browser(client):
    return client.application.test_client()


# -- configuration ------------------------------------------------------------------------------

def test_only_configured_providers_are_offered(google_idp):
    assert configured_providers(make_config()) == ()
    only_google = make_config(google_client_id=GOOGLE_ID, google_client_secret=GOOGLE_SECRET,
                              facebook_client_id=FB_ID, apple_client_id=APPLE_ID)
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
    assert [p for p in ("google", "facebook", "apple") if f"/login/{p}" in page] == \
        ["google", "facebook", "apple"]
    assert client.get("/login/github").status_code == 404
    assert client.get("/auth/github/callback?code=x&state=y").status_code == 404


def test_redirect_uri_ignores_forged_host_headers(client, google_idp):
    response = client.get("/login/google", headers={"Host": "evil.example",
                                                    "X-Forwarded-Host": "evil.example"})
    query = parse_qs(urlsplit(response.headers["Location"]).query)
    assert query["redirect_uri"] == ["http://localhost/auth/google/callback"]


# -- Google ------------------------------------------------------------------------------------

def test_google_signs_up_then_signs_in_the_same_member(client, db, google_idp):
    response = sign_in_with(client, "google")
    assert response.status_code == 302 and response.headers["Location"] == "/me"
    member = signed_in(client, db)
    assert member is not None and member.email == "dana@example.com"
    assert account(db, member.key) == {"username": "dana_dancer", "display_name": "Dana Dancer",
                                       "email": "dana@example.com", "has_password": False,
                                       "profiles": 1}
    assert identities(db) == [{"provider": "google", "subject": "google-sub-1",
                               "user": member.key, "email": "dana@example.com",
                               "email_verified": True}]
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
    google_idp.user = {"sub": "g-admin", "email": "root@example.com", "email_verified": True,
                       "name": "Admin"}
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

def assert_refused(client, db, response, before: int = 0):
    assert response.status_code == 400, response.get_data(as_text=True)
    assert INVALID in response.get_data(as_text=True)
    assert users(db) == before
    assert identities(db) == [] or before
    assert signed_in(client, db) is None


@pytest.mark.parametrize("fault", ["nonce", "alg_none", "hs256_public", "aud", "iss", "expired",
                                   "unknown_kid"])
@pytest.mark.parametrize("provider", ["google", "apple"])
def test_bad_id_tokens_are_refused(client, db, idp, provider, fault, caplog):
    idp[provider].faults.add(fault)
    with caplog.at_level("WARNING", logger="idance.oauth"):
        response = sign_in_with(client, provider)
    assert_refused(client, db, response)
    # Refused for the token itself, not for some other reason on the way.
    assert any("ID token refused" in r.getMessage() for r in caplog.records)


def test_an_unreachable_provider_is_a_page_not_a_500(google_idp, caplog):
    broken = make_config(google_client_id=GOOGLE_ID, google_client_secret=GOOGLE_SECRET,
                         google_metadata_url=f"{google_idp.url}/no-such-document")
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
        "google": google_member.key, "apple": apple_member.key}


def test_deleted_accounts_identity_signs_nobody_in(client, db):
    sign_in_with(client, "google")
    key = signed_in(client, db).key
    with db.member(key) as s:
        s.query("UPDATE type::thing('user', $k) SET deleted_at = time::now()", {"k": key})
    again = new_browser(client)
    response = sign_in_with(again, "google")
    assert response.status_code == 403 and signed_in(again, db) is None
    assert users(db) == 1


# -- Facebook ---------------------------------------------------------------------------------

def test_facebook_signs_up_and_in_with_appsecret_proof_on_every_graph_call(client, db,
                                                                          facebook_idp):
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
    response = client.post("/auth/email", data={
        "email": "NoMail@Example.com", "csrf_token": token, "provider": "google",
        "subject": "someone-else"})
    assert response.status_code == 302 and response.headers["Location"] == "/me"
    member = signed_in(client, db)
    assert member.email == "nomail@example.com" and member.display_name == "No Mail"
    assert identities(db) == [{"provider": "facebook", "subject": "fb-42", "user": member.key,
                               "email": None, "email_verified": False}]
    # The pending identity is gone once used.
    assert new_browser(client).get("/auth/email").status_code == 400


def test_email_form_refuses_an_address_in_use(client, db, facebook_idp, make_user):
    make_user("carol", email="carol@example.com")
    facebook_idp.user = {"sub": "fb-43", "name": "No Mail"}
    sign_in_with(client, "facebook")
    token = csrf_token(client, "/auth/email")
    response = client.post("/auth/email", data={"email": "carol@example.com",
                                                 "csrf_token": token})
    assert response.status_code == 400
    assert "link Facebook from Settings" in response.get_data(as_text=True)
    assert users(db) == 1 and identities(db) == []


def test_email_form_without_a_pending_sign_in_is_refused(client):
    assert client.get("/auth/email").status_code == 400


# -- Apple -----------------------------------------------------------------------------------------

def test_apple_transaction_cookie_is_its_own_and_the_session_stays_lax(client, db):
    response = client.get("/login/apple")
    cookies = response.headers.getlist("Set-Cookie")
    tx = next(c for c in cookies if c.startswith("idance_apple_tx="))
    attrs = {a.strip().split("=")[0].lower(): (a.split("=", 1)[1] if "=" in a else True)
             for a in tx.split(";")[1:]}
    assert attrs["secure"] is True and attrs["httponly"] is True
    assert attrs["samesite"] == "None" and attrs["path"] == "/auth/apple/callback"
    assert 0 < int(attrs["max-age"]) <= 600
    assert not any(c.startswith("session=") for c in cookies)
    answer = provider_answer(at_provider(response.headers["Location"]))
    response = deliver(client, *answer)
    session_cookie = next(c for c in response.headers.getlist("Set-Cookie")
                          if c.startswith("session="))
    assert "SameSite=Lax" in session_cookie
    assert any(c.startswith("idance_apple_tx=;") or "idance_apple_tx=\"\"" in c or
               c.startswith("idance_apple_tx=") and "Max-Age=0" in c
               for c in response.headers.getlist("Set-Cookie"))


def test_apple_signs_up_with_private_relay_and_takes_the_name_only_once(client, db, apple_idp):
    response = sign_in_with(client, "apple")
    assert response.status_code == 302 and response.headers["Location"] == "/me"
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


def test_apple_client_secret_is_an_es256_jwt_with_apples_claims(client, app, apple_key,
                                                                apple_idp):
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
        AppleClientSecret(team_id="T", client_id="c", key_id="k", audience="a",
                          private_key=apple_key.as_pem(private=True).decode(),
                          lifetime=SIX_MONTHS + 1)


def test_apple_invalid_client_is_a_page_not_a_500(client, db, apple_idp):
    apple_idp.faults.add("invalid_client")
    response = sign_in_with(client, "apple")
    assert response.status_code == 503
    assert "Apple sign-in unavailable" in response.get_data(as_text=True)
    assert users(db) == 0 and signed_in(client, db) is None


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
    assert {(i["provider"], i["user"]) for i in identities(db)} == {("google", "bob"),
                                                                   ("apple", "bob")}
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
    assert client.post("/me/settings/providers/google/link").status_code in (302, 400)
    make_user("bob")
    auth.login("bob@example.com")
    assert client.post("/me/settings/providers/google/link").status_code == 400
    token = csrf_token(client, "/me/settings")
    assert client.post("/me/settings/providers/github/link",
                       data={"csrf_token": token}).status_code == 404


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
        as_text=True)
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
