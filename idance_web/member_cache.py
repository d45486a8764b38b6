"""What a signed-in member's pages repeat on every request, kept in process memory and true
through the real-time hub: her session, her two badge counts, and the rendered main part of
her own pages (``/me``, ``/me/profile``).

Each entry is one member's (the key names her) and names what it shows as tokens
``<label>|<table>:<key>``: ``member|user:ana`` (her user row, profile, styles, interests, vlogs),
``session|user_session:…``, ``notifications|user:ana``, ``chats|user:ana`` (her read states),
``chat|chat:…``. The hub delivers every change to the tables in ``WATCHED``, and the entries
holding one of the tokens a change makes are dropped before the writing request answers.

Active only while the hub follows the feed of an embedded database: then every write passes
through this process (a request's reaches the cache before its response, a job's at the hub's
next poll, which the job wakes). With a SurrealDB server another process's write would be seen
up to a poll later, so a revoked session could be served for seconds: there, nothing is kept;
nor while the hub's last poll failed (what changed meanwhile waits undelivered).
Entries also expire (``*_SECONDS``), which bounds a dependency missed and refreshes the
session's last use. A page part is stored with this session's CSRF token replaced by a
placeholder and gets the asking session's own token each time it is served.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Callable, Iterable

from flask_wtf.csrf import generate_csrf
from markupsafe import Markup
from surrealdb import RecordID

from .db import Database
from .page_cache import DependentCache
from .realtime import Change, Hub

# Table → (field, label): a change of the table drops the entries depending on
# "<label>|<the record the field names>".
WATCHED: dict[str, tuple[tuple[str, str], ...]] = {
    "user": (("id", "member"),),
    "profile": (("owner", "member"),),
    "user_dance_style": (("in", "member"),),
    "user_interest": (("in", "member"),),
    "vlog": (("owner", "member"),),  # her newest vlogs on /me
    "user_session": (("id", "session"),),
    "notification": (("recipient", "notifications"),),
    "notification_pref": (("member", "notifications"),),
    "chat": (("id", "chat"),),
    "chat_state": (("chat", "chat"), ("member", "chats")),
    "message": (("chat", "chat"),),
}
SESSION_SECONDS = 60  # her session's check: the last use is written at most every 10 minutes
COUNT_SECONDS = 60  # badge counts (an unblock changes what she may read without a feed entry)
FRAGMENT_SECONDS = 600
CSRF_PLACEHOLDER = "\x00csrf\x00"  # no rendered text holds a NUL (input refuses them)


def token(label: str, record: RecordID | str) -> str:
    """The token an entry depends on: ``label`` of the record (``member``, ``user:ana``)."""
    text = f"{record.table_name}:{record.id}" if isinstance(record, RecordID) else record
    return f"{label}|{text}"


@dataclass(frozen=True)
class Kept:
    value: Any
    depends_on: frozenset[str]
    until: float  # time.monotonic() after which it is read again


class MemberCache:
    """Per-member entries, dropped by the hub; a miss reads and renders as before."""

    def __init__(self, hub: Hub, db: Database, max_small: int = 20_000,
                 max_fragments: int = 512):
        self.hub = hub
        self.db = db
        self.small = DependentCache(max_small)  # sessions and counts, a few hundred bytes
        self.fragments = DependentCache(max_fragments)  # page parts, 3–35 kB each
        hub.subscribe(WATCHED, self._changed, on_reset=self.clear)

    @property
    def active(self) -> bool:
        # While the feed cannot be read, changes wait undelivered: nothing kept is trusted
        # until a poll reads it again (and delivers them, dropping what they touch).
        return self.hub.running and self.hub.healthy and self.db.embedded

    def remember(self, store: DependentCache, key: tuple, seconds: float,
                 make: Callable[[], tuple[Any, Iterable[str]]]) -> Any:
        """The value kept under ``key``, or ``make()``'s (value, tokens), kept unless None."""
        if not self.active:
            return make()[0]
        entry = store.get(key)
        now = time.monotonic()
        if entry is not None and entry.until > now:
            return entry.value
        read_at = store.generation
        value, depends_on = make()
        if value is not None:
            store.store(key, Kept(value, frozenset(depends_on), now + seconds), read_at)
        return value

    def session(self, cookie_id: str, load: Callable[[], Any]) -> Any:
        """The member a session cookie names (``load()`` checks it in the database)."""
        key, _, session = cookie_id.partition(":")
        return self.remember(self.small, ("session", cookie_id), SESSION_SECONDS, lambda: (
            load(), {token("session", f"user_session:{session}"),
                     token("member", f"user:{key}")}))

    def count(self, name: str, member_key: str,
              make: Callable[[], tuple[int, Iterable[str]]]) -> int:
        """A badge count of hers: ``make()`` returns it with the tokens it depends on."""
        return self.remember(self.small, ("count", name, member_key), COUNT_SECONDS, make)

    def fragment(self, name: str, member_key: str, render: Callable[[], str]) -> Markup:
        """The rendered part ``name`` of her own page, showing her user row, profile, styles
        and interests (``render()`` reads them and renders), with this session's CSRF token."""
        csrf = generate_csrf()

        def make() -> tuple[str, set[str]]:
            return render().replace(csrf, CSRF_PLACEHOLDER), {token("member", f"user:{member_key}")}

        html = self.remember(self.fragments, ("fragment", name, member_key), FRAGMENT_SECONDS,
                             make)
        return Markup(html.replace(CSRF_PLACEHOLDER, csrf))

    def clear(self) -> None:
        self.small.clear()
        self.fragments.clear()

    def _changed(self, changes: list[Change]) -> None:
        tokens = set()
        for change in changes:
            for field, label in WATCHED[change.table]:
                value = change.record.get(field)
                if isinstance(value, RecordID):
                    tokens.add(token(label, value))
        if tokens:
            self.small.drop(tokens)
            self.fragments.drop(tokens)
