"""Export my data: everything a member owns, as plain JSON-ready data."""

from __future__ import annotations

import datetime as dt
from typing import Any

from surrealdb import RecordID

from ..db import Database

# One statement per part, all run as the member herself: the database decides what is hers.
EXPORT_QUERY = """
LET $site = (SELECT VALUE id FROM site WHERE owner = $me LIMIT 1)[0];
SELECT * OMIT password, has_password FROM ONLY $me;
SELECT * FROM profile WHERE owner = $me;
SELECT in AS user, out AS style, level, role, created_at FROM user_dance_style WHERE in = $me;
SELECT out AS interest, created_at FROM user_interest WHERE in = $me;
SELECT * FROM site WHERE owner = $me;
-- A filter through the record link (site.owner) finds nothing on this engine, and
-- `site IN (subquery)` reads every block: her one site's id first.
SELECT * FROM content_block WHERE site = $site;
SELECT * OMIT embedding FROM vlog WHERE owner = $me;
SELECT * FROM message WHERE author = $me;
SELECT * FROM comments WHERE author = $me;
SELECT out AS following, created_at FROM follow WHERE in = $me;
SELECT out AS target, direction, created_at FROM swipe WHERE in = $me;
SELECT * FROM match WHERE $me IN users;
SELECT provider, email, created_at FROM oauth_identity WHERE user = $me;
SELECT * FROM group_member WHERE user = $me;
"""
PARTS = ["account", "profile", "dance_styles", "interests", "sites", "content_blocks", "vlogs",
         "messages_sent", "comments", "follows", "swipes", "matches", "sign_in_providers",
         "group_memberships"]


def _plain(value: Any) -> Any:
    if isinstance(value, RecordID):
        return f"{value.table_name}:{value.id}"
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def export_account(db: Database, user_key: str) -> dict:
    """Everything member ``user_key`` owns, keyed by part, with ids and dates as strings."""
    with db.member(user_key) as s:
        results = s.query(EXPORT_QUERY, {"me": RecordID("user", user_key)})
    data = {"format": "idance-export-1",
            "exported_at": dt.datetime.now(dt.timezone.utc).isoformat()}
    for name, result in zip(PARTS, results[1:]):  # the first statement is the LET
        data[name] = _plain(result)
    return data
