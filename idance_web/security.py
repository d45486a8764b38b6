"""Security wired once: response headers with a per-request CSP nonce, and safe redirects."""

from __future__ import annotations

import re
import secrets
from urllib.parse import unquote, urlsplit

from flask import Flask, abort, current_app, g, request
from flask.sessions import SecureCookieSessionInterface

# C0 controls but tab, line feed and carriage return, and DEL.
CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def csp_nonce() -> str:
    """This request's script nonce (templates put it on their few <script> tags)."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return g.csp_nonce


def public_origin() -> str:
    """The origin absolute links are built from: canonical links, sitemaps, OAuth redirects.

    ``IDANCE_PUBLIC_URL`` when set (production requires it); else Flask's ``SERVER_NAME``; else
    the address the development server was started on. Never the request's ``Host`` header,
    which anyone can forge.
    """
    public_url = current_app.config["IDANCE"].public_url
    if public_url:
        return public_url.rstrip("/")
    server = current_app.config.get("SERVER_NAME") or current_app.config.get(
        "IDANCE_SERVING_HOST") or "localhost"
    return f"{current_app.config.get('PREFERRED_URL_SCHEME', 'http')}://{server}"


def safe_next(target: str | None, default: str = "/") -> str:
    """``target`` if it is a path on this site, else ``default``.

    Refuses scheme-relative (``//x``), backslash (``/\\x``), schemes (``https:x``,
    ``javascript:``), encoded variants and control characters (header splitting).
    """
    if not target:
        return default
    decoded = unquote(target)
    for candidate in (target, decoded):
        if any(ord(c) < 32 or c == "\\" for c in candidate):
            return default
        if not candidate.startswith("/") or candidate.startswith("//"):
            return default
        parts = urlsplit(candidate)
        if parts.scheme or parts.netloc:
            return default
    return target


class PublicAwareSessionInterface(SecureCookieSessionInterface):
    """Signed-cookie sessions that stay out of public pages.

    A cached public page is shared by every visitor, so its response may carry no
    ``Set-Cookie`` and no ``Vary: Cookie``: views mark such responses with ``g.public_page``.
    """

    def save_session(self, app, session, response):
        if g.get("public_page"):
            return
        super().save_session(app, session, response)


def init_security(app: Flask) -> None:
    """Register the user loader, the header hook and the nonce helper on ``app``."""
    from .extensions import get_db, login_manager, member_cache
    from .services.accounts import load_session_user

    production = app.config["IDANCE"].is_production
    app.session_interface = PublicAwareSessionInterface()
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Sign in to continue."

    @login_manager.user_loader
    def load_user(cookie_id: str):
        # Checked in the database at most once a minute per session while the hub keeps the
        # check true (a revocation drops it before the revoking request answers).
        return member_cache().session(cookie_id, lambda: load_session_user(get_db(), cookie_id))

    app.jinja_env.globals["csp_nonce"] = csp_nonce
    app.jinja_env.globals["has_endpoint"] = lambda name: name in app.view_functions

    @app.before_request
    def refuse_control_characters():
        """A NUL or other control character in any input is refused before a view runs: it
        has no place in text a person typed, and stored it breaks pages for everyone."""
        values = [*request.args.values(), *(request.view_args or {}).values()]
        if request.method == "POST" and request.mimetype in (
                "application/x-www-form-urlencoded", "multipart/form-data"):
            values += [v for key in request.form for v in request.form.getlist(key)]
        if any(isinstance(v, str) and CONTROL_CHARS.search(v) for v in values):
            abort(400, "That text holds a control character we cannot store.")

    @app.after_request
    def set_security_headers(response):
        headers = response.headers
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        headers.setdefault("X-Frame-Options", "DENY")
        if response.mimetype == "text/html":
            headers.setdefault(
                "Content-Security-Policy",
                "default-src 'self'; "
                f"script-src 'self' 'nonce-{csp_nonce()}'; "
                "style-src 'self'; img-src 'self' data: https:; media-src 'self' https:; "
                "frame-src https://www.youtube-nocookie.com https://player.vimeo.com; "
                "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
                "form-action 'self'; frame-ancestors 'none'",
            )
        if production and request.is_secure:
            headers.setdefault("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
        return response
