"""Extension objects, created unbound and initialised by the factory."""

from __future__ import annotations

from flask import current_app
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

from .db import Database

login_manager = LoginManager()
csrf = CSRFProtect()


def get_db() -> Database:
    """The app's database (opened on first use, not at import or factory time)."""
    return current_app.extensions["idance.db"]
