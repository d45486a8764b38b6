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
                        backup_job.schedule(db)  # when IDANCE_BACKUP_DIR is set
                        worker.start()

    return worker
