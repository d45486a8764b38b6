"""The real-time hub: its running thread, its cursor over the change feed, who starts it."""

from __future__ import annotations

import threading
import time

import pytest
from surrealdb import RecordID

from idance_web import create_app
from idance_web.realtime import Hub
from idance_web.serving import post_worker_init, worker_exit
from tests.fixtures.app import make_config
from tests.fixtures.template import migrate


def collector(hub: Hub, tables):
    """Subscribe to ``tables``; return the list the changes land in and an event per batch."""
    seen: list = []
    arrived = threading.Event()

    def got(changes):
        seen.extend(changes)
        arrived.set()

    hub.subscribe(tables, got)
    return seen, arrived


def wait_for(condition, seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return condition()


def ids(changes) -> set[str]:
    return {c.id for c in changes}


@pytest.fixture
def hub(db):
    hub = Hub(db, interval=0.05, max_interval=0.2)
    yield hub
    hub.stop()


def test_the_thread_sees_another_identitys_write_without_a_wake(hub, db, make_user):
    make_user("alice")
    seen, _ = collector(hub, ["profile"])
    hub.start()
    assert hub.running
    with db.member("alice") as s:  # no wake, no sync: only the thread's polling finds it
        s.query("UPDATE profile SET bio = 'Tango on Sundays' WHERE owner = $me",
                {"me": RecordID("user", "alice")})
    assert wait_for(lambda: any(c.record.get("bio") == "Tango on Sundays" for c in seen), 2.0)
    hub.stop()
    assert not hub.running
    assert not any(t.name == "realtime-hub" for t in threading.enumerate())


def test_it_starts_at_the_present_and_delivers_by_table(hub, db, make_user):
    make_user("alice")  # before the start: not delivered
    profiles, _ = collector(hub, ["profile"])
    users, _ = collector(hub, ["user"])
    hub.start()
    make_user("bob")
    assert wait_for(lambda: "user:bob" in ids(users))
    assert "user:alice" not in ids(users)
    assert all(c.table == "profile" for c in profiles) and profiles
    assert all(c.table == "user" for c in users)


def test_it_survives_a_database_error(hub, db, make_user, caplog):
    make_user("alice")
    seen, _ = collector(hub, ["user"])
    hub.start()
    with db.system() as s:  # the hub's database user is gone: its next sign-in fails
        s.query("REMOVE USER hub ON DATABASE")
    assert wait_for(lambda: "change feed poll failed" in caplog.text)
    assert hub.running
    migrate(db, lookup=False)  # defines the hub user again
    make_user("bob")
    assert wait_for(lambda: "user:bob" in ids(seen))


def test_a_failing_subscriber_does_not_stop_the_others(hub, db, make_user):
    def broken(changes):
        raise ValueError("subscriber bug")

    hub.subscribe(["user"], broken)
    seen, _ = collector(hub, ["user"])
    hub.start()
    make_user("alice")
    assert wait_for(lambda: "user:alice" in ids(seen))
    make_user("bob")
    assert wait_for(lambda: "user:bob" in ids(seen))


def test_a_table_idle_for_thousands_of_changes_still_sees_its_next_one(db, make_user):
    # The engine answers at most 1,000 feed entries a statement: per-table cursors of quiet
    # tables once stalled behind busy ones. One database-wide cursor pages through them.
    make_user("alice")
    hub = Hub(db)
    hub.poll_once()
    profiles, _ = collector(hub, ["profile"])
    users, _ = collector(hub, ["user"])
    with db.system() as s:
        for i in range(1200):  # 1,200 transactions on one table
            s.query("UPDATE user:alice SET display_name = $n", {"n": f"Alice {i}"})
        s.query("UPDATE profile SET bio = 'At last' WHERE owner = user:alice")
    delivered = hub.poll_once()
    assert [c.record.get("bio") for c in profiles] == ["At last"]
    assert sum(1 for c in users if c.id == "user:alice") == 1200
    assert len(delivered) >= 1201
    assert hub.poll_once() == []  # caught up


def test_present_is_found_without_reading_the_feed(db, make_user):
    make_user("alice")
    with db.system() as s:
        for i in range(50):
            s.query("UPDATE user:alice SET display_name = $n", {"n": f"Alice {i}"})
    hub = Hub(db)
    cursor = hub.position_at_present()
    with db.hub() as s:
        assert s.query(f"SHOW CHANGES FOR DATABASE SINCE {cursor} LIMIT 10")[0] == []
        assert s.query(f"SHOW CHANGES FOR DATABASE SINCE {cursor - 1} LIMIT 10")[0] != []
    assert hub.poll_once() == []


def test_building_the_app_and_its_commands_never_start_the_hub(app):
    hub = app.extensions["idance.hub"]
    assert not hub.running
    runner = app.test_cli_runner()
    assert runner.invoke(args=["migrate", "--status"]).exit_code == 0
    assert runner.invoke(args=["demo"]).exit_code == 0
    app.test_client().get("/")
    assert not hub.running
    assert not any(t.name == "realtime-hub" for t in threading.enumerate())


@pytest.mark.parametrize("reload, run_main, started", [
    (False, None, True),  # one process serves
    (True, None, False),  # the reloader's watching parent
    (True, "true", True),  # the reloader's serving child
])
def test_idance_run_starts_the_hub_in_the_serving_process_only(tmp_path, monkeypatch, reload,
                                                               run_main, started):
    import werkzeug.serving

    app = create_app(make_config(db_url=f"surrealkv://{tmp_path / 'idance.db'}",
                                 follow_changes=True))
    migrate(app.extensions["idance.db"], lookup=False)
    hub = app.extensions["idance.hub"]
    seen = {}
    monkeypatch.setattr(werkzeug.serving, "run_simple",
                        lambda *a, **k: seen.setdefault("running", hub.running))
    if run_main:
        monkeypatch.setenv("WERKZEUG_RUN_MAIN", run_main)
    else:
        monkeypatch.delenv("WERKZEUG_RUN_MAIN", raising=False)
    try:
        args = ["run", "--port", "5999"] + (["--reload"] if reload else [])
        result = app.test_cli_runner().invoke(args=args)
        assert result.exit_code == 0, result.output
        assert seen["running"] is started
    finally:
        hub.stop()
        app.extensions["idance.db"].close()


def test_a_gunicorn_worker_runs_the_hub_and_stops_it(app):
    app.config["IDANCE"] = app.config["IDANCE"].with_overrides(follow_changes=True)

    class Worker:
        wsgi = app

    post_worker_init(Worker())
    assert app.extensions["idance.hub"].running
    worker_exit(None, Worker())
    assert not app.extensions["idance.hub"].running


def test_a_hub_never_started_resets_its_subscribers_on_its_first_poll(db, make_user):
    make_user("alice")
    hub = Hub(db)
    resets = []
    seen, _ = collector(hub, ["user"])
    hub.subscribe(["user"], lambda changes: None, on_reset=lambda: resets.append(1))
    assert hub.poll_once() == [] and resets == [1]  # alice came before: not read, but reset
    make_user("bob")
    assert ids(hub.poll_once()) >= {"user:bob"} and resets == [1]
    assert "user:alice" not in ids(seen)


def test_a_page_read_before_a_reset_is_served_but_not_kept():
    from idance_web.page_cache import PageCache

    pages = PageCache()
    read_at = pages.generation
    pages.clear()  # what the hub's reset does while the page is being read
    pages.put(("user", "alice", "home", "today"), b"old", {"user:alice"}, read_at=read_at)
    assert len(pages) == 0
    pages.put(("user", "alice", "home", "today"), b"new", {"user:alice"},
              read_at=pages.generation)
    assert len(pages) == 1
