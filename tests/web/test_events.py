"""``/events``: who receives what, replay after a reconnect, caps, and what ends a stream."""

from __future__ import annotations

import json
import signal

import pytest
from surrealdb import RecordID

from idance_web.serving import post_worker_init, worker_exit
from tests.fixtures.app import make_config
from tests.fixtures.auth import PASSWORD, AuthActions, csrf_token
from tests.fixtures.live import (CHAT, CHAT_TEXT, open_stream, send, signed_in,
                                 trio)  # noqa: F401 - a fixture

pytestmark = pytest.mark.usefixtures("trio")


@pytest.fixture
def config():
    return make_config(stream_heartbeat=0.05)


def messages(events):
    return [e for e in events if e.type == "message"]


def test_visitors_get_401(client):
    response = client.get("/events")
    assert response.status_code == 401
    assert response.mimetype == "text/plain"


def test_the_chat_reaches_its_members_and_nobody_else(app):
    alice, bob, carol = (open_stream(signed_in(app, n)) for n in ("alice", "bob", "carol"))
    for reader in (alice, bob, carol):
        first = reader.until(lambda ev: ev)
        assert first[0].type == "badges" and set(first[0].data) == {"chat", "notifications"}
    message_id = send(app, "alice", "Salsa *tonight*?")

    got = messages(bob.until(lambda ev: messages(ev) and ev[-1].type == "badges"))
    assert len(got) == 1
    assert got[0].data == {
        "id": message_id, "chat": CHAT_TEXT, "author": "user:alice", "author_name": "Alice",
        "html": "<p>Salsa <em>tonight</em>?</p>", "created_at": got[0].data["created_at"],
        "edited": False, "deleted": False}
    assert bob.events[-1].data["chat"] == 1  # her unread count moved
    assert [e.type for e in bob.events].count("notification") == 1
    assert len(messages(alice.until(messages))) == 1  # her own tabs see it too
    carol.until(lambda ev: len(ev) > 1, seconds=1.0)
    assert [e.type for e in carol.events] == ["badges"]
    assert "Salsa" not in carol.raw and "alice" not in carol.raw
    for reader in (alice, bob, carol):
        reader.close()


def test_edits_and_deletions_are_sent_as_they_are(app, db):
    bob = open_stream(signed_in(app, "bob"))
    message_id = send(app, "alice", "Slasa tonight?")
    rid = RecordID("message", message_id.split(":", 1)[1].strip("⟨⟩"))
    with db.member("alice") as s:
        s.query("UPDATE $m SET body = 'Salsa tonight?', edited_at = time::now()", {"m": rid})
    app.extensions["idance.hub"].sync()
    with db.member("alice") as s:
        s.query("UPDATE $m SET deleted_at = time::now()", {"m": rid})
    app.extensions["idance.hub"].sync()
    got = messages(bob.until(lambda ev: len(messages(ev)) >= 3 and ev[-1].type == "badges"))
    seen = [(m.data["html"], m.data["edited"], m.data["deleted"]) for m in got]
    # (A write may touch the row twice, as the chat's deletion does: the same state again.)
    assert [x for i, x in enumerate(seen) if i == 0 or seen[i - 1] != x] == [
        ("<p>Slasa tonight?</p>", False, False), ("<p>Salsa tonight?</p>", True, False),
        ("", False, True)]
    bob.close()


def test_a_body_cannot_forge_an_event(app):
    bob = open_stream(signed_in(app, "bob"))
    body = "\n\nevent: admin\ndata: x\r\n\r\nid: 9-9\n</script><img src=x onerror=alert(1)>"
    send(app, "alice", body)
    bob.until(lambda ev: messages(ev) and ev[-1].type == "badges")
    bob.close()
    (chunk,) = [c for c in bob.raw.split("\n\n") if "event: message" in c]
    lines = chunk.split("\n")
    assert [line.split(":")[0] for line in lines] == ["id", "event", "data"]
    assert "\r" not in bob.raw and "event: admin" in lines[2]  # inside the JSON, escaped
    forged = [ln for ln in bob.raw.split("\n") if ln.startswith(("event: admin", "data: x"))]
    assert not forged
    assert {"badges", "message", "notification"} <= {e.type for e in bob.events} <= {
        "badges", "message", "notification", "read"}
    html = json.loads(lines[2][len("data: "):])["html"]
    assert "<img" not in html and "<script" not in html.lower()
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


def test_a_reconnect_gets_what_it_missed_once_and_in_order(app):
    bob_client = signed_in(app, "bob")
    bob = open_stream(bob_client)
    send(app, "alice", "one")
    bob.until(lambda ev: messages(ev) and ev[-1].type == "badges")
    last_id = bob.events[-1].id
    assert last_id == bob.events[-2].id  # the counts stand where the last event left her
    bob.close()

    carol_client = signed_in(app, "carol")
    carol = open_stream(carol_client)
    carol_id = carol.until(lambda ev: ev)[0].id
    carol.close()

    for n in ("two", "three", "four"):
        send(app, "alice" if n != "three" else "bob", n)
    again = open_stream(bob_client, last_id)
    events = again.until(lambda ev: ev and ev[-1].type == "badges")
    assert [e.data["html"] for e in messages(events)] == ["<p>two</p>", "<p>three</p>",
                                                          "<p>four</p>"]
    ids = [e.id for e in events]
    assert len(set(ids[:-1])) == len(ids) - 1 and ids[-1] == ids[-2]
    send(app, "alice", "five")  # and then live again, nothing doubled
    events = again.until(lambda ev: len(messages(ev)) == 4)
    assert [e.data["html"] for e in messages(events)] == [
        "<p>two</p>", "<p>three</p>", "<p>four</p>", "<p>five</p>"]
    again.close()

    # Carol replays the same stretch of the feed and finds nothing of their chat.
    replayed = open_stream(carol_client, carol_id)
    events = replayed.until(lambda ev: ev and ev[-1].type == "badges")
    assert [e.type for e in events] == ["badges"]
    replayed.close()


@pytest.mark.parametrize("last_id", ["0-0", "not-an-id", "12", "-1-0", "1" * 40 + "-0",
                                     "99999999-0"])
def test_a_position_the_feed_no_longer_holds_asks_for_a_reload(app, last_id):
    bob = open_stream(signed_in(app, "bob"), last_id)
    events = bob.until(lambda ev: len(ev) >= 2)
    assert [e.type for e in events] == ["reload", "badges"]
    bob.close()


def test_a_member_may_open_five_streams(app):
    client = signed_in(app, "bob")
    live = app.extensions["idance.live"]
    readers = [open_stream(client) for _ in range(5)]
    refused = client.get("/events")
    assert refused.status_code == 429 and refused.headers["Retry-After"]
    assert "Too many live connections" in refused.get_data(as_text=True)
    assert open_stream(signed_in(app, "alice")).until(lambda ev: ev)  # others still may
    readers.pop().close()
    assert live.count() == 5
    readers.append(open_stream(client))
    for reader in readers:
        reader.close()


def test_signing_out_ends_that_sessions_streams(app):
    client, other = signed_in(app, "bob"), signed_in(app, "bob")
    mine, theirs = open_stream(client), open_stream(other)
    mine.until(lambda ev: ev)
    AuthActions(client).logout()
    assert mine.ends()
    assert not theirs.ends(0.3)  # another session of hers goes on
    theirs.close()


def test_a_password_change_ends_the_other_sessions_streams(app):
    client, other = signed_in(app, "bob"), signed_in(app, "bob")
    mine, theirs = open_stream(client), open_stream(other)
    response = client.post("/me/settings/password", data={
        "pw-current_password": PASSWORD, "pw-new_password": "a brand new password",
        "pw-csrf_token": csrf_token(client, "/me/settings")})
    assert response.status_code in (200, 302)
    assert theirs.ends()
    assert not mine.ends(0.3)
    mine.close()


def test_deleting_the_account_ends_every_stream(app, db):
    client = signed_in(app, "bob")
    reader = open_stream(client)
    reader.until(lambda ev: ev)
    with db.member("bob") as s:
        s.query("UPDATE $me SET deleted_at = time::now()", {"me": RecordID("user", "bob")})
    app.extensions["idance.hub"].sync()
    assert reader.ends()
    assert client.get("/events").status_code == 401


def test_signed_in_pages_carry_the_live_script(app, client):
    assert b"js/live.js" not in client.get("/").data
    assert b"js/live.js" in signed_in(app, "bob").get("/me").data


def test_open_streams_keep_the_hub_polling_briskly(app, db):
    """Another process's message (a write this process does not sync) arrives within the
    hub's base interval while streams are open, however long the feed was quiet."""
    hub = app.extensions["idance.hub"]
    hub.interval, hub.max_interval = 0.05, 5.0
    bob = open_stream(signed_in(app, "bob"))
    hub.start()
    try:
        assert hub.brisk
        bob.until(lambda ev: False, seconds=1.5)  # quiet: idle, the interval would reach 1.6 s
        with db.member("alice") as s:
            s.query("CREATE message SET chat = $chat, author = user:alice, body = 'psst'",
                    {"chat": CHAT})
        assert messages(bob.until(messages, seconds=0.5))
    finally:
        hub.stop()
        bob.close()
    assert not hub.brisk


def test_a_stopping_worker_ends_its_streams(app):
    """gunicorn's graceful stop (SIGTERM) ends the streams at once: each holds a thread."""
    previous = signal.getsignal(signal.SIGTERM)
    stopped = []

    class Worker:
        wsgi = app

        def handle_exit(self, sig, frame):
            stopped.append(sig)

    bob = open_stream(signed_in(app, "bob"))
    bob.until(lambda ev: ev)
    try:
        post_worker_init(Worker())
        signal.getsignal(signal.SIGTERM)(signal.SIGTERM, None)
        assert stopped == [signal.SIGTERM]
        assert bob.ends()
    finally:
        signal.signal(signal.SIGTERM, previous)
        worker_exit(None, Worker())


def test_the_stream_sends_what_the_chat_answers_its_sender(app):
    bob = open_stream(signed_in(app, "bob"))
    alice = signed_in(app, "alice")
    sent = alice.post("/chat/alice.bob/messages",
                      json={"body": "Hola *Bob*", "idempotency_key": "hola-bob-0001"},
                      headers={"X-CSRFToken": csrf_token(alice, "/chat/alice.bob")})
    assert sent.status_code == 201
    (got,) = messages(bob.until(messages))  # on her stream before the POST answered
    assert got.data == sent.get_json()
    bob.close()


def test_read_receipts_reach_the_chat_only_while_shared(app, db):
    alice, carol = open_stream(signed_in(app, "alice")), open_stream(signed_in(app, "carol"))
    bob = signed_in(app, "bob")

    def read():
        response = bob.post("/chat/alice.bob/read", headers={"Accept": "application/json"},
                            data={"csrf_token": csrf_token(bob, "/chat/alice.bob")})
        assert response.status_code == 200

    def bobs_reads(events):
        return [e for e in events if e.type == "read" and e.data["member"] == "user:bob"]

    send(app, "alice", "Salsa tonight?")
    read()
    (receipt,) = bobs_reads(alice.until(bobs_reads))
    assert receipt.data["chat"] == CHAT_TEXT and receipt.data["read_at"]

    with db.system() as s:  # a VIP member turns her read receipts off
        s.query("UPDATE user:bob SET tier = 'vip'; UPDATE user:bob SET read_receipts = false")
    app.extensions["idance.hub"].sync()
    send(app, "alice", "Still there?")
    read()
    alice.until(lambda ev: len(messages(ev)) == 2 and ev[-1].type == "badges")
    alice.until(lambda ev: False, seconds=0.5)
    assert len(bobs_reads(alice.events)) == 1
    carol.until(lambda ev: False, seconds=0.3)
    assert [e.type for e in carol.events] == ["badges"]
    alice.close()
    carol.close()
