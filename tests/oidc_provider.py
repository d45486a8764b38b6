"""A small OpenID Connect / OAuth 2 provider for the tests, served over real HTTP on 127.0.0.1.

One instance plays one provider's quirks:

- ``Provider.google``: discovery, JWKS, RS256 ID tokens, client_secret_basic, PKCE required.
- ``Provider.facebook``: plain OAuth 2 (client_secret_post) and a Graph-like ``/me`` that
  checks ``appsecret_proof`` and records every call.
- ``Provider.apple``: ``response_mode=form_post`` (the authorize endpoint answers with an
  auto-submitting form), the ``user`` field on a subject's first authorization only,
  ``email_verified`` as a string, ES256 ID tokens, and a client secret that must be an ES256
  JWT signed by the app's key.

Knobs: ``user`` is who signs in at the provider; ``faults`` holds misbehaviours for the next
answers: ``nonce``, ``alg_none``, ``hs256_public``, ``aud``, ``iss``, ``expired``,
``unknown_kid``, ``invalid_client``, ``deny``. Codes are single use.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import json
import secrets
import threading
import time
from urllib.parse import unquote, urlencode

from flask import Flask, jsonify, redirect, request
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, RSAKey
from werkzeug.serving import WSGIRequestHandler, make_server

SIX_MONTHS = 15_777_000


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def s256(verifier: str) -> str:
    return _b64(hashlib.sha256(verifier.encode()).digest())


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args, **kwargs):
        pass


class Provider:
    def __init__(self, kind: str, client_id: str, client_secret: str | None = None, *,
                 alg: str = "RS256", auth: str = "client_secret_basic",
                 require_pkce: bool = False, form_post: bool = False,
                 client_key: ECKey | None = None, team_id: str = "", key_id: str = ""):
        self.kind, self.client_id, self.client_secret = kind, client_id, client_secret
        self.alg, self.auth, self.require_pkce, self.form_post = alg, auth, require_pkce, form_post
        self.client_key, self.team_id, self.key_id = client_key, team_id, key_id
        self.key = self._new_key(f"{kind}-key-1")
        self.rogue_key = self._new_key("rogue-key")
        self.app = self._build_app()
        self.server = make_server("127.0.0.1", 0, self.app, threaded=True,
                                  request_handler=_QuietHandler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.issuer = self.url
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.reset()

    # -- presets --------------------------------------------------------------------------------
    @classmethod
    def google(cls, client_id: str, client_secret: str) -> Provider:
        return cls("google", client_id, client_secret, alg="RS256", auth="client_secret_basic",
                   require_pkce=True)

    @classmethod
    def facebook(cls, client_id: str, client_secret: str) -> Provider:
        return cls("facebook", client_id, client_secret, auth="client_secret_post")

    @classmethod
    def apple(cls, client_id: str, team_id: str, key_id: str, client_key: ECKey) -> Provider:
        return cls("apple", client_id, alg="ES256", auth="apple_jwt", form_post=True,
                   client_key=client_key, team_id=team_id, key_id=key_id)

    def _new_key(self, kid: str):
        params = {"kid": kid, "use": "sig", "alg": self.alg}
        if self.alg == "RS256":
            return RSAKey.generate_key(2048, parameters=params, private=True)
        return ECKey.generate_key("P-256", parameters=params, private=True)

    def reset(self) -> None:
        """Forget everything a test did (the server is shared by a module)."""
        self.user = {"sub": f"{self.kind}-sub-1", "email": "dana@example.com",
                     "email_verified": True, "name": "Dana Dancer"}
        self.faults: set[str] = set()
        self.codes: dict[str, dict] = {}
        self.access_tokens: dict[str, dict] = {}
        self.authorize_requests: list[dict] = []
        self.token_requests: list[dict] = []
        self.graph_calls: list[dict] = []
        self.client_secrets: list[str] = []
        self.seen_subjects: set[str] = set()

    def stop(self) -> None:
        self.server.shutdown()
        self.thread.join(5)

    # -- tokens ---------------------------------------------------------------------------------
    def id_token(self, grant: dict) -> str:
        user, now = grant["user"], int(time.time())
        claims = {"iss": self.issuer, "sub": user["sub"], "aud": self.client_id, "iat": now,
                  "exp": now + 600, "nonce": grant["nonce"]}
        if user.get("email") is not None:
            claims["email"] = user["email"]
            claims["email_verified"] = user.get("email_verified")
            if self.kind == "apple":
                claims["is_private_email"] = str(
                    user["email"].endswith("@privaterelay.appleid.com")).lower()
        if self.kind == "google" and user.get("name"):
            claims["name"] = user["name"]
        faults = self.faults
        if "nonce" in faults:
            claims["nonce"] = "not-the-nonce-you-sent"
        if "aud" in faults:
            claims["aud"] = "another-client"
        if "iss" in faults:
            claims["iss"] = "https://evil.example"
        if "expired" in faults:
            claims["iat"], claims["exp"] = now - 7200, now - 3600
        header = {"alg": self.alg, "kid": self.key.kid}
        if "alg_none" in faults:
            body = _b64(json.dumps(claims).encode())
            return f"{_b64(json.dumps({'alg': 'none', 'kid': self.key.kid}).encode())}.{body}."
        if "hs256_public" in faults:
            signing_input = (_b64(json.dumps({"alg": "HS256", "kid": self.key.kid}).encode())
                             + "." + _b64(json.dumps(claims).encode()))
            public_pem = self.key.as_pem(private=False)
            signature = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
            return f"{signing_input}.{_b64(signature)}"
        key = self.key
        if "unknown_kid" in faults:
            key, header["kid"] = self.rogue_key, self.rogue_key.kid
        return jwt.encode(header, claims, key, algorithms=[self.alg])

    def check_apple_secret(self, secret: str) -> bool:
        """Apple's rules for the client secret JWT (ES256, kid, iss, sub, aud, lifetime)."""
        try:
            token = jwt.decode(secret, self.client_key, algorithms=["ES256"])
        except (JoseError, ValueError):
            return False
        c, now = token.claims, int(time.time())
        return (token.header.get("kid") == self.key_id and c.get("iss") == self.team_id
                and c.get("sub") == self.client_id and c.get("aud") == self.issuer
                and c.get("iat", now + 1) <= now < c.get("exp", 0)
                and c["exp"] - c["iat"] <= SIX_MONTHS)

    def _client_ok(self) -> bool:
        form = request.form
        if self.auth == "client_secret_basic":
            auth = request.authorization
            return bool(auth) and unquote(auth.username or "") == self.client_id and \
                unquote(auth.password or "") == self.client_secret
        if self.auth == "client_secret_post":
            return form.get("client_id") == self.client_id and \
                form.get("client_secret") == self.client_secret
        secret = form.get("client_secret", "")
        self.client_secrets.append(secret)
        return form.get("client_id") == self.client_id and self.check_apple_secret(secret)

    # -- the HTTP side --------------------------------------------------------------------------
    def _build_app(self) -> Flask:
        app = Flask(f"provider_{self.kind}")

        @app.get("/.well-known/openid-configuration")
        def discovery():
            return jsonify({
                "issuer": self.issuer,
                "authorization_endpoint": f"{self.url}/authorize",
                "token_endpoint": f"{self.url}/token",
                "jwks_uri": f"{self.url}/jwks",
                "response_types_supported": ["code"],
                "response_modes_supported": ["query", "form_post"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": [self.alg],
                "token_endpoint_auth_methods_supported": [self.auth],
                "code_challenge_methods_supported": ["S256"],
            })

        @app.get("/jwks")
        def jwks():
            return jsonify({"keys": [self.key.as_dict(private=False)]})

        @app.get("/authorize")
        def authorize():
            args = request.args.to_dict()
            self.authorize_requests.append(args)
            if args.get("client_id") != self.client_id or args.get("response_type") != "code":
                return "unknown client or response type", 400
            if self.require_pkce and (args.get("code_challenge_method") != "S256"
                                      or not args.get("code_challenge")):
                return "PKCE required", 400
            if self.form_post and args.get("response_mode") != "form_post":
                return "response_mode=form_post required", 400
            params = {"state": args.get("state", "")}
            if "deny" in self.faults:
                params["error"] = "user_cancelled_authorize" if self.form_post else "access_denied"
            else:
                code = secrets.token_urlsafe(16)
                self.codes[code] = {"redirect_uri": args.get("redirect_uri"),
                                    "nonce": args.get("nonce"), "used": False,
                                    "challenge": args.get("code_challenge"),
                                    "user": dict(self.user)}
                params["code"] = code
                if self.form_post and self.user["sub"] not in self.seen_subjects:
                    self.seen_subjects.add(self.user["sub"])
                    first, _, last = (self.user.get("name") or "").partition(" ")
                    params["user"] = json.dumps({"name": {"firstName": first, "lastName": last},
                                                 "email": self.user.get("email")})
            target = args["redirect_uri"]
            if not self.form_post:
                return redirect(f"{target}?{urlencode(params)}")
            fields = "".join(
                f'<input type="hidden" name="{k}" value="{html.escape(v, quote=True)}">'
                for k, v in params.items())
            return (f'<!doctype html><form method="post" action="{html.escape(target)}">'
                    f"{fields}</form><script>document.forms[0].submit()</script>")

        @app.post("/token")
        def token():
            form = request.form.to_dict()
            self.token_requests.append(form)
            if "invalid_client" in self.faults or not self._client_ok():
                return jsonify({"error": "invalid_client"}), 401
            if form.get("grant_type") != "authorization_code":
                return jsonify({"error": "unsupported_grant_type"}), 400
            grant = self.codes.get(form.get("code", ""))
            if grant is None or grant["used"]:
                return jsonify({"error": "invalid_grant", "error_description": "code used"}), 400
            grant["used"] = True
            if form.get("redirect_uri") != grant["redirect_uri"]:
                return jsonify({"error": "invalid_grant"}), 400
            if grant["challenge"] or self.require_pkce:
                verifier = form.get("code_verifier") or ""
                if not grant["challenge"] or s256(verifier) != grant["challenge"]:
                    return jsonify({"error": "invalid_grant", "error_description": "PKCE"}), 400
            access = secrets.token_urlsafe(24)
            self.access_tokens[access] = grant["user"]
            body = {"access_token": access, "token_type": "Bearer", "expires_in": 3600}
            if self.kind != "facebook":
                body["id_token"] = self.id_token(grant)
            return jsonify(body)

        @app.get("/me")
        def graph_me():
            header = request.headers.get("Authorization", "")
            access = header[7:] if header.startswith("Bearer ") else request.args.get(
                "access_token", "")
            proof = request.args.get("appsecret_proof", "")
            expected = hmac.new(self.client_secret.encode(), access.encode(),
                                hashlib.sha256).hexdigest()
            call = {"path": "/me", "fields": request.args.get("fields"), "token": access,
                    "appsecret_proof": proof, "proof_ok": hmac.compare_digest(proof, expected)}
            self.graph_calls.append(call)
            user = self.access_tokens.get(access)
            if user is None:
                return jsonify({"error": {"message": "Invalid OAuth access token",
                                          "type": "OAuthException", "code": 190}}), 400
            if not call["proof_ok"]:
                return jsonify({"error": {"message": "Invalid appsecret_proof",
                                          "type": "GraphMethodException", "code": 100}}), 400
            data = {"id": user["sub"], "name": user.get("name")}
            if user.get("email"):
                data["email"] = user["email"]
            return jsonify(data)

        return app
