"""Chat: her conversations, a chat's history and who has seen it, and the unread counts.

Everything runs as the member, and the database decides (migration ``0019``): only a chat's
members read it; a direct chat is hidden from a member the other blocked; a member who left a
group chat reads it up to then. Sending, editing and the read state are in ``chat_actions``.

Chat ids are ``chat:[user:a, user:b]`` (a match's pair) and ``chat:[group:g]`` (a group's one
chat); in URLs they are ``a.b`` and ``g`` (``chat_key``).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from surrealdb import RecordID

from ..db import Database, key_of, record_id
from ..errors import NotFound
from ..text import render_message

PAGE = 30  # messages a page of history shows
EDIT_WINDOW = dt.timedelta(minutes=15)  # the database's fn::edit_window
LISTED = 200  # chats her list shows, most recent activity first
_PART = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_CURSOR = re.compile(r"^\d{19}:[A-Za-z0-9_-]{1,64}$")
# The engine writes a key bare when it is word characters and not all digits, else in ⟨⟩.
_BARE_KEY = re.compile(r"^[A-Za-z0-9_]*[A-Za-z_][A-Za-z0-9_]*$")

# A message as pages and the live stream show it.
MESSAGE_FIELDS = """id, chat, author, author.display_name AS author_name, body, created_at,
    edited_at, deleted_at, history_key"""


def chat_key(chat: RecordID) -> str:
    """A chat id as it appears in URLs: ``a.b`` for a direct chat, the group's key for a
    group chat."""
    return ".".join(key_of(part) for part in chat.id)


def chat_record(key: str) -> RecordID:
    """The chat id a URL's ``chat_key`` names; ``NotFound`` for anything malformed."""
    parts = (key or "").split(".")
    if not all(_PART.match(p) for p in parts):
        raise NotFound("malformed chat key")
    if len(parts) == 1:
        return RecordID("chat", [RecordID("group", parts[0])])
    if len(parts) == 2 and parts[0] != parts[1]:
        return RecordID("chat", [RecordID("user", k) for k in sorted(parts)])
    raise NotFound("malformed chat key")


def group_record(group_key: str) -> RecordID:
    """The id of the group ``group_key`` (its chat is ``chat:[group]``)."""
    if not _PART.match(group_key or ""):
        raise NotFound("malformed group key")
    return RecordID("group", group_key)


def ref(value: Any) -> str:
    """A record id as the engine writes it (``<string> id``): ``chat:[user:a, user:b]``.
    Pages and the live stream's payloads name records this way."""
    if not isinstance(value, RecordID):
        return str(value)
    key = value.id
    if isinstance(key, list):
        return f"{value.table_name}:[{', '.join(ref(k) for k in key)}]"
    key = str(key)
    return f"{value.table_name}:{key if _BARE_KEY.match(key) else '⟨' + key + '⟩'}"


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def message_payload(row: dict, author_name: str | None = None) -> dict:
    """The ``message`` event's payload (CONTRACTS.md) for a message row: its body rendered as
    safe inline HTML, or nothing once deleted. ``row`` holds the ``MESSAGE_FIELDS``."""
    deleted = row.get("deleted_at") is not None or row.get("body") is None
    return {
        "id": ref(row["id"]), "chat": ref(row["chat"]), "author": ref(row["author"]),
        "author_name": author_name or row.get("author_name") or "Deleted member",
        "html": "" if deleted else str(render_message(row["body"])),
        "created_at": _iso(row["created_at"]),
        "edited": row.get("edited_at") is not None and not deleted,
        "deleted": deleted,
    }


def list_chats(db: Database, member_key: str) -> list[dict]:
    """Her chats, most recent activity first: the other dancer (or the group), a preview, her
    exact unread count, whether she muted or left it, and whether it has ended."""
    me = RecordID("user", member_key)
    with db.member(member_key) as s:
        chats = s.rows(
            f"""SELECT id, kind, members, group.name AS group_name, deleted_at,
                       last_message_at, last_message_preview, created_at,
                       (last_message_at ?? created_at) AS activity,
                       (SELECT muted, left_at FROM ONLY
                           type::thing('chat_state', [$parent.id, $me])) AS state,
                       fn::chat_unread(id) AS unread
                   FROM chat WHERE members CONTAINS $me ORDER BY activity DESC LIMIT {LISTED}""",
            {"me": me})
        others = list({ref(m): m for c in chats if c["kind"] == "direct"
                       for m in c["members"] if m != me}.values())
        people = s.rows("SELECT id, username, display_name FROM $others",
                        {"others": others}) if others else []
    names = {ref(p["id"]): p for p in people or []}
    out = []
    for c in chats or []:
        state = c.get("state") or {}
        item = {"key": chat_key(c["id"]), "kind": c["kind"], "unread": int(c["unread"] or 0),
                "muted": bool(state.get("muted")), "left": state.get("left_at") is not None,
                "ended": c.get("deleted_at") is not None, "activity": c["activity"],
                "preview": c.get("last_message_preview"),
                "has_messages": c.get("last_message_at") is not None}
        if c["kind"] == "group":
            item["title"] = c.get("group_name") or "Group chat"
            item["username"] = None
        else:
            other = next((names.get(ref(m)) for m in c["members"] if m != me), None)
            item["title"] = other["display_name"] if other else "Deleted member"
            item["username"] = other["username"] if other else None
        out.append(item)
    return out


def message_body(db: Database, member_key: str, key: str, message_key: str) -> str:
    """The text of her own message in chat ``key`` as she wrote it (for the edit form)."""
    with db.member(member_key) as s:
        row = s.one("SELECT author, body, chat FROM $m", {"m": record_id("message", message_key)})
    if row is None or key_of(row["author"]) != member_key or row.get("body") is None \
            or row["chat"] != chat_record(key):
        raise NotFound("no such message")
    return row["body"]


def unread_total(db: Database, member_key: str) -> int:
    """Her unread messages in the chats she has neither muted nor left (the navigation's
    badge). Opens its own member session."""
    with db.member(member_key) as s:
        total = s.value(
            """RETURN math::sum(SELECT VALUE fn::chat_unread(chat) FROM chat_state
                   WHERE member = $me AND muted = false AND left_at = NONE)""",
            {"me": RecordID("user", member_key)})
    return int(total or 0)


def unread_badge(db: Database, member_key: str) -> tuple[int, list[RecordID]]:
    """Her unread total as ``unread_total`` counts it, and the records it depends on besides
    her own read states: the chats it counts and the other member of each direct one (whose
    deletion hides their chat)."""
    me = RecordID("user", member_key)
    with db.member(member_key) as s:
        rows = s.rows(
            """SELECT chat, chat.kind AS kind, chat.members AS members,
                   fn::chat_unread(chat) AS unread
               FROM chat_state WHERE member = $me AND muted = false AND left_at = NONE""",
            {"me": me})
    records = [r["chat"] for r in rows] + [
        m for r in rows if r.get("kind") == "direct" for m in r.get("members") or [] if m != me]
    return sum(int(r.get("unread") or 0) for r in rows), records


def thread(db: Database, member_key: str, key: str, before: str | None = None,
           limit: int = PAGE) -> dict:
    """One chat as she sees it: who is in it, a page of messages (oldest first, newest at the
    bottom; ``before`` continues upward from an ``older`` cursor), what each member has
    shared of her reading, her own state, and whether she may send (or why not).
    ``NotFound`` when it does not exist or she may not read it."""
    chat = chat_record(key)
    if before is not None and not _CURSOR.match(before):
        raise NotFound("malformed cursor")
    me = RecordID("user", member_key)
    with db.member(member_key) as s:
        info = s.value(
            """RETURN (SELECT id, kind, members, group, group.name AS group_name,
                   group.slug AS group_slug, deleted_at, last_message_at FROM ONLY $chat)""",
            {"chat": chat})
        if not info:
            raise NotFound("no such chat")
        rows = s.query(
            f"""LET $prefix = string::concat(<string> $chat, '|');
                LET $from = IF $cursor THEN string::concat($prefix, $cursor) ELSE $prefix END;
                LET $to = string::concat($prefix, '~');
                SELECT {MESSAGE_FIELDS} FROM message WHERE history_key > $from
                    AND history_key < $to ORDER BY history_key LIMIT {int(limit) + 1};
                SELECT member, shared_read_at FROM chat_state WHERE chat = $chat;
                RETURN (SELECT read_at, muted, left_at FROM ONLY
                    type::thing('chat_state', [$chat, $me]));
                SELECT id, username, display_name FROM $members;
                RETURN count(SELECT id FROM block WHERE in = $me AND out = $other LIMIT 1);
                RETURN fn::chat_unread($chat);""",
            {"chat": chat, "me": me, "cursor": before, "members": info["members"],
             "other": _other(info, me)})[3:]
    messages, states, mine, people, i_block, unread = rows
    older = None
    if len(messages) > limit:
        messages = messages[:limit]
        older = messages[-1]["history_key"].rsplit("|", 1)[1]
    messages.reverse()
    return _thread_view(info, me, messages, states or [], mine or {}, people or [],
                        bool(i_block), int(unread or 0), older)


def _other(info: dict, me: RecordID) -> RecordID | None:
    """The other member of a direct chat (None for a group chat)."""
    if info["kind"] != "direct":
        return None
    return next((m for m in info["members"] if m != me), None)


def _thread_view(info, me, messages, states, mine, people, i_block, unread, older) -> dict:
    names = {ref(p["id"]): p for p in people}
    others = [ref(m) for m in info["members"] if m != me]
    shared = {ref(s["member"]): s.get("shared_read_at") for s in states if s["member"] != me}
    items = []
    for row in messages:
        payload = message_payload(row)
        own = row["author"] == me
        seen_by = [names[m]["display_name"] for m, at in shared.items()
                   if own and at is not None and at >= row["created_at"] and m in names]
        items.append({**payload, "key": key_of(row["id"]), "own": own, "seen_by": seen_by,
                      "created": row["created_at"],
                      "editable": own and payload["deleted"] is False and _editable(row)})
    # "Seen" is shown once, under her latest message that someone has read.
    latest_seen = next((m for m in reversed(items) if m["own"] and m["seen_by"]), None)
    for m in items:
        m["show_seen"] = m is latest_seen
    other = names.get(others[0]) if info["kind"] == "direct" and others else None
    view = {
        "key": chat_key(info["id"]), "ref": ref(info["id"]), "kind": info["kind"],
        "title": (info.get("group_name") or "Group chat") if info["kind"] == "group"
        else (other["display_name"] if other else "Deleted member"),
        "other": other, "group_slug": info.get("group_slug"),
        "members": [names[ref(m)] for m in info["members"] if ref(m) in names],
        "messages": items, "older": older, "unread": unread,
        "muted": bool(mine.get("muted")), "left": mine.get("left_at") is not None,
        "in_members": me in info["members"],
        "me": ref(me),
        # Each member's name and shared read position, for the page's script ("seen").
        "people": {r: {"name": p["display_name"], "read_at": _iso(shared.get(r))}
                   for r, p in names.items()},
    }
    view["reason"] = _cannot_send(info, view, i_block)
    return view


def _editable(row: dict) -> bool:
    return dt.datetime.now(dt.timezone.utc) - row["created_at"] < EDIT_WINDOW


def _cannot_send(info: dict, view: dict, i_block: bool) -> str | None:
    """Why she cannot write here (None when she can), from what she may read."""
    if info["kind"] == "group":
        if info.get("deleted_at") is not None:
            return "This group chat was closed."
        if view["left"]:
            return "You left this chat." if view["in_members"] else \
                "You are no longer a member of this group."
        return None
    if info.get("deleted_at") is None:
        return None
    name = view["other"]["display_name"] if view["other"] else "this member"
    if i_block:
        return f"You blocked {name}: this conversation has ended."
    return f"You and {name} are no longer matched: this conversation has ended."
