"""Cities within a radius: the grid's answer equals a brute-force scan of every city."""

from __future__ import annotations

import math
import random

import pytest

from idance_web.services.city_grid import cities_within, chord_for_km
from idance_web.services.lookup import geonames_cities
from idance_web.services.places import chord_km, unit_vector


def brute_force(origin, radius_km):
    found = []
    for key, city in geonames_cities().items():
        v = unit_vector(float(city["latitude"]), float(city["longitude"]))
        km = chord_km(math.dist(origin, v))
        if km <= radius_km + 1e-6:
            found.append(int(key))
    return sorted(found)


@pytest.mark.parametrize("lat, lon, radius", [
    (52.52, 13.40, 50), (48.85, 2.35, 500), (40.71, -74.0, 100), (-34.6, -58.38, 250),
    (64.14, -21.94, 500),  # Reykjavik: wide longitude span
    (-17.7, 179.9, 300),  # Fiji: across the antimeridian
    (78.2, 15.6, 500),  # Svalbard: near the pole
])
def test_the_grid_finds_exactly_the_cities_a_full_scan_finds(lat, lon, radius):
    origin = unit_vector(lat, lon)
    found = cities_within(origin, radius)
    assert sorted(key for key, _ in found) == brute_force(origin, radius)
    assert [km for _, km in found] == sorted(km for _, km in found)
    assert all(km <= radius + 1e-6 for _, km in found)


def test_random_origins_agree_with_the_full_scan():
    rng = random.Random(7)
    for _ in range(20):
        origin = unit_vector(rng.uniform(-60, 70), rng.uniform(-180, 180))
        radius = rng.choice([5, 10, 50, 100, 500])
        assert sorted(k for k, _ in cities_within(origin, radius)) == brute_force(origin, radius)


def test_chord_and_distance_are_inverse():
    for km in (0.5, 10, 100, 500, 5000):
        assert chord_km(chord_for_km(km)) == pytest.approx(km)
