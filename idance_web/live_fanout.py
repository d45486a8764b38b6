"""The live stream's own fan-out (the chat's is ``services/chat_live.py``, the notifications'
``services/notifications.fanout``): what moves only a member's own counts, decided from the row
as stored.
"""

from __future__ import annotations

from surrealdb import RecordID

from .db import Database, key_of
from .realtime import Change

def own_counts(change: Change, db: Database) -> list[tuple[str, str, None]]:
    """Her read state in a chat changed (read, muted, left): her counts may have moved."""
    member = change.record.get("member")
    return [(key_of(member), "badges", None)] if isinstance(member, RecordID) else []


def notification_read(change: Change, db: Database) -> list[tuple[str, str, None]]:
    """A notification marked read moves her count (new ones are sent by
    ``services.notifications.fanout``)."""
    row, recipient = change.record, change.record.get("recipient")
    if change.action != "update" or row.get("read_at") is None:
        return []
    return [(key_of(recipient), "badges", None)] if isinstance(recipient, RecordID) else []
