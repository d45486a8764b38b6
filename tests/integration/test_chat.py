"""Chat on the real engine: read state, sending, editing and deleting, and who may do what
(migration 0019 and services/chat*.py), each checked as the member the database sees."""

from __future__ import annotations

import pytest
from surrealdb import RecordID

from idance_web.errors import Invalid, NotAllowed, NotFound, Refused
from idance_web.services import chat, chat_actions, social
from tests.fixtures.chats import adult, group_with, join, matched_pair, user_id


def key_of_user(db, name):
    return str(user_id(db, name).id)


def send(db, who, key, body, idem=None):
    """Send as ``who``; a fresh key unless one is given."""
    send.n = getattr(send, "n", 0) + 1
    return chat_actions.send(db, key_of_user(db, who), key, body, idem or f"key-{send.n:06d}")


@pytest.fixture
def pair(db, make_user):
    make_user("cat")
    adult(db, "cat")
    return matched_pair(db, make_user)


def me(db, name):
    return key_of_user(db, name)


def test_a_match_opens_a_chat_with_a_read_state_for_each(db, pair):
    with db.system() as s:
        states = s.query("SELECT member.username AS who, read_at, shared_read_at, muted, left_at "
                         "FROM chat_state ORDER BY who")[0]
    assert [r["who"] for r in states] == ["ana", "ben"]
    assert all(r["read_at"] and r["shared_read_at"] == r["read_at"] and r["muted"] is False
               and r["left_at"] is None for r in states)
    assert [c["key"] for c in chat.list_chats(db, me(db, "ana"))] == [pair]


def test_messages_unread_counts_read_state_and_seen(db, pair):
    first, new = send(db, "ana", pair, "Hello *Ben*")
    assert new and first["html"] == "<p>Hello <em>Ben</em></p>" and first["author_name"] == "Ana"
    send(db, "ana", pair, "Dance on Friday?")
    ben, ana = me(db, "ben"), me(db, "ana")
    assert chat.unread_total(db, ben) == 2 and chat.unread_total(db, ana) == 0
    listed = chat.list_chats(db, ben)[0]
    assert listed["unread"] == 2 and listed["preview"] == "Dance on Friday?"
    assert listed["title"] == "Ana"
    # Reading up to the first message leaves one unread; never backward.
    chat_actions.mark_read(db, ben, pair, first["id"].split(":")[1])
    assert chat.unread_total(db, ben) == 1
    chat_actions.mark_read(db, ben, pair)
    assert chat.unread_total(db, ben) == 0
    chat_actions.mark_read(db, ben, pair, first["id"].split(":")[1])
    assert chat.unread_total(db, ben) == 0
    seen = [m for m in chat.thread(db, ana, pair)["messages"] if m["show_seen"]]
    assert [m["html"] for m in seen] == ["<p>Dance on Friday?</p>"]
    assert seen[0]["seen_by"] == ["Ben"]
    # Her own message does not count for her, and moves her read position.
    send(db, "ben", pair, "Yes!")
    assert chat.unread_total(db, ben) == 0 and chat.unread_total(db, ana) == 1


def test_one_idempotency_key_makes_one_message(db, pair):
    a, new_a = send(db, "ana", pair, "Once", "retry-key-1")
    b, new_b = send(db, "ana", pair, "Once", "retry-key-1")
    assert new_a and not new_b and a["id"] == b["id"]
    with db.system() as s:
        assert s.value("RETURN count(SELECT id FROM message)") == 1


@pytest.mark.parametrize("body, key, field", [
    ("", "good-key-1", "body"), ("   \n\t ", "good-key-1", "body"),
    ("x" * 4001, "good-key-1", "body"), ("a\x00b", "good-key-1", "body"),
    ("\ud800", "good-key-1", "body"), ("hello", "short", "idempotency_key"),
    ("hello", "bad key with spaces", "idempotency_key"), ("hello", None, "idempotency_key"),
    ("hello", "k" * 65, "idempotency_key"),
    ("hello", "message:1;DELETE message", "idempotency_key"),
])
def test_bad_input_is_refused_by_name_before_the_database(db, pair, body, key, field):
    with pytest.raises(Invalid) as caught:
        chat_actions.send(db, me(db, "ana"), pair, body, key)
    assert list(caught.value.fields) == [field]


def test_the_longest_message_and_literal_text(db, pair):
    payload, _ = send(db, "ana", pair, "y" * 4000)
    assert len(payload["html"]) > 4000
    hostile, _ = send(db, "ana", pair, "</script><img src=x onerror=alert(1)> ' OR true --")
    assert "<img" not in hostile["html"] and "&lt;img" in hostile["html"]


def test_a_third_member_reads_and_writes_nothing(db, pair):
    send(db, "ana", pair, "Private")
    cat = me(db, "cat")
    assert chat.list_chats(db, cat) == [] and chat.unread_total(db, cat) == 0
    with pytest.raises(NotFound):
        chat.thread(db, cat, pair)
    with pytest.raises(NotFound):
        send(db, "cat", pair, "Let me in")
    chat_id = chat.chat_record(pair)
    with db.member(cat) as s:
        seen = s.query("SELECT * FROM chat; SELECT * FROM message; SELECT * FROM chat_state;"
                       "CREATE message SET chat = $c, author = $me, body = 'x';"
                       "UPDATE chat_state SET read_at = time::now(), muted = true;",
                       {"c": chat_id, "me": RecordID("user", cat)})
    assert seen == [[], [], [], [], []]
    with db.system() as s:
        assert s.value("RETURN count(SELECT id FROM message)") == 1
    assert chat_actions.mark_read(db, cat, pair) is None
    with pytest.raises(NotFound):
        chat_actions.set_muted(db, cat, pair, True)


def test_edit_own_within_the_window_and_the_database_keeps_the_clock(db, pair):
    m, _ = send(db, "ana", pair, "Helo")
    key = m["id"].split(":")[1]
    edited = chat_actions.edit(db, me(db, "ana"), pair, key, "Hello")
    assert edited["edited"] and edited["html"] == "<p>Hello</p>"
    assert chat.list_chats(db, me(db, "ben"))[0]["preview"] == "Hello"
    with pytest.raises(NotAllowed):
        chat_actions.edit(db, me(db, "ben"), pair, key, "Hijacked")
    with pytest.raises(NotFound):
        chat_actions.edit(db, me(db, "cat"), pair, key, "Hijacked")
    # The database refuses a late edit on its own clock, whatever the app thinks.
    with db.system() as s:
        s.query("DEFINE FUNCTION OVERWRITE fn::edit_window() { RETURN 0s; } PERMISSIONS FULL")
    with pytest.raises(Refused):
        chat_actions.edit(db, me(db, "ana"), pair, key, "Too late")
    with db.system() as s:
        assert s.value("SELECT VALUE body FROM ONLY $m", {"m": RecordID("message", key)}) == "Hello"


def test_delete_own_keeps_the_row_and_drops_the_text(db, pair):
    m, _ = send(db, "ana", pair, "Oops, wrong chat")
    key = m["id"].split(":")[1]
    with pytest.raises(NotAllowed):
        chat_actions.delete(db, me(db, "ben"), pair, key)
    gone = chat_actions.delete(db, me(db, "ana"), pair, key)
    assert gone["deleted"] and gone["html"] == ""
    shown = chat.thread(db, me(db, "ben"), pair)["messages"]
    assert [(x["deleted"], x["html"]) for x in shown] == [(True, "")]
    with db.system() as s:
        row = s.one("SELECT body, deleted_at FROM ONLY $m", {"m": RecordID("message", key)})
        preview = s.value("SELECT VALUE last_message_preview FROM chat")[0]
    assert row["body"] is None and row["deleted_at"] is not None and preview is None
    assert chat.unread_total(db, me(db, "ben")) == 0  # a deleted message is not unread
    with pytest.raises(Refused):
        chat_actions.edit(db, me(db, "ana"), pair, key, "Back")
    with db.member(me(db, "ana")) as s:  # no undelete either
        s.query("UPDATE $m SET deleted_at = NONE", {"m": RecordID("message", key)})
    assert chat.thread(db, me(db, "ana"), pair)["messages"][0]["deleted"]


def test_unmatched_and_blocked_members_cannot_send_and_are_told_why(db, pair, make_user):
    send(db, "ana", pair, "Before")
    social.unmatch(db, me(db, "ben"), pair)
    assert "no longer matched" in chat.thread(db, me(db, "ana"), pair)["reason"]
    with pytest.raises(Refused) as caught:
        send(db, "ana", pair, "After")
    assert caught.value.status == 403 and "no longer matched" in caught.value.reason
    assert chat.list_chats(db, me(db, "ana"))[0]["ended"]

    make_user("dan")
    adult(db, "dan")
    from tests.fixtures.chats import match
    other = match(db, "ana", "dan")
    send(db, "dan", other, "Hi Ana")
    social.block(db, me(db, "ana"), "dan")
    # The blocker still sees the history, with the reason; the blocked member sees nothing.
    assert chat.thread(db, me(db, "ana"), other)["reason"].startswith("You blocked Dan")
    with pytest.raises(NotFound):
        chat.thread(db, me(db, "dan"), other)
    assert [c["key"] for c in chat.list_chats(db, me(db, "dan"))] == []
    with pytest.raises(NotFound):
        send(db, "dan", other, "Hello?")


def test_a_group_chat_follows_the_group_and_only_managers_open_it(db, make_user):
    for name in ("gia", "hal", "ivy", "joe"):
        make_user(name)
        adult(db, name)
    make_user("kid")
    adult(db, "kid", None)  # no date of birth: no chat
    group = group_with(db, "gia", ["hal", "kid"])
    with pytest.raises(NotAllowed):
        chat_actions.open_group_chat(db, me(db, "hal"), "crew-one")
    key = chat_actions.open_group_chat(db, me(db, "gia"), "crew-one")
    assert chat_actions.open_group_chat(db, me(db, "gia"), "crew-one") == key
    assert key == group.id

    def members():
        with db.system() as s:
            return sorted(s.value("SELECT VALUE members.username FROM ONLY $c",
                                  {"c": chat.chat_record(key)}))

    assert members() == ["gia", "hal"]  # not the minor
    with pytest.raises(NotFound):
        chat.thread(db, me(db, "kid"), key)
    join(db, "ivy", group)
    assert members() == ["gia", "hal", "ivy"]
    send(db, "ivy", key, "Hi crew")
    assert chat.unread_total(db, me(db, "gia")) == 1
    # Members never change by hand, nor does anyone open a second chat for the group.
    gia = user_id(db, "gia")
    with db.member(gia.id) as s:
        s.query("UPDATE $c SET members = [$me]", {"c": chat.chat_record(key), "me": gia})
    assert members() == ["gia", "hal", "ivy"]
    with pytest.raises(NotFound):
        chat.thread(db, me(db, "joe"), key)
    # Leaving the group takes her out; she reads nothing more.
    ivy = user_id(db, "ivy")
    with db.member(ivy.id) as s:
        s.query("UPDATE group_member SET deleted_at = time::now() WHERE user = $me", {"me": ivy})
    assert members() == ["gia", "hal"]
    with pytest.raises(NotFound):
        chat.thread(db, me(db, "ivy"), key)
    assert chat.thread(db, me(db, "gia"), key)["title"] == "Crew One"


@pytest.fixture
def crew(db, make_user):
    """Gia owns a group, Hal is in it, and Gia opened its chat; the chat's key."""
    for name in ("gia", "hal"):
        make_user(name)
        adult(db, name)
    group_with(db, "gia", ["hal"])
    return chat_actions.open_group_chat(db, me(db, "gia"), "crew-one")


def test_leaving_a_group_chat_stops_sending_and_reading_what_follows(db, make_user, crew):
    key = crew
    send(db, "gia", key, "Before you left")
    hal = me(db, "hal")
    chat_actions.leave(db, hal, key)
    send(db, "gia", key, "After you left")
    view = chat.thread(db, hal, key)
    assert [m["html"] for m in view["messages"]] == ["<p>Before you left</p>"]
    assert view["reason"] == "You left this chat."
    with pytest.raises(Refused):
        send(db, "hal", key, "Still here?")
    assert chat.unread_total(db, hal) == 0 and chat.list_chats(db, hal)[0]["left"]
    chat_actions.rejoin(db, hal, key)
    send(db, "hal", key, "Back")
    # A direct chat cannot be left.
    make_user("ivy")
    adult(db, "ivy")
    from tests.fixtures.chats import match
    with pytest.raises(Refused):
        chat_actions.leave(db, hal, match(db, "hal", "ivy"))


def test_muted_chats_keep_their_count_but_leave_the_badge(db, pair):
    send(db, "ana", pair, "One")
    ben = me(db, "ben")
    chat_actions.set_muted(db, ben, pair, True)
    assert chat.unread_total(db, ben) == 0
    listed = chat.list_chats(db, ben)[0]
    assert listed["muted"] and listed["unread"] == 1
    chat_actions.set_muted(db, ben, pair, False)
    assert chat.unread_total(db, ben) == 1


def test_read_receipts_off_is_for_vip_and_hides_her_position(db, pair):
    ben = me(db, "ben")
    with pytest.raises(Refused):
        chat_actions.set_read_receipts(db, ben, False)
    ben_id = user_id(db, "ben")
    with db.worker() as s:
        s.query("UPDATE $u SET tier = 'vip'", {"u": ben_id})
    chat_actions.set_read_receipts(db, ben, False)
    assert chat_actions.read_receipts(db, ben) is False
    send(db, "ana", pair, "Seen?")
    chat_actions.mark_read(db, ben, pair)
    view = chat.thread(db, me(db, "ana"), pair)
    assert not any(m["show_seen"] for m in view["messages"])
    with db.member(me(db, "ana")) as s:
        shared = s.value("SELECT VALUE shared_read_at FROM chat_state WHERE member = $b",
                         {"b": ben_id})
        private = s.value("SELECT VALUE read_at FROM chat_state WHERE member = $b",
                          {"b": ben_id})
    assert shared == [None] and private == [None]
    # No longer VIP: her reading is shared again.
    with db.worker() as s:
        s.query("UPDATE $u SET tier = 'free'", {"u": ben_id})
    assert any(m["show_seen"] for m in chat.thread(db, me(db, "ana"), pair)["messages"])


def test_history_pages_upward_from_a_cursor_without_gaps(db, pair):
    bodies = [f"m{i:02d}" for i in range(25)]
    for body in bodies:
        send(db, "ana", pair, body)
    seen, before = [], None
    while True:
        page = chat.thread(db, me(db, "ben"), pair, before=before, limit=10)
        seen = [m["html"][3:-4] for m in page["messages"]] + seen
        before = page["older"]
        if before is None:
            break
    assert seen == bodies
    for bad in ("../x", "1:2", "9" * 19 + ":a b"):
        with pytest.raises(NotFound):
            chat.thread(db, me(db, "ben"), pair, before=bad)


def test_history_and_unread_counts_read_one_index_range(db, pair):
    send(db, "ana", pair, "x")
    ben_id = user_id(db, "ben")
    with db.member(ben_id.id) as s:
        plans = s.query(
            """LET $p = string::concat(<string> $c, '|');
               SELECT id, history_key FROM message WHERE history_key > $p AND history_key < $p + "~"
                   ORDER BY history_key LIMIT 30 EXPLAIN;
               SELECT id FROM chat WHERE members CONTAINS $me EXPLAIN;
               SELECT id FROM chat_state WHERE member = $me EXPLAIN;""",
            {"c": chat.chat_record(pair), "me": ben_id})[1:]
    for plan in plans:
        assert plan[0]["operation"] == "Iterate Index", plan


def test_record_names_match_the_engine(db):
    ids = [RecordID("chat", [RecordID("user", k), RecordID("user", "zz")])
           for k in ("abc", "7abc", "a-b", "123", "a_b", "Ab9")]
    with db.system() as s:
        engine = s.value("RETURN $ids.map(|$i| <string> $i)", {"ids": ids})
    assert [chat.ref(i) for i in ids] == engine
    assert chat.chat_record(chat.chat_key(ids[2])) == RecordID("chat", [
        RecordID("user", "a-b"), RecordID("user", "zz")])
    for bad in ("", "a.b.c", "a.a", "a b", "x/y", "⟨x⟩"):
        with pytest.raises(NotFound):
            chat.chat_record(bad)


def test_a_deleted_account_leaves_deleted_messages_in_a_group(db, crew):
    key = crew
    send(db, "hal", key, "My address is …")
    hal = user_id(db, "hal")
    with db.system() as s:
        s.query("UPDATE $u SET deleted_at = time::now()", {"u": hal})
        body = s.value("SELECT VALUE body FROM message")
    assert body == [None]
    assert [m["deleted"] for m in chat.thread(db, me(db, "gia"), key)["messages"]] == [True]

