"""Fixtures for the site editor and public site tests (helpers: ``tests.fixtures.sites``)."""

from __future__ import annotations

import pytest

from tests.fixtures.auth import AuthActions
from tests.fixtures.sites import Editor


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
