"""Record ids from request text: an allow-listed table and a plain key, or nothing."""

from __future__ import annotations

import re
from typing import Any

from surrealdb import RecordID

from .errors import NotFound

# Tables a request may name in a record id. Ids built from request text go through `record_id`,
# which refuses any table outside this list.
TABLES = frozenset(
    """user profile device country state county city follow swipe match user_dance_style
    user_interest chat message comments notification vlog vlog_like group group_member site
    content_block dance_style interest social_platform oauth_identity audit_log block
    identity migration user_session upload""".split()
)
_KEY_RE = re.compile(r"^[A-Za-z0-9_\-]{1,64}$")
_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def record_id(table: str, key: Any) -> RecordID:
    """A record id from an allow-listed table and a plain key; anything else is NotFound."""
    if table not in TABLES:
        raise NotFound(f"unknown table {table!r}")
    if isinstance(key, RecordID):
        if key.table_name != table:
            raise NotFound("record id of another table")
        return key
    key = str(key)
    if key.startswith(table + ":"):
        key = key[len(table) + 1 :]
    if not _KEY_RE.match(key):
        raise NotFound("malformed record id")
    return RecordID(table, key)


def record_text(rid: RecordID) -> str:
    """A record id as SurrealQL text, its key escaped when it is not a plain identifier."""
    key = str(rid.id)
    if not _PLAIN_KEY.match(key):
        key = "⟨" + key + "⟩"
    return f"{rid.table_name}:{key}"


def key_of(value: Any) -> str:
    """The plain key of a record id (``user:abc`` → ``abc``)."""
    if isinstance(value, RecordID):
        return str(value.id)
    text = str(value)
    return text.split(":", 1)[1] if ":" in text else text
