"""The app's database exceptions, and the mapping from the engine's error text to them."""

from __future__ import annotations

import re


class DatabaseError(Exception):
    """A database failure that is not the caller's fault; its text never reaches a browser."""


class NotFound(DatabaseError):
    """The record does not exist, or this identity may not see it."""


class NotAllowed(DatabaseError):
    """The identity is not allowed to do this (or its token was refused)."""


class Conflict(DatabaseError):
    """A unique index already holds this value."""

    def __init__(self, message: str, index: str | None = None):
        super().__init__(message)
        self.index = index


class Invalid(DatabaseError):
    """A value broke a field's type or assertion. ``fields`` maps field name → reason."""

    def __init__(self, message: str, fields: dict[str, str] | None = None):
        super().__init__(message)
        self.fields = fields or {}


class DatabaseLocked(DatabaseError):
    """Another process holds the embedded data file."""


class DatabaseUnavailable(DatabaseError):
    """The database does not answer."""


_UNIQUE = re.compile(r"Database index `(\w+)` already contains")
_FIELD = re.compile(r"for field `(\w+)`")


# The engine's own phrases for a refused identity or action (checked after the patterns that
# quote values, so a value such as "William" cannot turn a type error into a refusal).
_REFUSED = ("not allowed", "there was a problem with authentication", "the token has expired",
            "no such member", "not the visitor", "not the worker", "iam error",
            "wrong email or password")
_NOT_EXECUTED = "not executed due to a failed transaction"


def map_error(message: str) -> DatabaseError:
    """Turn the engine's error text into the app's own exception (the SDK gives text only)."""
    if m := _UNIQUE.search(message):
        return Conflict(message, index=m.group(1))
    if m := _FIELD.search(message):
        return Invalid(message, {m.group(1): "is not a valid value"})
    lowered = message.lower()
    if any(phrase in lowered for phrase in _REFUSED):
        return NotAllowed(message)
    if "does not exist" in lowered:
        return NotFound(message)
    return DatabaseError(message)
