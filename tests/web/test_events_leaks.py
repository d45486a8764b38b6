"""1,000 streams opened and dropped over real sockets leave no thread, socket or subscription."""

from __future__ import annotations

import os
import socket
import struct
import threading
import time

from tests.fixtures.app import build_app, make_config
from tests.fixtures.browser import LiveServer
from tests.fixtures.live import signed_in

ROUNDS, AT_ONCE = 10, 100


def open_raw(port: int, cookie: str) -> socket.socket:
    """A stream over a plain socket, read up to its first event."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.sendall(f"GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: session={cookie}\r\n"
                 "Accept: text/event-stream\r\n\r\n".encode())
    received = b""
    while b"event: badges" not in received:
        chunk = sock.recv(4096)
        assert chunk, received
        received += chunk
    assert received.startswith(b"HTTP/1.1 200")
    return sock


def drop(sock: socket.socket, abruptly: bool) -> None:
    if abruptly:  # a reset, as when a phone loses its network
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def settled(measure, baseline, seconds: float = 20.0):
    deadline = time.monotonic() + seconds
    while measure() > baseline and time.monotonic() < deadline:
        time.sleep(0.05)
    return measure()


def open_files() -> int:
    return len(os.listdir("/proc/self/fd"))


def test_a_thousand_dropped_streams_leave_nothing_behind():
    app = build_app(make_config(stream_heartbeat=0.05, streams_per_member=AT_ONCE,
                                max_streams=AT_ONCE))
    try:
        make_member(app)
        cookie = signed_in(app, "dora").get_cookie("session").value
        live, hub = app.extensions["idance.live"], app.extensions["idance.hub"]
        with LiveServer(app) as server:
            port = server.server.server_port
            drop(open_raw(port, cookie), abruptly=False)  # warm up: the hub placed, pools made
            assert settled(live.count, 0) == 0
            threads, files, subscribers = (threading.active_count(), open_files(),
                                           hub.subscriber_count)
            for round_ in range(ROUNDS):
                socks = [open_raw(port, cookie) for _ in range(AT_ONCE)]
                assert live.count() == AT_ONCE
                assert hub.subscriber_count == subscribers + 1  # one for all the streams
                for i, sock in enumerate(socks):
                    drop(sock, abruptly=(i + round_) % 2 == 0)
                assert settled(live.count, 0) == 0
            # Other tests' daemon threads may end meanwhile: no more than before.
            assert settled(threading.active_count, threads) <= threads
            assert settled(open_files, files) <= files
            assert hub.subscriber_count == subscribers
    finally:
        app.extensions["idance.db"].close()


def make_member(app):
    """Dora, in the database of this test's own app."""
    db = app.extensions["idance.db"]
    with db.system() as s:
        hashed = s.value("RETURN crypto::argon2::generate($p)", {"p": "correct horse battery"})
        s.query("""CREATE user:dora SET email = 'dora@example.com', username = 'dora',
                       display_name = 'Dora', password = $hash, has_password = true;
                   CREATE profile SET owner = user:dora;""", {"hash": hashed})


def test_a_closed_page_frees_its_place_long_before_the_heartbeat():
    """A page left or reloaded closes its stream: the server notices within a second or two,
    not at the next heartbeat (15 s), so quick page loads do not reach her cap."""
    app = build_app(make_config(streams_per_member=2))
    try:
        make_member(app)
        cookie = signed_in(app, "dora").get_cookie("session").value
        live = app.extensions["idance.live"]
        with LiveServer(app) as server:
            port = server.server.server_port
            for n in range(4):  # four page loads in a row, two streams allowed
                sock = open_raw(port, cookie)
                drop(sock, abruptly=n % 2 == 1)
                began = time.monotonic()
                assert settled(live.count, 0, seconds=5) == 0
                assert time.monotonic() - began < 3
    finally:
        app.extensions["idance.db"].close()
