"""Who is an adult: ``profile.adult`` is computed on every write of her profile (migration
``0016``), so a member who turns 18 after her last write is found by a daily job."""

from __future__ import annotations

import datetime as dt

from ..db import Database
from ..jobs import enqueue, handler

KIND = "refresh_adults"


def seconds_to_midnight(now: dt.datetime | None = None) -> float:
    """Seconds from ``now`` (UTC) until the next midnight, when the next refresh runs."""
    now = now or dt.datetime.now(dt.UTC)
    tomorrow = dt.datetime.combine(now.date() + dt.timedelta(days=1), dt.time(), dt.UTC)
    return (tomorrow - now).total_seconds()


def schedule(db: Database, delay: float = 0) -> None:
    """Queue the refresh (once: a queued one is not queued again)."""
    with db.worker() as s:
        enqueue(s, KIND, subject="daily", delay=delay)


@handler(KIND)
def refresh_adults(db: Database, payload: dict) -> int:
    """Rewrite the profiles whose 18th birthday has passed since their last write (the write
    recomputes ``adult``); queue the next run for midnight. Returns how many changed.

    Runs as the system: ``adult_from`` (her 18th birthday, which gives her date of birth) is
    readable by no identity, and only she may write her profile.
    """
    with db.system() as s:
        changed = s.value(
            "UPDATE profile SET birth_date = birth_date WHERE adult = false "
            "AND adult_from <= $now RETURN VALUE id", {"now": dt.datetime.now(dt.UTC)})
    schedule(db, delay=seconds_to_midnight())
    return len(changed or [])
