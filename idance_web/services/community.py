"""What the landing page shows: recently joined dancers, groups and community counts."""

from __future__ import annotations

import threading
import time
import weakref

from ..db import Database

# The overview is a few indexed reads (counters kept by database events, newest-first sort keys;
# migration 0014), computed at most once a minute per database and shared by every visitor.
TTL_SECONDS = 60.0
_cache: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_lock = threading.Lock()

OVERVIEW_QUERY = """
SELECT owner.username AS username, owner.display_name AS display_name,
       city.name AS city, city.country.name AS country, created_at, listed_key
FROM profile WHERE listed_key > '' ORDER BY listed_key LIMIT $limit;
SELECT slug, name, kind, city.name AS city, created_at, visibility_key FROM group
WHERE visibility_key > '' ORDER BY visibility_key LIMIT 6;
RETURN counter:members.value;
RETURN counter:cities.value;
"""


def landing_overview(db: Database, limit: int = 12) -> dict:
    """Recent dancers and groups and community counts, as the visitor sees them."""
    now = time.monotonic()
    with _lock:
        hit = _cache.get(db)
    if hit and now - hit[0] < TTL_SECONDS:
        return hit[1]
    with db.visitor() as s:
        dancers, groups, members, cities = s.query(OVERVIEW_QUERY, {"limit": limit})
    overview = {"dancers": dancers or [], "groups": groups or [], "members": members or 0,
                "cities": cities or 0}
    with _lock:
        _cache[db] = (now, overview)
    return overview


def clear_overview(db: Database) -> None:
    """Forget the cached overview: the next landing page recomputes it."""
    with _lock:
        _cache.pop(db, None)
