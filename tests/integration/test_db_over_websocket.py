"""The database layer's server path over a real WebSocket: the SDK's ``ws://`` client against
a SurrealDB RPC endpoint on 127.0.0.1 (``tests/fixtures/surreal_server.py``: the embedded
engine's RPC behind a WebSocket, since no server binary can be installed here).

A server that goes away (restarted, unreachable) costs the request under way a 503, never a
500 or a 403; the next block reconnects, at once the first time and then with back-off while
the server stays away; the data and the sign-ins come back with it.
"""

from __future__ import annotations

import logging
import threading
from contextlib import contextmanager

import pytest

from idance_web import create_app
from idance_web.db import Database, DatabaseUnavailable
from idance_web.db_reconnect import Backoff
from idance_web.errors import NotAllowed
from tests.fixtures.app import COMPILED_TEMPLATES, make_config
from tests.fixtures.auth import AuthActions
from tests.fixtures.surreal_server import RpcServer
from tests.fixtures.template import migrate
from tests.web.test_metrics import scrape

OWNER_PASS = "owner-pass-0123456789"


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def server():
    rpc = RpcServer()
    rpc.root(f"DEFINE USER idance ON ROOT PASSWORD '{OWNER_PASS}' ROLES OWNER")
    rpc.start()
    yield rpc
    rpc.close()


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def db(server, clock):
    database = Database(make_config(db_url=server.url, db_user="idance", db_pass=OWNER_PASS))
    # Full delays, on a clock the test moves: 0.5 s, 1 s, 2 s … up to 30 s.
    database._backoff = Backoff(clock=clock, jitter=lambda: 1.0)
    migrate(database, lookup=False)
    with database.system() as s:
        s.query("CREATE user:ann SET email = 'ann@example.com', username = 'ann', "
                "display_name = 'Ann', password = 'x', has_password = true; "
                "CREATE profile SET owner = user:ann, birth_date = d'1990-01-01'")
    yield database
    database.close()


def _read_as_ann(db: Database) -> str:
    with db.member("ann") as s:
        return s.value("RETURN $auth.id").id


def test_every_identity_works_over_the_websocket(db):
    assert _read_as_ann(db) == "ann"
    with db.hub() as s:
        assert s.query("SHOW CHANGES FOR DATABASE SINCE 0 LIMIT 1")[0] is not None
    with db.system() as s:
        session = s.one("SELECT * FROM $session")
        assert (session["tk"]["ID"], session["ns"], session["db"]) == ("idance", "idance", "test")
        assert s.value("RETURN $auth") is None
    # A statement the engine refuses is still the app's error, with the server's wording.
    with pytest.raises(NotAllowed):
        with db.member("ann") as s:
            s.query("DEFINE TABLE forbidden")
    assert db.user_signins == 1 and db.reconnects == 0


def test_a_dropped_connection_is_a_503_and_the_next_block_reconnects(db, server, caplog):
    assert _read_as_ann(db) == "ann"
    server.stop()
    server.start()  # a restart: the socket the app held is gone, the server is back
    caplog.set_level(logging.WARNING, logger="idance.db")
    with pytest.raises(DatabaseUnavailable, match="lost the connection") as lost:
        _read_as_ann(db)
    assert lost.value.retry_after == 1
    # The next block opens a new connection at once, signs in again (the token is kept) and
    # finds the data where it was.
    assert _read_as_ann(db) == "ann"
    assert db.reconnects == 1 and server.connections == 2
    assert db.user_signins == 1, "the configured user's kept token served the new connection"
    assert any("lost the connection" in r.message for r in caplog.records)
    assert any("reconnected" in r.message for r in caplog.records)


def test_a_server_that_stays_away_is_tried_with_back_off(db, server, clock):
    assert _read_as_ann(db) == "ann"
    server.stop()
    with pytest.raises(DatabaseUnavailable, match="lost the connection"):
        _read_as_ann(db)
    with pytest.raises(DatabaseUnavailable, match="Connection refused") as refused:
        _read_as_ann(db)  # the first attempt is made at once …
    assert refused.value.retry_after == 1 and db._backoff.failures == 1
    with pytest.raises(DatabaseUnavailable, match="trying again in 0.5 s"):
        _read_as_ann(db)  # … the next only after the delay: no attempt, an answer at once
    assert db._backoff.failures == 1
    delays = []
    for _ in range(8):
        clock.now += 60
        with pytest.raises(DatabaseUnavailable) as again:
            _read_as_ann(db)
        delays.append(again.value.retry_after)
    assert delays == [1, 2, 4, 8, 16, 30, 30, 30]  # doubling, capped at 30 s
    server.start()
    with pytest.raises(DatabaseUnavailable, match="trying again"):
        _read_as_ann(db)  # still within the last delay
    clock.now += 30
    assert _read_as_ann(db) == "ann"
    assert db._backoff.failures == 0 and db.reconnects == 1


def test_a_connection_lost_inside_a_block_ends_that_block_only(db, server):
    with pytest.raises(DatabaseUnavailable):
        with db.system() as s:
            s.query("UPDATE profile SET bio = 'before' WHERE owner = user:ann")
            server.stop()
            server.start()
            s.query("UPDATE profile SET bio = 'lost' WHERE owner = user:ann")
    with db.system() as s:
        assert s.value("RETURN (SELECT VALUE bio FROM profile WHERE owner = user:ann)[0]") \
            == "before"


@contextmanager
def held_elsewhere(db: Database, username: str = "ann"):
    """A block as ``username`` held open in another thread until the ``with`` ends."""
    inside, release = threading.Event(), threading.Event()

    def hold():
        with db.member(username) as s:
            s.value("RETURN 1")
            inside.set()
            release.wait(10)

    thread = threading.Thread(target=hold)
    thread.start()
    assert inside.wait(10)
    try:
        yield
    finally:
        release.set()
        thread.join()


def test_blocks_in_two_threads_hold_two_connections_at_once(db, server):
    with held_elsewhere(db):
        # While her block holds one connection, the worker's runs on another.
        with db.worker() as s:
            assert s.value("RETURN $access") == "worker"
    assert server.connections == 2
    assert _read_as_ann(db) == "ann"
    with db.system() as s:  # each connection came back to rest after its block
        assert s.value("RETURN $auth") is None


@pytest.mark.embedded
def test_the_embedded_engine_holds_one_block_at_a_time():
    embedded = Database(make_config())
    migrate(embedded, lookup=False)
    with embedded.system() as s:
        s.query("CREATE user:ann SET email = 'ann@example.com', username = 'ann', "
                "display_name = 'Ann', password = 'x', has_password = true")
    order = []
    try:
        with held_elsewhere(embedded):
            waiting = threading.Thread(target=lambda: (embedded.ping(), order.append("ping")))
            waiting.start()
            waiting.join(0.3)
            order.append("released")
        waiting.join(10)
    finally:
        embedded.close()
    assert order == ["released", "ping"]  # the other block waited for the connection


def test_after_a_restart_each_pooled_connection_is_opened_again_before_use(db, server):
    with held_elsewhere(db):
        assert _read_as_ann(db) == "ann"  # two connections open now
    server.stop()
    server.start()
    with pytest.raises(DatabaseUnavailable, match="lost the connection"):
        _read_as_ann(db)  # the one that finds out: 503
    with held_elsewhere(db):  # takes the connection opened again just now …
        # … and this block the other, opened before the loss: opened again, not failed.
        assert _read_as_ann(db) == "ann"
    assert db.reconnects == 2 and server.connections == 4


def test_the_backoff_doubles_with_jitter_and_resets():
    clock = Clock()
    draws = iter([0.0, 1.0, 0.5])
    backoff = Backoff(first=0.5, cap=30.0, clock=clock, jitter=lambda: next(draws))
    assert backoff.wait() == 0
    assert backoff.failed() == 0.25  # half of 0.5 s at the least jitter
    assert backoff.failed() == 1.0  # all of 1 s at the most
    assert backoff.failed() == 1.5  # three quarters of 2 s
    assert backoff.wait() == 1.5
    clock.now += 1.0
    assert backoff.wait() == 0.5
    backoff.succeeded()
    assert backoff.wait() == 0 and backoff.failures == 0


def test_pages_answer_503_with_retry_after_while_the_server_is_away(server, caplog):
    config = make_config(db_url=server.url, db_user="idance", db_pass=OWNER_PASS)
    app = create_app(config)
    app.jinja_env.bytecode_cache = COMPILED_TEMPLATES
    db = app.extensions["idance.db"]
    clock = Clock()
    db._backoff = Backoff(clock=clock, jitter=lambda: 1.0)
    migrate(db, lookup=False)
    client = app.test_client()
    try:
        auth = AuthActions(client)
        assert auth.signup("lena", password="correct horse battery").status_code == 302
        assert client.get("/me/profile").status_code == 200
        server.stop()
        for expected in ("1", "1"):  # the lost connection, then the refused attempt
            page = client.get("/me/profile")
            assert page.status_code == 503 and page.headers["Retry-After"] == expected
            text = page.get_data(as_text=True)
            assert "briefly unavailable" in text and "Try again in 1 second" in text
            assert "ws://" not in text and "refused" not in text  # no database message
        assert client.get("/healthz").status_code == 503
        server.start()
        clock.now += 1
        # Her session survived the outage: the same cookie, signed in, her page.
        page = client.get("/me/profile")
        assert page.status_code == 200 and "Lena" in page.get_data(as_text=True)
        assert client.get("/healthz").status_code == 200
        assert scrape(client)[("idance_db_reconnects_total", ())] == 1
    finally:
        db.close()
