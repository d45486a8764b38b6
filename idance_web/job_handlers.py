"""Every background job's handler, registered by importing the module that defines it, and
the app's in-process worker."""

from __future__ import annotations

import threading

from . import mail  # noqa: F401 - registers send_email
from .backup import job as backup_job  # its @handler registers the daily backup
from .jobs import HANDLERS, Handler, Worker
# Their @handler decorators register them.
from .services import ages, push, similar, vlog_jobs, vlog_transcode  # noqa: F401


def load_handlers() -> dict[str, Handler]:
    """The registry, with every handler of the app in it."""
    return HANDLERS


def schedule_daily(db) -> None:
    """Queue the daily jobs (who turned 18; the backup when IDANCE_BACKUP_DIR is set) unless
    queued already: each run queues the next, so this only starts the chain."""
    ages.schedule(db)
    backup_job.schedule(db)


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
                        schedule_daily(db)
                        worker.start()

    return worker
