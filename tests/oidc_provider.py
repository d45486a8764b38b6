"""Compatibility shim, to remove once no branch imports it: see ``tests.fixtures.oidc_provider``."""

from tests.fixtures.oidc_provider import SIX_MONTHS, Provider, s256  # noqa: F401
