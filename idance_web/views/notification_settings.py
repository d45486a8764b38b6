"""What the settings page shows of notifications: her preferences and her push devices."""

from __future__ import annotations

from flask import current_app

from ..db import Database
from ..forms import NotificationPrefsForm
from ..services import notifications, push


def prefs_form(db: Database, member_key: str) -> NotificationPrefsForm:
    """The preferences form, filled with what she chose."""
    prefs = notifications.preferences(db, member_key)
    form = NotificationPrefsForm(prefix="nt", formdata=None)
    form.in_app.data = [k for k, v in prefs.items() if v["in_app"]]
    form.push.data = [k for k, v in prefs.items() if v["push"]]
    return form


def context(db: Database, member_key: str) -> dict:
    """Her devices, and whether push is configured (with the key browsers subscribe with)."""
    config = current_app.config["IDANCE"]
    return {"devices": push.list_devices(db, member_key),
            "push_enabled": push.push_enabled(config),
            "vapid_public_key": config.vapid_public_key,
            "notification_kinds": notifications.KINDS}
