"""Backups while the app serves: a daily job of the app's own worker writes one to
``IDANCE_BACKUP_DIR`` and keeps the newest ``IDANCE_BACKUP_KEEP``.

The embedded data file has one owner, the serving process, so ``idance backup`` cannot open it
while the app runs; the job runs inside that process, on its connection. Scheduled for
``IDANCE_BACKUP_HOUR`` (UTC), queued again by each run; nothing is queued when the directory
is not set.
"""

from __future__ import annotations

import datetime as dt
import glob
import logging
import os

from ..db import Database
from ..jobs import enqueue, handler
from .archive import write_backup

KIND = "backup"
PATTERN = "idance-{database}-*.backup"
log = logging.getLogger("idance.backup")


def seconds_until(hour: int, now: dt.datetime | None = None) -> float:
    """Seconds from ``now`` (UTC) until the next ``hour``:00 UTC."""
    now = now or dt.datetime.now(dt.UTC)
    at = now.replace(hour=hour, minute=0, second=0, microsecond=0)
    if at <= now:
        at += dt.timedelta(days=1)
    return (at - now).total_seconds()


def schedule(db: Database, delay: float | None = None) -> None:
    """Queue the next backup (at the configured hour unless ``delay`` says otherwise)."""
    config = db.config
    if not config.backup_dir:
        return
    with db.worker() as s:
        enqueue(s, KIND, subject="daily",
                delay=seconds_until(config.backup_hour) if delay is None else delay)


def prune(folder: str, database: str, keep: int) -> list[str]:
    """Remove all but the newest ``keep`` backups of ``database`` in ``folder``; return them."""
    found = sorted(glob.glob(os.path.join(folder, PATTERN.format(database=database))))
    old = found[: max(0, len(found) - keep)]
    for path in old:
        os.unlink(path)
    return old


@handler(KIND)
def daily_backup(db: Database, payload: dict) -> str | None:
    """Write ``idance-<database>-<UTC time>.backup`` to the backup directory, prune older
    ones, queue the next run. Returns the file written."""
    config = db.config
    if not config.backup_dir:
        return None
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    path = os.path.join(config.backup_dir, f"idance-{config.database}-{stamp}.backup")
    manifest = write_backup(db, path)
    log.info("backup written to %s (%d rows, writes paused %.1f s)", path,
             sum(t["rows"] for t in manifest["tables"].values()), manifest["write_pause_seconds"])
    prune(config.backup_dir, config.database, config.backup_keep)
    schedule(db)
    return path
