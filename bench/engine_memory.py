"""Benchmark: what the embedded engine keeps in memory as writes go on, without the app.

Run from the project root: ``python bench/engine_memory.py [--writes N] [--every K]``.

1. One 200-byte row updated N times (300,000 by default) on a fresh ``surrealkv://`` file, in
   a fresh process per case: the engine's own value-cache bound (the variable unset), the
   app's bound (``IDANCE_DB_VALUE_CACHE``'s default), and a small one. The data stays one row,
   so RSS that grows with the writes is kept per write, not per stored value. RSS is read
   after ``malloc_trim(0)`` every K writes.
2. Created rows, with and without a change feed: what each costs in memory while writing, and
   what opening the file costs a fresh process afterwards (the engine's index of the stored
   keys, rebuilt at start: the data's share, which a restart keeps).
3. Change-feed retention: a table with ``CHANGEFEED 1s`` written 100 times, the file opened
   again, 15 s of waiting and one more write: how many of its entries the feed still holds.

Commits are not flushed (``SURREAL_SYNC_DATA=false``): the figures are memory, not speed.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from idance_web.config import Config  # noqa: E402

CASE = r"""
import ctypes, json, os, sys, time
from surrealdb import Surreal

def rss():
    ctypes.CDLL("libc.so.6").malloc_trim(0)
    return next(int(l.split()[1]) / 1024 for l in open("/proc/self/status")
                if l.startswith("VmRSS"))

kind, url, writes, every = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
body = "y" * 200
if kind == "open":
    before = rss()
    conn = Surreal(url); conn.connect(); conn.query_raw("RETURN 1")
    print(json.dumps({"open_mb": rss() - before}))
    sys.exit()
conn = Surreal(url); conn.connect(); conn.use("bench", "bench")
if kind == "retention":
    conn.query_raw("DEFINE TABLE t SCHEMALESS CHANGEFEED 1s; CREATE t:one SET n = 0")
    for i in range(100):
        conn.query_raw("UPDATE t:one SET n = $i", {"i": i})
    conn.close()
    time.sleep(2)
    conn = Surreal(url); conn.connect(); conn.use("bench", "bench")
    time.sleep(15)
    conn.query_raw("UPDATE t:one SET n = -1")
    held = conn.query_raw("SHOW CHANGES FOR TABLE t SINCE 0 LIMIT 1000")["result"][0]["result"]
    print(json.dumps({"written": 102, "held": len(held)}))
    sys.exit()
feed = " CHANGEFEED 3d" if kind.endswith("-feed") else ""
conn.query_raw(f"DEFINE TABLE t SCHEMALESS{feed}; CREATE t:one SET body = 'x'")
statement = ("CREATE t SET body = $b, n = $i" if kind.startswith("create")
             else "UPDATE t:one SET body = $b, n = $i")
start, points = rss(), []
for i in range(1, writes + 1):
    conn.query_raw(statement, {"b": body, "i": i})
    if i % every == 0:
        points.append([i, round(rss() - start, 1)])
conn.close()
print(json.dumps({"points": points}))
"""


def run(kind: str, url: str, writes: int, every: int, cache: int | None) -> dict:
    env = {**os.environ, "SURREAL_SYNC_DATA": "false"}
    env.pop("SURREAL_SURREALKV_MAX_VALUE_CACHE_SIZE", None)
    if cache is not None:
        env["SURREAL_SURREALKV_MAX_VALUE_CACHE_SIZE"] = str(cache)
    done = subprocess.run([sys.executable, "-c", CASE, kind, url, str(writes), str(every)],
                          env=env, check=True, capture_output=True, text=True, timeout=3600)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--writes", type=int, default=300_000, help="updates (default 300000)")
    parser.add_argument("--every", type=int, default=50_000, help="RSS every K writes")
    parser.add_argument("--creates", type=int, default=60_000, help="rows created (60000)")
    args = parser.parse_args()
    results = {}
    with tempfile.TemporaryDirectory(prefix="idance-bench-engine-") as tmp:
        print(f"1. one row updated {args.writes} times: RSS growth (MB) every {args.every}")
        for label, cache in (("engine's own bound", None),
                             (f"IDANCE_DB_VALUE_CACHE={Config.db_value_cache}",
                              Config.db_value_cache), ("1,000 values", 1000)):
            url = f"surrealkv://{tmp}/update-{cache}.db"
            points = run("update", url, args.writes, args.every, cache)["points"]
            last = points[-1][1]
            print(f"   {label:32} " + ", ".join(f"{n // 1000}k: +{mb}" for n, mb in points)
                  + f"  ({last * 2**20 / args.writes:.0f} B a write over the run)")
            results[f"update cache={cache}"] = points
        print(f"2. {args.creates} rows created (the app's bound): while writing, and opening "
              "the file in a fresh process afterwards")
        empty = f"surrealkv://{tmp}/empty.db"
        run("create", empty, 1, 1, Config.db_value_cache)
        base = run("open", empty, 0, 1, None)["open_mb"]
        for kind in ("create", "create-feed"):
            url = f"surrealkv://{tmp}/{kind}.db"
            grew = run(kind, url, args.creates, args.creates, Config.db_value_cache)["points"]
            opened = run("open", url, 0, 1, None)["open_mb"] - base
            label = "with a change feed" if kind.endswith("feed") else "without a change feed"
            print(f"   {label:24} +{grew[-1][1]} MB while writing "
                  f"({grew[-1][1] * 2**20 / args.creates:.0f} B a row); opening it: "
                  f"+{opened:.1f} MB more than an empty file "
                  f"({opened * 2**20 / args.creates:.0f} B a row)")
            results[kind] = {"writing_mb": grew[-1][1], "open_mb": round(opened, 1)}
        held = run("retention", f"surrealkv://{tmp}/retention.db", 0, 1, None)
        print(f"3. CHANGEFEED 1s, 102 writes, reopened, 15 s later: {held['held']} of "
              f"{held['written']} entries still held")
        results["retention"] = held
    print(json.dumps(results))


if __name__ == "__main__":
    main()
