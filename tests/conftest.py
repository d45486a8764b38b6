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
    "tests.fixtures.xdist",
]

# Compatibility shim, to remove once no branch imports helpers from here: the names this file
# used to define, re-exported from where they live now.
from tests.fixtures.app import TEST_JWT_KEY, TEST_SECRET, make_config  # noqa: E402,F401
from tests.fixtures.auth import PASSWORD, AuthActions, csrf_token, member_id  # noqa: E402,F401
from tests.fixtures.markup import assert_inert  # noqa: E402,F401
from tests.fixtures.template import migrate  # noqa: E402,F401
