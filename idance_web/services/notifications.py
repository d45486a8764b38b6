"""Her notifications: the list (grouped where several are alike), read state, the unread
count, and her preferences per kind.

Database events write notifications (migrations ``0008``, ``0010``, ``0020``); the contact form
writes ``contact`` ones as the worker. Everything here runs as the member, whose permissions
show her own rows only.

Grouping: in one page of her list, rows of a groupable kind about the same subject (a vlog's
likes, a chat's messages, a group's join requests; follows group by kind alone, their subject
being each follower) within ``GROUP_WINDOW`` of the newest of them are one item: "Ana and 3
others liked your vlog". Each item links to its subject (``describe``).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from surrealdb import RecordID

from ..db import Database
from ..errors import Invalid, NotFound
from ..record_ids import key_of
from .chat import chat_key

# Kind → what the settings call it, in the order shown.
KINDS = {
    "match": "New matches",
    "message": "Chat messages",
    "follow": "New followers",
    "vlog_like": "Likes on your vlogs",
    "comment": "Comments on your vlogs",
    "reply": "Replies to your comments",
    "tag": "Tags in vlogs",
    "group_invite": "Group invitations",
    "group_request": "Requests to join your groups",
    "group_role": "Your role in a group",
    "contact": "Messages from your site's contact form",
    "system": "News from iDance",
}
GROUPED = {"message", "follow", "vlog_like", "comment", "reply", "tag", "group_request"}
GROUP_WINDOW = dt.timedelta(hours=24)
PAGE = 30
KEY_RE = re.compile(r"^[a-z0-9]{1,40}$")
CURSOR_RE = re.compile(r"^[0-9]{1,20}:[a-z0-9]{1,40}$")

_FIELDS = """id, kind, text, read_at, created_at, recipient_key, subject,
    actor.display_name AS actor_name, actor.username AS actor_username,
    subject.name AS subject_name, subject.slug AS subject_slug, subject.title AS subject_title,
    subject.target AS subject_target"""
# Kinds she turned off in the app are hidden from the list and the badge. These three parts
# also serve a page that reads her newest rows and her count beside other things in one batch
# (her home, ``services/home.py``): the LET first, then the rows and the count as expressions.
HIDDEN_KINDS = ("LET $off = SELECT VALUE kind FROM notification_pref WHERE member = $me "
                "AND in_app = false")
NEWEST = f"""SELECT {_FIELDS} FROM notification
    WHERE recipient_key > $lo AND recipient_key < $hi AND kind NOT IN $off
    ORDER BY recipient_key LIMIT $limit"""
UNREAD_COUNT = "count(SELECT id FROM notification WHERE unread_key = $me AND kind NOT IN $off)"
_LIST = f"{HIDDEN_KINDS};\n    {NEWEST}"
_UNREAD = f"{HIDDEN_KINDS};\n    RETURN {UNREAD_COUNT}"
_ONE = f"SELECT {_FIELDS} FROM ONLY $id"
_READ = "UPDATE $ids SET read_at = time::now() WHERE read_at = NONE RETURN NONE"
_READ_ALL = "UPDATE notification SET read_at = time::now() WHERE unread_key = $me RETURN NONE"
_PREFS = "SELECT kind, in_app, push FROM notification_pref WHERE member = $me"
_SAVE_PREFS = """FOR $p IN $prefs {
        UPSERT type::thing('notification_pref', [$me, $p.kind])
            SET member = $me, kind = $p.kind, in_app = $p.in_app, push = $p.push RETURN NONE;
    }"""


@dataclass
class Item:
    """One line of her list: a notification, or several alike grouped."""

    kind: str
    text: str
    url: str
    created_at: dt.datetime
    keys: list[str]
    unread: bool
    rows: list[dict] = field(default_factory=list)

    @property
    def key(self) -> str:
        return self.keys[0]


def _me(member_key: str) -> RecordID:
    return RecordID("user", member_key)


def _name(row: dict) -> str:
    return row.get("actor_name") or "Someone"


def _vlog_key(row: dict) -> str:
    subject = row.get("subject")
    if isinstance(subject, RecordID) and subject.table_name == "comments":
        subject = row.get("subject_target") or subject
    return key_of(subject) if subject is not None else ""


def _url(row: dict) -> str:
    kind, subject = row["kind"], row.get("subject")
    if kind == "match":
        return "/matches"
    if kind == "message" and subject is not None:
        return f"/chat/{chat_key(subject)}"  # the chat's own address (services/chat.py)
    if kind == "follow" and row.get("actor_username"):
        return f"/u/{row['actor_username']}"
    if kind in ("vlog_like", "comment", "reply", "tag") and subject is not None:
        return f"/vlogs/{_vlog_key(row)}"
    if kind.startswith("group_") and row.get("subject_slug"):
        manage = "/manage" if kind == "group_request" else ""
        return f"/g/{row['subject_slug']}{manage}" if manage else f"/groups/{row['subject_slug']}"
    return f"/notifications/{key_of(row['id'])}"


_ROLE_TEXT = {"member": "accepted you as a member of", "admin": "made you an admin of",
              "owner": "handed you", "removed": "removed you from"}


def _text(row: dict, others: int = 0) -> str:
    kind = row["kind"]
    who = _name(row)
    if others:
        who = f"{who} and {others} other{'s' if others > 1 else ''}"
    group = row.get("subject_name") or "a group"
    vlog = f"“{row['subject_title']}”" if row.get("subject_title") else "your vlog"
    match kind:
        case "match":
            return f"You matched with {who}."
        case "message":
            return f"{who} sent you a message." if not others else f"{who} sent you messages."
        case "follow":
            return f"{who} followed you."
        case "vlog_like":
            return f"{who} liked {vlog}."
        case "comment":
            return f"{who} commented on {vlog}."
        case "reply":
            return f"{who} replied to your comment."
        case "tag":
            return f"{who} tagged you in {vlog}."
        case "group_invite":
            return f"{who} invited you to join {group}."
        case "group_request":
            return f"{who} asked to join {group}."
        case "group_role":
            action = _ROLE_TEXT.get(row.get("text") or "", "changed your role in")
            return f"{who} {action} {group}."
        case "contact":
            first = (row.get("text") or "").split("\n", 1)[0].rstrip(":")
            return f"{first}." if first else "A visitor wrote to you through your site."
    return (row.get("text") or "A message from iDance.").split("\n", 1)[0]


def describe(row: dict) -> dict:
    """``{"text", "url"}`` of one notification row as the recipient reads it (plain text).

    The row carries the fields this module selects (``actor_name``, ``subject_slug`` …); a
    row without them still gets a sentence and a link.
    """
    return {"text": _text(row), "url": _url(row)}


def _group_key(row: dict) -> tuple:
    # Record ids are not hashable: their text stands for them.
    if row["kind"] not in GROUPED:
        return ("one", str(row["id"]))
    return (row["kind"],) if row["kind"] == "follow" else (row["kind"], str(row.get("subject")))


def group_rows(rows: list[dict]) -> list[Item]:
    """Fold rows (newest first) into items: alike rows within ``GROUP_WINDOW`` of the newest."""
    items: list[Item] = []
    open_groups: dict[tuple, Item] = {}
    for row in rows:
        gk = _group_key(row)
        item = open_groups.get(gk)
        if item is not None and item.created_at - row["created_at"] <= GROUP_WINDOW:
            item.rows.append(row)
            item.keys.append(key_of(row["id"]))
            item.unread = item.unread or row.get("read_at") is None
            continue
        item = Item(kind=row["kind"], text="", url=_url(row), created_at=row["created_at"],
                    keys=[key_of(row["id"])], unread=row.get("read_at") is None,
                    rows=[row])
        open_groups[gk] = item
        items.append(item)
    for item in items:
        people = list(dict.fromkeys(_name(r) for r in item.rows))
        others = len(people) - 1 if item.kind != "message" else 0
        item.text = _text(item.rows[0], others)
        if item.kind == "message" and len(item.rows) > 1:
            item.text = f"{_name(item.rows[0])} sent you {len(item.rows)} messages."
    return items


def list_params(member_key: str, limit: int, after: str | None = None) -> dict:
    """The parameters of her list's range (``NEWEST``): her rows are the keys between
    ``<her key>/`` and ``<her key>0``, continued after the cursor ``after``."""
    return {"me": _me(member_key), "lo": f"{member_key}/" + (after or ""),
            "hi": f"{member_key}0", "limit": limit}


def list_notifications(db: Database, member_key: str, after: str | None = None,
                       limit: int = PAGE) -> tuple[list[Item], str | None]:
    """A page of her list, newest first, grouped; and the cursor of the next page (or None).

    ``after`` is the cursor a previous page gave; a malformed one raises ``Invalid``.
    """
    if after is not None and not CURSOR_RE.match(after):
        raise Invalid({"after": "That page does not exist."})
    with db.member(member_key) as s:
        rows = s.query(_LIST, list_params(member_key, limit + 1, after))[-1]
    more = len(rows) > limit
    rows = rows[:limit]
    cursor = rows[-1]["recipient_key"].split("/", 1)[1] if more else None
    return group_rows(rows), cursor


def unread_count(db: Database, member_key: str) -> int:
    """Her unread notifications, of the kinds she shows in the app (exact)."""
    with db.member(member_key) as s:
        return int(s.value(_UNREAD, {"me": _me(member_key)}) or 0)


def _ids(keys: list[str]) -> list[RecordID]:
    bad = [k for k in keys if not KEY_RE.match(k or "")]
    if bad or not keys:
        raise Invalid({"ids": "Those notifications do not exist."})
    return [RecordID("notification", k) for k in keys[:200]]


def get_notification(db: Database, member_key: str, key: str) -> dict:
    """One of her notifications with its names, and ``text``/``url`` (``NotFound`` otherwise)."""
    if not KEY_RE.match(key or ""):
        raise NotFound("no such notification")
    with db.member(member_key) as s:
        row = s.value(_ONE, {"id": RecordID("notification", key)})
    if not row:
        raise NotFound("no such notification")
    return {**row, **{"title": _text(row), "url": _url(row)}}


def live_event(db: Database, member_key: str, key: str) -> dict | None:
    """The live stream's ``notification`` payload for one of her notifications, read as her;
    None when it is not hers, gone, or of a kind she hides in the app."""
    try:
        row = get_notification(db, member_key, key)
    except NotFound:
        return None
    if not preferences(db, member_key)[row["kind"]]["in_app"]:
        return None
    return {"id": str(row["id"]), "kind": row["kind"], "text": row["title"], "url": row["url"],
            "created_at": row["created_at"].isoformat()}


def fanout(change, db: Database) -> list[tuple[str, str, dict]]:
    """For ``live.register_fanout("notification", fanout)``: a new notification becomes a
    ``notification`` event for its recipient (a read or deleted one sends nothing here; the
    live stream recounts her badge)."""
    record = change.record or {}
    # However old the change (a reconnecting stream replays the feed), an unread row is sent:
    # rows change while unread only when they are made.
    if change.action != "update" or record.get("read_at") is not None:
        return []
    member = key_of(record.get("recipient", ""))
    payload = live_event(db, member, key_of(change.id))
    return [(member, "notification", payload)] if payload else []


def mark_read(db: Database, member_key: str, keys: list[str]) -> None:
    """Mark these notifications of hers read (others' ids change nothing)."""
    ids = _ids(keys)
    with db.member(member_key) as s:
        s.query(_READ, {"ids": ids})


def mark_all_read(db: Database, member_key: str) -> None:
    """Mark every notification of hers read."""
    with db.member(member_key) as s:
        s.query(_READ_ALL, {"me": _me(member_key)})


def preferences(db: Database, member_key: str) -> dict[str, dict[str, bool]]:
    """Kind → ``{"in_app": bool, "push": bool}`` for every kind (both on unless she chose)."""
    prefs = {kind: {"in_app": True, "push": True} for kind in KINDS}
    with db.member(member_key) as s:
        for row in s.rows(_PREFS, {"me": _me(member_key)}):
            if row["kind"] in prefs:
                prefs[row["kind"]] = {"in_app": row["in_app"], "push": row["push"]}
    return prefs


def save_preferences(db: Database, member_key: str, prefs: dict[str, dict[str, bool]]) -> None:
    """Store her choice for each kind given; an unknown kind raises ``Invalid``."""
    unknown = [k for k in prefs if k not in KINDS]
    if unknown:
        raise Invalid({"notifications": f"Unknown kind: {unknown[0]}"})
    rows = [{"kind": k, "in_app": bool(v["in_app"]), "push": bool(v["push"])}
            for k, v in prefs.items()]
    with db.member(member_key) as s:
        s.query(_SAVE_PREFS, {"me": _me(member_key), "prefs": rows})
