"""Shared helpers for the site editor and public site tests."""

from __future__ import annotations

import pytest

from tests.conftest import AuthActions, csrf_token, member_id

XSS = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "javascript:alert(1)",
    "[x](JaVaScRiPt:alert(1))",
    "<svg onload=alert(1)>",
    "<iframe srcdoc='<script>alert(1)</script>'>",
    "{{ 7*7 }}",
]


class Editor:
    def __init__(self, client, prefix="/me/site"):
        self.client, self.prefix = client, prefix
        self.token = None

    def post(self, path, data=None, **kw):
        if self.token is None:
            self.token = csrf_token(self.client, "/me/settings")
        return self.client.post(
            self.prefix + path, data={"csrf_token": self.token, **(data or {})}, **kw
        )

    def add(self, kind, page="home", **fields):
        return self.post("/blocks/new", {"kind": kind, "page": page, **fields})

    def publish(self):
        return self.post("/publish")


@pytest.fixture
def alice(app):
    actions = AuthActions(app.test_client())
    actions.signup("alice", display_name="Alice Moreau")
    editor = Editor(actions.client)
    assert editor.post("/create").status_code == 302
    return editor


@pytest.fixture
def visitor(app):
    return app.test_client()


def poll(app):
    """Let the hub see what happened (tests poll instead of running its thread)."""
    app.extensions["idance.hub"].poll_once()


def draft_keys(db, username="alice"):
    with db.system() as s:
        rows = s.value(
            "SELECT record::id(id) AS key, position FROM content_block "
            "WHERE stage = 'draft' AND site = (SELECT VALUE id FROM site WHERE owner = $me)[0] "
            "ORDER BY position",
            {"me": member_id(db, username)},
        )
    return [r["key"] for r in rows]
