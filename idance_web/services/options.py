"""What forms and filters offer to choose from: dance styles with their levels and roles,
interests and social platforms (the curated lookup lists, read once per database)."""

from __future__ import annotations

import weakref

from ..db import Database

LEVELS = ["beginner", "improver", "intermediate", "advanced", "professional"]
ROLES = ["lead", "follow", "both"]
MAX_STYLES = 12  # on a profile or a group

# Static lookup data, read once per database.
_OPTIONS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def lookup_options(db: Database) -> dict:
    """Styles (by family), interests and social platforms; static data, read once."""
    cached = _OPTIONS.get(db)
    if cached is None:
        with db.visitor() as s:
            styles, interests, platforms = s.query(
                "SELECT record::id(id) AS id, name, family FROM dance_style ORDER BY family, name;"
                "SELECT record::id(id) AS id, name, category FROM interest ORDER BY category, name;"
                "SELECT record::id(id) AS id, name, url_template, handle_pattern "
                "FROM social_platform ORDER BY name;"
            )
        families: dict[str, list] = {}
        for style in styles:
            families.setdefault(style["family"], []).append(style)
        cached = {"styles": styles, "families": families, "interests": interests,
                  "platforms": {p["id"]: p for p in platforms}}
        _OPTIONS[db] = cached
    return cached
