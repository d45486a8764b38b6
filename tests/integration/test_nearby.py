"""Dancers nearby on the real engine: grid cells, exactness against brute force, privacy."""

from __future__ import annotations

import math
import random

import pytest
from surrealdb import RecordID

from idance_web.services import nearby
from idance_web.services.lookup import unit_vector


def _points(rng: random.Random, count: int) -> list[list[float]]:
    points = [unit_vector(rng.uniform(-90, 90), rng.uniform(-180, 180)) for _ in range(count)]
    # Borders: whole rows, column edges, the poles, the antimeridian.
    for lat in (-90, -89.75, -45.5, 0, 0.5, 52.5, 89.5, 90):
        for lon in (-180, -179.99, -0.5, 0, 13.4, 179.99, 180):
            points.append(unit_vector(lat, lon))
    row = nearby._row(52.25)
    for col in range(0, nearby.COLUMNS[row], 37):
        points.append(unit_vector(52.25, -180 + 360 * col / nearby.COLUMNS[row]))
    return points


def test_python_cells_are_the_database_cells(db):
    points = _points(random.Random(5), 1500)
    with db.system() as s:
        cells = s.value("RETURN $points.map(|$p| fn::cell($p))", {"points": points})
    assert cells == [nearby.cell_of(p) for p in points]
    assert nearby.COLUMNS[0] == 3 and max(nearby.COLUMNS) == 719


def test_cell_ranges_cover_the_cap():
    rng = random.Random(9)
    for _ in range(300):
        lat, lon = rng.uniform(-89.9, 89.9), rng.uniform(-180, 180)
        radius = rng.choice([5, 50, 120, 500])
        origin = unit_vector(lat, lon)
        ranges = nearby.cell_ranges(origin, radius)
        for _ in range(30):  # points inside the cap, toward its rim
            bearing, dist = rng.uniform(0, 2 * math.pi), radius * rng.uniform(0.5, 1.0)
            d = dist / nearby.EARTH_RADIUS_KM
            la, lo = math.radians(lat), math.radians(lon)
            la2 = math.asin(math.sin(la) * math.cos(d) + math.cos(la) * math.sin(d) * math.cos(bearing))
            lo2 = lo + math.atan2(math.sin(bearing) * math.sin(d) * math.cos(la),
                                  math.cos(d) - math.sin(la) * math.sin(la2))
            point = unit_vector(math.degrees(la2), (math.degrees(lo2) + 540) % 360 - 180)
            cell = nearby.cell_of(point)
            assert any(low <= cell <= high for low, high in ranges), (lat, lon, radius)


def _place(s, key: str, vector, styles: list[tuple[str, str]], discoverable=True) -> None:
    s.query(
        """CREATE type::thing('user', $key) SET email = $key + '@example.com', username = $key,
               display_name = $key;
           CREATE type::thing('profile', $key) SET owner = type::thing('user', $key),
               location = $vector, discoverable = $discoverable;
           FOR $s IN $styles {
               RELATE (type::thing('user', $key))->user_dance_style->(type::thing('dance_style', $s[0]))
                   SET level = 'intermediate', role = $s[1];
           };""",
        {"key": key, "vector": vector, "styles": styles, "discoverable": discoverable},
    )


CENTRES = {"berlin": (52.52, 13.40), "fiji": (-17.7, 179.95), "arctic": (89.7, 20.0)}


@pytest.fixture
def crowd(db):
    """120 dancers scattered up to 200 km around each centre, with styles and roles."""
    rng = random.Random(11)
    people = []
    with db.system() as s:
        for name, (lat, lon) in CENTRES.items():
            for i in range(120):
                la = max(-90.0, min(90.0, lat + rng.uniform(-1.8, 1.8)))
                lo = (lon + rng.uniform(-3, 3) + 540) % 360 - 180
                styles = [(st, rng.choice(["lead", "follow", "both"]))
                          for st in rng.sample(["salsa", "bachata", "kizomba"], k=rng.randint(1, 2))]
                key = f"{name}{i:03d}"
                hidden = i % 17 == 0
                _place(s, key, unit_vector(la, lo), styles, discoverable=not hidden)
                people.append({"key": key, "vector": unit_vector(la, lo), "styles": dict(styles),
                               "hidden": hidden})
    return people


def _brute(people, origin, radius, style=None, role=None, exclude=None, limit=20):
    found = []
    for p in people:
        if p["hidden"] or p["key"] == exclude:
            continue
        if style and (style not in p["styles"] or
                      (role and p["styles"][style] not in nearby.ACCEPTS[role])):
            continue
        chord = math.dist(origin, p["vector"])
        if chord <= nearby.chord_for_km(radius):
            # Rounded: dancers at one point (the pole) tie, and the engine's last digit may
            # differ from Python's; ties are ordered by user.
            found.append((round(chord, 12), p["key"]))
    return [key for _c, key in sorted(found)[:limit]]


@pytest.mark.parametrize("centre", list(CENTRES))
def test_nearby_equals_brute_force(db, crowd, centre):
    origin = unit_vector(*CENTRES[centre])
    me = crowd[[p["key"] for p in crowd].index(f"{centre}001")]
    with db.member(me["key"]) as s:
        for radius in (5, 50, 120):
            for style, role in ((None, None), ("salsa", None), ("salsa", "lead"),
                                ("kizomba", "follow")):
                rows = nearby.nearby_dancers(s, origin, radius, style=style, role=role,
                                             limit=100, exclude=RecordID("user", me["key"]))
                want = _brute(crowd, origin, radius, style, role, me["key"], limit=100)
                got = sorted((round(r["chord"], 12), r["user"].id) for r in rows)
                assert [key for _c, key in got] == want, (radius, style, role)
                assert [r["chord"] for r in rows] == sorted(r["chord"] for r in rows)
                assert all(r["km"] <= radius for r in rows)


def test_pages_follow_each_other(db, crowd):
    origin = unit_vector(*CENTRES["berlin"])
    want = _brute(crowd, origin, 150, "salsa", None, limit=100)
    got, after = [], None
    with db.member("berlin000") as s:
        while True:
            rows = nearby.nearby_dancers(s, origin, 150, style="salsa", limit=7, after=after)
            if not rows:
                break
            got += [r["user"].id for r in rows]
            after = (rows[-1]["chord"], rows[-1]["user"])
    assert got == want and len(got) > 14


def test_queries_read_an_index(db, crowd):
    origin = unit_vector(*CENTRES["berlin"])
    for style in (None, "salsa"):
        query = nearby.nearby_query(origin, 50, style=style, role="lead" if style else None)
        inner = query.sql[query.sql.index("(") + 1:query.sql.index(") WHERE chord")]
        with db.system() as s:
            plan = s.rows(inner + " EXPLAIN", query.vars)
        operations = {step["operation"] for step in plan}
        assert "Iterate Index" in operations and "Iterate Table" not in operations, plan


def test_a_move_or_hiding_updates_the_style_keys(db, crowd):
    paris = unit_vector(48.86, 2.35)
    with db.member("berlin005") as s:
        s.query("UPDATE profile SET location = $v WHERE owner = user:berlin005", {"v": paris})
        near = s.rows("SELECT VALUE near FROM user_dance_style WHERE in = user:berlin005")
        assert near and all(k.endswith("|" + nearby.cell_of(paris)) for k in near)
        found = nearby.nearby_dancers(s, paris, 10)
        assert [r["user"].id for r in found] == ["berlin005"]
        s.query("UPDATE profile SET discoverable = false WHERE owner = user:berlin005")
        assert s.rows("SELECT VALUE near FROM user_dance_style WHERE in = user:berlin005") \
            == [None] * len(near)
        assert nearby.nearby_dancers(s, paris, 10) == []


def test_radius_is_clamped_to_its_range():
    query = nearby.nearby_query(unit_vector(0, 0), 5000)
    assert query.vars["max_chord"] == pytest.approx(nearby.chord_for_km(nearby.MAX_RADIUS_KM))
    assert nearby.km_for_chord(nearby.chord_for_km(123.4)) == pytest.approx(123.4)
