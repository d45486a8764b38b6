"""Benchmark: full lookup load into a fresh ``mem://`` database, then city type-ahead latency.

Run from the project root: ``python bench/lookup_load.py [queries]``. Prints the load time,
rows per table, and median/p99 latency of the type-ahead next to baselines measured in the
same run: a ``RETURN 1`` round trip and an index-free ``SELECT ... FROM city LIMIT 10``.
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from idance_web.config import Config  # noqa: E402
from idance_web.db import Database  # noqa: E402
from idance_web.services.lookup import FIELDS, geonames_cities, load_lookup  # noqa: E402
from idance_web.services.places import city_prefix_search  # noqa: E402
from idance_web.text import fold  # noqa: E402
from idance_web.migrate import Runner  # noqa: E402


def timed(fn, runs) -> list[float]:
    out = []
    for arg in runs:
        start = time.perf_counter()
        fn(arg)
        out.append((time.perf_counter() - start) * 1000)
    return out


def summary(label: str, ms: list[float]) -> float:
    ms = sorted(ms)
    p99 = ms[min(len(ms) - 1, round(0.99 * (len(ms) - 1)))]
    med = statistics.median(ms)
    print(f"  {label:<42} median {med:7.3f} ms   p99 {p99:7.3f} ms   (n={len(ms)})")
    return med


def prefixes(n: int) -> list[str]:
    """Prefixes of 2-6 letters cut from real city names, with and without accents."""
    rng = random.Random(42)
    names = [c["name"] for c in geonames_cities().values()]
    out = []
    for _ in range(n):
        name = rng.choice(names)
        text = name if rng.random() < 0.5 else fold(name)
        out.append(text[: rng.randint(2, 6)])
    return out


def main(n: int = 200) -> None:
    db = Database(Config(env="test", db_url="mem://"))
    messages: list[str] = []
    start, cpu = time.perf_counter(), time.process_time()
    Runner(db, lookup=load_lookup).run(log=messages.append)
    total = time.perf_counter() - start
    # CPU time too: on a shared machine the wall time says as much about the neighbours.
    print(f"fresh migrate + full lookup load: {total:.2f} s "
          f"({time.process_time() - cpu:.2f} s of CPU)")
    print("  " + next((m for m in messages if m.startswith("loaded lookup")), "no load message"))

    with db.system() as s:
        start = time.perf_counter()
        Runner(db, lookup=load_lookup).run(log=lambda m: None)
        print(f"runner rerun, lookup version current: {(time.perf_counter() - start) * 1000:.1f} ms")
        print("rows per table:")
        for table in FIELDS:
            count = s.value(f"SELECT count() FROM {table} GROUP ALL")[0]["count"]
            print(f"  {table:<16} {count:>6}")

        queries = prefixes(n)
        for q in queries[:20]:  # warm-up
            city_prefix_search(s, q)
        print(f"type-ahead over {n} prefixes (2-6 letters from real names, limit 10):")
        rtt = summary("baseline RETURN 1", timed(lambda _: s.value("RETURN 1"), queries))
        scan = summary(
            "baseline SELECT city LIMIT 10 (no range)",
            timed(lambda _: s.rows("SELECT id, name, population FROM city LIMIT 10"), queries),
        )
        med = summary("city_prefix_search", timed(lambda q: city_prefix_search(s, q), queries))
        print(f"  ratio type-ahead / RETURN 1: {med / rtt:.1f}x;  / SELECT LIMIT 10: {med / scan:.1f}x")
        print("worst cases (largest ranges; 1-letter prefixes are refused):")
        for q in ("sa", "ma", "ba", "san"):
            summary(f"prefix {q!r}", timed(lambda p: city_prefix_search(s, p), [q] * 20))
    db.close()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200)
