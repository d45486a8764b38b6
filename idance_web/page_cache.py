"""The public page render cache, kept true by the real-time hub.

An entry is keyed by what it shows (a site's page: owner kind, name, page, date; the group
directory as a visitor sees it…) and remembers which records it shows: ids such as
``site:x``, or ``table:*`` for a page that shows any row of a table (a directory gains rows no
id could name in advance). The hub (``realtime.py``) delivers the changes to every table a
public page shows, and the cache drops the entries that depend on a changed record or its
table. A hit costs no query.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict, deque
from dataclasses import dataclass
from email.utils import format_datetime
from typing import Any, Iterable

from surrealdb import RecordID

from .realtime import Change, Hub

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
    "follow": ("out",),
}


@dataclass(frozen=True)
class CachedPage:
    body: bytes
    etag: str
    last_modified: str | None
    depends_on: frozenset[str]


class DependentCache:
    """A bounded, thread-safe LRU whose entries name the records they show (``depends_on``):
    ``drop`` removes the entries that show a changed record. The render cache keeps pages in
    it, the member cache (``member_cache.py``) a member's own page parts and counts."""

    def __init__(self, max_entries: int = 2000):
        self._entries: OrderedDict[tuple, Any] = OrderedDict()
        self._keys: dict[str, set[tuple]] = {}  # record id → keys of the entries showing it
        self._lock = threading.Lock()
        self.max_entries = max_entries
        self.hits = 0
        self.misses = 0
        # Recent drops, so an entry read before a change but stored after its drop is not kept.
        self.generation = 0
        self._recent: deque[tuple[int, frozenset[str]]] = deque(maxlen=4096)
        self._cleared_at = 0  # the generation of the last clear: what was read before is not kept

    def get(self, key: tuple) -> Any:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return entry

    def store(self, key: tuple, entry: Any, read_at: int | None = None) -> Any:
        """Keep ``entry`` (it has ``depends_on``) and return it; ``read_at`` is the
        ``generation`` taken before its data was read: if a record it shows was dropped
        since, it is returned but not kept."""
        with self._lock:
            if read_at is not None:
                oldest = self._recent[0][0] if self._recent else self.generation + 1
                if read_at < self._cleared_at or read_at < oldest - 1 or any(
                        gen > read_at and ids & entry.depends_on for gen, ids in self._recent):
                    return entry
            self._forget(key)
            self._entries[key] = entry
            for record in entry.depends_on:
                self._keys.setdefault(record, set()).add(key)
            while len(self._entries) > self.max_entries:
                self._forget(next(iter(self._entries)))
        return entry

    def _forget(self, key: tuple) -> None:
        entry = self._entries.pop(key, None)
        for record in entry.depends_on if entry is not None else ():
            keys = self._keys[record]
            keys.discard(key)
            if not keys:
                del self._keys[record]

    def drop(self, record_ids: Iterable[str]) -> int:
        """Remove every entry that depends on one of ``record_ids``; return how many."""
        ids = frozenset(record_ids)
        with self._lock:
            self.generation += 1
            self._recent.append((self.generation, ids))
            # Through the index: a write costs what it drops, not a look at every entry.
            stale = set().union(*(self._keys.get(record, ()) for record in ids))
            for key in stale:
                self._forget(key)
        return len(stale)

    def clear(self) -> None:
        """Remove every entry; one read before this is returned but not kept."""
        with self._lock:
            self._entries.clear()
            self._keys.clear()
            self.generation += 1
            self._cleared_at = self.generation

    def __len__(self) -> int:
        return len(self._entries)


class PageCache(DependentCache):
    """Rendered public pages, with their ETag and Last-Modified."""

    def put(self, key: tuple, body: bytes, depends_on: Iterable[str], published_at=None,
            read_at: int | None = None) -> CachedPage:
        """Store a rendered page; ``read_at`` is the ``generation`` taken before its data was
        read: if a record it shows was dropped since, the page is served but not kept."""
        return self.store(key, CachedPage(
            body=body,
            etag=hashlib.sha256(body).hexdigest()[:32],
            last_modified=format_datetime(published_at, usegmt=True) if published_at else None,
            depends_on=frozenset(depends_on),
        ), read_at)


class PublicCache:
    """The app's render cache, kept true by the real-time hub: each change to a followed table
    drops the entries that show the changed record or what it belongs to; a reset of the hub
    (its cursor placed without reading what came before) empties it."""

    def __init__(self, hub: Hub):
        self.pages = PageCache()
        hub.subscribe(FOLLOWED, self._changed, on_reset=self.pages.clear)

    def _changed(self, changes: list[Change]) -> None:
        ids = set()
        for change in changes:
            ids.add(f"{change.table}:*")
            for name in FOLLOWED[change.table]:
                value = change.record.get(name)
                if isinstance(value, RecordID):
                    ids.add(f"{value.table_name}:{value.id}")
        if ids:
            self.pages.drop(ids)
