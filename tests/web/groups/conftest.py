"""Fixtures for the group page tests (helpers: ``tests.fixtures.groups``)."""

from __future__ import annotations

import pytest

from tests.fixtures.app import make_config
from tests.fixtures.auth import member_id
from tests.fixtures.groups import create, signed_in


@pytest.fixture
def config(tmp_path):
    return make_config(media_root=str(tmp_path / "media"))


@pytest.fixture
def alice(app):
    return signed_in(app, "alice", "Alice Moreau")


@pytest.fixture
def bob(app):
    return signed_in(app, "bob", "Bob Okafor")


@pytest.fixture
def carol(app):
    return signed_in(app, "carol", "Carol Tanaka")


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
