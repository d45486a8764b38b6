"""Local OpenID Connect / OAuth 2 providers for the sign-in tests (helpers:
``tests.fixtures.oauth``)."""

from __future__ import annotations

import pytest
from joserfc.jwk import ECKey

from tests.fixtures.app import make_config
from tests.fixtures.oauth import APPLE_ID, APPLE_KID, APPLE_TEAM, FB_ID, FB_SECRET, GOOGLE_ID, \
    GOOGLE_SECRET, provider_settings
from tests.fixtures.oidc_provider import Provider


# -- providers, shared by the module ------------------------------------------------------------

@pytest.fixture(scope="module")
def apple_key() -> ECKey:
    """The app's Sign in with Apple key (Apple keeps the public half)."""
    return ECKey.generate_key("P-256", private=True)


@pytest.fixture(scope="module")
def google_idp():
    provider = Provider.google(GOOGLE_ID, GOOGLE_SECRET)
    yield provider
    provider.stop()


@pytest.fixture(scope="module")
def facebook_idp():
    provider = Provider.facebook(FB_ID, FB_SECRET)
    yield provider
    provider.stop()


@pytest.fixture(scope="module")
def apple_idp(apple_key):
    public = ECKey.import_key(apple_key.as_dict(private=False))
    provider = Provider.apple(APPLE_ID, APPLE_TEAM, APPLE_KID, public)
    yield provider
    provider.stop()


@pytest.fixture(autouse=True)
def fresh_providers(google_idp, facebook_idp, apple_idp):
    for provider in (google_idp, facebook_idp, apple_idp):
        provider.reset()
    apple_idp.user = {"sub": "001234.apple.abcdef", "email": "dana@privaterelay.appleid.com",
                      "email_verified": "true", "name": "Dana Dancer"}


@pytest.fixture
def config(google_idp, facebook_idp, apple_idp, apple_key):
    return make_config(**provider_settings(google_idp, facebook_idp, apple_idp, apple_key))


@pytest.fixture
def idp(google_idp, facebook_idp, apple_idp):
    return {"google": google_idp, "facebook": facebook_idp, "apple": apple_idp}


