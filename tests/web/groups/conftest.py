"""Shared fixtures and helpers for the group page tests."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from tests.conftest import AuthActions, csrf_token, make_config, member_id

FORM = {"kind": "studio", "slug": "salsa-lab", "name": "Salsa Lab Berlin",
        "description": "Classes **every** night.", "city_query": "Berlin",
        "styles": ["salsa", "bachata"], "join_mode": "request", "visibility": "public"}


@pytest.fixture
def config(tmp_path):
    return make_config(media_root=str(tmp_path / "media"))


def signed_in(app, username, display_name=None):
    actions = AuthActions(app.test_client())
    actions.signup(username, display_name=display_name)
    return actions.client


@pytest.fixture
def alice(app):
    return signed_in(app, "alice", "Alice Moreau")


@pytest.fixture
def bob(app):
    return signed_in(app, "bob", "Bob Okafor")


@pytest.fixture
def carol(app):
    return signed_in(app, "carol", "Carol Tanaka")


def token(client):
    return csrf_token(client, "/me/settings")


def create(client, **changes):
    data = {**FORM, **changes, "csrf_token": csrf_token(client, "/groups/new")}
    return client.post("/groups/new", data={k: v for k, v in data.items() if v is not None})


def post(client, path, **data):
    return client.post(path, data={"csrf_token": token(client), **data})


def group_row(db, slug="salsa-lab"):
    with db.system() as s:
        return s.one("SELECT *, record::id(id) AS key FROM group WHERE slug = $s", {"s": slug})


def roles(db, slug="salsa-lab"):
    with db.system() as s:
        rows = s.value("SELECT user.username AS u, role, deleted_at FROM group_member "
                       "WHERE group = (SELECT VALUE id FROM group WHERE slug = $s)[0]", {"s": slug})
    return {r["u"]: r["role"] for r in rows if r["deleted_at"] is None}


@pytest.fixture
def studio(alice, bob, carol, db):
    """Alice's studio with Bob as a plain member and Carol as an admin."""
    assert create(alice).status_code == 302
    with db.system() as s:
        s.query("""LET $g = (SELECT VALUE id FROM group WHERE slug = 'salsa-lab')[0];
                   CREATE group_member SET group = $g, user = $bob, role = 'member';
                   CREATE group_member SET group = $g, user = $carol, role = 'admin';""",
                 {"bob": member_id(db, "bob"), "carol": member_id(db, "carol")})
    return "salsa-lab"

def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (300, 200), (20, 120, 200)).save(out, "PNG")
    return out.getvalue()
