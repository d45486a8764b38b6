"""Benchmark: a public dancer site and the everyday pages served by gunicorn, next to a static
file of the same size.

Run from the project root: ``python bench/public_site.py [--quick] [--seconds S] [--clients N]``.

It builds a temporary ``surrealkv://`` database (migrations, small lookup data, one member with
a published 12-block site, live blocks included), writes a static file of the page's size into
the app's static folder under a temporary name, and serves the app with gunicorn (gthread,
1 worker, 16 threads) on 127.0.0.1. Concurrent keep-alive clients then load (a) the static file,
(b) the cached page, (c) the group directory ``/groups`` and a group's page, and (d) her own
``/me`` and ``/me/profile``, signed in over HTTP like a browser, each for a fixed time; the
worker runs its real-time hub, as served (``gunicorn.conf.py``). The uncached page cannot be reached over HTTP
(the app has no cache-busting path or switch), so (c) is the server time of a cache miss,
measured in-process with Flask's test client on a fresh app, the cache cleared before each
request; so are ``/me`` and ``/me/profile`` with their parts kept by the member cache and with
that cache emptied before each request (everything read and rendered again). Everything is
removed afterwards and gunicorn is stopped in a ``finally``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from surrealdb import RecordID  # noqa: E402

from idance_web import create_app  # noqa: E402
from idance_web.blocks import validate  # noqa: E402
from idance_web.config import Config  # noqa: E402
from idance_web.migrate import Runner  # noqa: E402
from idance_web.services import groups, sites  # noqa: E402
from tests.lookup_fixture import load_small_lookup  # noqa: E402

USERNAME = "bench-dancer"
EMAIL, PASSWORD = "bench@example.com", "bench-password-1"
GROUP = "salsa-kreuzberg"
HERO = "Dance salsa with Bea"
BLOCKS = [  # 12 blocks, three of them live (styles, vlogs) or date-filtered (schedule)
    ("hero", {"title": HERO, "subtitle": "Salsa and bachata classes in Berlin, every level",
              "cta_label": "See my classes", "cta_url": "https://example.com/book"}),
    ("text", {"title": "About Bea", "body": "I have taught **salsa** in Berlin for ten years. "
              "Classes are about connection first: posture, listening and a lot of laughing."
              "\n\n- technique for a crowded floor\n- musicality drills\n- a practice hour"}),
    ("styles", {"title": "What I dance"}),
    ("schedule", {"title": "Weekly classes", "items": [
        {"title": "Salsa beginners", "style": "Salsa", "level": "beginner",
         "weekday": "monday", "time": "19:00", "place": "Tanzhaus Kreuzberg"},
        {"title": "Salsa intermediate", "style": "Salsa", "level": "intermediate",
         "weekday": "wednesday", "time": "20:00", "place": "Tanzhaus Kreuzberg"},
        {"title": "Bachata open level", "style": "Bachata", "level": "all levels",
         "weekday": "thursday", "time": "19:30", "place": "Studio Wedding"},
        {"title": "Weekend workshop: musicality", "style": "Salsa", "level": "all levels",
         "date": (dt.date.today() + dt.timedelta(days=30)).isoformat(), "time": "14:00",
         "place": "Halle am Kanal"}]}),
    ("vlogs", {"title": "From my vlog", "count": "3"}),
    ("pricing", {"title": "Prices", "items": [
        {"name": "Drop-in", "price": "€15", "description": "Pay at the door."},
        {"name": "10-class card", "price": "€120", "description": "Valid for 4 months."},
        {"name": "Private lesson", "price": "€60", "description": "60 minutes."}]}),
    ("quote", {"text": "Bea explains every step so it finally makes sense.",
               "author": "Jana, student"}),
    ("video", {"title": "Latest practice", "url": "https://www.youtube.com/watch?v=demoSalsa01"}),
    ("links", {"title": "Elsewhere", "items": [
        {"label": "My playlist", "url": "https://example.com/bea/playlist"},
        {"label": "Festival photos", "url": "https://example.com/bea/photos"}]}),
    ("map", {"title": "Where", "note": "Most evenings at Tanzhaus Kreuzberg."}),
    ("cta", {"label": "Book a trial class", "url": "https://example.com/book",
             "note": "The first class is free."}),
    ("contact", {"title": "Get in touch", "intro": "Questions about classes? Write to me."}),
]


def bench_config(tmp: Path) -> Config:
    return Config(env="development", db_url=f"surrealkv://{tmp / 'idance.db'}",
                  media_root=str(tmp / "media"), auto_migrate=False, rate_limits=False,
                  follow_changes=False)  # in-process apps here serve no one: no hub thread


def build(app) -> None:
    """Migrations, small lookup, one member with styles, vlogs and a published 12-block site."""
    db = app.extensions["idance.db"]
    Runner(db, lookup=lambda s, log: load_small_lookup(s)).run(log=lambda m: None)
    with db.system() as s:
        s.query(
            """LET $city = (SELECT * FROM city WHERE name_key = 'berlin'
                   ORDER BY population DESC LIMIT 1)[0];
               CREATE user:bench SET email = $email, username = $name,
                   display_name = 'Bea Moreau', password = crypto::argon2::generate($password);
               CREATE profile:bench SET owner = user:bench, bio = 'Salsa teacher in Berlin.',
                   city = $city.id, location = $city.vector, discoverable = true;
               RELATE user:bench->user_dance_style->dance_style:salsa
                   SET level = 'professional', role = 'both';
               RELATE user:bench->user_dance_style->dance_style:bachata
                   SET level = 'advanced', role = 'lead';
               FOR $i IN 1..5 {
                   CREATE vlog SET owner = user:bench, author = user:bench,
                       title = 'Practice diary ' + <string> $i, visibility = 'public',
                       published_at = time::now() - duration::from::days($i);
               };""",
            {"name": USERNAME, "email": EMAIL, "password": PASSWORD},
        )
    site = sites.create_site(db, "bench", RecordID("user", "bench"))
    sites.update_settings(db, "bench", site, "ocean", "classic",
                          {"title": "Bea Moreau: salsa in Berlin", "description": "Classes"})
    for kind, data in BLOCKS:
        sites.add_block(db, "bench", site["id"], "home", kind, validate(kind, data))
    sites.publish_site(db, "bench", site["id"])
    groups.create_group(db, "bench", groups.GroupInput(
        kind="studio", slug=GROUP, name="Salsa Kreuzberg", styles=["salsa", "bachata"],
        description="Salsa and bachata every evening of the week.", join_mode="open"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(conn: http.client.HTTPConnection, path: str, cookie: str = "") -> tuple[int, int]:
    headers = {"Accept-Encoding": "identity"}
    if cookie:
        headers["Cookie"] = cookie
    conn.request("GET", path, headers=headers)
    response = conn.getresponse()
    body = response.read()
    return response.status, len(body)


def wait_ready(port: int, proc: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"gunicorn exited with {proc.returncode}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            status, _ = get(conn, "/healthz")
            conn.close()
            if status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit("gunicorn did not become ready")


def sign_in(port: int, email: str = EMAIL, password: str = PASSWORD) -> str:
    """Sign in through the login form as a browser does; the session cookie."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", "/login")
        response = conn.getresponse()
        page = response.read().decode()
        cookie = response.getheader("Set-Cookie", "").split(";", 1)[0]
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
        body = urllib.parse.urlencode(
            {"csrf_token": token, "email": email, "password": password})
        conn.request("POST", "/login", body=body, headers={
            "Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie})
        response = conn.getresponse()
        response.read()
        if response.status != 302:
            raise SystemExit(f"signing in answered {response.status}")
        return response.getheader("Set-Cookie", "").split(";", 1)[0] or cookie
    finally:
        conn.close()


def load(port: int, path: str, clients: int, seconds: float, max_each: int = 200_000,
         cookie: str = "") -> dict:
    """``clients`` threads, each on one keep-alive connection, for ``seconds`` (or ``max_each``)."""
    latencies: list[list[float]] = [[] for _ in range(clients)]
    errors = [0] * clients
    sizes: set[int] = set()
    start_gate = threading.Barrier(clients + 1)

    def client(n: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        start_gate.wait()
        stop = time.monotonic() + seconds
        mine = latencies[n]
        try:
            while time.monotonic() < stop and len(mine) < max_each:
                t = time.perf_counter()
                try:
                    status, size = get(conn, path, cookie)
                except (OSError, http.client.HTTPException):
                    errors[n] += 1
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                    continue
                mine.append(time.perf_counter() - t)
                if status != 200:
                    errors[n] += 1
                sizes.add(size)
        finally:
            conn.close()

    threads = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(clients)]
    for t in threads:
        t.start()
    start_gate.wait()
    began = time.perf_counter()
    for t in threads:
        t.join(seconds + 30)
    elapsed = time.perf_counter() - began
    every = sorted(x for mine in latencies for x in mine)
    return {"n": len(every), "rps": len(every) / elapsed, "p50": pct(every, 50) * 1000,
            "p99": pct(every, 99) * 1000, "errors": sum(errors), "bytes": max(sizes or {0})}


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))]


def uncached(config: Config, path: str, runs: int) -> dict:
    """Server time of a cache miss (and of a hit) in-process: Flask test client, fresh app."""
    app = create_app(config)
    db = app.extensions["idance.db"]
    cache = app.extensions["idance.public_cache"]
    client = app.test_client()
    try:
        for _ in range(5):  # warm-up: templates compiled, follower caught up
            cache.pages.clear()
            assert client.get(path).status_code == 200
        miss, queries = [], []
        for _ in range(runs):
            cache.pages.clear()
            before = db.query_count
            t = time.perf_counter()
            response = client.get(path)
            miss.append(time.perf_counter() - t)
            queries.append(db.query_count - before)
            assert response.status_code == 200 and HERO.encode() in response.data
        hit = []
        for _ in range(runs):
            t = time.perf_counter()
            client.get(path)
            hit.append(time.perf_counter() - t)
    finally:
        app.extensions["idance.worker"].stop()  # it would open the file again after close
        db.close()
    miss.sort()
    hit.sort()
    return {"miss_p50": pct(miss, 50) * 1000, "miss_p99": pct(miss, 99) * 1000,
            "hit_p50": pct(hit, 50) * 1000, "queries": statistics.median(queries), "n": runs}


def start_gunicorn(config: Config, cwd: Path, port: int) -> subprocess.Popen:
    """gunicorn as served (``gunicorn.conf.py``; gthread, 1 worker × 16 threads) on the data
    of ``config``, on 127.0.0.1:``port``, ready to answer."""
    env = {**os.environ, "IDANCE_ENV": "development",
           "IDANCE_DB_URL": config.db_url, "IDANCE_AUTO_MIGRATE": "false",
           "IDANCE_RATE_LIMITS": "false", "IDANCE_MEDIA_ROOT": config.media_root,
           "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"),
         "-k", "gthread", "-w", "1", "--threads", "16",
         "-b", f"127.0.0.1:{port}", "--log-level", "warning", "idance_web:create_app()"],
        cwd=cwd, env=env, start_new_session=True)
    try:
        wait_ready(port, proc)
    except BaseException:
        proc.kill()
        proc.wait(timeout=10)
        raise
    return proc


@contextmanager
def serving(config: Config, tmp: Path, body: bytes) -> Iterator[tuple[int, str]]:
    """``body`` as a static file and gunicorn serving the app on ``config``'s data: yields
    (port, the file's path); gunicorn is stopped and the file removed afterwards."""
    static_file = ROOT / "static" / f"bench-{secrets.token_hex(6)}.html"
    static_file.write_bytes(body)  # the same bytes, served as a file
    proc: subprocess.Popen | None = None
    try:
        port = free_port()
        proc = start_gunicorn(config, tmp, port)
        yield port, f"/static/{static_file.name}"
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=15)
    finally:
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
        static_file.unlink(missing_ok=True)


def run_cases(port: int, cases, clients: int, seconds: float) -> dict:
    """``{name: load(...)}`` for each ``(name, path, cookie)``, one after another, each after a
    short warm-up."""
    results = {}
    for name, path, cookie in cases:
        load(port, path, clients, min(1.0, seconds), cookie=cookie)
        results[name] = load(port, path, clients, seconds, cookie=cookie)
    return results


def print_table(results: dict, clients: int, seconds: float, baselines=("static file",)) -> None:
    """The cases' figures, then each one's throughput as a share of each baseline's."""
    print(f"\n{clients} keep-alive clients x {seconds:g} s each, gunicorn gthread "
          f"1 worker x 16 threads, {os.cpu_count()} cores (clients share them)")
    width = max(14, max(len(name) for name in results) + 2)
    print(f"{'case':<{width}}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'requests':>10}"
          f"{'errors':>8}{'bytes':>8}")
    for name, r in results.items():
        print(f"{name:<{width}}{r['rps']:>9.0f}{r['p50']:>9.2f}{r['p99']:>9.2f}{r['n']:>10}"
              f"{r['errors']:>8}{r['bytes']:>8}")
    for name, r in results.items():
        if name == baselines[0]:
            continue
        shares = "; ".join(f"{r['rps'] / results[b]['rps']:.2f}x {b}'s throughput"
                           for b in baselines)
        print(f"{name}: {shares}, p50 {r['p50'] / results[baselines[0]]['p50']:.2f}x")


def member_pages(config: Config, runs: int) -> dict:
    """Server time of ``/me`` and ``/me/profile`` in-process, signed in, with the hub running:
    kept parts (a hit of the member cache) and everything read and rendered again (the cache
    emptied before each request), with the queries each sends."""
    app = create_app(config)
    db = app.extensions["idance.db"]
    cache = app.extensions["idance.member_cache"]
    hub = app.extensions["idance.hub"]
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    assert client.post("/login", data={"csrf_token": token, "email": EMAIL,
                                       "password": PASSWORD}).status_code == 302
    hub.start()
    found = {}
    try:
        for path in ("/me", "/me/profile"):
            for _ in range(5):
                assert client.get(path).status_code == 200
            for case, empty in (("miss", True), ("hit", False)):
                times, queries = [], []
                for _ in range(runs):
                    if empty:
                        cache.clear()
                    before = db.query_count
                    t = time.perf_counter()
                    assert client.get(path).status_code == 200
                    times.append(time.perf_counter() - t)
                    queries.append(db.query_count - before)
                times.sort()
                found[(path, case)] = (pct(times, 50) * 1000, statistics.median(queries))
    finally:
        hub.stop()
        app.extensions["idance.worker"].stop()
        db.close()
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a short run (about 15 s)")
    parser.add_argument("--seconds", type=float, help="load time per case (default 12, quick 3)")
    parser.add_argument("--clients", type=int, default=16)
    args = parser.parse_args()
    seconds = args.seconds or (3.0 if args.quick else 12.0)
    runs = 60 if args.quick else 300
    began = time.perf_counter()

    tmp = Path(tempfile.mkdtemp(prefix="idance-bench-"))
    config = bench_config(tmp)
    page = f"/@{USERNAME}"
    try:
        app = create_app(config)
        build(app)
        body = app.test_client().get(page).data
        # One process owns the data file: gunicorn next (the request above started the app's
        # in-process job worker, which holds it too).
        app.extensions["idance.worker"].stop()
        app.extensions["idance.db"].close()
        print(f"page {page}: {len(body)} bytes, 12 blocks")
        with serving(config, tmp, body) as (port, static):
            cookie = sign_in(port)
            results = run_cases(port, (("static file", static, ""),
                                       ("cached page", page, ""),
                                       ("/groups", "/groups", ""),
                                       ("group page", f"/groups/{GROUP}", ""),
                                       ("/me", "/me", cookie),
                                       ("/me/profile", "/me/profile", cookie)),
                                args.clients, seconds)
        miss = uncached(config, page, runs)
        mine = member_pages(config, runs)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    print_table(results, args.clients, seconds)
    print(f"uncached page, in-process server time over {miss['n']} misses: "
          f"p50 {miss['miss_p50']:.2f} ms, p99 {miss['miss_p99']:.2f} ms, "
          f"{miss['queries']:g} queries per miss (a hit: p50 {miss['hit_p50']:.2f} ms)")
    for (path, case), (p50, queries) in mine.items():
        print(f"{path} in-process, {'kept parts' if case == 'hit' else 'all read again'}: "
              f"p50 {p50:.2f} ms, {queries:g} queries")
    print(f"total {time.perf_counter() - began:.1f} s")


if __name__ == "__main__":
    main()
