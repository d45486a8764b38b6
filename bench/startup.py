"""Benchmark: how long the app takes to start, fresh and on a database that holds a community.

Run from the project root: ``python bench/startup.py [--members N] [--runs R]``.

1. A fresh ``idance run`` on an empty data directory (migrations and the lookup data), timed
   from the command's start until ``/healthz`` answers 200, and until it reports the lookup
   data complete (the large tables load in the background while it serves).
2. The same database grown to N members (``bench/scale.py``'s community, batched inserts), then
   ``idance migrate`` with nothing to do and ``idance run`` until ``/healthz`` answers, each
   ``R`` times (the median is printed, with the range).
3. On that database, each in a fresh process as a start does them: importing the app and
   building it, opening the data file (the first query), the check for pending migrations
   that the serving worker makes, the hub placing its cursor, and closing; CPU time beside
   wall time (the machine is shared). Then the migration runner with nothing to apply.
4. What opening the file reads: the data file's log (surrealkv 0.9 appends every write to it
   and replays all of it into memory on open) counted by kind: rows, index entries, graph
   edges, change-feed entries, and versions a later write superseded.
5. ``idance compact`` on the N-member database (a backup restored into a new data file), and
   the phases of 3 again on the result.

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
import struct
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


PHASES = r"""
import json, sys, time
began, cpu = time.perf_counter(), time.process_time()
from idance_web import create_app
from idance_web.config import Config
from idance_web.serving import pending_migrations
app = create_app(Config(env="development", db_url=sys.argv[1], follow_changes=False))
out = {"import_s": time.perf_counter() - began, "import_cpu_s": time.process_time() - cpu}
def phase(name, fn):
    began, cpu = time.perf_counter(), time.process_time()
    fn()
    out[name + "_s"] = time.perf_counter() - began
    out[name + "_cpu_s"] = time.process_time() - cpu
db = app.extensions["idance.db"]
phase("open", db.ping)
phase("migration_check", lambda: pending_migrations(app))
phase("hub_start", app.extensions["idance.hub"].position_at_present)
phase("close", db.close)
print(json.dumps(out))
"""


def phases(data: Path, runs: int) -> dict:
    """A start's phases (see ``PHASES``), each run in a fresh process; the medians."""
    found: dict[str, list[float]] = {}
    for _ in range(runs):
        done = subprocess.run([sys.executable, "-c", PHASES, f"surrealkv://{data / 'idance.db'}"],
                              cwd=data, env=environment(data), capture_output=True, text=True,
                              check=True)
        for key, value in json.loads(done.stdout.strip().splitlines()[-1]).items():
            found.setdefault(key, []).append(value)
    return {key: round(statistics.median(values), 3) for key, values in found.items()}


def log_records(path: Path):
    """(key, bytes) of each record in a surrealkv 0.9 commit log (``clog/*.clog``): a file
    header (u32 length, bytes), then records: crc u32, version u16, tx id u64, ts u64,
    metadata (u16 length, bytes), key (u32 length, bytes), value (u32 length, bytes)."""
    for segment in sorted((path / "clog").glob("*.clog")):
        data = segment.read_bytes()
        at = 4 + struct.unpack_from(">I", data, 0)[0]
        while at + 28 <= len(data):
            start = at
            at += 22
            at += 2 + struct.unpack_from(">H", data, at)[0]
            size = struct.unpack_from(">I", data, at)[0]
            key = data[at + 4:at + 4 + size]
            at += 4 + size
            at += 4 + struct.unpack_from(">I", data, at)[0]
            yield key, at - start


def log_composition(path: Path) -> dict:
    """What opening the data file replays, by kind of SurrealDB key (2.x encoding:
    ``/*ns\\0*db\\0`` then ``*table\\0`` and ``*`` a row, ``+`` an index entry, ``~`` a graph
    edge; ``#`` after the database, the change feed): records and MB, and the records a later
    write of the same key superseded."""
    kinds = {b"*": "rows", b"+": "index entries", b"~": "graph edges"}
    records: dict[str, list[float]] = {}
    seen: set[bytes] = set()
    superseded = 0
    for key, size in log_records(path):
        parts = key.split(b"\x00", 2)
        rest = parts[2] if len(parts) == 3 else b""
        if rest[:1] == b"#":
            kind = "change feed"
        elif rest[:1] == b"*":
            kind = kinds.get(rest[1:].split(b"\x00", 1)[-1][:1], "definitions and other")
        else:
            kind = "definitions and other"
        entry = records.setdefault(kind, [0, 0.0])
        entry[0] += 1
        entry[1] += size / 1e6
        if key in seen:
            superseded += 1
        seen.add(key)
    total = sum(n for n, _ in records.values())
    return {"records": total, "mb": round(sum(mb for _, mb in records.values()), 1),
            "superseded": superseded,
            **{kind: {"records": n, "mb": round(mb, 1)} for kind, (n, mb) in records.items()}}


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
                              **{k: round(v, 2) for k, v in inner.items()},
                              "phases": phases(data, args.runs),
                              "log": log_composition(data / "idance.db")}
            print(f"{label}: a start's phases {results[label]['phases']}", flush=True)
            print(f"{label}: the log opening replays {results[label]['log']}", flush=True)
        began = time.perf_counter()
        said = time_command(data, "compact")[1].strip().splitlines()[-1]
        results["compact_s"] = round(time.perf_counter() - began, 1)
        results["compacted"] = {"phases": phases(data, args.runs),
                                "log": log_composition(data / "idance.db")}
        print(f"idance compact took {results['compact_s']} s [{said}]; then a start's phases "
              f"{results['compacted']['phases']}; the log {results['compacted']['log']}",
              flush=True)
        results["python_s"] = round(statistics.median(python), 2)
    finally:
        shutil.rmtree(data, ignore_errors=True)
    print(json.dumps(results))


if __name__ == "__main__":
    main()
