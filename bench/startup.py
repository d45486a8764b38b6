"""Benchmark: how long the app takes to start, fresh and on a database that holds a community.

Run from the project root: ``python bench/startup.py [--members N] [--runs R]``.

1. A fresh ``idance run`` on an empty data directory (migrations and the lookup data), timed
   from the command's start until ``/healthz`` answers 200, and until it reports the lookup
   data complete (the large tables load in the background while it serves).
2. The same database grown to N members (``bench/scale.py``'s community, batched inserts), then
   ``idance migrate`` with nothing to do and ``idance run`` until ``/healthz`` answers, each
   ``R`` times (the median is printed, with the range).
3. In-process, on that database: opening the data file (the first query) and the migration
   runner with nothing to apply.

Every command is a subprocess with its own interpreter, as an operator would run it; the
interpreter's own start (importing the app) is measured as ``idance --help``.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from idance_web.config import Config  # noqa: E402
from idance_web.db import Database  # noqa: E402
from idance_web.migrate import Runner  # noqa: E402
from idance_web.services.lookup import load_lookup  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def environment(data: Path) -> dict:
    return {**os.environ, "PYTHONPATH": str(ROOT), "IDANCE_ENV": "development",
            "IDANCE_DB_URL": f"surrealkv://{data / 'idance.db'}",
            "IDANCE_MEDIA_ROOT": str(data / "media"), "IDANCE_RATE_LIMITS": "false"}


def idance(*args: str) -> list[str]:
    return [sys.executable, "-c", "from idance_web.cli import main; main()", *args]


def healthy(port: int) -> bool:
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        conn.request("GET", "/healthz")
        ok = conn.getresponse().status == 200
        conn.close()
        return ok
    except OSError:
        return False


def time_run(data: Path, wait_for: str | None = None,
             timeout: float = 300) -> tuple[float, float | None, list[str]]:
    """Seconds from ``idance run`` until ``/healthz`` answers 200, and (with ``wait_for``)
    until the server prints a line holding that text; and what it printed."""
    port = free_port()
    start = time.perf_counter()
    proc = subprocess.Popen(idance("run", "--port", str(port)), cwd=data, env=environment(data),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(proc.stdout), daemon=True)
    reader.start()
    later = None
    try:
        while not healthy(port):
            if proc.poll() is not None:
                reader.join(5)
                raise SystemExit("idance run exited: " + "".join(lines))
            if time.perf_counter() - start > timeout:
                raise SystemExit("idance run did not answer /healthz")
            time.sleep(0.05)
        took = time.perf_counter() - start
        while wait_for and not any(wait_for in line for line in lines):
            if time.perf_counter() - start > timeout or proc.poll() is not None:
                break
            time.sleep(0.1)
        else:
            later = time.perf_counter() - start if wait_for else None
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
        reader.join(5)
    return took, later, lines


def time_command(data: Path, *args: str) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run(idance(*args), cwd=data, env=environment(data), capture_output=True,
                          text=True, check=True)
    return time.perf_counter() - start, done.stdout


def spread(samples: list[float]) -> str:
    return (f"{statistics.median(samples):.2f} s (range {min(samples):.2f}–"
            f"{max(samples):.2f}, n={len(samples)})")


def in_process(data: Path, runs: int) -> dict:
    """Opening the data file and a migration run with nothing to do, in this process."""
    opened, migrated = [], []
    for _ in range(runs):
        db = Database(Config(env="development", db_url=f"surrealkv://{data / 'idance.db'}"))
        start = time.perf_counter()
        with db.system() as s:
            s.value("RETURN 1")
        opened.append(time.perf_counter() - start)
        start = time.perf_counter()
        Runner(db, lookup=load_lookup).run(log=lambda m: None)
        migrated.append(time.perf_counter() - start)
        db.close()
    return {"open_s": statistics.median(opened), "migrate_noop_s": statistics.median(migrated)}


def grow(data: Path, members: int) -> float:
    from bench.scale import Community

    db = Database(Config(env="development", db_url=f"surrealkv://{data / 'idance.db'}"))
    try:
        community = Community(db)
        return community.grow(members)
    finally:
        db.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    data = Path(tempfile.mkdtemp(prefix="idance-startup-"))
    results: dict = {}
    try:
        python = [time_command(data, "--help")[0] for _ in range(args.runs)]
        print(f"interpreter and app import (idance --help): {spread(python)}", flush=True)
        fresh, loaded, out = time_run(data, wait_for="loaded lookup data")
        said = next((line.strip() for line in out if "lookup data" in line), "")
        print(f"fresh idance run until /healthz: {fresh:.2f} s; until the lookup data is in: "
              f"{loaded if loaded is None else round(loaded, 2)} s  [{said}]", flush=True)
        results["fresh_run_s"] = round(fresh, 2)
        results["fresh_lookup_done_s"] = loaded and round(loaded, 2)
        for label, size in (("empty", 0), (f"{args.members} members", args.members)):
            if size:
                print(f"grew to {size} members in {grow(data, size):.1f} s", flush=True)
            runs = [time_run(data)[0] for _ in range(args.runs)]
            migrates = [time_command(data, "migrate")[0] for _ in range(args.runs)]
            inner = in_process(data, args.runs)
            print(f"{label}: idance run until /healthz {spread(runs)}; idance migrate with "
                  f"nothing to do {spread(migrates)}; in-process: open "
                  f"{inner['open_s']:.2f} s, runner {inner['migrate_noop_s']:.2f} s", flush=True)
            results[label] = {"run_s": round(statistics.median(runs), 2),
                              "migrate_s": round(statistics.median(migrates), 2),
                              **{k: round(v, 2) for k, v in inner.items()}}
        results["python_s"] = round(statistics.median(python), 2)
    finally:
        shutil.rmtree(data, ignore_errors=True)
    print(json.dumps(results))


if __name__ == "__main__":
    main()
