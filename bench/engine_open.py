"""Benchmark: how long the embedded engine takes to open a data file, by its size, on the SDK's
own engine and (when installed) on the SurrealDB 3 embedded engine.

Run from the project root: ``python bench/engine_open.py [--rows N] [--runs R]``.

The SDK's engine (``surrealdb`` 2.0: SurrealDB core 2.3 on surrealkv 0.9) replays the data
file's whole log into memory when it opens it; ``surrealdb-embedded`` 3.0.0b10 (core 3.2 on
surrealkv 0.21, an LSM tree) is a drop-in for the SDK's extension class. Each engine gets a
fresh ``surrealkv://`` file of N schemaless rows (about 300 bytes each) with two indexes, built
in batches, then each open is timed in a fresh process (wall and CPU time: the machine may be
shared), with a first query. The second engine is measured only where the package is
installed, which the app does not need (core 3 changes SurrealQL): a scratch virtualenv with
``surrealdb==2.0.0 surrealdb-embedded==3.0.0b10`` runs this script as it is. A JSON line last.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

WORK = r"""
import json, sys, time
import surrealdb.connections.blocking_embedded as embedded
if sys.argv[1] == "core 3.2":
    import surrealdb_embedded
    embedded.SyncEmbeddedDB = surrealdb_embedded.SyncEmbeddedDB
from surrealdb import Surreal
path, rows = sys.argv[2], int(sys.argv[3])
began, cpu = time.perf_counter(), time.process_time()
db = Surreal("surrealkv://" + path)
db.connect()
db.use("bench", "bench")
db.query("RETURN 1")
opened, opened_cpu = time.perf_counter() - began, time.process_time() - cpu
if rows:
    db.query("DEFINE TABLE person SCHEMALESS; DEFINE INDEX person_name ON person FIELDS name;"
             "DEFINE INDEX person_city ON person FIELDS city")
    for start in range(0, rows, 1000):
        batch = [{"id": f"p{n}", "name": f"Dancer {n}", "city": f"city{n % 5000}",
                  "bio": "I dance every week. " * 5, "styles": ["salsa", "bachata"], "n": n}
                 for n in range(start, min(rows, start + 1000))]
        db.query("INSERT INTO person $rows RETURN NONE", {"rows": batch})
db.close()
print(json.dumps({"open_s": opened, "open_cpu_s": opened_cpu}))
"""


def engines() -> list[str]:
    """The engines this environment has: the SDK's own, and core 3.2 where its package is
    installed (looked up, not imported: the measurements run in fresh processes)."""
    found = ["core 2.3"]
    if importlib.util.find_spec("surrealdb_embedded") is not None:
        found.append("core 3.2")
    return found


def run(engine: str, path: Path, rows: int = 0) -> dict:
    done = subprocess.run([sys.executable, "-c", WORK, engine, str(path), str(rows)],
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def folder_mb(path: Path) -> float:
    return round(sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1e6, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="idance-engine-open-"))
    results = {"rows": args.rows}
    try:
        for engine in engines():
            path = work / engine.replace(" ", "-")
            empty = run(engine, path, args.rows)  # builds it
            opens = [run(engine, path) for _ in range(args.runs)]
            results[engine] = {
                "empty_open_s": round(empty["open_s"], 3), "mb": folder_mb(path),
                "open_s": round(statistics.median(o["open_s"] for o in opens), 3),
                "open_cpu_s": round(statistics.median(o["open_cpu_s"] for o in opens), 3)}
            print(f"{engine}: {args.rows} rows, {results[engine]['mb']} MB on disk; open "
                  f"{results[engine]['open_s']} s (CPU {results[engine]['open_cpu_s']} s), "
                  f"median of {args.runs}; empty {results[engine]['empty_open_s']} s", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(results))


if __name__ == "__main__":
    main()
