"""The chat's message form (also posted as JSON by the page's script)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, TextAreaField


class MessageForm(FlaskForm):
    """A message and the key that makes a double submit one message. The rules (length,
    blank text, the key's form) are the service's, so the reason shown is its own."""

    body = TextAreaField("Message")
    idempotency_key = HiddenField()
