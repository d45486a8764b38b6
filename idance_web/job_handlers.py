"""Every background job's handler, registered by importing the module that defines it, and
the app's in-process worker."""

from __future__ import annotations

import threading

from .jobs import HANDLERS, Handler, Worker
from .services import ages, similar, vlog_jobs, vlog_transcode  # noqa: F401 - their @handler decorators register them


def load_handlers() -> dict[str, Handler]:
    """The registry, with every handler of the app in it."""
    return HANDLERS


def init_app(app, start: bool | None = None) -> Worker:
    """Give the app its in-process worker, started on the first request.

    ``start`` defaults to: the database is embedded and the app is not under test (tests run
    jobs by hand with ``run_due``). Started lazily because Flask's reloader imports the app in
    two processes and only the serving one owns the data file.
    """
    db = app.extensions["idance.db"]
    worker = Worker(db, batch=50)
    app.extensions["idance.worker"] = worker
    if start is None:
        start = db.embedded and not app.testing
    if start:
        lock = threading.Lock()

        @app.before_request
        def _start_worker():
            if worker._thread is None:
                with lock:
                    if worker._thread is None:
                        ages.schedule(db)  # the daily refresh, queued once
                        worker.start()

    return worker
