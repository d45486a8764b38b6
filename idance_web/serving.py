"""Gunicorn hooks: the worker that serves the app runs its real-time hub.

``gunicorn.conf.py`` in the project root imports them; elsewhere pass
``-c python:idance_web.serving``. The hub starts after the worker loaded the app and before it
accepts a request (``post_worker_init``), so a preloading master never runs it: its threads
would not survive the fork. Before that, a worker whose database has pending migrations stops
the server (``refuse_pending_migrations``): serving applies nothing.
"""

from __future__ import annotations

import sys


def post_worker_init(worker) -> None:
    """Start the app's hub in the worker that serves it."""
    from .realtime import start_hub

    app = getattr(worker, "wsgi", None)
    refuse_pending_migrations(app, worker)
    if app is not None and "idance.hub" in getattr(app, "extensions", {}):
        start_hub(app)


def worker_exit(server, worker) -> None:
    """Stop the hub before the worker leaves (its poll finishes first)."""
    app = getattr(worker, "wsgi", None)
    hub = getattr(app, "extensions", {}).get("idance.hub") if app is not None else None
    if hub is not None:
        hub.stop()


class MigrationsPending(RuntimeError):
    """The database lacks migrations the code needs."""


def pending_migrations(app) -> list[str]:
    """Migrations not applied to the app's database (or changed since), by name."""
    from .migrate import Runner

    return [item.name for item in Runner(app.extensions["idance.db"]).status()
            if item.state != "applied"]


def refuse_pending_migrations(app, worker=None) -> None:
    """Stop a serving process whose database lacks migrations: nothing is applied implicitly
    when serving. In a gunicorn worker the exit code halts the whole server (no respawn)."""
    if app is None or "idance.db" not in getattr(app, "extensions", {}):
        return
    pending = pending_migrations(app)
    if not pending:
        return
    message = (f"{len(pending)} migration(s) pending ({', '.join(pending)}): run "
               "`idance migrate` before serving; nothing is applied at start-up.")
    app.extensions["idance.db"].close()
    if worker is None:
        raise MigrationsPending(message)
    worker.log.error(message)
    sys.exit(3)  # gunicorn's WORKER_BOOT_ERROR: the arbiter stops instead of respawning
