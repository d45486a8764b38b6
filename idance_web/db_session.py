"""One identity's work on the database: who it runs as, and the session a block queries through.

``Database.session`` (``db.py``) makes a ``Session`` for the ``with`` block that holds the
connection as one ``Identity``; the session is closed when the block ends.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol


class _Runs(Protocol):
    """What a session needs of the database: its raw call (``Database._run``)."""

    def _run(self, sql: str, vars: dict) -> list[Any]: ...


@dataclass(frozen=True)
class Identity:
    access: str  # member | visitor | worker | system
    record: str | None = None


SYSTEM = Identity("system")
HUB = Identity("hub")


class Session:
    """Queries under one identity; valid only inside the ``with`` block that made it."""

    def __init__(self, database: _Runs, identity: Identity):
        self._database = database
        self.identity = identity
        self.open = True

    def query(self, sql: str, vars: dict | None = None) -> list[Any]:
        """Run SurrealQL (parameters only) and return every statement's result.

        Raises the app's exception for the first statement that failed.
        """
        if not self.open:
            raise RuntimeError("database session used outside its block")
        return self._database._run(sql, vars or {})

    def rows(self, sql: str, vars: dict | None = None) -> list[dict]:
        """The last statement's rows."""
        result = self.query(sql, vars)[-1]
        if result is None:
            return []
        return result if isinstance(result, list) else [result]

    def one(self, sql: str, vars: dict | None = None) -> dict | None:
        """The last statement's first row, or None."""
        rows = self.rows(sql, vars)
        return rows[0] if rows else None

    def value(self, sql: str, vars: dict | None = None) -> Any:
        """The last statement's value as it is (for ``RETURN`` and ``count()``)."""
        return self.query(sql, vars)[-1]
