"""The sitemap: an index of numbered pages, each listing the published sites of one stretch.

Published sites carry a ``sitemap_key`` (migration 0014) with an index, and the number of them
is a counter kept by an event: the index needs one read, and page ``n`` is one indexed range
that starts right after the last key of page ``n - 1`` (a cursor; ``START`` would walk every
row before it). The cursors and the rendered documents are kept for ``TTL_SECONDS`` per app:
a crawler reading the pages in order costs one query per page, and a page asked for before
the one ahead of it walks there by keys alone.
"""

from __future__ import annotations

import threading
import time
from typing import Callable

from ..db import Database

# Sites per sitemap page: 500 to 6,000 URLs (a site has one to 12 pages), far under the
# protocol's 50,000, and a page costs the same to build at any community size.
SITES_PER_PAGE = 500
TTL_SECONDS = 3600.0

COUNT_QUERY = "RETURN counter:sites.value;"
PAGE_QUERY = """SELECT sitemap_key, published.pages AS pages, published_at,
    record::tb(owner) AS kind,
    IF record::tb(owner) = 'user' THEN owner.username ELSE owner.slug END AS name
FROM site WHERE sitemap_key > $after ORDER BY sitemap_key LIMIT $limit;"""
# The last key of the page that starts after $after: the cursor of the page after it.
STEP_QUERY = """SELECT VALUE sitemap_key FROM site WHERE sitemap_key > $after
ORDER BY sitemap_key LIMIT 1 START $skip;"""


def page_count(db: Database) -> int:
    """How many sitemap pages the published sites fill (at least one, maybe empty)."""
    with db.visitor() as s:
        sites = s.value(COUNT_QUERY) or 0
    return max(1, -(-sites // SITES_PER_PAGE))


def sites_after(db: Database, after: str) -> list[dict]:
    """The next page's worth of published sites whose key follows ``after``, in key order."""
    with db.visitor() as s:
        return s.rows(PAGE_QUERY, {"after": after, "limit": SITES_PER_PAGE})


def last_key_after(db: Database, after: str) -> str | None:
    """The key of the last site of the page that starts after ``after`` (None: fewer remain)."""
    with db.visitor() as s:
        found = s.value(STEP_QUERY, {"after": after, "skip": SITES_PER_PAGE - 1})
    return found[0] if found else None


class Sitemap:
    """Cursors and rendered documents of one app's sitemap, forgotten after ``ttl`` seconds."""

    def __init__(self, ttl: float = TTL_SECONDS):
        self.ttl = ttl
        self._lock = threading.Lock()
        self.clear()

    def clear(self) -> None:
        """Forget everything: the next request reads the database again."""
        with self._lock:
            self._born = time.monotonic()
            self._after: dict[int, str] = {1: ""}  # page number → the key it starts after
            self._bodies: dict[tuple, bytes] = {}

    def _expire(self) -> None:
        if time.monotonic() - self._born > self.ttl:
            self.clear()

    def document(self, key: tuple, render: Callable[[], bytes | None]) -> bytes | None:
        """The rendered document under ``key``, rendering it once per lifetime."""
        self._expire()
        with self._lock:
            body = self._bodies.get(key)
        if body is None:
            body = render()
            if body is not None:
                with self._lock:
                    self._bodies[key] = body
        return body

    def page_sites(self, db: Database, number: int) -> list[dict] | None:
        """The published sites of page ``number`` (None: no such page)."""
        self._expire()
        if not 1 <= number <= page_count(db):
            return None
        after = self._cursor(db, number)
        if after is None:
            return []  # fewer sites than the counter says: an empty page, not an error
        rows = sites_after(db, after)
        if len(rows) == SITES_PER_PAGE:
            with self._lock:
                self._after.setdefault(number + 1, rows[-1]["sitemap_key"])
        return [r for r in rows if r.get("name")]

    def _cursor(self, db: Database, number: int) -> str | None:
        with self._lock:
            known = max(n for n in self._after if n <= number)
            after = self._after[known]
        while known < number:
            after = last_key_after(db, after)
            if after is None:
                return None
            known += 1
            with self._lock:
                self._after.setdefault(known, after)
        return after
