"""The permission matrix, asserted against the database itself (not through views).

Alice owns one row (or more) in every table; Bob is another member; Carol shares a chat and a
match with Alice. For each table: what the visitor, Alice (the owner), Bob (another member) and
the worker can select, update, delete and create.
"""

from __future__ import annotations

import re

import pytest
from surrealdb import RecordID

from idance_web.db import DatabaseError
from idance_web.errors import AppError

WHO = ("visitor", "owner", "other", "worker")

WORLD = """
CREATE user:alice SET email = 'alice@example.com', username = 'alice', display_name = 'Alice', password = 'h';
CREATE user:bob SET email = 'bob@example.com', username = 'bob', display_name = 'Bob', password = 'h';
CREATE user:carol SET email = 'carol@example.com', username = 'carol', display_name = 'Carol', password = 'h';
CREATE profile:alice SET owner = user:alice, bio = 'hi', birth_date = d'1990-04-01',
    measurements = { waist: 70 }, exact_point = (13.4, 52.5), location = [0.1, 0.2, 0.97];
CREATE profile:bob SET owner = user:bob;
CREATE profile:carol SET owner = user:carol, birth_date = d'1985-01-01';
CREATE device:alice SET owner = user:alice, kind = 'web_push', endpoint = 'https://push.example/1', keys = { p256dh: 'k' };
CREATE county:c1 SET fips = '00001', name = 'Test County';
RELATE user:alice->follow->user:bob SET id = follow:ab;
RELATE user:alice->swipe->user:bob SET id = swipe:ab, direction = 'like';
RELATE user:alice->user_dance_style->dance_style:salsa SET id = user_dance_style:a, level = 'advanced', role = 'lead';
RELATE user:alice->user_interest->interest:festivals SET id = user_interest:a;
CREATE user:dave SET email = 'dave@example.com', username = 'dave', display_name = 'Dave', password = 'h';
RELATE user:alice->block->user:dave SET id = block:ab;
CREATE chat:ac SET members = [user:alice, user:carol];
CREATE match:ac SET users = [user:alice, user:carol], chat = chat:ac;
CREATE message:a1 SET chat = chat:ac, author = user:alice, body = 'hello carol';
CREATE vlog:pub SET owner = user:alice, author = user:alice, title = 'Public', published_at = time::now();
CREATE vlog:priv SET owner = user:alice, author = user:alice, title = 'Private', visibility = 'private', published_at = time::now();
CREATE vlog:draft SET owner = user:alice, author = user:alice, title = 'Unpublished';
CREATE comments:a1 SET target = vlog:pub, author = user:alice, body = 'nice';
RELATE user:alice->vlog_like->vlog:pub SET id = vlog_like:a;
CREATE notification:a1 SET recipient = user:alice, kind = 'system', text = 'welcome';
CREATE group:g SET slug = 'salsa-lab', name = 'Salsa Lab', kind = 'studio', created_by = user:alice;
CREATE group:g2 SET slug = 'crew-two', name = 'Crew Two', kind = 'crew', created_by = user:alice;
CREATE group_member:invited SET group = group:g, user = user:carol, role = 'invited', invited_by = user:alice;
CREATE site:alice SET owner = user:alice, draft = { theme: 'rose' }, published = { theme: 'rose' }, published_version = 1;
CREATE site:g SET owner = group:g, draft = { theme: 'ink' };
CREATE content_block:pub SET site = site:alice, stage = 'published', page = 'home', kind = 'text', position = 1, data = { text: 'hi' };
CREATE content_block:hidden SET site = site:alice, stage = 'published', page = 'home', kind = 'text', position = 2, hidden = true;
CREATE content_block:draft SET site = site:alice, stage = 'draft', page = 'home', kind = 'text', position = 1;
CREATE content_block:gdraft SET site = site:g, stage = 'draft', page = 'home', kind = 'text', position = 1;
CREATE oauth_identity:a SET provider = 'google', subject = 'g-123', user = user:alice, email = 'alice@example.com';
CREATE audit_log:a SET actor = user:alice, action = 'test', subject = user:alice;
"""

# row → who can select it (visitor, owner=alice, other=bob, worker)
SELECT = {
    "user:alice": (1, 1, 1, 1),
    "profile:alice": (1, 1, 1, 1),
    "device:alice": (0, 1, 0, 1),
    "country:DE": (1, 1, 1, 1),
    "state:DE-BE": (1, 1, 1, 1),
    "county:c1": (1, 1, 1, 1),
    "city:2950159": (1, 1, 1, 1),
    "dance_style:salsa": (1, 1, 1, 1),
    "interest:festivals": (1, 1, 1, 1),
    "social_platform:instagram": (1, 1, 1, 1),
    "follow:ab": (1, 1, 1, 1),
    "swipe:ab": (0, 1, 0, 1),
    "match:ac": (0, 1, 0, 0),
    "user_dance_style:a": (1, 1, 1, 1),
    "user_interest:a": (1, 1, 1, 1),
    "block:ab": (0, 1, 0, 1),
    "chat:ac": (0, 1, 0, 0),
    "message:a1": (0, 1, 0, 0),
    "comments:a1": (1, 1, 1, 1),
    "notification:a1": (0, 1, 0, 0),
    "vlog:pub": (1, 1, 1, 1),
    "vlog:priv": (0, 1, 0, 0),
    "vlog:draft": (0, 1, 0, 0),
    "vlog_like:a": (1, 1, 1, 1),
    "group:g": (1, 1, 1, 1),
    "group_member:invited": (0, 1, 0, 0),
    "site:alice": (1, 1, 1, 1),
    "site:g": (0, 1, 0, 0),
    "content_block:pub": (1, 1, 1, 1),
    "content_block:hidden": (0, 1, 0, 0),
    "content_block:draft": (0, 1, 0, 0),
    "content_block:gdraft": (0, 1, 0, 0),
    "oauth_identity:a": (0, 1, 0, 0),
    "audit_log:a": (0, 1, 0, 0),
    "identity:visitor": (0, 0, 0, 0),
    "migration:any": (0, 0, 0, 0),
}

# row → (field, new value) and who can update it
UPDATE = {
    "user:alice": ("display_name", "Changed", (0, 1, 0, 0)),
    "profile:alice": ("bio", "changed", (0, 1, 0, 0)),
    "device:alice": ("label", "changed", (0, 1, 0, 0)),
    "country:DE": ("name", "changed", (0, 0, 0, 0)),
    "city:2950159": ("name", "changed", (0, 0, 0, 0)),
    "dance_style:salsa": ("name", "changed", (0, 0, 0, 0)),
    "swipe:ab": ("direction", "pass", (0, 0, 0, 0)),  # a like stands; a pass is taken back whole
    "match:ac": ("deleted_at", "NOW", (0, 1, 0, 0)),
    "user_dance_style:a": ("level", "beginner", (0, 1, 0, 0)),
    "chat:ac": ("deleted_at", "NOW", (0, 1, 0, 0)),  # the preview is the events' alone
    "message:a1": ("body", "changed", (0, 1, 0, 0)),
    "comments:a1": ("body", "changed", (0, 1, 0, 0)),
    "notification:a1": ("read_at", "NOW", (0, 1, 0, 0)),
    "vlog:pub": ("title", "changed", (0, 1, 0, 0)),
    "group:g": ("name", "changed", (0, 1, 0, 0)),
    # An invitation becomes a membership only when the invitee accepts it.
    "group_member:invited": ("role", "admin", (0, 0, 0, 0)),
    "site:alice": ("version", 9, (0, 1, 0, 0)),
    "content_block:draft": ("hidden", True, (0, 1, 0, 0)),
    "audit_log:a": ("action", "changed", (0, 0, 0, 0)),
}

DELETE = {
    "user:alice": (0, 0, 0, 0),  # soft delete only
    "profile:alice": (0, 0, 0, 0),
    "device:alice": (0, 1, 0, 0),
    "country:DE": (0, 0, 0, 0),
    "follow:ab": (0, 1, 0, 0),
    "swipe:ab": (0, 0, 0, 0),
    "match:ac": (0, 0, 0, 0),
    "user_dance_style:a": (0, 1, 0, 0),
    "block:ab": (0, 1, 0, 0),
    "chat:ac": (0, 0, 0, 0),
    "message:a1": (0, 0, 0, 0),
    "comments:a1": (0, 0, 0, 0),
    "notification:a1": (0, 1, 0, 0),
    "vlog:pub": (0, 0, 0, 0),
    "vlog_like:a": (0, 1, 0, 0),
    "group:g": (0, 0, 0, 0),
    "site:alice": (0, 0, 0, 0),
    "content_block:draft": (0, 1, 0, 0),
    "oauth_identity:a": (0, 1, 0, 0),
    "audit_log:a": (0, 0, 0, 0),
}

# a statement creating a row that belongs to Alice → who may run it
CREATE = {
    "user": ("CREATE user SET email = 'x@example.com', username = 'xx-x', display_name = 'X'", (0, 0, 0, 0)),
    "profile": ("CREATE profile SET owner = user:carol", (0, 0, 0, 0)),
    "device": ("CREATE device SET owner = user:alice, kind = 'web_push', endpoint = 'https://push.example/2', keys = {}", (0, 1, 0, 0)),
    "city": ("CREATE city SET name = 'X', name_key = 'x', country = country:DE, point = (1, 1), vector = [1.0, 0.0, 0.0]", (0, 0, 0, 0)),
    "follow": ("RELATE user:alice->follow->user:carol", (0, 1, 0, 0)),
    "swipe": ("RELATE user:alice->swipe->user:carol SET direction = 'like'", (0, 1, 0, 0)),
    "match": ("CREATE match SET users = [user:alice, user:bob]", (0, 0, 0, 0)),
    "user_dance_style": ("RELATE user:alice->user_dance_style->dance_style:bachata SET level = 'beginner', role = 'follow'", (0, 1, 0, 0)),
    "chat": ("CREATE chat SET members = [user:alice, user:carol]", (0, 0, 0, 0)),
    "message": ("CREATE message SET chat = chat:ac, author = user:alice, body = 'again'", (0, 1, 0, 0)),
    "comments": ("CREATE comments SET target = vlog:pub, author = user:alice, body = 'again'", (0, 1, 0, 0)),
    "notification": ("CREATE notification SET recipient = user:alice, kind = 'system'", (0, 0, 0, 1)),
    "vlog": ("CREATE vlog SET owner = user:alice, author = user:alice, title = 'New'", (0, 1, 0, 0)),
    "vlog_group": ("CREATE vlog SET owner = group:g, author = user:alice, title = 'As the group'", (0, 1, 0, 0)),
    "group": ("CREATE group SET slug = 'new-group', name = 'N', kind = 'crew', created_by = user:alice", (0, 1, 0, 0)),
    "group_member": ("CREATE group_member SET group = group:g, user = user:bob, role = 'invited'", (0, 1, 0, 0)),
    "group_member_self_admin": ("CREATE group_member SET group = group:g, user = user:bob, role = 'admin'", (0, 0, 0, 0)),
    "site": ("CREATE site SET owner = group:g2", (0, 1, 0, 0)),
    "content_block": ("CREATE content_block SET site = site:alice, stage = 'draft', page = 'home', kind = 'text', position = 7", (0, 1, 0, 0)),
    "oauth_identity": ("CREATE oauth_identity SET provider = 'apple', subject = 's', user = user:alice", (0, 0, 0, 0)),
    "audit_log": ("CREATE audit_log SET actor = user:alice, action = 'forged'", (0, 0, 0, 0)),
    "identity": ("CREATE identity SET kind = 'visitor'", (0, 0, 0, 0)),
}

SENSITIVE = {
    "user:alice": ["email", "password", "tier"],
    "profile:alice": ["birth_date", "measurements", "exact_point"],
    "site:g": ["draft"],
}


@pytest.fixture
def world(db):
    with db.system() as s:
        s.query(WORLD)
        s.query("CREATE migration:any SET name = 'x', checksum = 'y'")
    return db


def as_(db, who):
    return {
        "visitor": db.visitor,
        "owner": lambda: db.member("alice"),
        "other": lambda: db.member("bob"),
        "worker": db.worker,
    }[who]()


def rid(text: str) -> RecordID:
    table, key = text.split(":", 1)
    return RecordID(table, int(key) if key.isdigit() else key)


def snapshot(db, row: str):
    with db.system() as s:
        return s.one("SELECT * FROM ONLY $id", {"id": rid(row)})


def cases(matrix):
    return [(row, who, bool(flags[i])) for row, flags in matrix.items() for i, who in enumerate(WHO)]


def update_cases():
    return [(row, who, f, v, bool(flags[i]))
            for row, (f, v, flags) in UPDATE.items() for i, who in enumerate(WHO)]


@pytest.mark.parametrize("row, who, allowed", cases(SELECT))
def test_select(world, row, who, allowed):
    with as_(world, who) as s:
        found = s.rows("SELECT id FROM $id", {"id": rid(row)})
    assert bool(found) is allowed


@pytest.mark.parametrize("row, who, field, value, allowed", update_cases())
def test_update(world, row, who, field, value, allowed):
    before = snapshot(world, row)
    sql = f"UPDATE $id SET {field} = " + ("time::now()" if value == "NOW" else "$v")
    try:
        with as_(world, who) as s:
            s.query(sql, {"id": rid(row), "v": value})
    except (AppError, DatabaseError):
        pass
    after = snapshot(world, row)
    assert (after.get(field) != before.get(field)) is allowed


@pytest.mark.parametrize("row, who, allowed", cases(DELETE))
def test_delete(world, row, who, allowed):
    try:
        with as_(world, who) as s:
            s.query("DELETE $id", {"id": rid(row)})
    except (AppError, DatabaseError):
        pass
    assert (snapshot(world, row) is None) is allowed


@pytest.mark.parametrize(
    "name, who, allowed",
    [(n, who, bool(flags[i])) for n, (_, flags) in CREATE.items() for i, who in enumerate(WHO)],
)
def test_create(world, name, who, allowed):
    sql = CREATE[name][0]
    table = re.search(r"^CREATE (\w+)|->(\w+)->", sql)
    table = table.group(1) or table.group(2)
    count = f"RETURN count(SELECT id FROM {table})"
    with world.system() as s:
        before = s.value(count)
    try:
        with as_(world, who) as s:
            s.query(sql)
    except (AppError, DatabaseError):
        pass
    with world.system() as s:
        # Counted as the system: a row made but not readable by its maker still counts.
        assert (s.value(count) > before) is allowed


@pytest.mark.parametrize("row", list(SENSITIVE))
@pytest.mark.parametrize("who", ["visitor", "other", "worker"])
def test_sensitive_fields_never_leave_their_owner(world, row, who):
    with as_(world, who) as s:
        found = s.rows("SELECT * FROM $id", {"id": rid(row)})
    for field in SENSITIVE[row]:
        assert all(field not in r for r in found), (row, who, field)


def test_owner_reads_her_sensitive_fields(world):
    with world.member("alice") as s:
        me = s.one("SELECT * FROM ONLY user:alice")
        profile = s.one("SELECT * FROM ONLY profile:alice")
    assert me["email"] == "alice@example.com" and "password" not in me
    assert profile["measurements"] == {"waist": 70} and "birth_date" in profile


def test_soft_deleted_member_vanishes_with_her_content(world):
    with world.member("alice") as s:
        s.query("UPDATE user:alice SET deleted_at = time::now()")
    with world.member("bob") as s:
        assert s.rows("SELECT id FROM user:alice, profile:alice, vlog:pub, follow:ab, comments:a1") == []
    with world.member("carol") as s:
        assert s.rows("SELECT id FROM message:a1, chat:ac, match:ac") == []
    with world.system() as s:
        actions = s.value("SELECT VALUE action FROM audit_log WHERE subject = user:alice")
        assert "user.delete" in actions


def test_ownerless_rows_stay_hidden(world):
    """`owner = $auth.id` holds when both are NONE: the visitor must not see ownerless rows."""
    with world.system() as s:
        s.query("CREATE notification:orphan SET recipient = user:ghost, kind = 'system'")
    for who in ("visitor", "worker", "other"):
        with as_(world, who) as s:
            assert s.rows("SELECT id FROM notification:orphan") == []


def test_an_admin_of_one_group_has_no_power_over_another(world):
    with world.system() as s:
        s.query("""
            CREATE group:other SET slug = 'other-crew', name = 'Other', kind = 'crew', created_by = user:carol;
            UPDATE group_member SET role = 'admin' WHERE group = group:g AND user = user:carol;
            CREATE site:other SET owner = group:other, draft = {};
        """)
    with world.member("alice") as s:  # owner of group:g, nothing in group:other
        s.query("UPDATE group:other SET name = 'taken'")
        s.query("UPDATE site:other SET version = 5")
        made = s.rows("CREATE content_block SET site = site:other, stage = 'draft', page = 'home', kind = 'text', position = 1")
    with world.system() as s:
        assert s.value("RETURN group:other.name") == "Other"
        assert s.value("RETURN site:other.version") == 1
    assert made == []
