"""Benchmark: chat delivery over the live stream, with many idle streams open, under gunicorn.

Run from the project root:
``python bench/chat_latency.py [--streams N] [--pairs P] [--seconds S] [--page PATH] [--quick]``.

It builds a temporary ``surrealkv://`` database (migrations, small lookup data, N idle members
and P matched pairs with their chats; sessions written directly, cookies signed with the app's
key) and serves the app with gunicorn as configured (``gunicorn.conf.py``: gthread, one worker,
a thread per stream besides the page threads; its real-time hub running). Four phases of
``--seconds`` each, in this order:

1. without streams, messages only: pairs take turns posting messages
   (``POST /chat/<chat_key>/messages``, JSON, as the chat page's script does); the other marks
   each one read (``POST /chat/<chat_key>/read``, as her open chat page does) and answers;
2. without streams, the same traffic while a third signed-in client loads ``--page`` every
   100 ms;
3. with streams, messages only: N idle members each hold an open ``/events`` stream and every
   pair member holds one too; a member answers once the message arrived on her stream;
4. with streams, the same while the third client loads the page.

Delivery is timed from a POST's response to the message's arrival on the other member's
stream (0 when it arrived first: the app delivers a write before it answers), and from the
POST's start, over phases 3 and 4. The server's CPU per message is the worker's CPU time over
a messages-only phase divided by its messages (each with its read). The last line is one JSON
object: delivery over phase 4, the page's p50 in phase 4 (and in phase 2 for comparison).
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import json
import os
import re
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from itsdangerous import URLSafeTimedSerializer  # noqa: E402
from surrealdb import RecordID  # noqa: E402

from bench.public_site import free_port, wait_ready  # noqa: E402
from idance_web import create_app  # noqa: E402
from idance_web.config import Config  # noqa: E402
from idance_web.migrate import Runner  # noqa: E402
from tests.lookup_fixture import load_small_lookup  # noqa: E402

SECRET = "bench-secret-key-0123456789abcdef0123456789"
TOKEN = re.compile(r"\b(m[0-9a-f]{32})\b")
PAGE_INTERVAL = 0.1  # the third client loads a page every 100 ms


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))]


# -- the community ------------------------------------------------------------------------------

def build(app, idle: int, pairs: int) -> dict[str, str]:
    """Members and pairs with their chats; returns member key → session cookie."""
    db = app.extensions["idance.db"]
    Runner(db, lookup=lambda s, log: load_small_lookup(s)).run(log=lambda m: None)
    keys = [f"idle{i:04d}" for i in range(idle)] + ["reader"]
    keys += [f"pair{i:03d}{side}" for i in range(pairs) for side in "ab"]
    with db.system() as s:
        s.query(
            """FOR $k IN $keys {
                   CREATE type::thing('user', $k) SET email = $k + '@example.com', username = $k,
                       display_name = 'Dancer ' + $k, password = 'x', has_password = true;
                   CREATE profile SET owner = type::thing('user', $k),
                       birth_date = d'1990-01-01';
                   CREATE type::thing('user_session', 's' + $k) SET
                       user = type::thing('user', $k), method = 'password';
               };""",
            {"keys": keys},
        )
    for i in range(pairs):
        for me, other in (("a", "b"), ("b", "a")):
            with db.member(f"pair{i:03d}{me}") as s:
                s.query("RELATE $me->swipe->$other SET direction = 'like'",
                        {"me": _user(f"pair{i:03d}{me}"), "other": _user(f"pair{i:03d}{other}")})
    serializer = app.session_interface.get_signing_serializer(app)
    cookies = {}
    for key in keys:
        raw = hashlib.sha1(os.urandom(64)).hexdigest()
        cookies[key] = serializer.dumps({"_user_id": f"{key}:s{key}", "_fresh": True,
                                         "csrf_token": raw})
        cookies[key + ":csrf"] = URLSafeTimedSerializer(SECRET, salt="wtf-csrf-token").dumps(raw)
    return cookies


def _user(key: str) -> RecordID:
    return RecordID("user", key)


# -- clients ------------------------------------------------------------------------------------

def request(conn, method: str, path: str, cookie: str, body: bytes | None = None,
            headers: dict | None = None) -> tuple[int, bytes]:
    conn.request(method, path, body=body, headers={"Cookie": f"session={cookie}",
                                                    "Accept-Encoding": "identity",
                                                    **(headers or {})})
    response = conn.getresponse()
    return response.status, response.read()


def open_stream(port: int, cookie: str) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    sock.sendall(f"GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: session={cookie}\r\n"
                 "Accept: text/event-stream\r\n\r\n".encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = sock.recv(4096)
        if not chunk:
            raise SystemExit("a stream was refused: " + head.decode(errors="replace"))
        head += chunk
    if not head.startswith(b"HTTP/1.1 200"):
        raise SystemExit("a stream was refused: " + head.split(b"\r\n")[0].decode())
    return sock


class IdleStreams:
    """N open streams, drained by one thread (their heartbeats and counts)."""

    def __init__(self, socks: list[socket.socket]):
        self.socks = socks
        self.selector = selectors.DefaultSelector()
        for sock in socks:
            sock.setblocking(False)
            self.selector.register(sock, selectors.EVENT_READ)
        self.closed = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._drain, daemon=True)
        self._thread.start()

    def _drain(self):
        while not self._stop.is_set():
            for key, _ in self.selector.select(0.5):
                try:
                    if not key.fileobj.recv(65536):
                        self.selector.unregister(key.fileobj)
                        self.closed += 1
                except OSError:
                    self.selector.unregister(key.fileobj)
                    self.closed += 1

    def close(self):
        self._stop.set()
        self._thread.join(5)
        for sock in self.socks:
            sock.close()


class StreamReader:
    """A pair member's stream: when each message token arrived."""

    def __init__(self, sock: socket.socket):
        self.sock = sock
        self.arrived: dict[str, float] = {}
        self.ready = threading.Condition()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self):
        buffer = b""
        while True:
            try:
                chunk = self.sock.recv(65536)
            except OSError:
                return
            if not chunk:
                return
            now = time.perf_counter()
            buffer += chunk
            *blocks, buffer = buffer.split(b"\n\n")
            for block in blocks:
                if b"event: message" in block:
                    for token in TOKEN.findall(block.decode(errors="replace")):
                        with self.ready:
                            self.arrived.setdefault(token, now)
                            self.ready.notify_all()

    def wait_for(self, token: str, seconds: float) -> float | None:
        deadline = time.perf_counter() + seconds
        with self.ready:
            while token not in self.arrived:
                left = deadline - time.perf_counter()
                if left <= 0:
                    return None
                self.ready.wait(left)
            return self.arrived[token]


# -- phases -------------------------------------------------------------------------------------

def chat_key(a: str, b: str) -> str:
    return ".".join(sorted([a, b]))


def converse(port, cookies, a, b, readers, stop, out):
    """Pair a↔b take turns; each waits for the other's message before answering."""
    conns = {k: http.client.HTTPConnection("127.0.0.1", port, timeout=30) for k in (a, b)}
    turn = 0
    while not stop.is_set():
        sender, receiver = (a, b) if turn % 2 == 0 else (b, a)
        token = "m" + uuid.uuid4().hex
        body = json.dumps({"body": f"step {turn} {token}",
                           "idempotency_key": uuid.uuid4().hex}).encode()
        began = time.perf_counter()
        status, _ = request(conns[sender], "POST", f"/chat/{chat_key(a, b)}/messages",
                            cookies[sender], body, {"Content-Type": "application/json",
                                                    "X-CSRFToken": cookies[sender + ":csrf"]})
        returned = time.perf_counter()
        out["posts"] += 1
        out["post"].append(returned - began)
        if status != 201:
            out["errors"] += 1
            time.sleep(0.1)
            continue
        if readers:
            arrived = readers[receiver].wait_for(token, 5.0)
            if arrived is None:
                out["lost"] += 1
            else:
                out["from_return"].append(max(0.0, arrived - returned))
                out["from_start"].append(arrived - began)
                out["before_return"] += arrived <= returned
        # She reads it, as the open chat page does (which moves her unread count back).
        status, _ = request(conns[receiver], "POST", f"/chat/{chat_key(a, b)}/read",
                            cookies[receiver], f"csrf_token={cookies[receiver + ':csrf']}".encode(),
                            {"Content-Type": "application/x-www-form-urlencoded",
                             "Accept": "application/json"})
        out["errors"] += status != 200
        turn += 1
        time.sleep(0.02)  # a moment to "type"
    for conn in conns.values():
        conn.close()


def load_page(port, cookie, path, interval, stop, out):
    """A signed-in client loading ``path`` every ``interval`` seconds (back to back, it would
    take the CPU from everyone else and measure little but itself)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    while not stop.is_set():
        began = time.perf_counter()
        status, _ = request(conn, "GET", path, cookie)
        spent = time.perf_counter() - began
        out["page"].append(spent)
        out["page_errors"] += status != 200
        stop.wait(max(0.0, interval - spent))
    conn.close()


def worker_cpu(master: int) -> float:
    """CPU seconds of the gunicorn worker (the master's child)."""
    total = 0.0
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    for pid in children:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def phase(port, master, cookies, pairs, seconds, page, readers) -> dict:
    """Pairs converse for ``seconds`` (and a third client loads ``page`` unless None)."""
    out = {"posts": 0, "errors": 0, "lost": 0, "before_return": 0, "from_return": [],
           "from_start": [], "post": [], "page": [], "page_errors": 0}
    stop = threading.Event()
    threads = [threading.Thread(target=converse, daemon=True, args=(
        port, cookies, f"pair{i:03d}a", f"pair{i:03d}b", readers, stop, out))
        for i in range(pairs)]
    if page:
        threads.append(threading.Thread(target=load_page, daemon=True,
                                        args=(port, cookies["reader"], page, PAGE_INTERVAL,
                                              stop, out)))
    cpu = worker_cpu(master)
    for t in threads:
        t.start()
    time.sleep(seconds)
    stop.set()
    for t in threads:
        t.join(30)
    out["cpu"] = worker_cpu(master) - cpu
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--streams", type=int, default=200, help="idle streams (default 200)")
    parser.add_argument("--pairs", type=int, default=5, help="pairs exchanging messages")
    parser.add_argument("--seconds", type=float, default=15.0, help="per phase (default 15)")
    parser.add_argument("--page", default="/me", help="the third client's page (default /me)")
    parser.add_argument("--quick", action="store_true", help="6 s phases")
    args = parser.parse_args()
    seconds = 6.0 if args.quick else args.seconds

    tmp = Path(tempfile.mkdtemp(prefix="idance-bench-"))
    config = Config(env="development", db_url=f"surrealkv://{tmp / 'idance.db'}",
                    secret_key=SECRET, media_root=str(tmp / "media"), auto_migrate=False,
                    rate_limits=False, follow_changes=False)
    proc = None
    try:
        app = create_app(config)
        t = time.perf_counter()
        cookies = build(app, args.streams, args.pairs)
        app.extensions["idance.db"].close()  # one process owns the data file: gunicorn next
        print(f"{args.streams} idle members, {args.pairs} pairs built in "
              f"{time.perf_counter() - t:.1f} s")
        port = free_port()
        streams = args.streams + 2 * args.pairs
        env = {**os.environ, "IDANCE_ENV": "development", "IDANCE_DB_URL": config.db_url,
               "IDANCE_SECRET_KEY": SECRET, "IDANCE_AUTO_MIGRATE": "false",
               "IDANCE_RATE_LIMITS": "false", "IDANCE_MEDIA_ROOT": config.media_root,
               "IDANCE_MAX_STREAMS": str(max(streams, Config.max_streams)),
               "PYTHONPATH": str(ROOT)}
        proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"),
             "-b", f"127.0.0.1:{port}", "--log-level", "warning", "idance_web:create_app()"],
            cwd=tmp, env=env, start_new_session=True)
        wait_ready(port, proc)
        for _ in range(20):  # warm-up: templates compiled, connections made
            request(http.client.HTTPConnection("127.0.0.1", port), "GET", args.page,
                    cookies["reader"])

        quiet = phase(port, proc.pid, cookies, args.pairs, seconds, None, None)
        without = phase(port, proc.pid, cookies, args.pairs, seconds, args.page, None)
        idle = IdleStreams([open_stream(port, cookies[f"idle{i:04d}"])
                            for i in range(args.streams)])
        readers = {f"pair{i:03d}{side}": StreamReader(open_stream(port, cookies[
            f"pair{i:03d}{side}"])) for i in range(args.pairs) for side in "ab"}
        time.sleep(1.0)
        streamed = phase(port, proc.pid, cookies, args.pairs, seconds, None, readers)
        with_streams = phase(port, proc.pid, cookies, args.pairs, seconds, args.page, readers)
        dropped = idle.closed
        idle.close()
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
        proc = None
    finally:
        if proc is not None and proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        shutil.rmtree(tmp, ignore_errors=True)

    report(args, seconds, [quiet, without, streamed, with_streams], dropped)


def report(args, seconds, phases, dropped) -> None:
    ms = 1000
    quiet, without, streamed, with_streams = phases
    print(f"\n{seconds:g} s per phase, {args.pairs} pairs, third client on {args.page}, "
          f"{os.cpu_count()} cores shared with the clients")
    names = ("no streams", "no streams + page", f"{args.streams} streams",
             f"{args.streams} streams + page")
    for name, r in zip(names, phases):
        line = (f"{name:<22} messages {r['posts']:>5} (errors {r['errors']}, lost {r['lost']}), "
                f"POST p50 {pct(r['post'], 50) * ms:.1f} ms, "
                f"server CPU {r['cpu'] / max(1, r['posts']) * ms:.1f} ms per message")
        if r["page"]:
            line += (f", page p50 {pct(r['page'], 50) * ms:.2f} ms p99 "
                     f"{pct(r['page'], 99) * ms:.2f} ms ({len(r['page'])} loads, "
                     f"{r['page_errors']} errors)")
        print(line)
    for name, d in ((names[2], streamed), (names[3], with_streams)):
        print(f"delivery, {name}: from the POST's response p50 "
              f"{pct(d['from_return'], 50) * ms:.2f} ms, p99 {pct(d['from_return'], 99) * ms:.2f}"
              f" ms; from its start p50 {pct(d['from_start'], 50) * ms:.2f} ms, p99 "
              f"{pct(d['from_start'], 99) * ms:.2f} ms; {d['before_return']} of "
              f"{len(d['from_return'])} arrived before the response")
    ratio = pct(with_streams["page"], 50) / pct(without["page"], 50)
    print(f"page p50 with streams / without: {ratio:.2f}x; idle streams the server dropped: "
          f"{dropped}")
    d = with_streams
    print(json.dumps({
        "streams": args.streams,
        "delivery_p50_ms": round(pct(d["from_return"], 50) * ms, 2),
        "delivery_p99_ms": round(pct(d["from_return"], 99) * ms, 2),
        "page_p50_ms": round(pct(d["page"], 50) * ms, 2),
        "page_p50_without_streams_ms": round(pct(without["page"], 50) * ms, 2),
        "delivery_from_post_start_p99_ms": round(pct(d["from_start"], 99) * ms, 2),
        "cpu_ms_per_message": round(streamed["cpu"] / max(1, streamed["posts"]) * ms, 2),
        "cpu_ms_per_message_without_streams": round(quiet["cpu"] / max(1, quiet["posts"]) * ms,
                                                    2),
        "lost": streamed["lost"] + d["lost"],
    }))


if __name__ == "__main__":
    main()
