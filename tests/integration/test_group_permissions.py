"""Group roles as the database enforces them (0010), through the services and raw statements.

Alice owns the Salsa Lab; Bob is a plain member, Carol an admin; Dave and Erin are outsiders.
Every call runs as the member named, so what passes or fails here is the engine's decision.
"""

from __future__ import annotations

import pytest
from surrealdb import RecordID

from idance_web.db import DatabaseError, key_of
from idance_web.errors import AppError, Invalid, NotAllowed, NotFound, Refused
from idance_web.services import group_members as gm
from idance_web.services import groups, sites

SLUG = "salsa-lab"


@pytest.fixture
def lab(db, make_user):
    for name in ("alice", "bob", "carol", "dave", "erin"):
        make_user(name)
    groups.create_group(db, "alice", groups.GroupInput(
        kind="studio", slug=SLUG, name="Salsa Lab", city_query="Berlin", styles=["salsa"],
        join_mode="request"))
    with db.system() as s:
        s.query("""LET $g = (SELECT VALUE id FROM group WHERE slug = $slug)[0];
                   CREATE group_member SET group = $g, user = user:bob, role = 'member';
                   CREATE group_member SET group = $g, user = user:carol, role = 'admin';""",
                {"slug": SLUG})
    return db


def state(db, slug=SLUG) -> dict:
    """username → role of the group's active rows (read as the system)."""
    with db.system() as s:
        rows = s.value("""SELECT record::id(user) AS u, role, deleted_at FROM group_member
                          WHERE group = (SELECT VALUE id FROM group WHERE slug = $s)[0]""",
                       {"s": slug})
    return {r["u"]: r["role"] for r in rows if r.get("deleted_at") is None}


def raw(db, who: str, sql: str, **vars):
    """Run ``sql`` as member ``who``; errors count as refusals."""
    try:
        with db.member(who) as s:
            return s.query("LET $g = (SELECT VALUE id FROM group WHERE slug = $slug)[0];" + sql,
                           {"slug": SLUG, **vars})
    except (AppError, DatabaseError):
        return None


def audit(db, slug=SLUG) -> list[tuple]:
    with db.system() as s:
        rows = s.value(
            """SELECT actor, record::id(subject) AS subject, detail,
                   created_at FROM audit_log WHERE action = 'group.role'
                   AND group = (SELECT VALUE id FROM group WHERE slug = $s)[0]
               ORDER BY created_at""", {"s": slug})
    return [(key_of(r["actor"]) if r.get("actor") else None, r["subject"], r["detail"].get("from"), r["detail"]["to"],
             r["detail"]["removed"]) for r in rows]


# -- nobody raises herself ------------------------------------------------------------------

@pytest.mark.parametrize("role", ["admin", "owner"])
def test_a_plain_member_cannot_promote_herself(lab, role):
    raw(lab, "bob", "UPDATE group_member SET role = $r WHERE group = $g AND user = user:bob", r=role)
    with pytest.raises(Refused):  # the app says no before asking the database
        gm.change(lab, "bob", SLUG, "bob", "promote")
    assert state(lab)["bob"] == "member"


@pytest.mark.parametrize("role", ["admin", "owner"])
def test_an_invitee_can_accept_but_not_make_herself_admin(lab, role):
    gm.invite(lab, "alice", SLUG, "dave")
    raw(lab, "dave", "UPDATE group_member SET role = $r WHERE group = $g AND user = user:dave", r=role)
    assert state(lab)["dave"] == "invited"
    gm.accept(lab, "dave", SLUG)
    assert state(lab)["dave"] == "member"


def test_a_requester_cannot_approve_herself(lab):
    assert gm.join(lab, "dave", SLUG) == "requested"
    for role in ("member", "admin", "owner"):
        raw(lab, "dave", "UPDATE group_member SET role = $r WHERE group = $g AND user = user:dave",
            r=role)
    assert state(lab)["dave"] == "requested"
    with pytest.raises(Refused):
        gm.join(lab, "dave", SLUG)
    # Nor create herself as a member of a group that takes requests, or an admin anywhere.
    raw(lab, "erin", "CREATE group_member SET group = $g, user = user:erin, role = 'member'")
    raw(lab, "erin", "CREATE group_member SET group = $g, user = user:erin, role = 'admin'")
    assert "erin" not in state(lab)


def test_open_and_invite_only_groups(lab):
    groups.create_group(lab, "dave", groups.GroupInput(kind="crew", slug="open-crew", name="Open",
                                                       join_mode="open"))
    groups.create_group(lab, "dave", groups.GroupInput(kind="crew", slug="closed-crew",
                                                       name="Closed", join_mode="invite"))
    assert gm.join(lab, "erin", "open-crew") == "member"
    with pytest.raises(Refused, match="invitation only"):
        gm.join(lab, "erin", "closed-crew")
    with lab.member("erin") as s:  # the database refuses the request too
        s.query("CREATE group_member SET group = (SELECT VALUE id FROM group WHERE "
                "slug = 'closed-crew')[0], user = user:erin, role = 'requested'")
    assert "erin" not in state(lab, "closed-crew")


# -- managers, and who is not one -------------------------------------------------------------

def test_a_non_manager_cannot_invite_approve_or_remove(lab):
    gm.join(lab, "dave", SLUG)  # a pending request
    with pytest.raises(NotAllowed):
        gm.invite(lab, "bob", SLUG, "erin")
    with pytest.raises(NotFound):  # bob cannot even see the request
        gm.change(lab, "bob", SLUG, "dave", "approve")
    for username, action in (("carol", "demote"), ("carol", "remove")):
        with pytest.raises((NotAllowed, NotFound)):
            gm.change(lab, "bob", SLUG, username, action)
    raw(lab, "bob", "UPDATE group_member SET deleted_at = time::now() WHERE group = $g AND user = user:carol")
    assert state(lab) == {"alice": "owner", "bob": "member", "carol": "admin", "dave": "requested"}


def test_an_admin_of_one_group_has_no_power_over_another(lab):
    groups.create_group(lab, "dave", groups.GroupInput(kind="crew", slug="dave-crew", name="Crew"))
    with pytest.raises(NotAllowed):
        groups.managed_group(lab, "carol", "dave-crew")
    with pytest.raises(NotAllowed):
        gm.invite(lab, "carol", "dave-crew", "erin")
    with pytest.raises(NotAllowed):
        groups.update_group(lab, "carol", "dave-crew", groups.GroupInput(kind="crew", name="Mine"))
    with pytest.raises(NotAllowed):
        groups.delete_group(lab, "carol", "dave-crew", "dave-crew")
    crew = RecordID("group", groups.managed_group(lab, "dave", "dave-crew")["key"])
    with pytest.raises(NotFound):  # a site she may not manage
        sites.create_site(lab, "carol", crew)
    assert state(lab, "dave-crew") == {"dave": "owner"}
    with lab.system() as s:
        assert s.value("SELECT VALUE name FROM group WHERE slug = 'dave-crew'") == ["Crew"]
        assert s.value("RETURN count(SELECT id FROM site WHERE owner = $o)", {"o": crew}) == 0


def test_an_admin_manages_members_but_never_the_owner(lab):
    gm.change(lab, "carol", SLUG, "bob", "promote")
    gm.change(lab, "carol", SLUG, "bob", "demote")
    with pytest.raises(Refused):
        gm.change(lab, "carol", SLUG, "alice", "remove")
    # Straight at the database: an admin demoting or removing the owner changes nothing.
    raw(lab, "carol", "UPDATE group_member SET role = 'member' WHERE group = $g AND user = user:alice")
    raw(lab, "carol", "UPDATE group_member SET role = 'member', deleted_at = time::now() "
                      "WHERE group = $g AND user = user:alice")
    raw(lab, "carol", "UPDATE group_member SET role = 'owner' WHERE group = $g AND user = user:carol")
    raw(lab, "carol", "UPDATE group_member SET role = 'owner' WHERE group = $g AND user = user:bob")
    assert state(lab) == {"alice": "owner", "bob": "member", "carol": "admin"}


def test_only_the_owner_deletes_the_group(lab):
    with pytest.raises(NotAllowed):
        groups.delete_group(lab, "carol", SLUG, SLUG)
    groups.delete_group(lab, "alice", SLUG, SLUG)
    with pytest.raises(NotFound):
        groups.get_group(lab, SLUG, "bob")


# -- ownership --------------------------------------------------------------------------------

def test_transfer_leaves_exactly_one_owner(lab):
    with pytest.raises(NotAllowed):  # an admin cannot hand the group on
        gm.transfer(lab, "carol", SLUG, "bob")
    gm.join(lab, "dave", SLUG)
    with pytest.raises(Refused):  # nor can anyone become owner from a pending request
        gm.transfer(lab, "alice", SLUG, "dave")
    gm.transfer(lab, "alice", SLUG, "bob")
    roles = state(lab)
    assert [u for u, r in roles.items() if r == "owner"] == ["bob"]
    assert roles["alice"] == "admin"
    # The old owner has no more say over ownership.
    with pytest.raises(NotAllowed):
        gm.transfer(lab, "alice", SLUG, "carol")
    assert [u for u, r in state(lab).items() if r == "owner"] == ["bob"]


def test_the_last_owner_cannot_leave_or_step_down(lab):
    with pytest.raises(Refused, match="transfer"):
        gm.leave(lab, "alice", SLUG, ("owner", "admin", "member"))
    raw(lab, "alice", "UPDATE group_member SET deleted_at = time::now() WHERE group = $g AND user = user:alice")
    raw(lab, "alice", "UPDATE group_member SET role = 'admin' WHERE group = $g AND user = user:alice")
    assert state(lab)["alice"] == "owner"


def test_an_owner_row_removed_with_her_account_never_comes_back(lab):
    with lab.member("alice") as s:  # deleting her account cascades to her memberships
        s.query("UPDATE user:alice SET deleted_at = time::now()")
    assert "alice" not in state(lab)
    refused = raw(lab, "carol", "UPDATE group_member SET role = 'invited', deleted_at = NONE "
                                "WHERE group = $g AND user = user:alice")
    assert refused is None and "alice" not in state(lab)


# -- coming back on the same row, and the log -----------------------------------------------

def test_members_who_left_come_back_on_their_old_row(lab):
    with lab.system() as s:
        first = s.value("SELECT VALUE id FROM group_member WHERE user = user:bob")
    gm.leave(lab, "bob", SLUG, ("member",))
    assert "bob" not in state(lab)
    # Coming back by herself she can only ask; as an admin before, she gets no role back.
    raw(lab, "bob", "UPDATE group_member SET deleted_at = NONE WHERE group = $g AND user = user:bob")
    assert "bob" not in state(lab)
    assert gm.join(lab, "bob", SLUG) == "requested"
    gm.change(lab, "carol", SLUG, "bob", "refuse")
    assert gm.invite(lab, "carol", SLUG, "bob") == "invited"
    gm.leave(lab, "bob", SLUG, ("invited",))  # declines
    gm.invite(lab, "carol", SLUG, "bob")
    gm.accept(lab, "bob", SLUG)
    with lab.system() as s:
        assert s.value("SELECT VALUE id FROM group_member WHERE user = user:bob") == first
        invites = s.value("SELECT VALUE record::id(actor) FROM notification "
                          "WHERE recipient = user:bob AND kind = 'group_invite'")
    assert invites == ["carol", "carol"]  # an invitation made again notifies again
    assert state(lab)["bob"] == "member"


def test_every_role_change_is_in_the_audit_log(lab):
    start = len(audit(lab))
    gm.join(lab, "dave", SLUG)
    gm.change(lab, "carol", SLUG, "dave", "approve")
    gm.change(lab, "alice", SLUG, "dave", "promote")
    gm.change(lab, "alice", SLUG, "dave", "demote")
    gm.change(lab, "carol", SLUG, "dave", "remove")
    gm.invite(lab, "alice", SLUG, "erin")
    gm.accept(lab, "erin", SLUG)
    gm.transfer(lab, "alice", SLUG, "erin")
    gm.leave(lab, "bob", SLUG, ("member",))
    assert audit(lab)[start:] == [
        ("dave", "dave", None, "requested", False),
        ("carol", "dave", "requested", "member", False),
        ("alice", "dave", "member", "admin", False),
        ("alice", "dave", "admin", "member", False),
        ("carol", "dave", "member", "member", True),
        ("alice", "erin", None, "invited", False),
        ("erin", "erin", "invited", "member", False),
        ("alice", "erin", "member", "owner", False),
        ("alice", "alice", "owner", "admin", False),
        ("bob", "bob", "member", "member", True),
    ]
    with lab.member("bob") as s:  # the group's log is for its managers
        assert s.rows("SELECT id FROM audit_log WHERE action = 'group.role' AND actor != user:bob") == []


def test_a_deleted_groups_site_is_gone(lab, app):
    owner = RecordID("group", groups.managed_group(lab, "alice", SLUG)["key"])
    site = sites.create_site(lab, "carol", owner)
    sites.add_block(lab, "carol", site["id"], "home", "members", {"title": "Team"})
    sites.publish_site(lab, "carol", site["id"])
    from idance_web.services.public_sites import load_page
    assert load_page(lab, "group", SLUG) is not None
    groups.delete_group(lab, "alice", SLUG, SLUG)
    assert load_page(lab, "group", SLUG) is None
    with lab.system() as s:
        assert s.value("RETURN $s.deleted_at", {"s": site["id"]}) is not None
        assert s.value("SELECT VALUE action FROM audit_log WHERE action = 'group.delete'") == ["group.delete"]
    assert app.test_client().get(f"/g/{SLUG}").status_code == 404


def test_demo_groups_load_once(db):
    from idance_web.demo.groups import DEMO_GROUPS, load_demo_groups

    with db.system() as s:  # a few demo members in Berlin are enough
        for i in range(20):
            s.query("""CREATE type::thing('user', $k) SET email = $k + '@demo.example', username = $u,
                           display_name = $k, password = 'h';
                       CREATE type::thing('profile', $k) SET owner = type::thing('user', $k),
                           city = city:2950159, location = city:2950159.vector;""",
                    {"k": f"demo_{i:03d}", "u": f"demo-{i:03d}"})
    n = len(DEMO_GROUPS)
    assert load_demo_groups(db) == f"Loaded {n} demo groups ({n} with a published site)."
    assert load_demo_groups(db) == "Demo groups already loaded."
    for slug, *_ in DEMO_GROUPS:
        roles = list(state(db, slug).values())
        assert roles.count("owner") == 1 and "admin" in roles and "requested" in roles
    assert len(groups.browse(db, None, city_text="Berlin")["groups"]) == len(DEMO_GROUPS)


def test_an_owner_deleting_her_account_hands_the_group_on_or_deletes_it(db):
    """Never a group without an owner: the longest-standing admin inherits; else it goes."""
    with db.system() as s:
        s.query("""
            CREATE user:olga SET email = 'olga@example.com', username = 'olga', display_name = 'Olga';
            CREATE user:ada SET email = 'ada@example.com', username = 'ada', display_name = 'Ada';
            CREATE group:with_admin SET slug = 'with-admin', name = 'A', kind = 'crew', created_by = user:olga;
            CREATE group:alone SET slug = 'alone-crew', name = 'B', kind = 'crew', created_by = user:olga;
            CREATE group_member SET group = group:with_admin, user = user:ada, role = 'admin';
        """)
    with db.member("olga") as s:
        s.query("UPDATE user:olga SET deleted_at = time::now()")
    with db.system() as s:
        owners = s.value("SELECT VALUE user FROM group_member WHERE group = group:with_admin "
                         "AND role = 'owner' AND deleted_at = NONE")
        alone = s.value("RETURN group:alone.deleted_at")
    assert [str(o) for o in owners] == ["user:ada"]
    assert alone is not None


# -- the form's city ----------------------------------------------------------------------------

def test_a_city_id_must_name_an_existing_city(lab):
    for city_id in ("1" * 30, "999999999", "2950159x"):
        with pytest.raises(Invalid) as refused:
            groups.create_group(lab, "dave", groups.GroupInput(
                kind="crew", slug="dave-crew", name="Crew", city_id=city_id))
        assert "could not find that city" in refused.value.fields["city"]
    # What ``check`` returns is saved as it is (a view checks once, before storing uploads).
    values = groups.check(lab, groups.GroupInput(kind="crew", slug="dave-crew", name="Crew",
                                                 city_id="2950159"))
    assert groups.create_group(lab, "dave", values) == "dave-crew"
    with lab.system() as s:
        assert s.value("SELECT VALUE city.name FROM group WHERE slug = 'dave-crew'") == ["Berlin"]
