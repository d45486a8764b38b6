"""Fixtures for the vlog tests: three members signed in on clients of their own."""

from __future__ import annotations

import pytest

from tests.fixtures.app import make_config
from tests.fixtures.groups import signed_in


@pytest.fixture
def config(tmp_path):
    # Small caps keep the oversized bodies of the tests small.
    return make_config(media_root=str(tmp_path / "media"), max_image_bytes=30_000,
                       max_video_bytes=2_000_000, max_video_seconds=20)


@pytest.fixture
def ann(app):
    return signed_in(app, "ann", "Ann Lee")


@pytest.fixture
def ben(app):
    return signed_in(app, "ben", "Ben Cruz")


@pytest.fixture
def cat(app):
    return signed_in(app, "cat", "Cat Diaz")


@pytest.fixture
def visitor(app):
    return app.test_client()
