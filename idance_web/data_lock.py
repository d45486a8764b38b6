"""The lock file beside an embedded data file: one process owns the file.

The embedded engine does not lock a ``surrealkv://`` path itself, and two processes writing one
file break its unique indexes (verified), so ``db.py`` takes this lock before opening it.
"""

from __future__ import annotations

import fcntl
import os

from .db_errors import DatabaseLocked, DataUnwritable


class DataFileLock:
    """An exclusive ``flock`` on ``<data path>.lock``, naming the process that holds it."""

    def __init__(self) -> None:
        self._handle = None

    def take(self, path: str) -> None:
        """Hold the lock (nothing to do if held); ``DatabaseLocked`` naming another holder,
        ``DataUnwritable`` when the lock file cannot be written beside the data."""
        if self._handle is not None:
            return
        try:
            parent = os.path.dirname(os.path.abspath(path))
            os.makedirs(parent, exist_ok=True)
            handle = open(os.path.abspath(path) + ".lock", "a+")
        except OSError as exc:  # a read-only or foreign data directory, a full disk
            raise DataUnwritable(f"cannot write beside {path}: {exc}") from exc
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            handle.close()
            raise DatabaseLocked(
                f"the database file {path} is in use by {holder}; "
                "stop that process first (one process owns an embedded data file)"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"process {os.getpid()}")
        handle.flush()
        self._handle = handle

    def release(self) -> None:
        if self._handle is not None:
            fcntl.flock(self._handle, fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None
