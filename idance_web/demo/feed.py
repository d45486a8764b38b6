"""The documented demo account's feed: she follows dancers who post vlogs, so her feed (and
the feed's highlights on her home) shows vlogs of others, not only her own.

Written as the system after the vlogs; each follow's event brings that dancer's vlogs into
her feed, as a real follow does. Idempotent by itself: a follow she already has is kept.
"""

from __future__ import annotations

from surrealdb import RecordID

from ..db import Database
from .discovery import ANA

# Demo dancers with public vlogs (demo/vlogs.py): a salsa dancer, a breaker, a contemporary one.
FOLLOWED = ["demo_001", "demo_003", "demo_006"]


def load_demo_feed(db: Database) -> str:
    """Make the documented account follow ``FOLLOWED``; return a one-line summary."""
    me = RecordID("user", ANA)
    with db.system() as s:
        if not s.value("RETURN record::exists($me)", {"me": me}):
            return "No demo feed: the demo members are missing."
        s.query("""FOR $key IN $followed {
                LET $who = type::thing('user', $key);
                IF record::exists($who) AND count(SELECT id FROM follow
                        WHERE in = $me AND out = $who LIMIT 1) = 0 {
                    RELATE $me->follow->$who RETURN NONE;
                };
            };""", {"me": me, "followed": FOLLOWED})
        entries = s.value("RETURN count(SELECT id FROM feed_entry WHERE member = $me "
                          "AND owner != $me)", {"me": me})
    return f"The first member's feed holds {entries} vlogs of dancers she follows."
