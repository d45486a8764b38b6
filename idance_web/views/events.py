"""``/events``: the signed-in member's Server-Sent Events stream (see ``live.py``)."""

from __future__ import annotations

import select
import socket
import time

from flask import Blueprint, Response, current_app, request
from flask_login import current_user

from ..live import RECOUNT, TooManyStreams

bp = Blueprint("events", __name__)

# Seconds between looks at a quiet stream's connection. A page left or reloaded closes its
# stream; noticed only at the next write (the heartbeat), the stream would hold its thread and
# a place under her cap for up to 15 s, and a few quick page loads would reach the cap.
CHECK = 1.0


class _Client:
    """The stream's connection, to notice that the browser closed it."""

    def __init__(self, sock):
        self.sock = sock
        self.poll = None
        if sock is not None:
            try:
                self.poll = select.poll()  # not select(): no limit on descriptor numbers
                self.poll.register(sock, select.POLLIN)
            except (OSError, ValueError, TypeError):
                self.poll = None

    def gone(self) -> bool:
        if self.poll is None:
            return False
        try:
            if not self.poll.poll(0):
                return False
            return self.sock.recv(1, socket.MSG_PEEK) == b""  # read end closed
        except (BlockingIOError, InterruptedError):
            return False
        except OSError:  # reset
            return True
        except ValueError:  # a TLS socket takes no flags: left to the heartbeat
            self.poll = None
            return False

REFUSED = {
    401: "Sign in to receive live updates.",
    429: "Too many live connections are open for this account. Close a tab and try again.",
    503: "Live updates are busy. Try again in a moment.",
}


def _refuse(status: int) -> Response:
    response = Response(REFUSED[status] + "\n", status, mimetype="text/plain")
    if status != 401:
        response.headers["Retry-After"] = "30"
    return response


@bp.get("/events")
def stream():
    """Her events as they happen; with ``Last-Event-ID``, first what she missed."""
    if not current_user.is_authenticated:
        return _refuse(401)
    live = current_app.extensions["idance.live"]
    user = current_user._get_current_object()
    try:
        opened = live.open(user.key, user.session)
    except TooManyStreams as exc:
        return _refuse(exc.status)
    try:
        # The header when the browser reconnects; the query when another tab takes over.
        first = live.start(opened, request.headers.get("Last-Event-ID")
                           or request.args.get("last_event_id"))
    except BaseException:
        live.close(opened)
        raise
    heartbeat = live.heartbeat
    client = _Client(request.environ.get("gunicorn.socket")
                     or request.environ.get("werkzeug.socket"))

    def events():
        # Runs after the view returned, on the thread the server gives the response; reads
        # nothing of the request.
        try:
            yield "retry: 2000\n\n" + "".join(opened.encode_new(first))
            quiet_since = time.monotonic()
            while True:
                arrived = opened.take(min(CHECK, heartbeat))
                if arrived is None:  # signed out, or the server is stopping
                    return
                if not arrived:
                    if client.gone():
                        return
                    if time.monotonic() - quiet_since >= heartbeat:
                        quiet_since = time.monotonic()
                        yield ": heartbeat\n\n"
                    continue
                quiet_since = time.monotonic()
                # The events first; then, if any asked, her counts, counted here once. (Never
                # an empty chunk: in chunked encoding it would end the response.)
                text = "".join(opened.encode_new(arrived))
                if text:
                    yield text
                if RECOUNT in arrived:
                    yield "".join(opened.encode_new([live.badges_event(opened.member)]))
        finally:
            live.close(opened)

    response = Response(events(), mimetype="text/event-stream")
    # A generator that never started runs no `finally`: closing the response ends it too.
    response.call_on_close(lambda: live.close(opened))
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Accel-Buffering"] = "no"  # a proxy in front must not buffer it
    return response
