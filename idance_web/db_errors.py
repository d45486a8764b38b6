"""The database's own failures, and the mapping from the engine's error text to errors.

The engine reports everything as text. A refusal that is the person's doing (a taken unique
value, a broken field assertion, a permission, a missing record) becomes one of the app's
errors (``errors.py``); anything else is a ``DatabaseError``, whose text never reaches a browser.
"""

from __future__ import annotations

import re

from .errors import AppError, Conflict, Invalid, NotAllowed, NotFound


class DatabaseError(Exception):
    """A database failure that is not the caller's fault; its text never reaches a browser."""


class DatabaseLocked(DatabaseError):
    """Another process holds the embedded data file."""


class DatabaseUnavailable(DatabaseError):
    """The database does not answer. ``retry_after``: seconds until the app tries it again,
    when known (the 503 page's ``Retry-After``)."""

    def __init__(self, message: str = "", retry_after: int | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class DataUnwritable(DatabaseUnavailable):
    """The engine cannot write its data: a full disk, a read-only or unwritable data
    directory, an I/O error. Answered with 503 until it can again."""


_UNIQUE = re.compile(r"Database index `(\w+)` already contains")
_FIELD = re.compile(r"for field `(\w+)`")
# The storage layer's I/O failures, as the embedded engine words them ("There was a problem
# with a datastore transaction: Log error: IO error: kind=no storage space, message=No space
# left on device (os error 28)"; after it, "… message=fsync failed").
_IO = re.compile(r"datastore.*?(?:\bIO error\b|os error \d+|No space left|Read-only file system)",
                 re.IGNORECASE | re.DOTALL)


# The engine's own phrases for a refused identity or action (checked after the patterns that
# quote values, so a value such as "William" cannot turn a type error into a refusal).
_REFUSED = ("not allowed", "there was a problem with authentication", "the token has expired",
            "no such member", "not the visitor", "not the worker", "iam error",
            "wrong email or password")
_NOT_EXECUTED = "not executed due to a failed transaction"


def map_error(message: str) -> AppError | DatabaseError:
    """The app's error for the engine's error text (the SDK gives text only)."""
    if m := _UNIQUE.search(message):
        return Conflict(message, index=m.group(1))
    if m := _FIELD.search(message):
        return Invalid({m.group(1): "is not a valid value"}, detail=message)
    if _IO.search(message):
        return DataUnwritable(message)
    lowered = message.lower()
    if any(phrase in lowered for phrase in _REFUSED):
        return NotAllowed(message)
    if "does not exist" in lowered:
        return NotFound(message)
    return DatabaseError(message)
