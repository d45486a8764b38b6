"""Each member's storage quota: what she has uploaded, counted in stored bytes."""

from __future__ import annotations

from surrealdb import RecordID

from ..db import Database


def used_bytes(db: Database, user_key: str) -> int:
    """Bytes of the image variants she has stored."""
    with db.member(user_key) as s:
        total = s.value("RETURN math::sum(SELECT VALUE bytes FROM upload WHERE owner = $me)",
                        {"me": RecordID("user", user_key)})
    return int(total or 0)


def record_uploads(db: Database, user_key: str, stored: list[tuple[str, int]]) -> None:
    """Count variants she just stored, as (key, bytes)."""
    if not stored:
        return
    me = RecordID("user", user_key)
    rows = [{"owner": me, "key": key, "bytes": size} for key, size in stored]
    with db.member(user_key) as s:
        s.query("INSERT INTO upload $rows RETURN NONE", {"rows": rows})
