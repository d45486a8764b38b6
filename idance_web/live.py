"""Live streams: the signed-in members' open ``/events`` streams, and the fan-out that turns
each change the hub (``realtime.py``) reads from the feed into events for the members allowed
to see it.

- ``register_fanout(table, fn)``: ``fn(change, db)`` returns ``[(member_key, type, payload)]``
  for one change, deciding from the data as stored (a chat's membership), and sends each member
  only what she may see. The type ``"badges"`` (payload ignored) asks for her counts again.
- ``register_badge(name, fn)``: ``fn(db, member_key) -> int``, sent as ``badges``.

Only members with a stream open in this process get anything, and nothing is kept for them:
a reconnecting stream replays from the change feed itself. Event ids are feed positions:
``<position>-<n>`` means "everything before feed entry <position>, and the first n of her
events from it"; the ``badges`` event repeats the id of where she stands.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import deque
from dataclasses import dataclass
from typing import Callable, Iterable

from .db import Database, DatabaseError, key_of
from .errors import AppError
from .realtime import Change, Hub

log = logging.getLogger(__name__)

Fanout = Callable[[Change, Database], list[tuple[str, str, dict | None]]]
Badge = Callable[[Database, str], int]
Position = tuple[int, int]

# Tables whose changes end streams: a revoked session, a deleted account.
ENDINGS = ("user_session", "user")


class TooManyStreams(Exception):
    """She has the most streams a member may open (429), or the process has (503)."""

    def __init__(self, status: int):
        super().__init__(status)
        self.status = status


@dataclass(frozen=True)
class Event:
    type: str
    payload: dict | None
    position: Position | None = None  # None: sent with the id of where she stands


def encode(event: Event, position: Position) -> str:
    """One SSE event. The payload is one line of JSON, so no text in it can start a field."""
    data = json.dumps(event.payload, separators=(",", ":"), default=str)
    return f"id: {position[0]}-{position[1]}\nevent: {event.type}\ndata: {data}\n\n"


def parse_id(text: str | None) -> Position | None:
    """The position a ``Last-Event-ID`` names, or None when it names none."""
    head, _, tail = (text or "").strip().partition("-")
    if not (head.isascii() and head.isdigit() and tail.isascii() and tail.isdigit()):
        return None
    if len(head) > 20 or len(tail) > 6:
        return None
    return int(head), int(tail)


RECOUNT = Event("badges", None)  # type: ignore[arg-type] - her counts, made when sent


class Stream:
    """One open ``/events`` response: a queue the fan-out fills and the response drains."""

    def __init__(self, member: str, session: str):
        self.member = member
        self.session = session
        self.position: Position = (0, 0)  # what she has been sent up to
        self.closed = False
        self._items: deque[Event] = deque()
        self._ready = threading.Condition()

    def push(self, events: Iterable[Event]) -> None:
        with self._ready:
            if not self.closed:
                self._items.extend(events)
                self._ready.notify()

    def close(self) -> None:
        with self._ready:
            self.closed = True
            self._items.clear()
            self._ready.notify_all()

    def take(self, timeout: float) -> list[Event] | None:
        """What arrived (waiting up to ``timeout``; [] if nothing), or None once closed."""
        with self._ready:
            if not self._items and not self.closed:
                self._ready.wait(timeout)
            if self.closed:
                return None
            items = list(self._items)
            self._items.clear()
            return items

    def encode_new(self, events: Iterable[Event]) -> list[str]:
        """The SSE text of the events she has not been sent yet, in order, once each
        (``RECOUNT`` is left out: see ``Live.recount``)."""
        out = []
        for event in events:
            if event is RECOUNT:
                continue
            if event.position is not None:
                if event.position <= self.position:
                    continue  # replayed already, or delivered twice by a sync and the thread
                self.position = event.position
            out.append(encode(event, self.position))
        return out


class Live:
    """The process's streams, by member, and the fan-out that feeds them."""

    def __init__(self, db: Database, hub: Hub, per_member: int = 5, total: int = 256):
        self.db = db
        self.hub = hub
        self.heartbeat = 15.0  # seconds between comments on a quiet stream
        self.per_member = per_member
        self.total = total
        self._fanouts: dict[str, list[Fanout]] = {}
        self._badges: dict[str, Badge] = {}
        self._streams: dict[str, list[Stream]] = {}
        self._lock = threading.Lock()
        self._unsubscribe: Callable[[], None] | None = None

    # -- registries ---------------------------------------------------------------------------
    def register_fanout(self, table: str, fn: Fanout) -> None:
        """Send ``fn(change, db)``'s events for each change of ``table`` (replacing none)."""
        self._fanouts.setdefault(table, []).append(fn)
        if self._unsubscribe is not None:  # follow the new table too
            self._unsubscribe()
            self._unsubscribe = self._subscribe()

    def register_badge(self, name: str, fn: Badge) -> None:
        """Count ``name`` with ``fn(db, member_key)`` (replaces the count of that name)."""
        self._badges[name] = fn

    # -- streams ------------------------------------------------------------------------------
    def open(self, member: str, session: str) -> Stream:
        """Register a stream for ``member``'s session; ``TooManyStreams`` past the caps."""
        # A hub that never read the feed places its cursor now, before anyone listens: placing
        # it resets its subscribers, which would tell this stream to reload.
        self.hub.present()
        stream = Stream(key_of(member), session)
        with self._lock:
            mine = self._streams.setdefault(stream.member, [])
            if len(mine) >= self.per_member or self.count() >= self.total:
                if not mine:
                    del self._streams[stream.member]
                raise TooManyStreams(429 if len(mine) >= self.per_member else 503)
            mine.append(stream)
            if self._unsubscribe is None:
                self._unsubscribe = self._subscribe()
                self.hub.brisk = True  # other processes' messages within its base interval
        return stream

    def close(self, stream: Stream) -> None:
        """Forget ``stream`` (the last one closed ends the hub subscription)."""
        stream.close()
        with self._lock:
            mine = self._streams.get(stream.member, [])
            if stream in mine:
                mine.remove(stream)
            if not mine:
                self._streams.pop(stream.member, None)
            if not self._streams and self._unsubscribe is not None:
                self._unsubscribe()
                self._unsubscribe = None
                self.hub.brisk = False

    def close_all(self) -> None:
        """End every stream (the worker is leaving)."""
        for stream in self._all():
            self.close(stream)

    def count(self) -> int:
        return sum(len(s) for s in self._streams.values())

    def _all(self, member: str | None = None) -> list[Stream]:
        with self._lock:
            if member is not None:
                return list(self._streams.get(member, []))
            return [s for streams in self._streams.values() for s in streams]

    def _subscribe(self) -> Callable[[], None]:
        tables = {*self._fanouts, *ENDINGS}
        return self.hub.subscribe(tables, self._changed, self._reset)

    # -- the start of a stream ----------------------------------------------------------------
    def start(self, stream: Stream, last_event_id: str | None) -> list[Event]:
        """What a stream sends first: what she missed since ``last_event_id`` (or ``reload``
        when the feed no longer holds it), then her counts. Call after ``open``: what the hub
        delivers meanwhile waits in the stream and is sent once."""
        present = self.hub.present()
        if last_event_id is None:
            stream.position = (present, 0)
            return [self.badges_event(stream.member)]
        since = parse_id(last_event_id)
        events = self.replay(stream.member, since) if since is not None else None
        if events is None:
            stream.position = (present, 0)
            return [Event("reload", {}), self.badges_event(stream.member)]
        stream.position = since
        return [*events, self.badges_event(stream.member)]

    def replay(self, member: str, since: Position) -> list[Event] | None:
        """Her events from feed position ``since`` to the present, in order; None when the
        feed no longer holds that position (its retention passed) or never reached it."""
        oldest = self.hub.oldest_position()
        if since[0] < (oldest if oldest is not None else self.hub.present()):
            return None
        if since[0] > self.hub.present():
            self.hub.sync()  # another process may have read further than this one
            if since[0] > self.hub.present():
                return None  # a position the feed never reached: it would silence her stream
        events: list[Event] = []
        for changes in self.hub.changes_since(since[0]):
            mine, _ = self.events_for(changes, {member})
            events += [e for e in mine.get(member, []) if e.position > since]
        return events

    # -- fan-out ------------------------------------------------------------------------------
    def events_for(self, changes: list[Change], members: set[str]
                   ) -> tuple[dict[str, list[Event]], set[str]]:
        """The events ``changes`` make for each of ``members``, numbered within their feed
        entry, and which of them may see a count move."""
        events: dict[str, list[Event]] = {}
        counted: dict[tuple[str, int], int] = {}
        moved: set[str] = set()
        for change in changes:
            for fn in self._fanouts.get(change.table, []):
                try:
                    made = fn(change, self.db)
                except (AppError, DatabaseError, LookupError, TypeError, ValueError):
                    log.exception("fan-out of %s failed", change.id)
                    continue
                for member, kind, payload in made:
                    member = key_of(member)
                    if member not in members:
                        continue
                    if kind != "badges":
                        n = counted[(member, change.position)] = \
                            counted.get((member, change.position), 0) + 1
                        events.setdefault(member, []).append(
                            Event(kind, payload or {}, (change.position, n)))
                    if kind in ("badges", "notification") or (
                            kind == "message" and key_of(payload["author"]) != member):
                        moved.add(member)
        return events, moved

    def badges_event(self, member: str) -> Event:
        counts = {}
        for name, fn in self._badges.items():
            try:
                counts[name] = int(fn(self.db, member))
            except (AppError, DatabaseError):
                log.exception("badge %s failed", name)
                counts[name] = 0
        return Event("badges", counts)

    def _changed(self, changes: list[Change]) -> None:
        self._end_streams(changes)
        with self._lock:
            connected = set(self._streams)
        if not connected:
            return
        events, moved = self.events_for(changes, connected)
        for member in connected & (set(events) | moved):
            batch = events.get(member, [])
            if member in moved:
                # Counted by the stream's own thread when it sends them (RECOUNT), not here:
                # here is the hub's thread, or the request that wrote, which would answer later.
                batch = [*batch, RECOUNT]
            for stream in self._all(member):
                stream.push(batch)

    def _end_streams(self, changes: list[Change]) -> None:
        ended_sessions, gone = set(), set()
        for change in changes:
            if change.table == "user_session" and change.record.get("revoked_at") is not None:
                ended_sessions.add(key_of(change.id))
            elif change.table == "user" and change.record.get("deleted_at") is not None:
                gone.add(key_of(change.id))
        if ended_sessions or gone:
            for stream in self._all():
                if stream.session in ended_sessions or stream.member in gone:
                    self.close(stream)

    def _reset(self) -> None:
        # The hub skipped ahead without reading: what a stream missed cannot be replayed.
        for stream in self._all():
            stream.push([Event("reload", {})])


def init_app(app) -> Live:
    """The app's streams and their fan-out: the chat's messages and read receipts, a member's
    own read state, notifications; the counts of the two badges."""
    from . import live_fanout
    from .services import chat, chat_live, notifications

    config = app.config["IDANCE"]
    live = Live(app.extensions["idance.db"], app.extensions["idance.hub"],
                per_member=config.streams_per_member, total=config.max_streams)
    live.heartbeat = config.stream_heartbeat
    live.register_fanout("message", chat_live.message_events)
    live.register_fanout("chat_state", chat_live.read_events)
    live.register_fanout("chat_state", live_fanout.own_counts)
    live.register_fanout("notification", notifications.fanout)
    live.register_fanout("notification", live_fanout.notification_read)
    live.register_badge("chat", chat.unread_total)
    live.register_badge("notifications", notifications.unread_count)
    app.extensions["idance.live"] = live
    return live
