"""A small, real slice of the lookup data for tests: a few cities and every curated list."""

from __future__ import annotations

from idance_web.services.lookup import (
    city_rows,
    country_rows,
    county_rows,
    curated_rows,
    geonames_cities,
    state_code,
    state_rows,
    upsert,
)

# Cities the small load holds: geonameid → name, for readability only.
SMALL_CITIES = {
    2950159: "Berlin",
    2988507: "Paris",
    5128581: "New York City",
    2643743: "London",
    3435910: "Buenos Aires",
    3448439: "São Paulo",
    1850147: "Tokyo",
    3128760: "Barcelona",
}
SMALL_COUNTIES = ("36061",)  # New York County, for tests that need one county


def small_lookup_tables() -> dict[str, list[dict]]:
    """The rows of ``load_small_lookup``, by table."""
    geo = geonames_cities()
    picked = [geo[str(i)] for i in SMALL_CITIES]
    country_codes = {c["countrycode"] for c in picked} | {"US"}
    state_codes = {state_code(c["countrycode"], c["admin1code"]) for c in picked} | {"US-NY"}
    state_codes.discard(None)
    return {
        "country": country_rows(country_codes),
        "state": state_rows(state_codes),
        "county": county_rows(state_codes, fips=set(SMALL_COUNTIES)),
        "city": city_rows(picked, country_codes, state_codes),
        **curated_rows(),
    }


def load_small_lookup(session, log=None) -> None:
    """A few real cities with their countries and states, plus every curated list.

    Fast, and writes no version row, so a later full ``load_lookup`` still runs. Fits the
    migration runner's ``lookup=`` slot too.
    """
    tables = small_lookup_tables()
    for table, rows in tables.items():
        upsert(session, table, rows)
    if log:
        log(f"loaded small lookup data: {', '.join(f'{len(r)} {t}' for t, r in tables.items())}")
