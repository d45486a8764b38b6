"""Benchmark: a mixed workload on the demo community, served by gunicorn, for a fixed time.

Run from the project root: ``python bench/load.py [--seconds S] [--clients N]
[--post-every K]``.

It builds the demo community (migrations with the small lookup data, then ``load_demo``) in a
temporary ``surrealkv://`` database, writes a session for each member of a demo match (cookies
signed with the app's key, as a sign-in would) and serves the app with gunicorn as configured
(``gunicorn.conf.py``: gthread, one worker; its real-time hub running; the environment
``idance serve`` gives it, ``MALLOC_ARENA_MAX=2`` unless set; rate limits off, since one
address stands for every client). Half of the N clients are visitors reading public sites
(``/@<name>``), group sites (``/g/<slug>``) and group pages (``/groups/<slug>``); the others are
members, each with her live stream (``/events``) open, reading ``/discover``, ``/u/<name>``,
``/vlogs``, ``/chat``, a chat thread and ``/notifications``, and posting a message in one of her
chats (JSON, as the chat page's script does) one request in K (8 by default; ``--post-every 0``
never: a read-only mix, whose only writes are the sessions' last-use stamps every 10 minutes).
Each client waits 0-100 ms between requests. A request that is not answered 200 (201 for a new
message) is an error.

Reports throughput, p50/p95/p99 per route, the errors, the events the streams received and the
gunicorn worker's RSS after warm-up, sampled through the run (``/proc/<pid>/status``) and at the
end, with its trend over the second half and that trend per message written then (the
growth a message's stored data accounts for, if the growth is that). The last line is one JSON
object: seconds, requests, errors, messages, rss_start_mb, rss_end_mb,
rss_second_half_mb_per_min, rss_second_half_kb_per_message (null without messages), p99_ms
(over all requests).
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import json
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from itsdangerous import URLSafeTimedSerializer  # noqa: E402

from bench.chat_latency import open_stream, pct, request  # noqa: E402
from bench.public_site import free_port, wait_ready  # noqa: E402
from idance_web import create_app  # noqa: E402
from idance_web.config import Config  # noqa: E402
from idance_web.demo import load_demo  # noqa: E402
from idance_web.demo.discovery import MATCHED  # noqa: E402
from idance_web.migrate import Runner  # noqa: E402
from idance_web.serve import serve_env  # noqa: E402
from tests.lookup_fixture import load_small_lookup  # noqa: E402

SECRET = "bench-secret-key-0123456789abcdef0123456789"


def build(app, config: Config) -> dict:
    """The demo community, a session per matched member; the names the clients visit."""
    db = app.extensions["idance.db"]
    Runner(db, lookup=lambda s, log: load_small_lookup(s)).run(log=lambda m: None)
    load_demo(db, config)
    members = sorted({key for pair in MATCHED for key in pair})
    with db.system() as s:
        s.query("""FOR $k IN $keys {
                       CREATE type::thing('user_session', 'load' + $k) SET
                           user = type::thing('user', $k), method = 'password';
                   };""", {"keys": members})
        users = s.rows("SELECT meta::id(id) AS key, username FROM user WHERE username != NONE")
        published = s.rows("SELECT record::tb(owner) AS kind, owner.username AS name, "
                           "owner.slug AS slug FROM site WHERE published_version != NONE "
                           "AND deleted_at = NONE")
        groups = s.rows("SELECT VALUE slug FROM group WHERE deleted_at = NONE")
    names = {u["key"]: u["username"] for u in users}
    serializer = app.session_interface.get_signing_serializer(app)
    cookies = {}
    for key in members:
        raw = hashlib.sha1(os.urandom(64)).hexdigest()
        cookies[key] = (serializer.dumps({"_user_id": f"{key}:load{key}", "_fresh": True,
                                          "csrf_token": raw}),
                        URLSafeTimedSerializer(SECRET, salt="wtf-csrf-token").dumps(raw))
    chats = defaultdict(list)
    for a, b in MATCHED:
        chats[a].append(".".join(sorted((a, b))))
        chats[b].append(".".join(sorted((a, b))))
    return {"members": members, "cookies": cookies, "chats": dict(chats),
            "people": sorted(names.values()), "names": names,
            "sites": sorted(p["name"] for p in published if p["kind"] == "user"),
            "group_sites": sorted(p["slug"] for p in published if p["kind"] == "group"),
            "groups": sorted(groups)}


def visitor_request(rng, world) -> tuple[str, str, str, bytes | None, dict]:
    kind = rng.random()
    if kind < 0.5:
        return "GET /@<name>", "GET", f"/@{rng.choice(world['sites'])}", None, {}
    if kind < 0.75:
        return "GET /g/<slug>", "GET", f"/g/{rng.choice(world['group_sites'])}", None, {}
    return "GET /groups/<slug>", "GET", f"/groups/{rng.choice(world['groups'])}", None, {}


def member_request(rng, world, me, post_every) -> tuple[str, str, str, bytes | None, dict]:
    chat = rng.choice(world["chats"][me])
    if post_every and rng.randrange(post_every) == 0:
        body = json.dumps({"body": f"Load message {uuid.uuid4().hex[:8]}",
                           "idempotency_key": uuid.uuid4().hex}).encode()
        return ("POST /chat/<key>/messages", "POST", f"/chat/{chat}/messages", body,
                {"Content-Type": "application/json",
                 "X-CSRFToken": world["cookies"][me][1]})
    other = rng.choice([p for k, p in world["names"].items() if k != me])
    label, path = rng.choice([("GET /discover", "/discover"), ("GET /u/<name>", f"/u/{other}"),
                              ("GET /vlogs", "/vlogs"), ("GET /chat", "/chat"),
                              ("GET /chat/<key>", f"/chat/{chat}"),
                              ("GET /notifications", "/notifications")])
    return label, "GET", path, None, {}


def client(port, world, me, seed, stop, out, lock, post_every):
    rng = random.Random(seed)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    cookie = world["cookies"][me][0] if me else ""
    while not stop.is_set():
        if me:
            label, method, path, body, headers = member_request(rng, world, me, post_every)
        else:
            label, method, path, body, headers = visitor_request(rng, world)
        began = time.perf_counter()
        try:
            status, _ = request(conn, method, path, cookie, body, headers)
        except (OSError, http.client.HTTPException) as exc:
            status = f"{type(exc).__name__}"
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        spent = time.perf_counter() - began
        ok = status == 200 or (status == 201 and method == "POST")
        with lock:
            out["times"][label].append(spent)
            if not ok:
                out["errors"].append(f"{status} {method} {path}")
            elif status == 201:
                out["messages"] += 1
        stop.wait(rng.uniform(0, 0.1))
    conn.close()


def drain(sock, stop, out, lock):
    """Read a member's stream until the end; count its events."""
    sock.settimeout(1.0)
    while not stop.is_set():
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            continue
        except OSError:
            break
        if not chunk:
            with lock:
                out["streams_closed"] += 1
            break
        with lock:
            out["events"] += chunk.count(b"\nevent: ") + chunk.startswith(b"event: ")
    sock.close()


def worker_pid(master: int) -> int:
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return int(children[0])


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="duration (default 60)")
    parser.add_argument("--clients", type=int, default=16, help="clients (default 16)")
    parser.add_argument("--sample", type=float, default=0.0,
                        help="seconds between RSS samples (default: a twentieth of the run)")
    parser.add_argument("--post-every", type=int, default=8, metavar="K",
                        help="a member posts a message one request in K (default 8; 0: never, "
                             "a read-only mix)")
    args = parser.parse_args()
    if args.post_every < 0:
        parser.error("--post-every takes 0 (never) or a positive number")

    tmp = Path(tempfile.mkdtemp(prefix="idance-bench-load-"))
    config = Config(env="development", db_url=f"surrealkv://{tmp / 'idance.db'}",
                    secret_key=SECRET, media_root=str(tmp / "media"), auto_migrate=False,
                    rate_limits=False, follow_changes=False)
    proc = log = None
    stop = threading.Event()
    lock = threading.Lock()
    out = {"times": defaultdict(list), "errors": [], "events": 0, "streams_closed": 0,
           "messages": 0}
    try:
        app = create_app(config)
        began = time.perf_counter()
        world = build(app, config)
        app.extensions["idance.db"].close()  # one process owns the data file: gunicorn next
        print(f"demo community built in {time.perf_counter() - began:.1f} s: "
              f"{len(world['sites'])} public sites, {len(world['groups'])} groups, "
              f"{len(world['members'])} signed-in members")
        port = free_port()
        env = serve_env({  # as `idance serve` starts gunicorn (its allocator setting too)
            **os.environ, "IDANCE_ENV": "development", "IDANCE_DB_URL": config.db_url,
            "IDANCE_SECRET_KEY": SECRET, "IDANCE_AUTO_MIGRATE": "false",
            "IDANCE_RATE_LIMITS": "false", "IDANCE_MEDIA_ROOT": config.media_root,
            "PYTHONPATH": str(ROOT)})
        log = open(tmp / "server.log", "wb")  # one JSON line per request: kept off the terminal
        proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"),
             "-b", f"127.0.0.1:{port}", "--log-level", "warning", "idance_web:create_app()"],
            cwd=tmp, env=env, start_new_session=True, stderr=log)
        wait_ready(port, proc)
        worker = worker_pid(proc.pid)
        warm = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        warm_paths = ["/@" + s for s in world["sites"][:8]]
        for path in warm_paths + ["/g/" + g for g in world["group_sites"]]:
            request(warm, "GET", path, "")
        for key in world["members"]:
            for path in ("/discover", "/chat", "/vlogs", "/notifications"):
                request(warm, "GET", path, world["cookies"][key][0])
        warm.close()
        rss_start = rss_mb(worker)

        members = [world["members"][i % len(world["members"])]
                   for i in range(args.clients - args.clients // 2)]
        threads = [threading.Thread(target=drain, daemon=True, args=(
            open_stream(port, world["cookies"][key][0]), stop, out, lock))
            for key in sorted(set(members))]
        threads += [threading.Thread(target=client, daemon=True, args=(
            port, world, me, n, stop, out, lock, args.post_every))
            for n, me in enumerate(members + [None] * (args.clients // 2))]
        started = time.perf_counter()
        for t in threads:
            t.start()
        # The worker's RSS over the run: growth that goes on after warm-up is a leak.
        every_s = args.sample or max(1.0, args.seconds / 20)
        samples = [(0.0, rss_start, 0)]  # seconds, MB, messages written so far
        while (now := time.perf_counter() - started) < args.seconds:
            time.sleep(min(every_s, args.seconds - now))
            samples.append((time.perf_counter() - started, rss_mb(worker), out["messages"]))
        stop.set()
        for t in threads:
            t.join(60)
        elapsed = time.perf_counter() - started
        rss_end = rss_mb(worker)
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
        proc = None
    finally:
        stop.set()
        if proc is not None and proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        if log is not None:
            log.close()
        shutil.rmtree(tmp, ignore_errors=True)

    times = out["times"]
    every = [t for values in times.values() for t in values]
    print(f"\n{args.clients} clients ({len(members)} members with a stream open, "
          f"{args.clients // 2} visitors) for {elapsed:.0f} s: {len(every)} requests, "
          f"{len(every) / elapsed:.1f}/s; {len(out['errors'])} errors; "
          f"{out['events']} stream events, {out['streams_closed']} streams closed early; "
          f"{out['messages']} messages written (one member request in "
          f"{args.post_every or 'none'})")
    print(f"{'route':28} {'count':>6} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}")
    for label in sorted(times):
        values = times[label]
        print(f"{label:28} {len(values):6d} {pct(values, 50) * 1000:8.1f} "
              f"{pct(values, 95) * 1000:8.1f} {pct(values, 99) * 1000:8.1f}")
    print(f"{'all':28} {len(every):6d} {pct(every, 50) * 1000:8.1f} "
          f"{pct(every, 95) * 1000:8.1f} {pct(every, 99) * 1000:8.1f}")
    for line in sorted(set(out["errors"]))[:10]:
        print("error:", line)
    print(f"worker RSS: {rss_start:.0f} MB after warm-up, {rss_end:.0f} MB at the end")
    print("RSS over the run (s: MB): " + ", ".join(f"{t:.0f}: {m:.0f}" for t, m, _ in samples))
    late = samples[len(samples) // 2:]
    slope = (statistics.linear_regression([t for t, _, _ in late],
                                          [m for _, m, _ in late]).slope * 60
             if len(late) >= 2 else 0.0)
    written = late[-1][2] - late[0][2]
    minutes = (late[-1][0] - late[0][0]) / 60
    per_message = slope * minutes / written * 1024 if written and minutes else None
    print(f"RSS trend over the second half: {slope:+.2f} MB a minute, while "
          f"{written / minutes if minutes else 0:.0f} messages a minute were written"
          + (f": {per_message:+.1f} kB a message" if per_message is not None else ""))
    print(json.dumps({"seconds": round(elapsed, 1), "requests": len(every),
                      "errors": len(out["errors"]), "messages": out["messages"],
                      "rss_start_mb": round(rss_start, 1), "rss_end_mb": round(rss_end, 1),
                      "rss_second_half_mb_per_min": round(slope, 2),
                      "rss_second_half_kb_per_message":
                          round(per_message, 2) if per_message is not None else None,
                      "p99_ms": round(pct(every, 99) * 1000, 1)}))


if __name__ == "__main__":
    main()
