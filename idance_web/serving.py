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
    """Start the app's hub in the worker that serves it; end its live streams when the worker
    is told to stop (each holds a thread, which would hold the stop for the graceful timeout)."""
    import signal
    import threading

    from .realtime import start_hub

    app = getattr(worker, "wsgi", None)
    refuse_pending_migrations(app, worker)
    if app is not None and "idance.hub" in getattr(app, "extensions", {}):
        start_hub(app)
    live = getattr(app, "extensions", {}).get("idance.live") if app is not None else None
    handle_exit = getattr(worker, "handle_exit", None)
    if live is not None and handle_exit is not None:
        def exit_ending_streams(sig, frame):
            # In a thread: a signal handler must not wait for the streams' locks.
            threading.Thread(target=live.close_all, name="end-streams", daemon=True).start()
            handle_exit(sig, frame)

        signal.signal(signal.SIGTERM, exit_ending_streams)  # gunicorn's graceful stop


def worker_exit(server, worker) -> None:
    """End the live streams and stop the hub before the worker leaves (its poll finishes
    first)."""
    app = getattr(worker, "wsgi", None)
    live = getattr(app, "extensions", {}).get("idance.live") if app is not None else None
    if live is not None:
        live.close_all()
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
