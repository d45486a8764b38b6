"""Fixtures for the whole suite: a fresh in-memory SurrealDB per test, an app, members."""

from __future__ import annotations

import ipaddress
import tempfile
import socket
from html.parser import HTMLParser

import pytest

from idance_web import create_app
from idance_web.config import Config
from idance_web.db import Database
from idance_web.migrate import Runner

TEST_SECRET = "test-secret-key-0123456789abcdef0123456789"
TEST_JWT_KEY = "test-db-jwt-key-0123456789abcdef0123456789"
PASSWORD = "correct horse battery"
# Media written by tests goes to a temporary folder, never into the work tree.
_MEDIA_ROOT = tempfile.mkdtemp(prefix="idance-test-media-")


def make_config(**changes) -> Config:
    """A test configuration on a fresh ``mem://`` database."""
    base = Config(env="test", db_url="mem://", secret_key=TEST_SECRET, db_jwt_key=TEST_JWT_KEY,
                  auto_migrate=False, follow_changes=False, media_root=_MEDIA_ROOT)
    return base.with_overrides(**changes)


@pytest.fixture(autouse=True)
def no_outbound_network(monkeypatch):
    """Fail any connection to a non-loopback address: tests never reach out."""
    real_connect = socket.socket.connect

    def guarded(self, address):
        host = address[0] if isinstance(address, tuple) else None
        if host is not None:
            try:
                loopback = ipaddress.ip_address(host).is_loopback
            except ValueError:
                loopback = host == "localhost"
            if not loopback:
                raise RuntimeError(f"test tried to reach {host}: tests never leave the machine")
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)


def migrate(db: Database, lookup: bool = True) -> None:
    """Apply every migration, with the small lookup fixture instead of the full data."""
    from tests.lookup_fixture import load_small_lookup

    Runner(db, lookup=(lambda s, log: load_small_lookup(s)) if lookup else None).run(
        log=lambda m: None
    )


@pytest.fixture
def config() -> Config:
    return make_config()


@pytest.fixture
def app(config):
    app = create_app(config)
    migrate(app.extensions["idance.db"])
    yield app
    app.extensions["idance.db"].close()


@pytest.fixture
def db(app) -> Database:
    return app.extensions["idance.db"]


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def make_user(db):
    """Create a member directly (as the system) and return her record id string."""
    hashed = {}

    def make(username: str, email: str | None = None, display_name: str | None = None,
             password: str = PASSWORD) -> str:
        with db.system() as s:
            if password not in hashed:
                hashed[password] = s.value("RETURN crypto::argon2::generate($p)", {"p": password})
            s.one(
                """CREATE ONLY type::thing('user', $username) SET email = $email,
                   username = $username, display_name = $name, password = $hash,
                   has_password = true;
                   CREATE profile SET owner = type::thing('user', $username);""",
                {"username": username, "email": email or f"{username}@example.com",
                 "name": display_name or username.title(), "hash": hashed[password]},
            )
        return f"user:{username}"

    return make


def csrf_token(client, path: str) -> str:
    """The CSRF token of the form on ``path`` (as a browser would have it)."""
    import re

    html = client.get(path).get_data(as_text=True)
    match = re.search(r'name="(?:\w+-)?csrf_token" type="hidden" value="([^"]+)"', html) or \
        re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


class AuthActions:
    """Sign up, sign in and out through the real pages."""

    def __init__(self, client):
        self.client = client

    def signup(self, username="alice", email=None, password=PASSWORD, display_name=None,
               follow=False):
        data = {"email": email or f"{username}@example.com", "username": username,
                "display_name": username.title() if display_name is None else display_name,
                "password": password,
                "csrf_token": csrf_token(self.client, "/signup")}
        return self.client.post("/signup", data=data, follow_redirects=follow)

    def login(self, email="alice@example.com", password=PASSWORD, next=None, **kw):
        data = {"email": email, "password": password, "csrf_token": csrf_token(self.client, "/login")}
        url = "/login" + (f"?next={next}" if next is not None else "")
        return self.client.post(url, data=data, **kw)

    def logout(self):
        token = csrf_token(self.client, "/me/settings")
        return self.client.post("/logout", data={"csrf_token": token})


@pytest.fixture
def auth(client):
    return AuthActions(client)


def member_id(db, username: str):
    """The record id of the member with ``username``.

    (A filter through a relation's indexed ``in`` — ``in.username = …`` — finds nothing on
    this engine, so tests look the id up first.)
    """
    with db.system() as s:
        return s.value("RETURN (SELECT VALUE id FROM user WHERE username = $u LIMIT 1)[0]",
                       {"u": username})


class _LiveMarkup(HTMLParser):
    """Collects what a browser would execute: script elements, handlers, script URLs."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        data_block = tag == "script" and dict(attrs).get("type") == "application/ld+json"
        if tag in ("script", "iframe", "object", "embed") and not dict(attrs).get("nonce") \
                and not dict(attrs).get("src", "").startswith("/static/") and not data_block:
            if tag != "iframe" or not (dict(attrs).get("src") or "").startswith(
                    ("https://www.youtube-nocookie.com/", "https://player.vimeo.com/")):
                self.found.append(f"<{tag}>")
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"{tag}[{name}]")
            if name in ("href", "src", "action", "formaction", "xlink:href") and value:
                scheme = value.strip().lower().replace("\t", "").replace("\n", "")
                if scheme.startswith(("javascript:", "vbscript:", "data:text")):
                    self.found.append(f"{tag}[{name}={value[:30]}]")


def assert_inert(html: str) -> None:
    """Fail if ``html`` holds anything a browser would run (escaped text is fine)."""
    parser = _LiveMarkup()
    parser.feed(html)
    assert parser.found == [], parser.found
