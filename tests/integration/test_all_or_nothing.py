"""Multi-record changes are all or nothing: a match with its chat, an account deletion with
its groups handed on, a group transferred by its owner. Each is interrupted by a failing
statement injected at the end of its transaction (or by a failing event inside it) and every
table is compared, row by row, with the database before the attempt."""

from __future__ import annotations

import re

import pytest
from surrealdb import RecordID

from idance_web.backup.dump import dump
from idance_web.db import DatabaseError
from idance_web.errors import AppError
from idance_web.services import chat_actions, discovery, groups
from idance_web.services import group_members as gm

INJECTED = "THROW 'injected failure';"


def tables(db) -> dict:
    """Every table's row count and content hash."""
    with db.system() as s:
        return dump(s, None)


def fail_at_commit(db, monkeypatch, pattern: str) -> None:
    """The next statement batch matching ``pattern`` runs in one transaction that throws
    right after the matching statement (its last write), before the COMMIT."""
    original, armed = db._run, [True]

    def run(sql, vars):
        found = re.search(pattern, sql) if armed[0] else None
        if found:
            armed[0] = False
            end = sql.find(";", found.end())
            end = len(sql) if end < 0 else end + 1
            sql = f"BEGIN;\n{sql[:end].rstrip().rstrip(';')};\n{INJECTED}\n{sql[end:]};\nCOMMIT;"
        return original(sql, vars)

    monkeypatch.setattr(db, "_run", run)


@pytest.fixture
def pair(db, make_user):
    """Two adults; Alice has liked Bob."""
    for name in ("alice", "bob"):
        make_user(name)
    with db.system() as s:
        s.query("UPDATE profile SET birth_date = d'1990-01-01'")
    discovery.swipe(db, "alice", "bob", "like", daily_likes=50)
    return db


def _made(db) -> tuple:
    with db.system() as s:
        return tuple(s.value(f"RETURN count(SELECT id FROM {t})")
                     for t in ("match", "chat", "notification"))


def test_a_match_and_its_chat_are_made_together_or_not_at_all(pair, monkeypatch):
    before = tables(pair)
    fail_at_commit(pair, monkeypatch, r"RELATE \$me->swipe")
    with pytest.raises((AppError, DatabaseError), match="injected"):
        discovery.swipe(pair, "bob", "alice", "like", daily_likes=50)
    assert tables(pair) == before
    assert discovery.swipe(pair, "bob", "alice", "like", daily_likes=50).matched
    assert _made(pair)[:2] == (1, 1) and tables(pair) != before


def test_a_failing_event_inside_the_match_undoes_the_like(pair):
    before = tables(pair)
    with pair.system() as s:
        s.query("DEFINE EVENT injected ON chat WHEN $event = 'CREATE' "
                "THEN { THROW 'injected failure' }")
    before = tables(pair)
    with pytest.raises((AppError, DatabaseError), match="injected"):
        discovery.swipe(pair, "bob", "alice", "like", daily_likes=50)
    assert tables(pair) == before and _made(pair)[:2] == (0, 0)


@pytest.fixture
def owner(db, make_user):
    """Olga owns a group with an admin (it is handed on when she leaves) and one alone."""
    for name in ("olga", "ada"):
        make_user(name)
    with db.system() as s:
        s.query("""
            CREATE group:with_admin SET slug = 'with-admin', name = 'A', kind = 'crew', created_by = user:olga;
            CREATE group:alone SET slug = 'alone-crew', name = 'B', kind = 'crew', created_by = user:olga;
            CREATE group_member SET group = group:with_admin, user = user:ada, role = 'admin';
        """)
    return db


def _delete_olga(db) -> None:
    # What accounts.delete_account sends, after checking her password.
    with db.member("olga") as s:
        s.query("UPDATE $me SET deleted_at = time::now()", {"me": RecordID("user", "olga")})


def _after_deletion(db) -> dict:
    with db.system() as s:
        return s.one("""RETURN {
            deleted: user:olga.deleted_at != NONE,
            email: user:olga.email,
            owners: (SELECT VALUE record::id(user) FROM group_member
                     WHERE group = group:with_admin AND role = 'owner' AND deleted_at = NONE),
            alone_deleted: group:alone.deleted_at != NONE }""")


@pytest.mark.parametrize("where", ["at commit", "in the hand-over event"])
def test_an_account_deletion_and_its_group_hand_over_are_all_or_nothing(owner, monkeypatch,
                                                                        where):
    before = tables(owner)
    if where == "at commit":
        fail_at_commit(owner, monkeypatch, r"SET deleted_at = time::now\(\)")
    else:
        with owner.system() as s:
            s.query("DEFINE EVENT injected ON group_member WHEN $event = 'UPDATE' "
                    "AND $after.role = 'owner' THEN { THROW 'injected failure' }")
        before = tables(owner)
    with pytest.raises((AppError, DatabaseError), match="injected"):
        _delete_olga(owner)
    assert tables(owner) == before
    state = _after_deletion(owner)
    assert not state["deleted"] and state["email"] == "olga@example.com"
    assert state["owners"] == ["olga"] and not state["alone_deleted"]
    if where == "at commit":  # the same change, uninterrupted, touches all of them
        _delete_olga(owner)
        state = _after_deletion(owner)
        assert state["deleted"] and state["owners"] == ["ada"] and state["alone_deleted"]
        assert state["email"] != "olga@example.com"


@pytest.fixture
def crew(db, make_user):
    """Olga owns the Tango Crew (with its chat); Ada is its admin, Bea a member."""
    for name in ("olga", "ada", "bea"):
        make_user(name)
    with db.system() as s:
        s.query("UPDATE profile SET birth_date = d'1990-01-01'")
    groups.create_group(db, "olga", groups.GroupInput(
        kind="crew", slug="tango-crew", name="Tango Crew", city_query="Berlin",
        styles=["salsa"], join_mode="request"))
    with db.system() as s:
        s.query("""LET $g = (SELECT VALUE id FROM group WHERE slug = 'tango-crew')[0];
                   CREATE group_member SET group = $g, user = user:ada, role = 'admin';
                   CREATE group_member SET group = $g, user = user:bea, role = 'member';""")
    chat_actions.open_group_chat(db, "olga", "tango-crew")
    return db


def _roles(db) -> dict:
    with db.system() as s:
        rows = s.value("""SELECT record::id(user) AS u, role FROM group_member
                          WHERE deleted_at = NONE
                              AND group = (SELECT VALUE id FROM group WHERE slug = 'tango-crew')[0]""")
    return {r["u"]: r["role"] for r in rows}


@pytest.mark.parametrize("heir", ["ada", "bea"])
def test_a_group_transfer_is_all_or_nothing(crew, heir):
    """The step-down, the transfer's last write, fails after the heir was made owner (with
    her audit row and her notification): none of it stays."""
    with crew.system() as s:
        s.query("DEFINE EVENT injected ON group_member WHEN $event = 'UPDATE' "
                "AND $before.role = 'owner' AND $after.role = 'admin' "
                "THEN { THROW 'injected failure' }")
    before, roles = tables(crew), _roles(crew)
    assert roles == {"olga": "owner", "ada": "admin", "bea": "member"}
    with pytest.raises(AppError, match="transfer refused") as refused:
        gm.transfer(crew, "olga", "tango-crew", heir)
    assert "injected" in str(refused.value.__cause__)
    assert tables(crew) == before and _roles(crew) == roles
    with crew.system() as s:
        s.query("REMOVE EVENT injected ON group_member")
    before = tables(crew)
    gm.transfer(crew, "olga", "tango-crew", heir)  # uninterrupted, the same call goes through
    assert _roles(crew) == {**roles, "olga": "admin", heir: "owner"}
    changed = {t for t, digest in tables(crew).items() if digest != before[t]}
    assert {"group_member", "audit_log", "notification"} <= changed
