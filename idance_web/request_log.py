"""Request ids and the request log: one JSON line per request on the ``idance.request`` logger.

A line holds the time, method, path (never the query string, which can carry a token), status,
duration in milliseconds, the request id and, when a signed-in member was loaded for the
request, her user key — never a password, token, cookie or body. The request id is the
client's ``X-Request-ID`` when it is well-formed (a proxy's id joins its log to ours), else a
new one; responses carry it back, and error pages show it.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from datetime import datetime, timezone

from flask import Flask, g, request

log = logging.getLogger("idance.request")

REQUEST_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{7,63}$")


class _Stderr(logging.StreamHandler):
    """Writes to the process's current stderr (a test runner may swap it)."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:
        pass


def configure_logging() -> None:
    """Send the app's log lines to stderr, once per process: request lines as they are (JSON),
    the rest with a level and the logger's name. Gunicorn and a supervisor collect stderr."""
    app_log = logging.getLogger("idance")
    if not any(isinstance(h, _Stderr) for h in app_log.handlers):
        handler = _Stderr()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        handler.setLevel(logging.WARNING)
        app_log.addHandler(handler)
    if not any(isinstance(h, _Stderr) for h in log.handlers):
        handler = _Stderr()
        handler.setFormatter(logging.Formatter("%(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        log.propagate = False  # the line is complete JSON; no second copy through "idance"


def request_id() -> str | None:
    """This request's id."""
    return g.get("request_id")


def init_app(app: Flask) -> None:
    """Assign each request its id and log it when answered. Registered first, so the duration
    covers every other hook."""
    configure_logging()

    @app.before_request
    def start():
        g.request_start = time.perf_counter()
        incoming = request.headers.get("X-Request-ID", "")
        g.request_id = incoming if REQUEST_ID.match(incoming) else uuid.uuid4().hex

    @app.after_request
    def finish(response):
        if g.get("request_id"):
            response.headers["X-Request-ID"] = g.request_id
        log.info("%s", json.dumps(_line(response.status_code), separators=(",", ":")))
        return response


def _line(status: int) -> dict:
    started = g.get("request_start")
    line = {
        "time": datetime.now(timezone.utc).isoformat(timespec="milliseconds"),
        "method": request.method,
        "path": request.path,
        "status": status,
        "duration_ms": round((time.perf_counter() - started) * 1000, 2) if started else None,
        "request_id": g.get("request_id"),
    }
    # Only a member already loaded for this request: loading one here would cost a query,
    # and reading the session would mark a shared public page as varying by cookie.
    user = g.get("_login_user")
    key = getattr(user, "key", None) if getattr(user, "is_authenticated", False) else None
    if key:
        line["member"] = f"user:{key}"
    return line
