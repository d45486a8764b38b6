"""What the live stream sends about chats: who receives a changed message or read state, and
the payload each one receives (the ``message`` and ``read`` events of CONTRACTS.md).

Made for the live stream's fan-out registry, whose functions take ``(change, db)`` (a
``realtime.Change``: ``table``, ``id``, ``action``, ``record``) and return ``(member_key,
event_type, payload)`` triples: ``register_fanout("message", message_events)``,
``register_fanout("chat_state", read_events)``, ``register_badge("chat", chat.unread_total)``. The candidates are the chat's members as stored, read as the hub's
viewer; then each candidate reads the changed row under her own identity, so only what the
database lets her read is sent to her (a member the other blocked, one who left before the
message, or one no longer in the chat gets nothing). Call outside any database session.
"""

from __future__ import annotations

from typing import Any

from surrealdb import RecordID

from ..db import Database, key_of
from .chat import MESSAGE_FIELDS, message_payload, ref


def _members(db: Database, chat: Any) -> list[RecordID]:
    with db.hub() as s:
        return s.value("RETURN (SELECT VALUE members FROM ONLY $chat) ?? []", {"chat": chat}) or []


def message_events(change: Any, db: Database) -> list[tuple[str, str, dict]]:
    """``(member_key, "message", payload)`` for each member who may read the changed message
    (a new, edited or deleted one), its author's other tabs included."""
    record = change.record
    if change.action == "delete" or not record:
        return []
    out = []
    for member in _members(db, record.get("chat")):
        with db.member(key_of(member)) as s:
            row = s.one(f"SELECT {MESSAGE_FIELDS} FROM $m", {"m": record["id"]})
        if row is not None:
            out.append((key_of(member), "message", message_payload(row)))
    return out


def read_events(change: Any, db: Database) -> list[tuple[str, str, dict]]:
    """``(member_key, "read", payload)`` for the other members of the chat when a member's
    shared read position (a ``chat_state`` row) moved; nothing while her read receipts are
    off."""
    record = change.record
    if change.action == "delete" or not record or record.get("shared_read_at") is None:
        return []
    out = []
    for member in _members(db, record.get("chat")):
        if member == record["member"]:
            continue
        with db.member(key_of(member)) as s:
            shared = s.value("RETURN (SELECT VALUE shared_read_at FROM ONLY $state)",
                             {"state": record["id"]})
        if shared is not None:
            out.append((key_of(member), "read", {"chat": ref(record["chat"]),
                                                 "member": ref(record["member"]),
                                                 "read_at": shared.isoformat()}))
    return out
