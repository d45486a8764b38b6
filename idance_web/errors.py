"""The app's own errors: what a person asked for that the app will not do, and why.

Services raise them; views show them (the form again with each reason next to its field, a
flashed reason) or leave them to the central handlers, which answer ``NotFound`` with the 404
page, ``NotAllowed`` with the 403 page and any other one with its ``status``. The database's
own failures (``db_errors.DatabaseError``: not the person's doing, a 500 or 503) are a family
apart; the db layer maps the engine's refusals — a taken unique value, a broken field
assertion, a permission, a missing record — into these.
"""

from __future__ import annotations


class AppError(Exception):
    """A refusal. ``str(exc)`` is a detail for the log and is never shown to the person."""

    status = 400


class NotFound(AppError):
    """It does not exist, or this person may not see it."""

    status = 404


class NotAllowed(AppError):
    """This person may not do this."""

    status = 403


class Invalid(AppError):
    """Input to show again: ``fields`` maps a field to the reason shown next to it, and
    ``choices`` a field to the candidates she may pick from (a city name that fits several)."""

    def __init__(self, fields: dict[str, str], choices: dict[str, list] | None = None,
                 detail: str = "input refused") -> None:
        super().__init__(detail)
        self.fields = dict(fields)
        self.choices = dict(choices or {})


class Conflict(AppError):
    """A value that must be unique is taken; ``index`` names the database's unique index."""

    status = 409

    def __init__(self, detail: str = "already taken", index: str | None = None) -> None:
        super().__init__(detail)
        self.index = index


class Refused(AppError):
    """Not possible here; ``reason`` is a sentence for the person."""

    status = 422

    def __init__(self, reason: str, status: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status or self.status
