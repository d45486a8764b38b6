"""Benchmark: where the memory a long run gains goes — the Python heap, or the engine's.

Run from the project root: ``python bench/heap_growth.py [--requests N] [--threads T]
[--post-every K] [--phases read,write,read] [--value-cache N]``.

The demo community of ``bench/load.py`` in a temporary ``surrealkv://`` file, the app in this
process with its real-time hub running and a live stream open for each of four members, driven
through Flask's test client by T threads with ``bench/load.py``'s mix (half visitors, half
members). Each phase sends N requests: ``read`` never posts (the read-only mix), ``write``
posts a chat message one member request in K. A warm-up of N requests of the mixed workload
fills the caches first, then ``tracemalloc`` starts.

After each phase (``gc.collect()`` first) it prints the process's RSS, the RSS after
``malloc_trim(0)`` (glibc's free memory given back), the Python heap as ``tracemalloc``
traces it, and ``native``: the trimmed RSS less the traced heap and tracemalloc's own
bookkeeping (the engine's memory and the allocator's) — each per message written when the
phase wrote — then the source lines whose traced memory grew most and the object types whose
count grew most. At the end a fresh process opens the data file as it was after the warm-up
and as it is now: what the later one costs more is the stored data's share of memory (the
engine rebuilds its index of the stored keys when it opens a file), which a restart keeps.
``--value-cache N`` sets ``IDANCE_DB_VALUE_CACHE``, the values the engine keeps in memory
(docs/architecture.md, "Memory over a long run").

The process runs with the allocator settings ``idance serve`` gives gunicorn
(``MALLOC_ARENA_MAX=2``, read by glibc at start: the script starts itself again with it);
set ``MALLOC_ARENA_MAX`` to compare (16 is glibc's own limit on two cores).

The last line is one JSON object with each phase's figures.
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import json
import logging
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.load import SECRET, build, member_request, rss_mb, visitor_request  # noqa: E402
from idance_web import create_app  # noqa: E402
from idance_web.config import Config  # noqa: E402
from idance_web.realtime import start_hub  # noqa: E402
from idance_web.serve import ALLOCATOR_ENV, serve_env  # noqa: E402

STREAMS = 4  # members with a live stream open through the run

# What opening a data file costs a fresh process.
OPEN_RSS = """
import sys
from surrealdb import Surreal
def rss():
    return next(int(l.split()[1]) / 1024 for l in open("/proc/self/status")
                if l.startswith("VmRSS"))
before = rss()
conn = Surreal(sys.argv[1]); conn.connect(); conn.query_raw("RETURN 1")
print(rss() - before)
"""


def open_rss_mb(path: Path) -> float:
    """The RSS a fresh process gains by opening the data file at ``path``."""
    done = subprocess.run([sys.executable, "-c", OPEN_RSS, f"surrealkv://{path}"], check=True,
                          capture_output=True, text=True, timeout=600)
    return float(done.stdout.strip().splitlines()[-1])


def trimmed_rss_mb() -> float:
    """RSS after glibc returns the free memory it can (freed arenas' pages) to the system."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass
    return rss_mb(os.getpid())


def type_counts() -> Counter:
    return Counter(type(o).__qualname__ for o in gc.get_objects())


def drive(app, world, requests: int, threads: int, post_every: int, seed: int) -> dict:
    """Send ``requests`` requests of the mix from ``threads`` test clients; count what failed
    and the messages written."""
    left = iter(range(requests))
    lock = threading.Lock()
    tally = {"errors": 0, "messages": 0}
    people = world["members"] + [None] * len(world["members"])

    def run(n: int) -> None:
        rng = random.Random(seed * 1000 + n)
        clients = {}
        while True:
            with lock:
                if next(left, None) is None:
                    return
            me = rng.choice(people)
            if me not in clients:
                clients[me] = app.test_client()
                if me:
                    clients[me].set_cookie("session", world["cookies"][me][0])
            if me:
                _, method, path, body, headers = member_request(rng, world, me, post_every)
            else:
                _, method, path, body, headers = visitor_request(rng, world)
            response = clients[me].open(path, method=method, data=body, headers=headers)
            ok = response.status_code == 200 or (method == "POST" and response.status_code == 201)
            with lock:
                tally["errors"] += not ok
                tally["messages"] += response.status_code == 201
            response.close()

    workers = [threading.Thread(target=run, args=(n,)) for n in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return tally


def open_streams(app, world) -> list[threading.Thread]:
    """A live stream for each of the first members, drained in a thread of its own."""
    readers = []
    for key in world["members"][:STREAMS]:
        client = app.test_client()
        client.set_cookie("session", world["cookies"][key][0])
        response = client.get("/events", buffered=False)
        assert response.status_code == 200, response.status_code

        def drain(response=response):
            for _ in response.response:  # ends when the stream is closed (close_all)
                pass

        reader = threading.Thread(target=drain, daemon=True)
        reader.start()
        readers.append(reader)
    return readers


def measure() -> dict:
    """RSS, RSS after a trim, the traced Python heap, and the rest of the trimmed RSS once
    tracemalloc's own bookkeeping is taken out: native memory (the engine's, the allocator's)."""
    gc.collect()
    tracing = tracemalloc.is_tracing()
    traced = tracemalloc.get_traced_memory()[0] / 2**20 if tracing else 0.0
    tracer = tracemalloc.get_tracemalloc_memory() / 2**20 if tracing else 0.0
    rss, trimmed = rss_mb(os.getpid()), trimmed_rss_mb()
    return {"rss_mb": rss, "rss_trimmed_mb": trimmed, "traced_mb": traced,
            "native_mb": trimmed - traced - tracer}


def run_phases(app, world, phases: list[str], args) -> list[dict]:
    """Drive each phase; print and return what grew in it (traced from the first on)."""
    results = []
    tracemalloc.start(1)
    before, snap, types = measure(), tracemalloc.take_snapshot(), type_counts()
    skip = [tracemalloc.Filter(False, tracemalloc.__file__)]
    for n, phase in enumerate(phases, 1):
        began = time.perf_counter()
        tally = drive(app, world, args.requests, args.threads,
                      args.post_every if phase == "write" else 0, seed=n)
        spent = time.perf_counter() - began
        after = measure()
        later, later_types = tracemalloc.take_snapshot(), type_counts()
        grown = {k: round(after[k] - before[k], 2) for k in after}
        per = ({k: round(v * 1024 / tally["messages"], 2) for k, v in grown.items()}
               if tally["messages"] else None)
        print(f"\nphase {n} ({phase}): {args.requests} requests in {spent:.0f} s, "
              f"{tally['messages']} messages, {tally['errors']} errors")
        print("  grew (MB): " + ", ".join(f"{k} {v:+.2f}" for k, v in grown.items())
              + f"; now RSS {after['rss_mb']:.0f} MB, traced {after['traced_mb']:.1f} MB")
        if per:
            print("  per message (kB): " + ", ".join(f"{k} {v:+.2f}" for k, v in per.items()))
        stats = later.filter_traces(skip).compare_to(snap.filter_traces(skip), "lineno")
        for stat in stats[:args.top]:
            frame = stat.traceback[0]
            print(f"  {stat.size_diff / 1024:+9.1f} kB {stat.count_diff:+7d} blocks  "
                  f"{os.path.relpath(frame.filename, ROOT)}:{frame.lineno}")
        grown_types = (later_types - types).most_common(args.top)
        print("  object types grown: " + (", ".join(f"{t} +{c}" for t, c in grown_types)
                                          or "none"))
        results.append({"phase": phase, "requests": args.requests,
                        "messages": tally["messages"], "errors": tally["errors"],
                        "grew_mb": grown, "per_message_kb": per})
        before, snap, types = after, later, later_types
    tracemalloc.stop()
    return results


def main() -> None:
    if any(name not in os.environ for name in ALLOCATOR_ENV):  # glibc reads them at start
        os.execve(sys.executable, [sys.executable, *sys.argv], serve_env(os.environ))
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=2000, help="per phase (default 2000)")
    parser.add_argument("--threads", type=int, default=4, help="client threads (default 4)")
    parser.add_argument("--post-every", type=int, default=8, metavar="K",
                        help="in a write phase a member posts one request in K (default 8)")
    parser.add_argument("--phases", default="read,write,read",
                        help="read / write phases in order (default read,write,read)")
    parser.add_argument("--value-cache", type=int, default=Config.db_value_cache, metavar="N",
                        help="values the engine keeps in memory (IDANCE_DB_VALUE_CACHE, "
                             f"default {Config.db_value_cache})")
    parser.add_argument("--top", type=int, default=8, help="lines and types shown per phase")
    args = parser.parse_args()
    phases = [p.strip() for p in args.phases.split(",") if p.strip()]
    if not phases or set(phases) - {"read", "write"} or args.post_every < 1:
        parser.error("--phases lists read and write; --post-every is 1 or more")

    tmp = Path(tempfile.mkdtemp(prefix="idance-bench-heap-"))
    config = Config(env="development", db_url=f"surrealkv://{tmp / 'idance.db'}",
                    secret_key=SECRET, media_root=str(tmp / "media"), auto_migrate=False,
                    rate_limits=False, db_value_cache=args.value_cache)
    results = []
    app = None
    try:
        app = create_app(config)
        logging.getLogger("idance.request").setLevel(logging.WARNING)  # a line per request
        world = build(app, config)
        start_hub(app)
        readers = open_streams(app, world)
        began = time.perf_counter()
        warm = drive(app, world, args.requests, args.threads, args.post_every, seed=0)
        print(f"warm-up: {args.requests} requests in {time.perf_counter() - began:.0f} s, "
              f"{warm['messages']} messages, {warm['errors']} errors")
        db = app.extensions["idance.db"]
        db.close()  # a copy of the file as it is now; the next block opens it again
        shutil.copytree(tmp / "idance.db", tmp / "after-warm-up.db")
        drive(app, world, 50, args.threads, args.post_every, seed=99)  # the reopened engine
        results = run_phases(app, world, phases, args)
        written = sum(r["messages"] for r in results)
        app.extensions["idance.live"].close_all()
        for reader in readers:
            reader.join(5)
        app.extensions["idance.worker"].stop()
        app.extensions["idance.hub"].stop()
        db.close()
        opened = (open_rss_mb(tmp / "after-warm-up.db"), open_rss_mb(tmp / "idance.db"))
        per = f", {(opened[1] - opened[0]) * 1024 / written:+.2f} kB a message" if written else ""
        print(f"\nopening the data file in a fresh process: {opened[0]:.1f} MB as it was after "
              f"the warm-up, {opened[1]:.1f} MB after the phases ({written} messages{per})")
        results.append({"reopen_mb": [round(v, 1) for v in opened], "messages": written})
    finally:
        if app is not None:
            app.extensions["idance.worker"].stop()  # before the file goes: it would reopen it
            app.extensions["idance.hub"].stop()
            app.extensions["idance.db"].close()
        shutil.rmtree(tmp, ignore_errors=True)
    print(json.dumps({"value_cache": args.value_cache, "phases": results}))


if __name__ == "__main__":
    main()
