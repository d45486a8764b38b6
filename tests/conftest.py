"""The suite's fixtures come from the ``tests.fixtures`` plugin package; import helpers from
there (``from tests.fixtures.auth import AuthActions``), never from a ``conftest.py``."""

from __future__ import annotations

import pytest

# Assertions in the helpers report their values too (they are imported before pytest would
# rewrite them as plugins).
pytest.register_assert_rewrite("tests.fixtures")

pytest_plugins = [
    "tests.fixtures.network",
    "tests.fixtures.app",
    "tests.fixtures.auth",
    "tests.fixtures.dancers",
    "tests.fixtures.mail",
    "tests.fixtures.xdist",
]
