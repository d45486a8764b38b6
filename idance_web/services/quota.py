"""Each member's storage quota: what she has uploaded, counted in stored bytes."""

from __future__ import annotations

from surrealdb import RecordID

from ..db import Database


def record_uploads(db: Database, user_key: str, stored: list[tuple[str, int]],
                   quota: int, subject: RecordID | None = None) -> bool:
    """Count the variants she is about to store, as (key, bytes), unless her total would pass
    ``quota`` bytes; False then, and nothing is counted.

    The sum and the write are one transaction, so two uploads at once cannot both pass.
    ``subject`` names what the files belong to (a vlog): the clean-up job gives them back.
    """
    me = RecordID("user", user_key)
    rows = [{"owner": me, "key": key, "bytes": size, "subject": subject}
            for key, size in stored]
    with db.member(user_key) as s:
        return bool(s.query(
            """BEGIN TRANSACTION;
               LET $fits = math::sum(SELECT VALUE bytes FROM upload WHERE owner = $me)
                   + math::sum($rows.bytes) <= $quota;
               IF $fits AND array::len($rows) > 0 { INSERT INTO upload $rows RETURN NONE; };
               RETURN $fits;
               COMMIT TRANSACTION;""",
            {"me": me, "rows": rows, "quota": quota},
        )[-1])


def usage(db: Database, user_key: str) -> int:
    """The bytes she has stored (what her quota counts)."""
    with db.member(user_key) as s:
        return int(s.value("RETURN math::sum(SELECT VALUE bytes FROM upload WHERE owner = $me)",
                           {"me": RecordID("user", user_key)}) or 0)
