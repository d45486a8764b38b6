"""Who the live stream tells about a chat's changes, and what (services/chat_live.py): decided
by what each member may read, as the database sees her."""

from __future__ import annotations

from surrealdb import RecordID

from idance_web.realtime import Change
from idance_web.services import chat_actions, chat_live, social
from tests.fixtures.chats import adult, group_with, matched_pair


def stored(db, table, rid=None):
    """The change as the hub delivers it: the row as stored, every field."""
    with db.system() as s:
        if rid is not None:
            row = s.one("SELECT * FROM ONLY $r", {"r": rid})
        else:
            row = s.rows(f"SELECT * FROM {table} ORDER BY created_at DESC LIMIT 1")[0]
    return Change(table, str(row["id"]), "update", row)


def test_a_message_goes_to_the_chat_members_only(db, make_user):
    key = matched_pair(db, make_user)
    make_user("cat")
    adult(db, "cat")
    payload, _ = chat_actions.send(db, "ana", key, "Hi *Ben*", "live-key-0001")
    events = chat_live.message_events(stored(db, "message"), db)
    assert sorted(k for k, _, _ in events) == ["ana", "ben"]
    assert all(kind == "message" and body == payload for _, kind, body in events)
    chat_actions.delete(db, "ana", key, payload["id"].split(":")[1])
    deleted = chat_live.message_events(stored(db, "message"), db)
    assert {(b["deleted"], b["html"]) for _, _, b in deleted} == {(True, "")}
    # Blocked by Ana, Ben hears nothing more of the chat.
    social.block(db, "ana", "ben")
    assert [k for k, _, _ in chat_live.message_events(stored(db, "message"), db)] == ["ana"]


def test_read_positions_go_to_the_others_unless_receipts_are_off(db, make_user):
    key = matched_pair(db, make_user)
    chat_actions.send(db, "ana", key, "Seen?", "live-key-0002")
    chat_actions.mark_read(db, "ben", key)
    state = RecordID("chat_state", [RecordID("chat", [RecordID("user", "ana"),
                                                      RecordID("user", "ben")]),
                                    RecordID("user", "ben")])
    events = chat_live.read_events(stored(db, "chat_state", state), db)
    assert [(k, kind) for k, kind, _ in events] == [("ana", "read")]
    assert events[0][2]["member"] == "user:ben"
    assert events[0][2]["chat"] == "chat:[user:ana, user:ben]"
    with db.worker() as s:
        s.query("UPDATE user:ben SET tier = 'vip'")
    chat_actions.set_read_receipts(db, "ben", False)
    assert chat_live.read_events(stored(db, "chat_state", state), db) == []


def test_a_member_who_left_a_group_chat_hears_nothing_after(db, make_user):
    for name in ("gia", "hal", "ivy"):
        make_user(name)
        adult(db, name)
    group_with(db, "gia", ["hal", "ivy"])
    key = chat_actions.open_group_chat(db, "gia", "crew-one")
    chat_actions.leave(db, "ivy", key)
    chat_actions.send(db, "gia", key, "After Ivy left", "live-key-0003")
    assert sorted(k for k, _, _ in chat_live.message_events(stored(db, "message"), db)) == [
        "gia", "hal"]
