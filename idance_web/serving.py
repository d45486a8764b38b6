"""Gunicorn hooks: the worker that serves the app runs its real-time hub.

``gunicorn.conf.py`` in the project root imports them; elsewhere pass
``-c python:idance_web.serving``. The hub starts after the worker loaded the app and before it
accepts a request (``post_worker_init``), so a preloading master never runs it: its threads
would not survive the fork.
"""

from __future__ import annotations


def post_worker_init(worker) -> None:
    """Start the app's hub in the worker that serves it."""
    from .realtime import start_hub

    app = getattr(worker, "wsgi", None)
    if app is not None and "idance.hub" in getattr(app, "extensions", {}):
        start_hub(app)


def worker_exit(server, worker) -> None:
    """Stop the hub before the worker leaves (its poll finishes first)."""
    app = getattr(worker, "wsgi", None)
    hub = getattr(app, "extensions", {}).get("idance.hub") if app is not None else None
    if hub is not None:
        hub.stop()
