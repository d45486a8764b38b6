"""Benchmark: her home (``/`` signed in) on the demo community, served by gunicorn, next to a
static file of the same size and to the pages it sums up.

Run from the project root: ``python bench/home.py [--quick] [--seconds S] [--clients N]``.

It builds the demo community (migrations with the small lookup data, then ``load_demo``) in a
temporary ``surrealkv://`` database and serves the app with gunicorn (gthread, 1 worker,
16 threads, as ``bench/public_site.py`` does) on 127.0.0.1. The documented demo dancer signs in
through the login form; she has matches, unread chats, unread notifications, vlogs in her feed
and dancers near her, so every section of her home is read. Concurrent keep-alive clients then
load, each for a fixed time and in one run: (a) a static file of the home's size, (b) ``/`` as a
visitor (the landing page), (c) ``/`` as her (her home), (d) ``/me``, (e) ``/notifications`` and
(f) ``/chat`` as her. Then, in-process (Flask's test client on the same data), the server time
of her home and of ``/me`` with the queries each sends. Everything is removed afterwards and
gunicorn is stopped in a ``finally``. The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.public_site import (bench_config, pct, print_table, run_cases,  # noqa: E402
                               serving, sign_in)
from idance_web import create_app  # noqa: E402
from idance_web.config import Config  # noqa: E402
from idance_web.demo import DEMO_PASSWORD, load_demo  # noqa: E402
from idance_web.migrate import Runner  # noqa: E402
from tests.fixtures.auth import AuthActions  # noqa: E402
from tests.lookup_fixture import load_small_lookup  # noqa: E402

EMAIL = "ana-dubois@demo.idance.example"
GREETING = b"Hello, Ana Dubois"


def build(app, config: Config) -> None:
    """Migrations with the small lookup data, then the demo community."""
    db = app.extensions["idance.db"]
    Runner(db, lookup=lambda s, log: load_small_lookup(s)).run(log=lambda m: None)
    load_demo(db, config)


def in_process(config: Config, runs: int) -> dict:
    """Server time and queries of her home and of ``/me``, alternating, on a fresh app."""
    app = create_app(config)
    db = app.extensions["idance.db"]
    client = app.test_client()
    AuthActions(client).login(EMAIL, DEMO_PASSWORD)
    times: dict[str, list[float]] = {"/": [], "/me": []}
    queries: dict[str, int] = {}
    try:
        for path in times:  # warm-up: templates compiled, her session and token in place
            for _ in range(5):
                assert client.get(path).status_code == 200
        for _ in range(runs):
            for path, spent in times.items():
                before = db.query_count
                t = time.perf_counter()
                response = client.get(path)
                spent.append(time.perf_counter() - t)
                queries[path] = db.query_count - before
                assert response.status_code == 200
        assert GREETING in client.get("/").data
    finally:
        app.extensions["idance.worker"].stop()  # the first request started it
        db.close()
    out = {}
    for path, spent in times.items():
        spent.sort()
        out[path] = {"p50": pct(spent, 50) * 1000, "p99": pct(spent, 99) * 1000,
                     "queries": queries[path]}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a short run")
    parser.add_argument("--seconds", type=float, help="load time per case (default 8, quick 2)")
    parser.add_argument("--clients", type=int, default=16)
    args = parser.parse_args()
    seconds = args.seconds or (2.0 if args.quick else 8.0)
    runs = 30 if args.quick else 150
    began = time.perf_counter()

    tmp = Path(tempfile.mkdtemp(prefix="idance-bench-home-"))
    config = bench_config(tmp)
    try:
        app = create_app(config)
        build(app, config)
        client = app.test_client()
        AuthActions(client).login(EMAIL, DEMO_PASSWORD)
        body = client.get("/").data
        assert GREETING in body
        # One process owns the data file: gunicorn next (the requests above started the app's
        # in-process job worker, which holds it too).
        app.extensions["idance.worker"].stop()
        app.extensions["idance.db"].close()
        print(f"her home: {len(body)} bytes; demo built in {time.perf_counter() - began:.1f} s")
        with serving(config, tmp, body) as (port, static):
            cookie = sign_in(port, EMAIL, DEMO_PASSWORD)
            results = run_cases(port, (("static file", static, ""),
                                       ("landing", "/", ""),
                                       ("her home", "/", cookie),
                                       ("/me", "/me", cookie),
                                       ("/notifications", "/notifications", cookie),
                                       ("/chat", "/chat", cookie)),
                                args.clients, seconds)
        server = in_process(config, runs)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    print_table(results, args.clients, seconds, baselines=("static file", "/me"))
    static, me = results["static file"], results["/me"]
    for path, r in server.items():
        print(f"in-process {path}: p50 {r['p50']:.2f} ms, p99 {r['p99']:.2f} ms, "
              f"{r['queries']} queries")
    print(f"total {time.perf_counter() - began:.1f} s")
    home = results["her home"]
    print(json.dumps({
        "home_rps": round(home["rps"], 1), "home_p50_ms": round(home["p50"], 2),
        "home_p99_ms": round(home["p99"], 2), "home_errors": home["errors"],
        "home_vs_static": round(home["rps"] / static["rps"], 3),
        "home_vs_me": round(home["rps"] / me["rps"], 3),
        "landing_vs_static": round(results["landing"]["rps"] / static["rps"], 3),
        "home_server_p50_ms": round(server["/"]["p50"], 2),
        "home_queries": server["/"]["queries"],
        "me_server_p50_ms": round(server["/me"]["p50"], 2)}))


if __name__ == "__main__":
    main()
