"""What the landing page shows: recently joined dancers, groups and community counts."""

from __future__ import annotations

import threading
import time
import weakref

from ..db import Database

# The overview counts whole tables, so it is computed at most once a minute per database and
# shared by every visitor: the landing page must not scan tables on each request.
TTL_SECONDS = 60.0
_cache: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_lock = threading.Lock()

OVERVIEW_QUERY = """
SELECT owner.username AS username, owner.display_name AS display_name,
       city.name AS city, city.country.name AS country, created_at
FROM profile WHERE discoverable = true ORDER BY created_at DESC LIMIT $limit;
SELECT slug, name, kind, city.name AS city, created_at FROM group
WHERE visibility = 'public' ORDER BY created_at DESC LIMIT 6;
RETURN count(SELECT id FROM user);
RETURN array::len(array::distinct(SELECT VALUE city FROM profile WHERE city != NONE));
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
