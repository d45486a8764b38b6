"""Dancers nearby: exact great-circle radius and order, answered from B-tree grid cells.

Locations are city centres as unit vectors. Migration ``0015`` gives every discoverable
profile a grid cell (``fn::cell``: rows 0.5° of latitude high, each cut into about square
columns) and every style row a ``style|cell`` key. A radius query reads the few key ranges
that cover the spherical cap (one per row of cells), then re-checks the exact distance (the
chord between unit vectors orders as the great-circle distance does) and sorts by it, all in
one statement: no scan, no approximate index, so the answer equals a brute-force one.

The builders here are pure (SurrealQL text and parameters); ``nearby_dancers`` runs them on a
session of the caller's identity. Cells are computed here exactly as ``fn::cell`` computes
them (a test compares the two); ranges get a small margin so that a point on a cell border,
which the engine's arithmetic may put on either side, is always covered.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

EARTH_RADIUS_KM = 6371.0088
CELL_DEG = 0.5
ROWS = int(180 / CELL_DEG)
COLUMNS = [max(1, math.floor(360 * math.cos(math.radians(-90 + (r + 0.5) * CELL_DEG)) / CELL_DEG))
           for r in range(ROWS)]
MARGIN_DEG = 1e-6
MIN_RADIUS_KM, MAX_RADIUS_KM = 1, 500
ACCEPTS = {"lead": ["lead", "both"], "follow": ["follow", "both"], "both": ["both"]}


def lat_lon(vector) -> tuple[float, float]:
    """Degrees of a unit vector, with the same operations as ``fn::cell``."""
    x, y, z = vector
    lat = math.degrees(math.asin(max(-1.0, min(1.0, z))))
    if x > 0:
        lon = math.atan(y / x)
    elif x < 0 and y >= 0:
        lon = math.atan(y / x) + math.pi
    elif x < 0:
        lon = math.atan(y / x) - math.pi
    elif y > 0:
        lon = math.pi / 2
    elif y < 0:
        lon = -math.pi / 2
    else:
        lon = 0.0
    return lat, math.degrees(lon)


def _row(lat: float) -> int:
    return min(max(math.floor((lat + 90) / CELL_DEG), 0), ROWS - 1)


def _col(row: int, lon: float) -> int:
    n = COLUMNS[row]
    return min(max(math.floor((lon + 180) / 360 * n), 0), n - 1)


def cell_key(row: int, col: int) -> str:
    return f"{1000 + row}:{1000 + col}"


def cell_of(vector) -> str:
    """The grid cell of a unit vector (``fn::cell``)."""
    lat, lon = lat_lon(vector)
    row = _row(lat)
    return cell_key(row, _col(row, lon))


def chord_for_km(km: float) -> float:
    """The chord between two unit vectors ``km`` apart on the Earth's surface."""
    return 2 * math.sin(min(math.pi, km / EARTH_RADIUS_KM) / 2)


def km_for_chord(chord: float) -> float:
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, chord / 2))


def cell_ranges(vector, radius_km: float) -> list[tuple[str, str]]:
    """Inclusive ranges of cell keys that together cover every point within ``radius_km``."""
    lat0, lon0 = lat_lon(vector)
    delta = radius_km / EARTH_RADIUS_KM  # angular radius
    span = math.degrees(delta) + MARGIN_DEG
    south, north = lat0 - span, lat0 + span
    if north >= 90 or south <= -90 or math.sin(delta) >= math.cos(math.radians(lat0)):
        lons = [(-180.0, 180.0)]  # the cap holds a pole: whole rows
    else:
        # The widest longitude offset of a spherical cap (reached off its centre latitude).
        half = math.degrees(math.asin(math.sin(delta) / math.cos(math.radians(lat0))))
        west, east = lon0 - half - MARGIN_DEG, lon0 + half + MARGIN_DEG
        if west < -180:
            lons = [(west + 360, 180.0), (-180.0, east)]
        elif east > 180:
            lons = [(west, 180.0), (-180.0, east - 360)]
        else:
            lons = [(west, east)]
    ranges = []
    for row in range(_row(max(south, -90.0)), _row(min(north, 90.0)) + 1):
        for west, east in lons:
            ranges.append((cell_key(row, _col(row, west)), cell_key(row, _col(row, east))))
    return ranges


@dataclass(frozen=True)
class NearbyQuery:
    """SurrealQL text and its parameters."""

    sql: str
    vars: dict


def _ranges_clause(field: str, prefix: str, ranges, vars: dict) -> str:
    parts = []
    for i, (low, high) in enumerate(ranges):
        vars[f"lo{i}"], vars[f"hi{i}"] = prefix + low, prefix + high
        parts.append(f"({field} >= $lo{i} AND {field} <= $hi{i})")
    return "(" + " OR ".join(parts) + ")"


def nearby_query(origin, radius_km: float, style: str | None = None, role: str | None = None,
                 level: str | None = None, limit: int = 20, exclude: Any = None,
                 after: tuple[float, Any] | None = None,
                 skip_param: str | None = None) -> NearbyQuery:
    """Dancers within ``radius_km`` of ``origin`` (a unit vector), nearest first.

    With ``style`` (a dance_style key) it reads ``user_dance_style`` by its ``near`` key, and
    ``role`` (someone who leads: ``lead`` or ``both``) and ``level`` filter the rows; without,
    it reads ``profile`` by ``cell``. Rows are ``{user, chord}`` (plus ``role``, ``level``
    with a style). ``exclude`` is a user record left out (the member herself); ``after`` is
    the ``(chord, user)`` of the last row of the previous page; ``skip_param`` names a
    parameter that the caller's batch sets to more users to leave out (those she swiped).
    """
    radius_km = min(max(float(radius_km), MIN_RADIUS_KM), MAX_RADIUS_KM)
    vars: dict = {"origin": [float(x) for x in origin], "max_chord": chord_for_km(radius_km),
                  "limit": max(1, min(int(limit), 100)), "exclude": exclude}
    ranges = cell_ranges(origin, radius_km)
    outer = ["chord <= $max_chord", "user != $exclude"]
    if skip_param:
        if not skip_param.isidentifier():
            raise ValueError("skip_param names a query parameter")
        outer.append(f"user NOT IN ${skip_param}")
    if style:
        table, user, fields = "user_dance_style", "in", ", role, level"
        keys = _ranges_clause("near", f"{style}|", ranges, vars)
        if role:
            outer.append("role IN $roles")
            vars["roles"] = ACCEPTS[role]
        if level:
            outer.append("level = $level")
            vars["level"] = level
    else:
        table, user, fields = "profile", "owner", ""
        keys = _ranges_clause("cell", "", ranges, vars)
    if after is not None:
        vars["after_chord"], vars["after_user"] = float(after[0]), after[1]
        outer.append("(chord > $after_chord OR (chord = $after_chord AND user > $after_user))")
    # The inner WHERE holds the key ranges alone: with any other condition ANDed to a union of
    # ranges, or with an expression, the planner gives up the index and scans the table.
    inner = (f"SELECT {user} AS user{fields}, "
             f"vector::distance::euclidean(location, $origin) AS chord FROM {table} WHERE {keys}")
    sql = f"SELECT * FROM ({inner}) WHERE {' AND '.join(outer)} ORDER BY chord, user LIMIT $limit"
    return NearbyQuery(sql, vars)


def nearby_dancers(session, origin, radius_km: float, **filters) -> list[dict]:
    """Run ``nearby_query`` on ``session``; each row gains ``km`` (whole kilometres)."""
    query = nearby_query(origin, radius_km, **filters)
    rows = session.rows(query.sql, query.vars)
    for row in rows:
        row["km"] = round(km_for_chord(row["chord"]))
    return rows
