"""What the landing page shows: a few dancers and counts."""

from __future__ import annotations

from ..db import Database


def landing_overview(db: Database, limit: int = 12) -> dict:
    """Recently joined dancers (public fields) and community counts, as the visitor sees them."""
    with db.visitor() as s:
        dancers, members, cities = s.query(
            """
            SELECT owner.username AS username, owner.display_name AS display_name,
                   city.name AS city, city.country.name AS country, created_at
            FROM profile WHERE discoverable = true ORDER BY created_at DESC LIMIT $limit;
            RETURN count(SELECT id FROM user);
            RETURN array::len(array::distinct(SELECT VALUE city FROM profile WHERE city != NONE));
            """,
            {"limit": limit},
        )
    return {"dancers": dancers or [], "members": members or 0, "cities": cities or 0}
