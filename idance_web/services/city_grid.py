"""Cities within a radius, from an in-process grid of the GeoNames cities (static data).

Members are placed at their city's centre, so "dancers within 50 km" is "dancers in the cities
within 50 km", and those come from this grid in well under a millisecond: one-degree cells,
the cells that cover the radius' bounding box, then the exact great-circle check. The
database then answers "members in these cities" from the ``profile_city`` index.

(An HNSW index over the members' city vectors was tried first: with many members sharing one
city, that is many identical vectors, and the engine's HNSW lost some of them after updates.)
"""

from __future__ import annotations

import math
from collections import defaultdict
from functools import lru_cache

from .lookup import geonames_cities
from .places import EARTH_RADIUS_KM, chord_km, unit_vector


def chord_for_km(km: float) -> float:
    """The chord between two unit vectors ``km`` apart on the surface (``chord_km``'s inverse)."""
    return 2 * math.sin(min(math.pi, km / EARTH_RADIUS_KM) / 2)


@lru_cache(maxsize=1)
def _grid() -> dict[tuple[int, int], list[tuple[int, tuple[float, float, float]]]]:
    grid: dict[tuple[int, int], list] = defaultdict(list)
    for key, city in geonames_cities().items():
        lat, lon = float(city["latitude"]), float(city["longitude"])
        grid[(math.floor(lat), math.floor(lon))].append((int(key), tuple(unit_vector(lat, lon))))
    return dict(grid)


def cities_within(origin: list[float], radius_km: float) -> list[tuple[int, float]]:
    """(GeoNames id, km) of every city within ``radius_km`` of ``origin`` (a unit vector),
    nearest first; exact, since every candidate is checked by its great-circle distance."""
    x, y, z = origin
    lat = math.degrees(math.asin(max(-1.0, min(1.0, z))))
    lon = math.degrees(math.atan2(y, x))
    dlat = math.degrees(radius_km / EARTH_RADIUS_KM)
    low, high = lat - dlat, lat + dlat
    widest = max(abs(low), abs(high))
    if high >= 90 or low <= -90 or widest >= 89:
        lon_cells = range(-180, 180)
    else:
        dlon = min(180.0, math.degrees(radius_km / (EARTH_RADIUS_KM *
                                                    math.cos(math.radians(widest)))))
        lon_cells = range(math.floor(lon - dlon), math.floor(lon + dlon) + 1)
    chord_max = chord_for_km(radius_km)
    grid, found, seen = _grid(), [], set()
    for lat_cell in range(math.floor(max(low, -90)), math.floor(min(high, 89.999)) + 1):
        for lon_cell in lon_cells:
            wrapped = (lon_cell + 180) % 360 - 180
            if (lat_cell, wrapped) in seen:
                continue
            seen.add((lat_cell, wrapped))
            for key, (cx, cy, cz) in grid.get((lat_cell, wrapped), ()):
                chord = math.sqrt((cx - x) ** 2 + (cy - y) ** 2 + (cz - z) ** 2)
                if chord <= chord_max + 1e-12:
                    found.append((key, chord_km(chord)))
    found.sort(key=lambda item: (item[1], item[0]))
    return found
