"""Benchmark: does a sign-in stall other visitors? A cached public page, with and without two
clients signing in continuously.

Run from the project root: ``python bench/signin_load.py [--seconds S] [--rounds R]``.

It builds the published 12-block site of ``bench/public_site.py`` and a member with a password
in a temporary ``surrealkv://`` database, serves the app with gunicorn (gthread, 1 worker x 16
threads, the project's ``gunicorn.conf.py``, rate limits off) and loads the cached page with
``--clients`` keep-alive clients, alternately alone and while two more clients sign in without
pause (each sign-in: ``GET /login`` for a fresh cookie and CSRF token, then ``POST /login`` with
the right password). Rounds alternate so drift on a shared machine hits both cases alike. With
``--app-root DIR`` gunicorn serves another checkout of the app (to compare two versions on one
database; the schema must be the same).
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.public_site import (  # noqa: E402
    USERNAME, bench_config, build, free_port, load, pct, wait_ready)

from idance_web import create_app  # noqa: E402

EMAIL, PASSWORD = "signin-bench@example.com", "a long enough password"
TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def add_member(app) -> None:
    with app.extensions["idance.db"].system() as s:
        s.query("""CREATE user:signin SET email = $email, username = 'signin-bench',
                       display_name = 'Sign-in Bench', password = crypto::argon2::generate($pw),
                       has_password = true;
                   CREATE profile SET owner = user:signin;""", {"email": EMAIL, "pw": PASSWORD})


def sign_in_once(conn: http.client.HTTPConnection) -> float:
    """One full sign-in from a fresh browser; returns the POST's time in seconds."""
    conn.request("GET", "/login")
    response = conn.getresponse()
    body = response.read().decode()
    cookie = (response.getheader("Set-Cookie") or "").split(";", 1)[0]
    token = TOKEN.search(body).group(1)
    form = urlencode({"email": EMAIL, "password": PASSWORD, "csrf_token": token})
    start = time.perf_counter()
    conn.request("POST", "/login", body=form, headers={
        "Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie})
    response = conn.getresponse()
    response.read()
    if response.status != 302:
        raise RuntimeError(f"sign-in answered {response.status}")
    return time.perf_counter() - start


def signing_in(port: int, stop: threading.Event, times: list[float], errors: list) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        while not stop.is_set():
            try:
                times.append(sign_in_once(conn))
            except (OSError, http.client.HTTPException, RuntimeError) as exc:
                errors.append(exc)
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    finally:
        conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="load time per case")
    parser.add_argument("--rounds", type=int, default=3, help="alone/with pairs")
    parser.add_argument("--clients", type=int, default=16, help="page clients")
    parser.add_argument("--signers", type=int, default=2, help="clients signing in")
    parser.add_argument("--app-root", type=Path, default=ROOT, help="the checkout to serve")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="idance-bench-signin-"))
    config = bench_config(tmp)
    page = f"/@{USERNAME}"
    proc: subprocess.Popen | None = None
    cases: dict[str, list[dict]] = {"alone": [], "with sign-ins": []}
    signin_times: list[float] = []
    errors: list = []
    try:
        app = create_app(config)
        build(app)
        add_member(app)
        app.extensions["idance.db"].close()  # one process owns the data file: gunicorn next

        port = free_port()
        root = args.app_root.resolve()
        conf = ["-c", str(root / "gunicorn.conf.py")] if (root / "gunicorn.conf.py").exists() \
            else []
        env = {**os.environ, "IDANCE_ENV": "development", "IDANCE_DB_URL": config.db_url,
               "IDANCE_AUTO_MIGRATE": "false", "IDANCE_RATE_LIMITS": "false",
               "IDANCE_MEDIA_ROOT": config.media_root, "PYTHONPATH": str(root)}
        proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", *conf, "-k", "gthread", "-w", "1",
             "--threads", "16", "-b", f"127.0.0.1:{port}", "--log-level", "warning",
             "idance_web:create_app()"],
            cwd=tmp, env=env, start_new_session=True)
        wait_ready(port, proc)
        load(port, page, args.clients, 2.0)  # warm-up: templates compiled, page cached
        warm = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        sign_in_once(warm)
        warm.close()

        for _ in range(args.rounds):
            cases["alone"].append(load(port, page, args.clients, args.seconds))
            stop = threading.Event()
            signers = [threading.Thread(target=signing_in, args=(port, stop, signin_times, errors))
                       for _ in range(args.signers)]
            for t in signers:
                t.start()
            time.sleep(0.5)  # both are signing in before the page load starts
            cases["with sign-ins"].append(load(port, page, args.clients, args.seconds))
            stop.set()
            for t in signers:
                t.join(30)
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=15)
        proc = None
    finally:
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
        shutil.rmtree(tmp, ignore_errors=True)

    print(f"\nserving {args.app_root}; {args.clients} page clients, {args.signers} signing in, "
          f"{args.rounds} rounds x {args.seconds:g} s per case, {os.cpu_count()} cores "
          "(clients share them)")
    print(f"{'cached page':<16}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}")
    summary = {}
    for name, runs in cases.items():
        rps = statistics.median(r["rps"] for r in runs)
        p50 = statistics.median(r["p50"] for r in runs)
        p99 = statistics.median(r["p99"] for r in runs)
        summary[name] = (rps, p50)
        print(f"{name:<16}{rps:>9.0f}{p50:>9.2f}{p99:>9.2f}{sum(r['errors'] for r in runs):>8}")
    (rps0, p0), (rps1, p1) = summary["alone"], summary["with sign-ins"]
    print(f"with sign-ins / alone: p50 {p1 / p0:.2f}x, req/s {rps1 / rps0:.2f}x")
    if signin_times:
        times = sorted(signin_times)
        print(f"POST /login: {len(times)} sign-ins, p50 {pct(times, 50) * 1000:.1f} ms, "
              f"p99 {pct(times, 99) * 1000:.1f} ms; {len(errors)} errors")


if __name__ == "__main__":
    main()
