"""Between two members: follows, blocks, reports, matches, passes and who liked her.

All of it runs as the acting member. The database keeps the rules: a block ends the pair's
match, chat and follows and hides each from the other (migrations ``0011`` and ``0016``);
unmatching is final; only pro and VIP members read who liked them; nobody reads who passed on
them.
"""

from __future__ import annotations

from surrealdb import RecordID

from ..db import Database, key_of
from ..errors import Conflict, Invalid, NotFound
from .discovery import member_record
from .places import city_label

REPORT_REASONS = {
    "spam": "Spam or scam",
    "harassment": "Harassment or hate",
    "inappropriate": "Inappropriate pictures or words",
    "fake": "Fake profile or impersonation",
    "underage": "Looks under 18",
    "other": "Something else",
}
MAX_NOTE = 1000
LISTED = 100

PERSON = """record::id({ref}) AS key, {ref}.username AS username,
    {ref}.display_name AS display_name"""


def set_following(db: Database, user_key: str, username: str, follow: bool) -> None:
    """Follow or unfollow the dancer ``username`` (a no-op when already so)."""
    other = member_record(db, user_key, username)
    if key_of(other) == user_key:
        raise Invalid({"follow": "You cannot follow yourself."})
    me = RecordID("user", user_key)
    with db.member(user_key) as s:
        if follow:
            try:
                s.query("RELATE $me->follow->$other RETURN NONE", {"me": me, "other": other})
            except Conflict:
                pass
        else:
            s.query("DELETE follow WHERE in = $me AND out = $other", {"me": me, "other": other})


def follows_anyone(db: Database, user_key: str) -> bool:
    """Whether she follows at least one dancer or group (one index entry read)."""
    with db.member(user_key) as s:
        return bool(s.rows("SELECT id FROM follow WHERE in = $me LIMIT 1",
                           {"me": RecordID("user", user_key)}))


def follow_lists(db: Database, viewer_key: str | None, target: RecordID | tuple[str, str]) -> dict:
    """Followers (and, for a dancer, whom she follows) of ``target`` (a record, or a
    ``(table, key)`` pair of ``user`` or ``group``), newest first."""
    if isinstance(target, tuple):
        table, key = target
        if table not in ("user", "group"):
            raise NotFound("nothing to follow there")
        target = RecordID(table, key)
    identity = db.member(viewer_key) if viewer_key else db.visitor()
    with identity as s:
        followers, following = s.query(
            f"""SELECT {PERSON.format(ref='in')}, created_at FROM follow WHERE out = $t
                    ORDER BY created_at DESC LIMIT {LISTED};
                SELECT record::id(out) AS key, record::tb(out) AS kind,
                    out.username AS username, out.slug AS slug,
                    (out.display_name ?? out.name) AS display_name, created_at
                    FROM follow WHERE in = $t ORDER BY created_at DESC LIMIT {LISTED};""",
            {"t": target})
    return {"followers": [f for f in followers if f.get("username")],
            "following": following if target.table_name == "user" else []}


def block(db: Database, user_key: str, username: str) -> None:
    """Block the dancer ``username``: their match, chat and follows end, and each disappears
    from the other's lists for good (until she unblocks)."""
    other = member_record(db, user_key, username)
    if key_of(other) == user_key:
        raise Invalid({"block": "You cannot block yourself."})
    with db.member(user_key) as s:
        try:
            s.query("RELATE $me->block->$other RETURN NONE",
                    {"me": RecordID("user", user_key), "other": other})
        except Conflict:
            pass


def unblock(db: Database, user_key: str, member_key: str) -> None:
    """Lift her block on the member ``member_key`` (what the block ended stays ended)."""
    with db.member(user_key) as s:
        s.query("DELETE block WHERE in = $me AND out = $other",
                {"me": RecordID("user", user_key), "other": RecordID("user", member_key)})


def blocked_members(db: Database, user_key: str) -> list[dict]:
    """Whom she blocked (she alone sees her blocks), newest first."""
    with db.member(user_key) as s:
        return s.rows(f"SELECT {PERSON.format(ref='out')}, created_at FROM block WHERE in = $me "
                      "ORDER BY created_at DESC", {"me": RecordID("user", user_key)})


def report(db: Database, user_key: str, username: str, reason: str, note: str) -> None:
    """Store a report of a dancer for moderation. Raises ``Invalid`` for an unknown reason or
    a long note."""
    other = member_record(db, user_key, username)
    if key_of(other) == user_key:
        raise Invalid({"reason": "You cannot report yourself."})
    report_record(db, user_key, other, reason, note)


def report_record(db: Database, user_key: str, target: RecordID, reason: str,
                  note: str) -> None:
    """Store a report of ``target`` (a dancer, a vlog or a comment) that she can see."""
    errors = {}
    if reason not in REPORT_REASONS:
        errors["reason"] = "Choose a reason from the list."
    note = (note or "").strip()
    if len(note) > MAX_NOTE:
        errors["note"] = f"Keep the note under {MAX_NOTE} characters."
    if errors:
        raise Invalid(errors)
    with db.member(user_key) as s:
        made = s.rows("CREATE report SET reporter = $me, target = $target, reason = $reason, "
                      "note = $note RETURN id",
                      {"me": RecordID("user", user_key), "target": target, "reason": reason,
                       "note": note})
    if not made:
        raise NotFound("nothing to report there")


def open_reports(db: Database, limit: int = 200) -> list[dict]:
    """Open reports, oldest first, for an operator (runs as the system)."""
    with db.system() as s:
        return s.rows(
            f"""SELECT record::id(id) AS id, created_at, reason, note,
                   reporter.username AS reporter,
                   IF record::tb(target) = 'user' THEN '@' + target.username
                   ELSE <string> target END AS target
               FROM report WHERE status = 'open' ORDER BY created_at LIMIT {int(limit)}""")


def matches(db: Database, user_key: str) -> list[dict]:
    """Her matches, newest first, with the other dancer and the chat."""
    me = RecordID("user", user_key)
    with db.member(user_key) as s:
        # (A closure in array::filter does not see query parameters here: pick in Python.)
        rows = s.rows("SELECT id, created_at, chat, users FROM match WHERE users CONTAINS $me "
                      "ORDER BY created_at DESC", {"me": me})
        for row in rows:
            row["other"] = next(u for u in row["users"] if u != me)
        others = [r["other"] for r in rows]
        people = s.rows(
            "SELECT record::id(owner) AS key, owner.username AS username, "
            "owner.display_name AS display_name, avatar, city.name AS city_name, "
            "city.country.name AS city_country FROM profile WHERE owner IN $others",
            {"others": others}) if others else []
    by_key = {p["key"]: p for p in people}
    out = []
    for row in rows:
        person = by_key.get(key_of(row["other"]))
        if person is None:  # deleted, or a block since
            continue
        out.append({"id": _pair_text(row["id"]), "created_at": row["created_at"],
                    "chat": _pair_text(row["chat"]) if row.get("chat") else None,
                    **person, "city": city_label({"name": person.get("city_name"),
                                                  "country": person.get("city_country")})})
    return out


def _pair_text(rid: RecordID) -> str:
    """A match or chat id (``[user:a, user:b]``) as the two keys joined by a dot."""
    return ".".join(key_of(u) for u in rid.id)


def unmatch(db: Database, user_key: str, pair: str) -> None:
    """End the match ``pair`` (``a.b`` keys) and its chat, for both, for good."""
    keys = pair.split(".")
    if len(keys) != 2 or user_key not in keys:
        raise NotFound("no such match")
    users = sorted((RecordID("user", k) for k in keys), key=str)
    with db.member(user_key) as s:
        # An ended match is hidden at once, so the update cannot return it: look first.
        ended = s.query(
            """LET $match = (SELECT VALUE id FROM type::thing('match', $pair));
               IF $match { UPDATE $match SET deleted_at = time::now() RETURN NONE;
                           UPDATE type::thing('chat', $pair) SET deleted_at = time::now()
                               WHERE deleted_at = NONE RETURN NONE; };
               RETURN $match;""", {"pair": users})[-1]
    if not ended:
        raise NotFound("no such match")


def liked_me(db: Database, user_key: str) -> list[dict]:
    """Who liked her and is waiting for her answer (pro and VIP: the database shows likes to
    them alone; everyone sees super-likes)."""
    me = RecordID("user", user_key)
    with db.member(user_key) as s:
        rows = s.rows(
            """SELECT in, direction, created_at FROM swipe
               WHERE out = $me AND direction IN ['like', 'super_like']
               ORDER BY created_at DESC LIMIT 200""", {"me": me})
        answered = {str(x) for x in s.value("SELECT VALUE out FROM swipe WHERE in = $me",
                                            {"me": me})}
        waiting = [r for r in rows if str(r["in"]) not in answered]
        people = s.rows(
            "SELECT record::id(owner) AS key, owner.username AS username, "
            "owner.display_name AS display_name, avatar FROM profile WHERE owner IN $who",
            {"who": [r["in"] for r in waiting]}) if waiting else []
    by_key = {p["key"]: p for p in people}
    return [{**by_key[key_of(r["in"])], "super": r["direction"] == "super_like"}
            for r in waiting if key_of(r["in"]) in by_key]


def passed(db: Database, user_key: str) -> list[dict]:
    """The dancers she passed on, newest first."""
    me = RecordID("user", user_key)
    with db.member(user_key) as s:
        rows = s.rows("SELECT out, created_at FROM swipe WHERE in = $me AND direction = 'pass' "
                      "ORDER BY created_at DESC LIMIT 200", {"me": me})
        people = s.rows(
            "SELECT record::id(owner) AS key, owner.username AS username, "
            "owner.display_name AS display_name, avatar FROM profile WHERE owner IN $who",
            {"who": [r["out"] for r in rows]}) if rows else []
    by_key = {p["key"]: p for p in people}
    return [by_key[key_of(r["out"])] for r in rows if key_of(r["out"]) in by_key]


def undo_pass(db: Database, user_key: str, username: str) -> None:
    """Take back a pass (pro and VIP; the database refuses it to free members)."""
    other = member_record(db, user_key, username)
    with db.member(user_key) as s:
        gone = s.query("DELETE swipe WHERE in = $me AND out = $other AND direction = 'pass' "
                       "RETURN BEFORE", {"me": RecordID("user", user_key), "other": other})[0]
    if not gone:
        raise NotFound("no pass to undo")
