"""Likes, matches, comments and blocks: the rules the database enforces between members."""

from __future__ import annotations

import threading

import pytest
from surrealdb import RecordID

from idance_web.db import DatabaseError
from idance_web.errors import AppError

ALICE, BOB = RecordID("user", "alice"), RecordID("user", "bob")
PAIR = {"pair": [ALICE, BOB]}


@pytest.fixture
def people(db):
    with db.system() as s:
        s.query("""
            CREATE user:alice SET email = 'alice@example.com', username = 'alice', display_name = 'Alice';
            CREATE user:bob SET email = 'bob@example.com', username = 'bob', display_name = 'Bob';
            CREATE profile SET owner = user:alice, birth_date = d'1990-01-01';
            CREATE profile SET owner = user:bob, birth_date = d'1991-01-01';
            CREATE vlog:pub SET owner = user:alice, author = user:alice, title = 'Public', published_at = time::now();
            CREATE vlog:priv SET owner = user:alice, author = user:alice, title = 'Private',
                visibility = 'private', published_at = time::now();
        """)
    return db


def like(db, who, whom):
    with db.member(who) as s:
        s.query("RELATE $a->swipe->$b SET direction = 'like'",
                {"a": RecordID("user", who), "b": RecordID("user", whom)})


def attempt(db, who, sql, vars=None):
    """Run as ``who``; return the rows made or changed ([] when refused)."""
    try:
        with db.member(who) as s:
            return s.rows(sql, vars or {})
    except (AppError, DatabaseError):
        return []


def test_a_mutual_like_makes_one_match_with_its_chat(people):
    like(people, "alice", "bob")
    with people.system() as s:
        assert s.value("RETURN count(SELECT id FROM match)") == 0
    like(people, "bob", "alice")
    with people.member("bob") as s:
        match = s.one("SELECT * FROM match")
        chat = s.one("SELECT * FROM chat")
        notes = s.value("SELECT VALUE kind FROM notification")
    assert match["users"] == [ALICE, BOB] and match["chat"] == chat["id"]
    assert chat["match"] == match["id"] and chat["members"] == [ALICE, BOB]
    assert notes == ["match"]


def test_racing_mutual_likes_make_exactly_one_match(db):
    with db.system() as s:
        for i in range(20):
            s.query("CREATE type::thing('user', $k) SET email = $k + '@example.com', username = $k,"
                    " display_name = $k; CREATE profile SET owner = type::thing('user', $k), "
                    "birth_date = d'1990-01-01'", {"k": f"m{i:02d}"})
    errors = []

    def go(a, b):
        try:
            like(db, a, b)
        except (AppError, DatabaseError) as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=go, args=(f"m{i:02d}", f"m{i + 1:02d}")) for i in range(0, 20, 2)]
    threads += [threading.Thread(target=go, args=(f"m{i + 1:02d}", f"m{i:02d}")) for i in range(0, 20, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with db.system() as s:
        assert s.value("RETURN count(SELECT id FROM match)") == 10
        assert s.value("RETURN count(SELECT id FROM chat)") == 10
    assert errors == []


def test_nobody_comments_on_or_likes_what_they_cannot_see(people):
    assert attempt(people, "bob", "CREATE comments SET target = vlog:priv, author = user:bob, body = 'hi'") == []
    assert attempt(people, "bob", "RELATE user:bob->vlog_like->vlog:priv") == []
    assert attempt(people, "bob", "CREATE comments SET target = vlog:pub, author = user:bob, body = 'nice'")
    with people.system() as s:
        s.query("CREATE comments:hidden SET target = vlog:priv, author = user:alice, body = 'note'")
        assert s.value("RETURN vlog:priv.comment_count") == 1
    with people.visitor() as s:
        assert s.rows("SELECT id FROM comments WHERE target = vlog:priv") == []
        assert len(s.rows("SELECT id FROM comments WHERE target = vlog:pub")) == 1


def test_the_vlog_owner_hides_a_comment_but_never_rewrites_it(people):
    attempt(people, "bob", "CREATE comments:c SET target = vlog:pub, author = user:bob, body = 'mine'")
    attempt(people, "alice", "UPDATE comments:c SET body = 'put words in his mouth'")
    attempt(people, "alice", "UPDATE comments:c SET deleted_at = time::now()")
    with people.system() as s:
        row = s.one("SELECT body, deleted_at FROM ONLY comments:c")
    assert row["body"] == "mine" and row["deleted_at"] is not None


def test_an_unmatch_is_for_good_and_a_chat_keeps_its_kind(people):
    like(people, "alice", "bob")
    like(people, "bob", "alice")
    match, chat = RecordID("match", [ALICE, BOB]), RecordID("chat", [ALICE, BOB])
    attempt(people, "alice", "UPDATE $m SET deleted_at = time::now(); UPDATE $c SET deleted_at = time::now()",
            {"m": match, "c": chat})
    attempt(people, "bob", "UPDATE $m SET deleted_at = NONE; UPDATE $c SET deleted_at = NONE, kind = 'group'",
            {"m": match, "c": chat})
    with people.system() as s:
        m, c = s.query("SELECT * FROM ONLY $m; SELECT * FROM ONLY $c", {"m": match, "c": chat})
    assert m["deleted_at"] is not None and c["deleted_at"] is not None and c["kind"] == "direct"


def test_a_block_ends_the_match_and_stops_messages_follows_and_likes(people):
    like(people, "alice", "bob")
    like(people, "bob", "alice")
    chat = RecordID("chat", [ALICE, BOB])
    assert attempt(people, "bob", "CREATE message SET chat = $c, author = user:bob, body = 'hey'", {"c": chat})
    attempt(people, "bob", "RELATE user:bob->follow->user:alice")
    assert attempt(people, "alice", "RELATE user:alice->block->user:bob")
    with people.system() as s:
        assert s.value("RETURN $c.deleted_at", {"c": chat}) is not None
        assert s.value("RETURN count(SELECT id FROM follow WHERE deleted_at = NONE)") == 0
    assert attempt(people, "bob", "CREATE message SET chat = $c, author = user:bob, body = 'hey?'", {"c": chat}) == []
    assert attempt(people, "bob", "RELATE user:bob->follow->user:alice") == []
    assert attempt(people, "alice", "RELATE user:alice->follow->user:bob") == []
    with people.system() as s:
        assert s.value("RETURN count(SELECT id FROM message)") == 1


def test_a_revoked_session_stays_revoked(people):
    with people.member("alice") as s:
        s.query("CREATE user_session:s1 SET user = user:alice, method = 'password'")
        s.query("UPDATE user_session:s1 SET revoked_at = time::now()")
        s.query("UPDATE user_session:s1 SET revoked_at = NONE")
    with people.system() as s:
        assert s.value("RETURN user_session:s1.revoked_at") is not None
