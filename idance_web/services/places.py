"""Places: finding a city by name, the city a form names, and distances between members.

A city is a GeoNames row with its centre as a unit vector (``city.vector``); what others may
learn of a member's place is her city and a distance rounded to whole kilometres.
"""

from __future__ import annotations

import math
import re

from surrealdb import RecordID

from ..db import Database, key_of
from ..text import fold

EARTH_RADIUS_KM = 6371.0088
CITY_KEY = re.compile(r"[0-9]{1,12}")  # GeoNames ids have 8 digits; 30 would overflow CBOR
MIN_PREFIX = 2  # one letter matches ~2,000 cities; sorting them all is not a type-ahead
MAX_RESULTS = 50

# The inner query ranks the range on the index by population alone; only the winners are
# fetched again for their names and links (half the cost on a 1,500-row range like "sa").
SEARCH_RANGE = (
    "SELECT id, population FROM city WHERE name_key >= $p AND name_key < $p_end"
    " ORDER BY population DESC LIMIT $limit"
)
_SEARCH = (
    "SELECT id, name, state.name AS state, country.name AS country, population"
    f" FROM ({SEARCH_RANGE}).id ORDER BY population DESC"
)


# -- geometry ----------------------------------------------------------------------------------

def unit_vector(lat: float, lon: float) -> list[float]:
    """The point on the unit sphere; the dot product of two is the cosine of their distance."""
    la, lo = math.radians(lat), math.radians(lon)
    return [math.cos(la) * math.cos(lo), math.cos(la) * math.sin(lo), math.sin(la)]


def distance_km(a: list[float], b: list[float]) -> float:
    """Great-circle distance between two unit vectors."""
    return chord_km(math.dist(a, b))


def chord_km(chord: float) -> float:
    """Great-circle distance for the chord between two unit vectors (what KNN reports)."""
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, chord / 2))


def format_distance(km: float) -> str:
    """Whole kilometres, or "< 1 km": never more precise than that."""
    return "< 1 km" if km < 1 else f"{round(km):,} km"


# -- finding cities ----------------------------------------------------------------------------

def prefix_range(prefix: str) -> tuple[str, str] | None:
    """The folded key range ``[p, p_end)`` holding every name that starts with ``prefix``."""
    p = fold(prefix)
    if len(p) < MIN_PREFIX:
        return None
    # No folded name holds U+10FFFF, so it sorts after every continuation of the prefix.
    return p, p + "\U0010ffff"


def city_prefix_search(session, prefix: str, limit: int = 10) -> list[dict]:
    """Cities whose folded name starts with ``prefix``, largest first.

    A range on the ``city_name_key`` B-tree index; prefixes shorter than two letters
    (after folding) return nothing.
    """
    bounds = prefix_range(prefix)
    if bounds is None:
        return []
    limit = max(1, min(int(limit), MAX_RESULTS))
    return session.rows(_SEARCH, {"p": bounds[0], "p_end": bounds[1], "limit": limit})


def search_cities(db: Database, query: str, limit: int = 8) -> list[dict]:
    """City type-ahead: name, state and country, largest first."""
    with db.visitor() as s:
        rows = city_prefix_search(s, query, limit)
    return [{"id": key_of(r["id"]), "name": r["name"], "state": r.get("state"),
             "country": r.get("country"), "label": city_label(r)} for r in rows]


def city_label(row: dict) -> str:
    """"Name, state, country", leaving out the parts a row lacks."""
    parts = [row.get("name"), row.get("state"), row.get("country")]
    return ", ".join(p for p in parts if p)


# -- the city a form names ---------------------------------------------------------------------

def resolve_city(db: Database, data) -> tuple[RecordID | None, list[dict]]:
    """The chosen city: the id the type-ahead set, else the one city the text names.

    ``data`` has ``city_id`` and ``city_query`` (a profile's or a group's input). Returns
    (city, choices): when the text is ambiguous, ``choices`` lists the candidates so the form
    (without JavaScript) can ask which one. An id that names no city gives (None, []).
    """
    if data.city_id:
        return _known_city(db, data.city_id), []
    query = (data.city_query or "").split(",")[0].strip()
    if not query:
        return None, []
    found = search_cities(db, query, limit=6)
    exact = [c for c in found if c["name"].lower() == query.lower()]
    candidates = exact or found
    if len(candidates) == 1:
        return RecordID("city", int(candidates[0]["id"])), []
    return None, candidates


def _known_city(db: Database, key: str) -> RecordID | None:
    # The id comes from the form: anything but an existing city would be saved as a
    # dangling link (or, too long for an int, fail in the driver).
    if not CITY_KEY.fullmatch(key):
        return None
    city = RecordID("city", int(key))
    with db.visitor() as s:
        return city if s.value("RETURN record::exists($city)", {"city": city}) else None


def check_city(db: Database, data, errors: dict) -> tuple[RecordID | None, list[dict]]:
    """``resolve_city``, with the reason in ``errors["city"]`` when a city was asked for but
    not found (or the text names several)."""
    city, choices = resolve_city(db, data)
    if (data.city_id or (data.city_query or "").strip()) and city is None:
        errors["city"] = ("Which one? Choose the city below." if choices
                          else "We could not find that city. Type its name and pick from the list.")
    return city, choices
