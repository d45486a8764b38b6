"""Group memberships: join, ask, invite, accept, approve, promote, remove, leave, transfer.

Each runs as the acting member, so the database decides who may do what (0010's field rules
on ``group_member.role`` and ``deleted_at``). A refused field keeps its old value without an
error, so every change reads its result back. The unique (group, user) index means a member
who left, was removed or declined comes back on her old row: it is updated, never re-created.
The ``group_role_changed`` event writes each change to ``audit_log``.
"""

from __future__ import annotations

from surrealdb import RecordID

from ..db import Database, DatabaseError
from ..errors import AppError, Conflict, NotAllowed, NotFound, Refused

FIND = """LET $g = (SELECT id, join_mode FROM group WHERE slug = $slug LIMIT 1)[0];
LET $u = (SELECT VALUE id FROM user WHERE username = $username LIMIT 1)[0];
"""
# The row of $who in $g as this identity sees it (a manager sees pending rows too).
ROW = """(SELECT role FROM group_member WHERE group = $g.id AND user = $who AND $g != NONE
    LIMIT 1)[0]"""


def _vars(user_key: str, slug: str, username: str | None = None) -> dict:
    return {"slug": (slug or "").lower(), "username": (username or "").lower(),
            "me": RecordID("user", user_key)}


def _find(s, v: dict, target: str = "me") -> tuple[dict, object, dict | None]:
    """The group (id, join mode), the member's id (``me``, or ``$username``'s), and her row."""
    group, who, row = s.query(
        FIND + "LET $who = IF $target = 'me' THEN $me ELSE $u END;"
        f"RETURN $g; RETURN $who; RETURN {ROW};", {**v, "target": target})[-3:]
    if not group:
        raise NotFound("no such group")
    return group, who, row


def _rejoin(s, v: dict, role: str, invited_by=None) -> str | None:
    """Bring back her soft-deleted row with ``role``; the role it now has (None: no row)."""
    rows = s.rows(
        """UPDATE group_member SET role = $role, deleted_at = NONE,
               invited_by = IF $by != NONE THEN $by ELSE invited_by END
           WHERE group = $g AND user = $u AND deleted_at != NONE RETURN role""",
        {**v, "role": role, "by": invited_by})
    return rows[0]["role"] if rows else None


def _create_or_rejoin(s, group, user, role: str, invited_by=None) -> str | None:
    v = {"g": group, "u": user}
    try:
        # Not CREATE ONLY: a refused create returns nothing, which ONLY reports as an error.
        row = s.one("CREATE group_member SET group = $g, user = $u, role = $role,"
                    " invited_by = $by RETURN role", {**v, "role": role, "by": invited_by})
        return row["role"] if row else None
    except Conflict:
        return _rejoin(s, v, role, invited_by)


# -- her own row ------------------------------------------------------------------------------

def join(db: Database, user_key: str, slug: str) -> str:
    """Join an open group or ask to join one that takes requests; returns her role.

    An invitation waiting for her is accepted instead.
    """
    v = _vars(user_key, slug)
    with db.member(user_key) as s:
        group, me, row = _find(s, v)
        if row:
            if row["role"] == "invited":
                return _accept(s, group["id"], me)
            if row["role"] == "requested":
                raise Refused("You already asked to join; an admin will answer.")
            raise Refused("You are already a member of this group.")
        if group["join_mode"] == "invite":
            raise Refused("This group takes new members by invitation only.")
        role = "member" if group["join_mode"] == "open" else "requested"
        if _create_or_rejoin(s, group["id"], me, role) != role:
            raise NotAllowed("join refused")
    return role


def _accept(s, group, me) -> str:
    rows = s.rows("UPDATE group_member SET role = 'member' WHERE group = $g AND user = $me"
                  " AND role = 'invited' AND deleted_at = NONE RETURN role", {"g": group, "me": me})
    if not rows:
        raise NotFound("no invitation")
    if rows[0]["role"] != "member":
        raise NotAllowed("accept refused")
    return "member"


def accept(db: Database, user_key: str, slug: str) -> None:
    """She accepts her invitation: invited → member."""
    v = _vars(user_key, slug)
    with db.member(user_key) as s:
        group, me, _ = _find(s, v)
        _accept(s, group["id"], me)


def leave(db: Database, user_key: str, slug: str, roles: tuple[str, ...]) -> None:
    """Soft-delete her own row when its role is one of ``roles``: leave (member, admin),
    decline (invited), withdraw (requested). The owner hands the group on first."""
    v = _vars(user_key, slug)
    with db.member(user_key) as s:
        group, me, row = _find(s, v)
        if not row or row["role"] not in roles:
            raise NotFound("nothing to leave")
        if row["role"] == "owner":
            raise Refused("You own this group: transfer it to another member before you leave.")
        left = s.value(
            """UPDATE group_member SET deleted_at = time::now() WHERE group = $g AND user = $me
                   AND deleted_at = NONE RETURN NONE;
               RETURN count(SELECT id FROM group_member WHERE group = $g AND user = $me);""",
            {"g": group["id"], "me": me})
    if left:
        raise NotAllowed("leave refused")


# -- a manager's changes to other members' rows ---------------------------------------------

def invite(db: Database, user_key: str, slug: str, username: str) -> str:
    """Invite a member by username (she accepts or declines). A pending request from her is
    approved instead. Returns her role afterwards."""
    v = _vars(user_key, slug, username.strip().lstrip("@"))
    with db.member(user_key) as s:
        group, user, row = _find(s, v, "them")
        if user is None:
            raise Refused(f"No member has the username “{v['username']}”.")
        if user == v["me"]:
            raise Refused("You cannot invite yourself.")
        if row and row["role"] == "requested":
            return _set_role(s, group["id"], user, ("requested",), "member")
        if row and row["role"] == "invited":
            raise Refused(f"{v['username']} is invited already.")
        if row:
            raise Refused(f"{v['username']} is a member already.")
        if _create_or_rejoin(s, group["id"], user, "invited", v["me"]) != "invited":
            raise NotAllowed("invite refused")
    return "invited"


def _set_role(s, group, user, from_roles: tuple[str, ...], to: str) -> str:
    rows = s.rows("UPDATE group_member SET role = $to WHERE group = $g AND user = $u"
                  " AND role IN $from AND deleted_at = NONE RETURN role",
                  {"g": group, "u": user, "from": list(from_roles), "to": to})
    if not rows:
        raise NotFound("no such member")  # or a row she may not change at all
    if rows[0]["role"] != to:
        raise NotAllowed("role change refused")
    return to


# action → (roles it applies to, new role or None for removal)
ACTIONS = {
    "approve": (("requested",), "member"),
    "promote": (("member",), "admin"),
    "demote": (("admin",), "member"),
    "refuse": (("requested",), None),
    "cancel": (("invited",), None),
    "remove": (("member", "admin"), None),
}


def change(db: Database, user_key: str, slug: str, username: str, action: str) -> None:
    """A manager approves or refuses a request, cancels an invitation, promotes, demotes or
    removes a member. NotFound / NotAllowed when the database refuses."""
    if action not in ACTIONS:
        raise NotFound("no such action")
    from_roles, to = ACTIONS[action]
    v = _vars(user_key, slug, username)
    with db.member(user_key) as s:
        group, user, row = _find(s, v, "them")
        if user is None or not row:
            raise NotFound("no such member")
        if row["role"] == "owner":
            raise Refused("The owner stays until she transfers the group.")
        if user == v["me"]:
            raise Refused("Use Leave to leave the group yourself.")
        if to:
            _set_role(s, group["id"], user, from_roles, to)
            return
        # The removed row reads as nothing afterwards (RETURN BEFORE too), so look again.
        s.query("""UPDATE group_member SET deleted_at = time::now() WHERE group = $g AND user = $u
                       AND role IN $from AND deleted_at = NONE RETURN NONE""",
                {"g": group["id"], "u": user, "from": list(from_roles)})
        if s.value(f"RETURN {ROW} != NONE", {"g": group, "who": user}):
            raise NotAllowed("removal refused")


def transfer(db: Database, user_key: str, slug: str, username: str) -> None:
    """The owner hands the group to a member or admin and becomes an admin herself.

    One transaction: the new owner is made first (an owner may step down only once another
    exists), then she steps down, then exactly one owner — the new one — must remain.
    """
    v = _vars(user_key, slug, username)
    with db.member(user_key) as s:
        _, user, row = _find(s, v, "them")
        if user is None or not row or row["role"] not in ("member", "admin"):
            raise Refused("Choose a member or admin of the group.")
        try:
            s.query(
                FIND + """BEGIN TRANSACTION;
                UPDATE group_member SET role = 'owner' WHERE group = $g.id AND user = $u
                    AND role IN ['member', 'admin'] AND deleted_at = NONE RETURN NONE;
                UPDATE group_member SET role = 'admin' WHERE group = $g.id AND user = $me
                    AND role = 'owner' RETURN NONE;
                LET $owners = SELECT VALUE user FROM group_member
                    WHERE group = $g.id AND role = 'owner';
                IF $owners != [$u] { THROW 'not allowed: the transfer did not go through'; };
                COMMIT TRANSACTION;""", v)
        except (AppError, DatabaseError) as exc:
            # A THROW fails the whole transaction; the engine reports it on every statement.
            raise NotAllowed("transfer refused") from exc


def manager_view(db: Database, user_key: str, slug: str) -> dict:
    """Every row of the group as a manager sees it (pending ones too) and its recent changes.

    Rows and the log come back only for a manager: the database hides pending rows and the
    group's log from everyone else.
    """
    with db.member(user_key) as s:
        rows, log = s.query(
            """LET $g = (SELECT VALUE id FROM group WHERE slug = $slug LIMIT 1)[0];
               SELECT user.username AS username, user.display_name AS display_name, role,
                   invited_by.display_name AS invited_by, updated_at FROM group_member
                   WHERE group = $g AND $g != NONE ORDER BY updated_at DESC LIMIT 1000;
               SELECT action, detail, actor.display_name AS actor,
                   subject.display_name AS subject, created_at FROM audit_log
                   WHERE group = $g AND $g != NONE ORDER BY created_at DESC LIMIT 20;""",
            {"slug": (slug or "").lower()},
        )[1:]
    rows = [r for r in rows or [] if r.get("username")]
    by_role: dict[str, list] = {"owner": [], "admin": [], "member": [], "invited": [],
                                "requested": []}
    for row in sorted(rows, key=lambda r: (r["display_name"] or "").lower()):
        by_role.setdefault(row["role"], []).append(row)
    return {"roles": by_role, "log": log or []}
