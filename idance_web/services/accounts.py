"""Accounts: the signed-in member as the session sees her."""

from __future__ import annotations

from dataclasses import dataclass

from flask_login import UserMixin

from ..db import Database, NotAllowed, NotFound, record_id


@dataclass
class SessionUser(UserMixin):
    """The member behind a session cookie. The cookie holds only ``<key>:<session version>``."""

    key: str
    username: str
    display_name: str
    email: str
    tier: str
    session_version: int

    def get_id(self) -> str:
        return f"{self.key}:{self.session_version}"


def load_session_user(db: Database, cookie_id: str) -> SessionUser | None:
    """The member for a session id, or None if she is gone or the session was ended."""
    key, _, version = cookie_id.partition(":")
    try:
        me = record_id("user", key)
        with db.member(me.id) as s:
            row = s.one(
                "SELECT username, display_name, email, tier, session_version FROM ONLY $me",
                {"me": me},
            )
    except (NotAllowed, NotFound):
        return None
    if not row or str(row["session_version"]) != version:
        return None
    return SessionUser(key=str(me.id), **row)
