"""The process's real-time hub: it follows the database's change feed and hands each change to
the subscribers of its table (the public page cache first; chat streams, notifications and
jobs later).

One hub per app, one cursor: ``SHOW CHANGES FOR DATABASE`` reads the database's single feed,
every table with a ``CHANGEFEED`` in versionstamp order, so the cursor is exactly the last
versionstamp read. (Per-table ``SHOW CHANGES FOR TABLE`` scans the same database-wide range and
filters it, at most 1,000 entries per statement: a table without recent changes could neither
move its cursor on nor, once 1,000 other entries lay ahead of it, ever see its next change.)

Started by the serving process only (``idance run``, gunicorn's ``post_worker_init``), never
by building the app. Writes made by this process reach subscribers before their response
returns (``sync`` after every state-changing request), so the thread only has to catch other
processes' writes and backs off while nothing changes.
"""

from __future__ import annotations

import logging
import statistics
import threading
import time
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator

from flask import request
from surrealdb import RecordID

from .db import Database, DatabaseError

log = logging.getLogger(__name__)

# The engine answers at most this many feed entries (one per table per transaction) a statement.
PAGE = 1000


@dataclass(frozen=True)
class Change:
    """One changed record. ``record`` is the row as stored, every field (hashes and emails
    too): use it to decide what to do, never send it on; read what a member may see under her
    own identity."""

    table: str
    id: str  # "table:key"
    action: str  # "update" | "delete"
    record: dict
    # The feed entry it came in (versionstamp >> 16: one table's changes of one transaction);
    # the live stream's event ids and replay count from it.
    position: int = 0


Callback = Callable[[list[Change]], None]


def _text(value) -> str | None:
    if isinstance(value, RecordID):
        return f"{value.table_name}:{value.id}"
    return None


def _changes(rows: list[dict]) -> list[Change]:
    found = []
    for row in rows:
        position = row["versionstamp"] >> 16
        for change in row.get("changes", []):
            for action in ("update", "delete"):
                record = change.get(action)
                rid = record.get("id") if isinstance(record, dict) else None
                if isinstance(rid, RecordID):
                    found.append(Change(rid.table_name, _text(rid), action, record, position))
    return found


class Hub:
    """Follows the change feed and delivers changes to subscribers, by table."""

    def __init__(self, db: Database, interval: float = 0.5, max_interval: float = 5.0):
        self.db = db
        self.interval = interval
        self.max_interval = max_interval
        self._subscribers: list[tuple[frozenset[str], Callback, Callable[[], None] | None]] = []
        self._cursor: int | None = None  # the next versionstamp to read (engine units)
        self._poll_lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._durations: list[float] = []  # seconds per poll of the thread, newest last
        self.busy_seconds = 0.0  # wall time the thread spent polling
        self.busy_cpu_seconds = 0.0  # its CPU time (a loaded machine inflates wall time)
        self.started_at: float | None = None
        self.polls = 0
        self.brisk = False  # poll at `interval` even while nothing changes
        # The last poll read the feed (False: changes may wait undelivered, or none was read).
        self.healthy = False

    # -- subscribers --------------------------------------------------------------------------
    def subscribe(self, tables: Iterable[str], callback: Callback,
                  on_reset: Callable[[], None] | None = None) -> Callable[[], None]:
        """Call ``callback(changes)`` with each batch of changes to ``tables``, and
        ``on_reset()`` when the hub places its cursor at the present without reading what
        came before (anything derived from earlier data may be stale). Returns a function that
        ends the subscription. Callbacks run on the polling thread (or the request that
        synced) and must be quick; one that raises is logged and skipped."""
        entry = (frozenset(tables), callback, on_reset)
        self._subscribers.append(entry)

        def unsubscribe() -> None:
            if entry in self._subscribers:
                self._subscribers.remove(entry)

        return unsubscribe

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)

    def _deliver(self, changes: list[Change]) -> None:
        for tables, callback, _ in list(self._subscribers):
            mine = [c for c in changes if c.table in tables]
            if mine:
                try:
                    callback(mine)
                except Exception:  # one subscriber must not stop the others or the hub
                    log.exception("hub subscriber %r failed", callback)

    def _reset_subscribers(self) -> None:
        for _, _, on_reset in list(self._subscribers):
            if on_reset is not None:
                try:
                    on_reset()
                except Exception:  # noqa: BLE001 - as for changes
                    log.exception("hub subscriber reset %r failed", on_reset)

    # -- reading the feed ---------------------------------------------------------------------
    def _read(self, since: int, limit: int = PAGE) -> list[dict]:
        # SINCE and LIMIT take literals only; both are integers we computed.
        with self.db.hub() as s:
            return s.query(f"SHOW CHANGES FOR DATABASE SINCE {int(since)} LIMIT {int(limit)}")[0]

    def poll_once(self) -> list[Change]:
        """Read the feed up to the present, deliver what changed, and return it.

        Without a cursor (the hub was never started: tests, a server without the start hook)
        the first call places it at the present and resets the subscribers instead of reading
        the retained feed, days of changes, inside a request.
        """
        with self._poll_lock:
            if self._cursor is None:
                self._position()
                return []
            delivered: list[Change] = []
            while True:
                try:
                    rows = self._read(self._cursor) or []
                except Exception:
                    self.healthy = False
                    raise
                self.healthy = True
                complete = sum(len(r.get("changes", [])) for r in rows) < PAGE
                if not complete and len(rows) > 1:
                    # The page may end inside its last transaction: read that one again.
                    rows = rows[:-1]
                if rows:
                    self._cursor = (rows[-1]["versionstamp"] >> 16) + 1
                changes = _changes(rows)
                if changes:
                    self._deliver(changes)
                    delivered.extend(changes)
                if complete or not rows:
                    return delivered

    def changes_since(self, position: int) -> Iterator[list[Change]]:
        """Every retained change from feed position ``position`` (inclusive) to the present,
        a page at a time (a reconnecting stream replays what it missed from here)."""
        while True:
            rows = self._read(position) or []
            complete = sum(len(r.get("changes", [])) for r in rows) < PAGE
            if not complete and len(rows) > 1:
                rows = rows[:-1]  # the page may end inside its last entry: read it again
            if rows:
                position = (rows[-1]["versionstamp"] >> 16) + 1
                yield _changes(rows)
            if complete or not rows:
                return

    def oldest_position(self) -> int | None:
        """The position of the oldest change the feed still holds (None: it holds none)."""
        first = self._read(0, 1)
        return first[0]["versionstamp"] >> 16 if first else None

    def present(self) -> int:
        """The position the next change will have at the earliest (the cursor); a hub that
        was never started places its cursor first."""
        if self._cursor is None:
            self.sync()
        return self._cursor if self._cursor is not None else 0

    def position_at_present(self) -> int:
        """Place the cursor just past the newest change and reset the subscribers; return it."""
        with self._poll_lock:
            return self._position()

    def _position(self) -> int:
        # Galloping then bisecting on `SINCE x LIMIT 1` (the first entry at or after x) costs
        # a few dozen tiny reads, where reading the retained feed to its end would cost a read
        # per thousand entries. The connection is held throughout, so no write lands between
        # the search and the next poll.
        with self.db.hub():
            first = self._read(0, 1)
            if not first:
                self._cursor = 0
            else:
                newest = first[0]["versionstamp"] >> 16  # a versionstamp known to exist
                step = 1
                while True:  # find a point past the end
                    probe = self._read(newest + step, 1)
                    if not probe:
                        break
                    newest = probe[0]["versionstamp"] >> 16
                    step *= 2
                high = newest + step  # nothing at or after it
                while high - newest > 1:
                    middle = (newest + high) // 2
                    probe = self._read(middle, 1)
                    if probe:
                        newest = probe[0]["versionstamp"] >> 16
                    else:
                        high = middle
                self._cursor = newest + 1
        self.healthy = True
        self._reset_subscribers()
        return self._cursor

    # -- the thread ---------------------------------------------------------------------------
    def sync(self) -> None:
        """Deliver every change up to now before returning (a request calls it after it
        wrote, so its change reaches subscribers before its response). Never raises: a
        failure is logged and the thread catches up."""
        try:
            self.poll_once()
        except Exception as exc:  # noqa: BLE001 - a response must not fail for the hub
            log.warning("hub sync failed: %s", exc)

    def wake(self) -> None:
        """Ask the thread to poll now (for writers outside a request, such as jobs)."""
        self._wake.set()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Follow the feed in a daemon thread from the present on.

        Start before serving: the cursor is placed here, before any request can write. If the
        database does not answer, the thread's first poll places it.
        """
        if self.running:
            return
        if self._cursor is None:
            try:
                self.position_at_present()
            except Exception as exc:  # noqa: BLE001 - the thread's first poll places it
                log.warning("hub could not find the present: %s", exc)
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="realtime-hub", daemon=True)
        self.started_at = time.perf_counter()
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the thread and wait for it (it finishes the poll under way)."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _run(self) -> None:
        interval = self.interval
        while not self._stop.is_set():
            began, began_cpu = time.perf_counter(), time.thread_time()
            changed = False
            try:
                changed = bool(self.poll_once())
            except DatabaseError as exc:  # keep following; a page may be stale for a tick
                log.warning("change feed poll failed: %s", exc)
            except Exception:  # noqa: BLE001 - the hub outlives any one failure
                log.exception("change feed poll failed")
            spent = time.perf_counter() - began
            self.busy_seconds += spent
            self.busy_cpu_seconds += time.thread_time() - began_cpu
            self.polls += 1
            self._durations.append(spent)
            del self._durations[:-10000]
            # While nothing changes, poll less and less often (other processes' writes are
            # seen within max_interval); any change brings the interval back, and so do open
            # live streams (`brisk`), which wait for other processes' messages.
            if changed or self.brisk:
                interval = self.interval
            else:
                interval = min(interval * 2, self.max_interval)
            self._wake.wait(interval)
            self._wake.clear()

    def stats(self) -> dict:
        """Share of wall time (and of CPU time) the thread spent polling since it started, and
        its polls' wall times in ms."""
        durations = sorted(self._durations)
        wall = time.perf_counter() - self.started_at if self.started_at else 0.0
        return {
            "polls": self.polls,
            "busy_share": self.busy_seconds / wall if wall else 0.0,
            "cpu_share": self.busy_cpu_seconds / wall if wall else 0.0,
            "poll_p50_ms": statistics.median(durations) * 1000 if durations else None,
            "poll_p99_ms": durations[min(len(durations) - 1, round(0.99 * (len(durations) - 1)))]
            * 1000 if durations else None,
        }

    # -- the app ------------------------------------------------------------------------------
    def init_app(self, app) -> None:
        """After every accepted state-changing request, deliver what it changed before it
        answers (a refused one changed nothing; if it did, the thread catches it)."""

        @app.after_request
        def deliver_what_it_changed(response):
            if request.method not in ("GET", "HEAD", "OPTIONS") and response.status_code < 400:
                self.sync()
            return response


def start_hub(app) -> Hub:
    """Start the app's hub thread (the serving process calls this; IDANCE_FOLLOW_CHANGES=false
    leaves it off: this process's own writes still reach subscribers through ``sync``)."""
    hub = app.extensions["idance.hub"]
    if app.config["IDANCE"].follow_changes:
        hub.start()
    return hub
