"""What syncing every commit to disk costs: write latency on the embedded ``surrealkv://``
engine with ``SURREAL_SYNC_DATA`` off (the engine's default: each commit is written to the
log with ``write(2)``, no fsync) and on (``fsync`` before the commit returns; the app's
default, ``IDANCE_DB_SYNC=true``).

Each mode runs in a fresh process (the engine reads the variable once per process), on a
temporary data file beside the work tree (``--dir`` to choose the disk), alternating the
modes for ``--rounds`` rounds. Writes are the app's kind: a small ``CREATE`` of one record
(a sign-up writes ~5 rows and runs events; a profile save one ``UPDATE``) and a transaction
of five. Prints median and p99 per mode and the ratio against sync off, measured in the
same run.

    python bench/durability.py [--writes 400] [--rounds 3] [--dir /var/lib/idance]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

_CHILD = r"""
import json, sys, time
from surrealdb import Surreal
url, writes = sys.argv[1], int(sys.argv[2])
c = Surreal(url); c.connect(); c.use("bench", "bench")
c.query_raw("DEFINE TABLE IF NOT EXISTS w SCHEMALESS", {})
one, five = [], []
for i in range(writes):
    t = time.perf_counter()
    c.query_raw("CREATE w SET n = $n, text = 'a profile save of some length', at = time::now()",
                {"n": i})
    one.append((time.perf_counter() - t) * 1000)
    t = time.perf_counter()
    c.query_raw("BEGIN; FOR $k IN 0..5 { CREATE w SET n = $n, k = $k }; COMMIT;", {"n": i})
    five.append((time.perf_counter() - t) * 1000)
c.close()
print(json.dumps({"one": one, "five": five}))
"""


def run(sync: bool, writes: int, folder: str) -> dict:
    with tempfile.TemporaryDirectory(dir=folder, prefix="idance-durability-") as tmp:
        env = dict(os.environ, SURREAL_SYNC_DATA="true" if sync else "false")
        out = subprocess.run([sys.executable, "-c", _CHILD, f"surrealkv://{tmp}/db", str(writes)],
                             env=env, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--writes", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--dir", default=os.path.join(os.path.dirname(__file__), "..", "instance"))
    args = parser.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    samples = {False: {"one": [], "five": []}, True: {"one": [], "five": []}}
    started = time.time()
    for _ in range(args.rounds):
        for sync in (False, True):
            result = run(sync, args.writes, args.dir)
            for kind in ("one", "five"):
                samples[sync][kind] += result[kind]
    print(f"{args.rounds} rounds × {args.writes} writes per mode, on {os.path.abspath(args.dir)}"
          f" ({time.time() - started:.0f} s)")
    figures = {}
    for kind, label in (("one", "one CREATE"), ("five", "a transaction of 5 CREATEs")):
        base = statistics.median(samples[False][kind])
        for sync in (False, True):
            values = samples[sync][kind]
            med, p99 = statistics.median(values), pct(values, 0.99)
            figures[f"{kind}_{'sync' if sync else 'nosync'}"] = {"p50_ms": round(med, 3),
                                                                  "p99_ms": round(p99, 3)}
            print(f"{label:28} sync {'on ' if sync else 'off'}: p50 {med:7.3f} ms  "
                  f"p99 {p99:7.3f} ms  ({med / base:.2f}× sync off)")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
