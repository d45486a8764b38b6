"""``idance compact``: the embedded data file written anew with what it holds now.

The embedded engine (surrealkv 0.9) appends every write to one log and, each time it opens the
file, reads the whole log back into memory; nothing ever removes from the log what an update
or a delete superseded, nor the change feed's entries (the engine's clean-up task does not run
embedded: verified, docs/architecture.md, Start-up). A start therefore reads the database's
whole history, not only what it holds. Compacting writes a backup (without media), restores it
into a new data file beside the old one (each row once, indexes, no feed history), compares
every table, and swaps the two directories; the old one is kept beside it until the operator
removes it. It runs while the app is stopped: the data file has one owner.
"""

from __future__ import annotations

import os
import shutil
from typing import Callable

from ..config import Config
from ..data_lock import DataFileLock
from ..db import Database
from ..migrate import Runner
from .archive import BackupError, write_backup
from .restore import restore

SCHEME = "surrealkv://"


def folder_size(path: str) -> int:
    """Bytes of the files under ``path``."""
    return sum(os.path.getsize(os.path.join(root, name))
               for root, _, names in os.walk(path) for name in names)


def compact(config: Config, log: Callable[[str], None] = lambda m: None) -> tuple[int, int]:
    """Rewrite the data file of ``config`` with what it holds; return its size in bytes before
    and after. ``DatabaseLocked`` while the app runs; ``BackupError`` when it cannot be done,
    the data file then unchanged."""
    if not config.db_url.startswith(SCHEME):
        raise BackupError(f"compact rewrites an embedded data file ({SCHEME}…), not "
                          f"{config.db_url}")
    path = os.path.abspath(config.db_url[len(SCHEME):])
    kept, work = f"{path}.before-compact", f"{path}.compacting"
    if os.path.exists(kept):
        raise BackupError(f"{kept} is there from an earlier compaction: remove it first")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work, mode=0o700)
    archive = os.path.join(work, "data.backup")
    fresh = os.path.join(work, "idance.db")
    try:
        source = Database(config)
        try:
            write_backup(source, archive, media=False, log=log)
        finally:
            source.close()
        target = Database(config.with_overrides(db_url=SCHEME + fresh))
        try:
            restore(target, archive, log=log)  # compares every table with the backup
            Runner(target).run(log=lambda m: None)  # the access keys, as after any restore
        finally:
            target.close()
        before, after = folder_size(path), folder_size(fresh)
        lock = DataFileLock()
        lock.take(path)  # nobody opened the old file meanwhile
        try:
            os.rename(path, kept)
            try:
                os.rename(fresh, path)
            except OSError:
                os.rename(kept, path)  # never leave no data file where the app looks for one
                raise
        finally:
            lock.release()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    log(f"the previous data file is kept as {kept}: remove it once the app serves as before")
    return before, after
