"""Notification preferences and marking notifications read."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import Field, HiddenField

from ..services.notifications import KINDS
from .core import MultiCheckboxField, choices


class KeysField(Field):
    """Every value sent under the field's name (one per notification of a grouped item)."""

    def process_formdata(self, valuelist):
        self.data = [v.strip() for v in valuelist if v.strip()]

    def _value(self):
        return ""


class NotificationPrefsForm(FlaskForm):
    """Per kind: shown in iDance (the list and the badge), and pushed to her devices."""

    in_app = MultiCheckboxField("Show in iDance", choices=choices(KINDS.items()))
    push = MultiCheckboxField("Push to my devices", choices=choices(KINDS.items()))


class MarkReadForm(FlaskForm):
    """Marks one item (the keys of its notifications) read, then goes back to ``next``."""

    ids = KeysField()
    next = HiddenField()
