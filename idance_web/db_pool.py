"""The connections a process holds: one for the embedded engine, a pool of them for a server.

The embedded engine is one object in the process: one connection, held by one block at a time
(the others wait), which is also what keeps its identity switching safe. A SurrealDB server
answers several connections at once, so a process keeps up to ``IDANCE_DB_POOL`` of them and a
block holds one for its duration; the next block takes the connection freed last, the one most
likely still signed in as somebody (LIFO). A thread that already holds one and enters another
block (nested, or a sign-in) keeps the one it holds.
"""

from __future__ import annotations

import threading
from collections import deque
from contextlib import contextmanager
from typing import Any, Iterator

from .db_session import Identity


class Link:
    """One connection and what is known of it: who it is signed in as (None: at rest) and until
    when that may be reused, whether the block holding it wrote, whether it replaces a
    connection that was lost (its opening then counts as a reconnect), and the database's count
    of lost connections when it was opened."""

    __slots__ = ("conn", "signed_in", "signed_in_until", "wrote", "lost", "generation")

    def __init__(self):
        self.conn: Any = None
        self.signed_in: Identity | None = None
        self.signed_in_until = 0.0
        self.wrote = False
        self.lost = False
        self.generation = 0


class Pool:
    """``size`` links, each held by one thread at a time; a thread that waits is served in
    turn (a freed link goes to the longest waiting thread, never back to a thread that frees
    and asks again at once, which would starve the others)."""

    def __init__(self, size: int):
        self.links = [Link() for _ in range(size)]
        self._free = list(reversed(self.links))  # a stack: the link freed last is on top
        self._waiting: deque[list] = deque()  # [event, link handed over], first come first
        self._mutex = threading.Lock()
        self._local = threading.local()

    def current(self) -> Link | None:
        """The link this thread holds, if any."""
        return getattr(self._local, "link", None)

    @contextmanager
    def hold(self) -> Iterator[Link]:
        """Hold a link for the block (waiting for a free one), or keep the one held."""
        link = self.current()
        if link is not None:
            yield link
            return
        link = self._take()
        self._local.link = link
        try:
            yield link
        finally:
            self._local.link = None
            self._give(link)

    def _take(self) -> Link:
        with self._mutex:
            if self._free:
                return self._free.pop()
            ticket = [threading.Event(), None]
            self._waiting.append(ticket)
        ticket[0].wait()
        return ticket[1]

    def _give(self, link: Link) -> None:
        with self._mutex:
            if self._waiting:
                ticket = self._waiting.popleft()
                ticket[1] = link
                ticket[0].set()
            else:
                self._free.append(link)


class HeldLink:
    """The link this thread holds (``Database``)."""

    _pool: Pool

    def _link(self) -> Link:
        link = self._pool.current()
        if link is None:
            if len(self._pool.links) > 1:
                raise RuntimeError("no database connection held by this thread")
            link = self._pool.links[0]  # the embedded engine's one connection
        return link

    @property
    def _conn(self):
        """The connection this thread holds (outside a block: any open one, or None)."""
        link = self._pool.current()
        if link is None:
            return next((each.conn for each in self._pool.links if each.conn is not None), None)
        return link.conn
