"""Extension objects, created unbound and initialised by the factory."""

from __future__ import annotations

from flask import current_app
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

from .db import Database

login_manager = LoginManager()
csrf = CSRFProtect()
# Keyed by the peer address: X-Forwarded-For counts only behind a proxy configured as trusted
# (IDANCE_TRUSTED_PROXIES, applied with ProxyFix), so rotating the header resets nothing.
# Counters live where IDANCE_RATE_LIMIT_STORAGE says (RATELIMIT_STORAGE_URI, set by the factory).
limiter = Limiter(key_func=get_remote_address, headers_enabled=True, default_limits=[])


def get_db() -> Database:
    """The app's database (opened on first use, not at import or factory time)."""
    return current_app.extensions["idance.db"]


def member_cache():
    """The app's cache of what members' own pages repeat (``member_cache.py``)."""
    return current_app.extensions["idance.member_cache"]
