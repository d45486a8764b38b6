"""The public page render cache, and the change-feed follower that keeps it true.

An entry is keyed by (owner kind, name, page, date) and remembers which records it shows (the
owner and the site). The follower reads the database's change feeds of every table a public
page shows and drops the entries that depend on a changed record. A hit costs no query.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections import OrderedDict, deque
from dataclasses import dataclass
from email.utils import format_datetime
from typing import Callable, Iterable

from surrealdb import RecordID

from .db import Database, DatabaseError
from .errors import AppError

log = logging.getLogger(__name__)

# Tables whose changes can alter a public page, and the fields naming what they belong to.
FOLLOWED = {
    "site": ("id", "owner"),
    "content_block": ("site",),
    "vlog": ("owner",),
    "group_member": ("group",),
    "user_dance_style": ("in",),
    "profile": ("owner",),
    "user": ("id",),
    "group": ("id",),
}


@dataclass(frozen=True)
class CachedPage:
    body: bytes
    etag: str
    last_modified: str | None
    depends_on: frozenset[str]


class PageCache:
    """A bounded, thread-safe LRU of rendered public pages."""

    def __init__(self, max_entries: int = 2000):
        self._entries: OrderedDict[tuple, CachedPage] = OrderedDict()
        self._lock = threading.Lock()
        self.max_entries = max_entries
        self.hits = 0
        self.misses = 0
        # Recent drops, so a page read before a change but stored after its drop is not kept.
        self.generation = 0
        self._recent: deque[tuple[int, frozenset[str]]] = deque(maxlen=4096)

    def get(self, key: tuple) -> CachedPage | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return entry

    def put(self, key: tuple, body: bytes, depends_on: Iterable[str], published_at=None,
            read_at: int | None = None) -> CachedPage:
        """Store a rendered page; ``read_at`` is the ``generation`` taken before its data was
        read: if a record it shows was dropped since, the page is served but not kept."""
        entry = CachedPage(
            body=body,
            etag=hashlib.sha256(body).hexdigest()[:32],
            last_modified=format_datetime(published_at, usegmt=True) if published_at else None,
            depends_on=frozenset(depends_on),
        )
        with self._lock:
            if read_at is not None:
                oldest = self._recent[0][0] if self._recent else self.generation + 1
                if read_at < oldest - 1 or any(
                        gen > read_at and ids & entry.depends_on for gen, ids in self._recent):
                    return entry
            self._entries[key] = entry
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
        return entry

    def drop(self, record_ids: Iterable[str]) -> int:
        """Remove every entry that depends on one of ``record_ids``; return how many."""
        ids = frozenset(record_ids)
        with self._lock:
            self.generation += 1
            self._recent.append((self.generation, ids))
            stale = [k for k, e in self._entries.items() if e.depends_on & ids]
            for key in stale:
                del self._entries[key]
        return len(stale)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


def _as_text(value) -> str | None:
    if isinstance(value, RecordID):
        return f"{value.table_name}:{value.id}"
    return None


class ChangeFollower:
    """Reads ``SHOW CHANGES`` for some tables and hands the changed record ids to a callback.

    On this engine ``SINCE`` takes a versionstamp shifted right by 16 bits (the feed reports
    them shifted left) and includes it, and ``LIMIT`` bounds the range of versionstamps
    scanned (of the whole database), not the rows returned: so each poll starts one past the
    last one seen, with a limit wide enough never to stop short of the present.
    """

    def __init__(self, db: Database, tables: dict[str, tuple[str, ...]],
                 on_change: Callable[[set[str]], None], interval: float = 0.5,
                 batch: int = 10**9):
        self.db = db
        self.tables = tables
        self.on_change = on_change
        self.interval = interval
        self.batch = batch
        self._since: dict[str, int] = {}
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    def _statement(self, table: str) -> str:
        # Table names come from our own constant and SINCE/LIMIT take literals only.
        since = int(self._since.get(table, 0))
        return f"SHOW CHANGES FOR TABLE {table} SINCE {since} LIMIT {int(self.batch)};"

    def poll_once(self) -> set[str]:
        """Read every followed table's new changes; return (and report) the ids they name."""
        tables = list(self.tables)
        with self.db.hub() as s:
            results = s.query("".join(self._statement(t) for t in tables))
        changed: set[str] = set()
        for table, rows in zip(tables, results):
            for row in rows or []:
                self._since[table] = (row["versionstamp"] >> 16) + 1
                for change in row.get("changes", []):
                    record = change.get("update") or change.get("delete") or {}
                    for name in self.tables[table]:
                        text = _as_text(record.get(name))
                        if text:
                            changed.add(text)
        if changed:
            self.on_change(changed)
        return changed

    def start(self) -> None:
        """Follow in a daemon thread (started on first use, never at import or app creation)."""
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="change-follower", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.poll_once()
            except (AppError, DatabaseError) as exc:  # keep following; a page may be stale
                log.warning("change feed poll failed: %s", exc)
            except RuntimeError:  # the database was closed under us (app shut down)
                return
            self._stop.wait(self.interval)


def owner_marker(kind: str, name: str) -> str:
    """A dependency every page of one owner's site has, named by its address (``user``/``group``
    and the username or slug), so a request can drop the pages of the site it changed without
    looking its records up."""
    return f"{kind}@{name.lower()}"


class PublicCache:
    """The app's render cache together with the follower that invalidates it."""

    def __init__(self, db: Database, follow: bool = True):
        self.pages = PageCache()
        self.follower = ChangeFollower(db, FOLLOWED, self._dropped)
        self.follow = follow
        self._started = False
        self._lock = threading.Lock()

    def _dropped(self, ids: set[str]) -> None:
        self.pages.drop(ids)

    def changed(self, ids: Iterable[str]) -> None:
        """Drop at once what this process just changed; the feed catches other processes."""
        self.pages.drop(ids)

    def init_app(self, app) -> None:
        """Drop the pages of what a member's accepted POST may have changed, before the
        response returns: her own site (unpublish is immediate) and the group it names."""
        from flask import request
        from flask_login import current_user

        @app.after_request
        def drop_what_she_changed(response):
            if request.method == "POST" and response.status_code < 400 and \
                    current_user.is_authenticated:
                ids = {f"user:{current_user.key}"}
                slug = (request.view_args or {}).get("slug")
                if isinstance(slug, str):
                    ids.add(owner_marker("group", slug))
                self.changed(ids)
            return response

    def ensure_following(self) -> None:
        """Start following the feed (first use, never at import or app creation).

        The thread's first poll reads the retained feed from its start: older changes only
        drop entries, which costs misses, never a stale page. Without a thread (tests) the
        catch-up runs here; a failure leaves it to the next request.
        """
        with self._lock:
            if self._started:
                return
            if self.follow:
                self.follower.start()
            else:
                self.follower.poll_once()
            self._started = True
