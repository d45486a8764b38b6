"""Links sent by email: a password reset and an address verification.

A link carries a random token (32 bytes, URL-safe); the database keeps only its SHA-256, as
the id of an ``email_token`` row (migration ``0022``) with the member, the address it was
sent to, its expiry and when it was used. A link works once. A newer link of the same kind
ends the older ones, and any new password ends every reset link (an event). Token rows are
read and written as the system identity, in this module only: nobody else may see them.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass

from surrealdb import RecordID

from ..db import Database
from ..errors import Invalid, Refused
from . import accounts

RESET_HOURS = 1
VERIFY_HOURS = 72
_TTL = {"reset": f"{RESET_HOURS}h", "verify": f"{VERIFY_HOURS}h"}
# secrets.token_urlsafe(32): 43 characters of the URL-safe alphabet.
TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{43}$")

_ISSUE = """UPDATE email_token SET used_at = time::now()
        WHERE user = $user AND purpose = $purpose AND used_at = NONE RETURN NONE;
    CREATE $id SET user = $user, purpose = $purpose, email = $email,
        expires_at = time::now() + <duration> $ttl RETURN NONE;"""
_READ = """SELECT user, purpose, email, used_at, expires_at < time::now() AS expired,
        user.email AS current_email, user.deleted_at AS deleted_at,
        user.has_password AS has_password, user.username AS username
    FROM ONLY $id"""
# Conditional: of two requests with one link, one update matches.
_USE = """UPDATE $id SET used_at = time::now()
    WHERE used_at = NONE AND expires_at > time::now() AND purpose = $purpose RETURN user"""


class LinkRefused(Refused):
    """A link that cannot be used; ``kind`` says why (malformed, unknown, used, expired,
    changed) and ``reason`` says it to the person."""

    REASONS = {
        "malformed": "This link is not complete. Copy the whole link from the email.",
        "unknown": "This link is not valid. Ask for a new one.",
        "used": "This link was already used, or a newer one was sent. Ask for a new one.",
        "expired": "This link has expired. Ask for a new one.",
        "changed": "This link was for an address the account no longer uses.",
    }

    def __init__(self, kind: str) -> None:
        super().__init__(self.REASONS[kind], status=400)
        self.kind = kind


@dataclass
class Link:
    """A usable link: whose, which address, whether she already has a password."""

    user_key: str
    purpose: str
    email: str
    username: str
    has_password: bool


def _token_id(token: str) -> RecordID:
    return RecordID("email_token", hashlib.sha256(token.encode()).hexdigest())


def _issue(db: Database, user: RecordID, purpose: str, email: str) -> str:
    token = secrets.token_urlsafe(32)
    with db.system() as s:
        s.query(_ISSUE, {"id": _token_id(token), "user": user, "purpose": purpose,
                         "email": email, "ttl": _TTL[purpose]})
    return token


def request_reset(db: Database, email: str) -> dict | None:
    """A new reset link for the live account that uses ``email``, or None if none does.

    Returns ``{"token", "email", "display_name", "has_password"}``; earlier reset links of
    the account stop working.
    """
    address = accounts.normalize_email(email)
    if not accounts.EMAIL_RE.match(address):
        return None
    with db.system() as s:
        row = s.one("""SELECT id, email, display_name, has_password FROM user
                       WHERE email = $email AND deleted_at IS NONE LIMIT 1""",
                    {"email": address})
    if row is None:
        return None
    return {"token": _issue(db, row["id"], "reset", row["email"]), "email": row["email"],
            "display_name": row["display_name"], "has_password": bool(row.get("has_password"))}


def request_verification(db: Database, user_key: str) -> dict | None:
    """A verification link for her current address, or None when it is already verified."""
    me = RecordID("user", user_key)
    state = email_state(db, user_key)
    if state["verified"]:
        return None
    return {"token": _issue(db, me, "verify", state["email"]), "email": state["email"]}


def email_state(db: Database, user_key: str) -> dict:
    """``{"email", "verified"}``: her address and whether she proved it is hers."""
    with db.member(user_key) as s:
        row = s.one("SELECT email, verified_email FROM ONLY $me",
                    {"me": RecordID("user", user_key)}) or {}
    email = row.get("email", "")
    return {"email": email, "verified": bool(email) and row.get("verified_email") == email}


def check_link(db: Database, token: str, purpose: str) -> Link:
    """The link ``token`` names, if it can still be used for ``purpose``; else ``LinkRefused``."""
    if not isinstance(token, str) or not TOKEN_RE.match(token):
        raise LinkRefused("malformed")
    with db.system() as s:
        row = s.one(_READ, {"id": _token_id(token)})
    if not row or row.get("purpose") != purpose or row.get("deleted_at") is not None:
        raise LinkRefused("unknown")
    if row.get("current_email") != row["email"]:
        raise LinkRefused("changed")
    if row.get("used_at") is not None:
        raise LinkRefused("used")
    if row.get("expired"):
        raise LinkRefused("expired")
    return Link(user_key=str(row["user"].id), purpose=purpose, email=row["email"],
                username=row.get("username") or "", has_password=bool(row.get("has_password")))


def _use(db: Database, token: str, purpose: str) -> Link:
    link = check_link(db, token, purpose)
    with db.system() as s:
        used = s.rows(_USE, {"id": _token_id(token), "purpose": purpose})
    if not used:  # used or expired between the check and now
        raise LinkRefused("used")
    return link


def reset_password(db: Database, token: str, password: str) -> Link:
    """Set her password through a reset link and end every session she has.

    Works for a member who joined through a provider and has no password yet. Raises
    ``Invalid`` for a password that breaks the rules (the link stays usable) and
    ``LinkRefused`` for a link that cannot be used.
    """
    errors = accounts.check_password_rules(password)
    if errors:
        check_link(db, token, "reset")  # a dead link is named before the password's problem
        raise Invalid(errors)
    link = _use(db, token, "reset")
    hashed = accounts.hash_password(password)
    with db.system() as s:
        s.query("""UPDATE $me SET password = $hash, has_password = true RETURN NONE;
                   UPDATE user_session SET revoked_at = time::now()
                       WHERE user = $me AND revoked_at = NONE RETURN NONE;""",
                {"me": RecordID("user", link.user_key), "hash": hashed})
    return link


def verify_email(db: Database, token: str) -> Link:
    """Mark the address a verification link was sent to as hers (if she still uses it)."""
    link = _use(db, token, "verify")
    with db.system() as s:
        s.query("UPDATE $me SET verified_email = $email WHERE email = $email RETURN NONE",
                {"me": RecordID("user", link.user_key), "email": link.email})
    return link


def expires_text(purpose: str) -> str:
    """How long a link works, for the email and the pages."""
    hours = RESET_HOURS if purpose == "reset" else VERIFY_HOURS
    return "1 hour" if hours == 1 else f"{hours // 24} days" if hours % 24 == 0 else f"{hours} hours"

