"""Local OpenID Connect / OAuth 2 providers and the browser's part of a sign-in."""

from __future__ import annotations

import html
import re
from urllib.parse import parse_qs, quote, urlsplit

import pytest
import requests
from joserfc.jwk import ECKey

from idance_web.services.accounts import load_session_user
from tests.conftest import csrf_token, make_config
from tests.oidc_provider import Provider

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

def assert_refused(client, db, response, before: int = 0):
    assert response.status_code == 400, response.get_data(as_text=True)
    assert INVALID in response.get_data(as_text=True)
    assert users(db) == before
    assert identities(db) == [] or before
    assert signed_in(client, db) is None
