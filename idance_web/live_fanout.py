"""The live stream's own fan-out: messages to their chat's members, notifications to their
recipient, and the default counts of the badges.

Recipients are decided from the data as stored, read as the hub's database user (the one that
reads the change feed, which holds every row whole anyway); what is sent is only what each
recipient may read herself: a message's text, author and times go to the chat's members, a
notification to its recipient.
"""

from __future__ import annotations

import datetime as dt

from surrealdb import RecordID

from .db import Database, key_of, record_text
from .realtime import Change
from .text import render_message

# Where a notification of each kind leads, and what it says when nothing better is known.
KINDS = {
    "match": ("You have a new match.", "/matches"),
    "message": ("You have a new message.", "/chat"),
    "follow": ("Someone followed you.", "/me"),
    "vlog_like": ("Someone liked your vlog.", "/vlogs"),
    "comment": ("Someone commented on your vlog.", "/vlogs"),
    "reply": ("Someone replied to your comment.", "/vlogs"),
    "tag": ("You were tagged in a vlog.", "/vlogs"),
    "group_invite": ("You were invited to a group.", "/groups"),
    "group_request": ("Someone asked to join your group.", "/groups"),
    "group_role": ("Your role in a group changed.", "/groups"),
    "contact": ("Someone wrote to you from your site.", "/me"),
    "system": ("A message from iDance.", "/me"),
}


def thing(value) -> str | None:
    """A record id as SurrealQL text, array keys included (``chat:[user:a, user:b]``)."""
    if not isinstance(value, RecordID):
        return None if value is None else str(value)
    if isinstance(value.id, list):
        parts = [thing(v) if isinstance(v, RecordID) else repr(v) for v in value.id]
        return f"{value.table_name}:[{', '.join(parts)}]"
    return record_text(value)


def iso(value) -> str | None:
    return value.isoformat() if isinstance(value, dt.datetime) else value


def describe(row: dict) -> dict:
    """``{"text", "url"}`` for a notification by its kind (the notifications service's own
    description replaces this one when it exists)."""
    text, url = KINDS.get(row.get("kind"), KINDS["system"])
    if row.get("kind") in ("system", "contact") and row.get("text"):
        text = row["text"]
    return {"text": text, "url": url}


def message_events(change: Change, db: Database) -> list[tuple[str, str, dict]]:
    """A new, edited or deleted message, to each member of its chat as stored."""
    row = change.record
    chat, author = row.get("chat"), row.get("author")
    if change.action != "update" or not isinstance(chat, RecordID):
        return []
    with db.hub() as s:
        members, name = s.query(
            """RETURN (SELECT VALUE members FROM $chat WHERE deleted_at = NONE)[0] ?? [];
               RETURN $author.display_name""",
            {"chat": chat, "author": author},
        )
    deleted = row.get("deleted_at") is not None
    payload = {
        "id": thing(row["id"]), "chat": thing(chat), "author": thing(author),
        "author_name": name or "Deleted member", "html": "" if deleted else str(render_message(row["body"])),
        "created_at": iso(row.get("created_at")),
        "edited": row.get("edited_at") is not None and not deleted, "deleted": deleted,
    }
    return [(key_of(m), "message", payload) for m in members or []]


def own_counts(change: Change, db: Database) -> list[tuple[str, str, None]]:
    """Her read state in a chat changed (read, muted, left): her counts may have moved."""
    member = change.record.get("member")
    return [(key_of(member), "badges", None)] if isinstance(member, RecordID) else []


def notification_events(describe_fn=describe):
    """The fan-out of notifications through ``describe_fn``: a new one to its recipient; one
    marked read moves her count only."""

    def events(change: Change, db: Database) -> list[tuple[str, str, dict | None]]:
        row = change.record
        recipient = row.get("recipient")
        if change.action != "update" or not isinstance(recipient, RecordID):
            return []
        if row.get("read_at") is not None:
            return [(key_of(recipient), "badges", None)]
        described = describe_fn(row)
        return [(key_of(recipient), "notification", {
            "id": thing(row["id"]), "kind": row.get("kind"), "text": described["text"],
            "url": described["url"], "created_at": iso(row.get("created_at")),
        })]

    return events


def unread_notifications(db: Database, member: str) -> int:
    """Her unread notifications."""
    with db.member(member) as s:
        return s.value(
            "RETURN count(SELECT id FROM notification WHERE recipient = $me AND read_at = NONE)",
            {"me": RecordID("user", key_of(member))}) or 0


def unread_messages(db: Database, member: str) -> int:
    """Her unread message notifications (the chat's own count replaces this one when chats
    keep a read position)."""
    with db.member(member) as s:
        return s.value(
            """RETURN count(SELECT id FROM notification WHERE recipient = $me
                   AND kind = 'message' AND read_at = NONE)""",
            {"me": RecordID("user", key_of(member))}) or 0
