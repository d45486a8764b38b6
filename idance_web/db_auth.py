"""Signing the connection in: the record-access tokens the app mints, and database users'
sign-ins kept as the tokens they return.

A database user's sign-in sends a password that the database verifies with argon2 (~100 ms,
holding the GIL on the embedded engine, on the server's CPU otherwise); authenticating with the
token that sign-in returned costs well under a millisecond. So each database user the app signs
in as (the configured user on a server, the hub's ``VIEWER``) signs in once and reuses its token
until shortly before it expires (an hour by default) or the database refuses it (the user was
redefined: a rotated key or password).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

from joserfc import jwt
from joserfc.jwk import OctKey

from .config import Config

# A reused token is given up this long before its `exp`: a block never starts on one about to end.
MARGIN_S = 60


def token_expiry(token: str) -> float:
    """The ``exp`` claim of a JWT the database issued (read, not verified: it is our own)."""
    payload = token.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return float(claims.get("exp", time.time() + 60))


def hub_password(config: Config) -> str:
    """The change-feed reader's database password, derived from the key (rotates with it)."""
    return hmac.new(config.db_jwt_key.encode(), b"idance-hub", hashlib.sha256).hexdigest()


def mint_record_token(key: OctKey, config: Config, access: str, record: str, seconds: int,
                      now: int) -> str:
    """A record-access JWT for ``record`` under ``access``, valid ``seconds`` from ``now``."""
    claims = {
        "iss": "SurrealDB",
        "iat": now,
        "nbf": now,
        "exp": now + seconds,
        "NS": config.db_namespace,
        "DB": config.database,
        "AC": access,
        "ID": record,
    }
    return jwt.encode({"alg": "HS256", "typ": "JWT"}, claims, key)


class UserSignIn:
    """A database user's sign-in, kept as its token: ``apply`` authenticates a connection with
    the token while it lasts and signs in with the password only when there is none, it is
    about to expire, or the database refuses it."""

    def __init__(self, credentials: dict):
        self._credentials = credentials
        self.token: str | None = None
        self.until = 0.0  # reuse the token until then (its expiry less the margin)
        self.signins = 0  # password sign-ins sent (tests and benchmarks read it)

    def apply(self, conn) -> float:
        """Sign ``conn`` in as the user; return until when it may stay signed in.

        Raises what the SDK raised when the password sign-in itself fails.
        """
        if self.token is not None and time.time() < self.until:
            try:
                conn.authenticate(self.token)
                return self.until
            except Exception:  # refused: the user was redefined (its token key changed)
                self.token = None
        self.signins += 1
        tokens = conn.signin(self._credentials)
        token = getattr(tokens, "access", tokens)
        if isinstance(token, str) and token.count(".") == 2:
            self.token, self.until = token, token_expiry(token) - MARGIN_S
        else:  # no token to keep: sign in again next time
            self.token, self.until = None, time.time() + MARGIN_S
        return self.until

    def forget(self) -> None:
        """Drop the token (the next ``apply`` signs in with the password)."""
        self.token, self.until = None, 0.0
