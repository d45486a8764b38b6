"""The live stream's own fan-out (the chat's is ``services/chat_live.py``): a notification to
its recipient, a member's read state to her own counts, and a default count of her unread
notifications. The recipient is decided from the row as stored; she is sent only what she may
read herself.
"""

from __future__ import annotations

import datetime as dt

from surrealdb import RecordID

from .db import Database, key_of
from .realtime import Change
from .services.chat import ref

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


def iso(value) -> str | None:
    return value.isoformat() if isinstance(value, dt.datetime) else value


def describe(row: dict) -> dict:
    """``{"text", "url"}`` for a notification by its kind (the notifications service's own
    description replaces this one when it exists)."""
    text, url = KINDS.get(row.get("kind"), KINDS["system"])
    if row.get("kind") in ("system", "contact") and row.get("text"):
        text = row["text"]
    return {"text": text, "url": url}


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
            "id": ref(row["id"]), "kind": row.get("kind"), "text": described["text"],
            "url": described["url"], "created_at": iso(row.get("created_at")),
        })]

    return events


def unread_notifications(db: Database, member: str) -> int:
    """Her unread notifications."""
    with db.member(member) as s:
        return s.value(
            "RETURN count(SELECT id FROM notification WHERE recipient = $me AND read_at = NONE)",
            {"me": RecordID("user", key_of(member))}) or 0
