"""Sign-in providers (Google, Facebook, Apple) through Authlib's Flask client.

``registry`` is Authlib's registry of provider clients, unbound here and initialised by the
factory. Only providers
whose credentials are configured are registered and offered. Authlib builds the authorize
URLs (state, nonce, PKCE S256), exchanges codes and verifies ID tokens against the provider's
JWKS; this module adds the checks Authlib leaves to the caller (``aud``, ``iss``, ``sub``,
``exp`` essential), Facebook's ``appsecret_proof``, and Apple's ES256 client secret.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
import time

import requests
from authlib.integrations.base_client import OAuthError
from authlib.integrations.flask_client import FlaskOAuth2App
from authlib.integrations.flask_client import OAuth as FlaskOAuth
from flask import Flask, current_app
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey

from .config import Config, ConfigError
from .security import CONTROL_CHARS
from .services.identities import ProviderProfile, usable_email

log = logging.getLogger("idance.oauth")

PROVIDERS = ("google", "facebook", "apple")
LABELS = {"google": "Google", "facebook": "Facebook", "apple": "Apple"}
HTTP_TIMEOUT = 10  # seconds for every call to a provider
CANCELLED = {"access_denied", "user_cancelled_authorize"}


class SignInInvalid(Exception):
    """The answer cannot be trusted (state, code, token or claims): the user starts again."""


class SignInCancelled(Exception):
    """She declined at the provider."""


class ProviderUnavailable(Exception):
    """The provider cannot be used right now (unreachable, or refuses our client)."""


def configured_providers(config: Config) -> tuple[str, ...]:
    """The providers whose credentials are all set, in display order."""
    present = {
        "google": config.google_client_id and config.google_client_secret,
        "facebook": config.facebook_client_id and config.facebook_client_secret,
        "apple": config.apple_client_id and config.apple_team_id and config.apple_key_id
        and config.apple_private_key,
    }
    return tuple(name for name in PROVIDERS if present[name])


# -- Apple's client secret --------------------------------------------------------------------

class AppleClientSecret:
    """Apple's client secret: an ES256 JWT signed with the team's key, renewed before expiry.

    Apple accepts a lifetime of up to six months; a short one limits what a leaked secret is
    worth, and minting costs one signature.
    """

    MAX_LIFETIME = 15_777_000  # Apple's limit (six months), in seconds

    def __init__(self, *, team_id: str, client_id: str, key_id: str, private_key: str,
                 audience: str, lifetime: int = 24 * 3600, renew_before: int = 3600,
                 clock=time.time):
        if not 0 < lifetime <= self.MAX_LIFETIME or renew_before >= lifetime:
            raise ValueError("the Apple client secret lifetime must be under six months")
        pem = private_key.replace("\\n", "\n") if "\\n" in private_key else private_key
        try:
            self._key = ECKey.import_key(pem.strip().encode())
        except (JoseError, ValueError, TypeError) as exc:
            raise ConfigError("IDANCE_APPLE_PRIVATE_KEY must be an EC P-256 private key "
                              "(PEM, as downloaded from Apple)") from exc
        if self._key.curve_name != "P-256" or not self._key.is_private:
            raise ConfigError("IDANCE_APPLE_PRIVATE_KEY must be an EC P-256 private key")
        self.team_id, self.client_id, self.key_id = team_id, client_id, key_id
        self.audience, self.lifetime, self.renew_before = audience, lifetime, renew_before
        self.clock = clock
        self._lock = threading.Lock()
        self._secret: str | None = None
        self._expires = 0

    def get(self) -> str:
        """The current secret; a new one once fewer than ``renew_before`` seconds remain."""
        with self._lock:
            now = int(self.clock())
            if self._secret is None or now >= self._expires - self.renew_before:
                claims = {"iss": self.team_id, "iat": now, "exp": now + self.lifetime,
                          "aud": self.audience, "sub": self.client_id}
                self._secret = jwt.encode({"alg": "ES256", "kid": self.key_id}, claims,
                                          self._key, algorithms=["ES256"])
                self._expires = now + self.lifetime
            return self._secret


class AppleApp(FlaskOAuth2App):
    """Authlib's client whose ``client_secret`` is read from an ``AppleClientSecret``."""

    maker: AppleClientSecret | None = None

    @property
    def client_secret(self):
        return self.maker.get() if self.maker else None

    @client_secret.setter
    def client_secret(self, value):
        self.maker = value


# -- the registry -------------------------------------------------------------------------------

_STATE = "idance.oauth_clients"


def _app_state() -> dict:
    return current_app.extensions[_STATE]


class ProviderRegistry(FlaskOAuth):
    """Authlib's Flask registry keeping each app's clients in that app.

    Authlib keeps one set of clients on the registry object; the suite (and any process that
    builds several apps) needs each app's own providers and endpoints.
    """

    _registry = property(lambda self: _app_state()["registry"], lambda self, value: None)
    _clients = property(lambda self: _app_state()["clients"], lambda self, value: None)

    def init_app(self, app: Flask, cache=None, fetch_token=None, update_token=None) -> None:
        super().init_app(app, cache, fetch_token, update_token)
        app.extensions[_STATE] = {"registry": {}, "clients": {}}
        config: Config = app.config["IDANCE"]
        names = configured_providers(config)
        with app.app_context():
            for name in names:
                self.register(name, **_client_settings(name, config))
        app.extensions["idance.oauth_providers"] = names

    def load_config(self, name, params):
        return {}  # every setting is passed explicitly from Config


registry = ProviderRegistry()


def _client_settings(name: str, config: Config) -> dict:
    timeout = {"default_timeout": HTTP_TIMEOUT}
    if name == "google":
        return {
            "client_id": config.google_client_id, "client_secret": config.google_client_secret,
            "server_metadata_url": config.google_metadata_url,
            "client_kwargs": {"scope": "openid email profile",
                              "code_challenge_method": "S256", **timeout},
        }
    if name == "facebook":
        return {
            "client_id": config.facebook_client_id, "client_secret": config.facebook_client_secret,
            "authorize_url": config.facebook_authorize_url,
            "access_token_url": config.facebook_token_url,
            # PKCE binds the code to this browser's sign-in (RFC 9700 2.1.1).
            "client_kwargs": {"scope": "email public_profile", "code_challenge_method": "S256",
                              "token_endpoint_auth_method": "client_secret_post", **timeout},
        }
    secret = AppleClientSecret(
        team_id=config.apple_team_id, client_id=config.apple_client_id,
        key_id=config.apple_key_id, private_key=config.apple_private_key,
        audience=config.apple_audience,
    )
    return {
        "client_cls": AppleApp, "client_id": config.apple_client_id, "client_secret": secret,
        "server_metadata_url": config.apple_metadata_url,
        "authorize_params": {"response_mode": "form_post"},
        "client_kwargs": {"scope": "openid email name", "code_challenge_method": "S256",
                          "token_endpoint_auth_method": "client_secret_post", **timeout},
    }


def client(name: str):
    """This app's Authlib client for ``name`` (None if it is not configured)."""
    return registry.create_client(name)


def apple_client_secret() -> AppleClientSecret | None:
    apple = client("apple")
    return apple.maker if apple is not None else None


# -- the flow -------------------------------------------------------------------------------------

def begin(provider: str, redirect_uri: str) -> dict:
    """Authlib's authorize URL with its ``state`` (and ``nonce``, ``code_verifier``)."""
    try:
        return client(provider).create_authorization_url(redirect_uri)
    except (requests.RequestException, ValueError, RuntimeError) as exc:
        raise ProviderUnavailable(f"{provider}: cannot start: {exc}") from exc


def complete(provider: str, tx: dict, params: dict) -> ProviderProfile:
    """Exchange the code and verify what came back; the provider's account as a profile."""
    error = params.get("error")
    if error:
        if error in CANCELLED:
            raise SignInCancelled(error)
        raise SignInInvalid(f"provider answered error={error!r}")
    code = params.get("code")
    if not code:
        raise SignInInvalid("no code")
    app = client(provider)
    exchange = {"code": code, "redirect_uri": tx["redirect_uri"]}
    if tx.get("code_verifier"):
        exchange["code_verifier"] = tx["code_verifier"]
    try:
        token = app.fetch_access_token(**exchange)
        if provider == "facebook":
            return _facebook_profile(app, token)
        if "id_token" not in token:
            raise SignInInvalid("no ID token")
        claims = app.parse_id_token(token, nonce=tx["nonce"],
                                    claims_options=_claims_options(app, provider))
    except OAuthError as exc:
        if exc.error == "invalid_client":
            raise ProviderUnavailable(f"{provider} refused our client: {exc.description}") \
                from exc
        raise SignInInvalid(f"token endpoint: {exc.error}") from exc
    except JoseError as exc:
        raise SignInInvalid(f"ID token refused: {exc.error}: {exc.description}") from exc
    except requests.RequestException as exc:
        raise ProviderUnavailable(f"{provider} unreachable: {exc}") from exc
    except RuntimeError as exc:  # Authlib: a discovery document it cannot use
        raise ProviderUnavailable(f"{provider} metadata unusable: {exc}") from exc
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise SignInInvalid(f"malformed answer: {exc!r}") from exc
    return _oidc_profile(provider, claims, params)


def _claims_options(app, provider: str) -> dict:
    issuer = app.load_server_metadata().get("issuer")
    if not issuer:
        raise ProviderUnavailable(f"{provider}: the discovery document names no issuer")
    issuers = [issuer]
    if issuer == "https://accounts.google.com":
        issuers.append("accounts.google.com")  # Google documents both forms
    return {"iss": {"essential": True, "values": issuers},
            "aud": {"essential": True, "value": app.client_id},
            "sub": {"essential": True}, "exp": {"essential": True}}


def _is_true(value) -> bool:
    """Google sends a boolean; Apple sends the strings "true" / "false"."""
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


def _subject(value) -> str:
    subject = str(value or "")
    if not 1 <= len(subject) <= 255:
        raise SignInInvalid("subject missing or too long")
    return subject


def _clean(name) -> str:
    """A provider's display name without control characters (Apple's is unsigned input)."""
    return CONTROL_CHARS.sub("", str(name or "")).strip()[:80]


def _oidc_profile(provider: str, claims: dict, params: dict) -> ProviderProfile:
    email = claims.get("email") if isinstance(claims.get("email"), str) else None
    verified = _is_true(claims.get("email_verified"))
    if provider == "apple":
        # Apple's `user` field is unsigned and sent on the first sign-in only: its name is
        # used for a new account's display name, its email never.
        name = _apple_name(params.get("user"))
    else:
        name = claims.get("name") or " ".join(
            p for p in (claims.get("given_name"), claims.get("family_name")) if p)
    return ProviderProfile(provider=provider, subject=_subject(claims.get("sub")),
                           email=email, email_verified=verified, name=_clean(name),
                           account_email=usable_email(email) if verified else None)


def _apple_name(raw: str | None) -> str:
    if not raw or len(raw) > 2000:
        return ""
    try:
        name = json.loads(raw).get("name") or {}
        parts = (name.get("firstName"), name.get("lastName"))
    except (ValueError, AttributeError):
        return ""
    return " ".join(p.strip() for p in parts if isinstance(p, str) and p.strip())


def appsecret_proof(access_token: str, app_secret: str) -> str:
    """Facebook's proof that a Graph call comes from the app: HMAC-SHA256 of the token."""
    return hmac.new(app_secret.encode(), access_token.encode(), hashlib.sha256).hexdigest()


def _facebook_profile(app, token: dict) -> ProviderProfile:
    graph = current_app.config["IDANCE"].facebook_graph_url.rstrip("/")
    proof = appsecret_proof(token["access_token"], app.client_secret)
    response = app.get(f"{graph}/me", token=token,
                       params={"fields": "id,name,email", "appsecret_proof": proof})
    if response.status_code in (400, 401, 403):
        raise SignInInvalid(f"Graph refused the token ({response.status_code})")
    response.raise_for_status()
    data = response.json()
    if not isinstance(data, dict):
        raise SignInInvalid("Graph answered with something other than an object")
    email = data.get("email") if isinstance(data.get("email"), str) else None
    # Facebook says nothing about verification: the address is used, but stored unverified.
    return ProviderProfile(provider="facebook", subject=_subject(data.get("id")), email=email,
                           email_verified=False, name=_clean(data.get("name")),
                           account_email=usable_email(email))
