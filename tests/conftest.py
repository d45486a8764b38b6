"""Fixtures for the whole suite: a fresh in-memory SurrealDB per test, an app, members."""

from __future__ import annotations

import ipaddress
import socket

import pytest

from idance_web import create_app
from idance_web.config import Config
from idance_web.db import Database
from idance_web.migrate import Runner

TEST_SECRET = "test-secret-key-0123456789abcdef0123456789"
TEST_JWT_KEY = "test-db-jwt-key-0123456789abcdef0123456789"
PASSWORD = "correct horse battery"


def make_config(**changes) -> Config:
    """A test configuration on a fresh ``mem://`` database."""
    base = Config(env="test", db_url="mem://", secret_key=TEST_SECRET, db_jwt_key=TEST_JWT_KEY,
                  auto_migrate=False)
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
    from idance_web.lookup import load_small_lookup

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
            row = s.one(
                """CREATE ONLY type::thing('user', $username) SET email = $email,
                   username = $username, display_name = $name, password = $hash;
                   CREATE profile SET owner = type::thing('user', $username);""",
                {"username": username, "email": email or f"{username}@example.com",
                 "name": display_name or username.title(), "hash": hashed[password]},
            )
        return f"user:{username}"

    return make
