"""Accounts: sign-up, sign-in, sessions, and the account's lifecycle.

Passwords are hashed by the database (the member access's SIGNUP) and compared here with
argon2-cffi, which releases Python's GIL (the engine's ``crypto::argon2::compare`` holds it for
its ~80 ms and stalls every other request). The app never stores or logs passwords. A session
cookie names one ``user_session`` row.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
import threading
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask_login import UserMixin
from surrealdb import RecordID

from ..db import Database, DatabaseError, DatabaseUnavailable, record_id
from ..errors import AppError, Conflict, Invalid, NotAllowed, NotFound

USERNAME_RE = re.compile(r"^[a-z0-9_-]{3,30}$")
# The HTML5 address syntax, less what the database's `string::is::email` refuses (dots at
# either end of the local part or doubled), so a form never passes what the database rejects.
EMAIL_RE = re.compile(
    r"^(?!\.)(?!.*\.\.)[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}(?<!\.)"
    r"@[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)+$"
)
MIN_PASSWORD = 10
MAX_PASSWORD = 200
# Names that collide with routes, or that would mislead visitors.
RESERVED_USERNAMES = frozenset(
    """admin administrator api app auth static g me login logout signup settings help about
    support root system null undefined www mail idance discover matches vlogs chat events
    notifications groups healthz sitemap robots new edit manage security privacy terms""".split()
)
# Linking a sign-in provider asks for a sign-in this recent: a stolen session alone must not
# be enough to add a way in that outlives a password change.
RECENT_SIGN_IN_MINUTES = 15


# One hash at a time: a sign-in takes one core for its ~80 ms, the other keeps serving pages.
_ONE_HASH_AT_A_TIME = threading.BoundedSemaphore(1)
_HASHER = PasswordHasher()
# What the member access's SIGNUP writes (`crypto::argon2::generate`): m=19456, t=2, p=1.
_ENGINE_HASHER = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)
# What an unknown email or an account without a password is compared against, so the answer
# takes as long either way (the same fixed hash as the member access's SIGNIN clause).
_ABSENT_HASH = ("$argon2id$v=19$m=19456,t=2,p=1$zEX6EJp9+Q07bVBRwHWDIA$"
                "UyojgPL3Ab1GEoMN/Qd8ZNbaodLtUEBbFF0cQJ63E34")


class InvalidCredentials(NotAllowed):
    """Wrong email or password (the same answer whichever was wrong)."""


@dataclass
class SessionUser(UserMixin):
    """The member behind a session cookie, which holds only ``<user key>:<session key>``."""

    key: str
    session: str
    username: str
    display_name: str
    email: str
    tier: str
    signed_in_at: dt.datetime | None = None
    onboarding: str | None = None  # the set-up step she resumes at (services/onboarding.py)

    def signed_in_recently(self) -> bool:
        """Whether this session began within ``RECENT_SIGN_IN_MINUTES``."""
        if self.signed_in_at is None:
            return False
        age = dt.datetime.now(dt.timezone.utc) - self.signed_in_at
        return age < dt.timedelta(minutes=RECENT_SIGN_IN_MINUTES)

    def get_id(self) -> str:
        return f"{self.key}:{self.session}"


def normalize_email(email: str) -> str:
    return (email or "").strip().lower()


def check_password_rules(password: str, field: str = "password") -> dict[str, str]:
    if len(password or "") < MIN_PASSWORD:
        return {field: f"Use at least {MIN_PASSWORD} characters."}
    if len(password) > MAX_PASSWORD:
        return {field: f"Use at most {MAX_PASSWORD} characters."}
    return {}


def check_signup(email: str, username: str, display_name: str, password: str) -> dict[str, str]:
    """Field → problem for a sign-up form (empty when it may go to the database)."""
    errors = {}
    if not EMAIL_RE.match(normalize_email(email)) or len(email) > 254:
        errors["email"] = "Enter a valid email address."
    name = (username or "").strip().lower()
    if not USERNAME_RE.match(name):
        errors["username"] = "Use 3–30 lowercase letters, digits, - or _."
    elif name in RESERVED_USERNAMES:
        errors["username"] = "That username is reserved. Choose another."
    if not (display_name or "").strip() or len(display_name.strip()) > 80:
        errors["display_name"] = "Enter a display name of up to 80 characters."
    errors.update(check_password_rules(password))
    return errors


def _taken(db: Database, email: str, username: str) -> dict[str, str]:
    with db.system() as s:
        email_taken, name_taken = s.query(
            "RETURN count(SELECT id FROM user WHERE email = $email) > 0;"
            "RETURN count(SELECT id FROM user WHERE username = $username) > 0;",
            {"email": email, "username": username},
        )
    errors = {}
    if email_taken:
        errors["email"] = "An account with this email already exists. Sign in instead."
    if name_taken:
        errors["username"] = "That username is taken. Choose another."
    return errors


def sign_up(db: Database, email: str, username: str, display_name: str, password: str,
            user_agent: str = "") -> SessionUser:
    """Create a member (and her empty profile) and open her first session.

    Raises ``Invalid`` with field → reason for anything the form should show again.
    """
    email, username = normalize_email(email), (username or "").strip().lower()
    errors = check_signup(email, username, display_name, password) or _taken(db, email, username)
    if errors:
        raise Invalid(errors)
    variables = {"email": email, "username": username,
                 "display_name": display_name.strip(), "password": password}
    try:
        user = db.record_signin("member", variables, signup=True)
    except DatabaseUnavailable:
        raise  # not her input: the 503 page
    except (AppError, DatabaseError) as exc:
        # SIGNUP failures arrive without detail: a race on a unique index is the likely one.
        raise Invalid(_taken(db, email, username) or {
            "email": "We could not create this account. Try again."}) from exc
    return open_session(db, str(record_id("user", user).id), "signup", user_agent)


def sign_in(db: Database, email: str, password: str, user_agent: str = "") -> SessionUser:
    """Check her password and open a session; ``InvalidCredentials`` if either is wrong."""
    if not email or not password or len(password) > MAX_PASSWORD:
        raise InvalidCredentials()
    key = _password_owner(db, "email", normalize_email(email), password)
    if key is None:
        raise InvalidCredentials()
    return open_session(db, key, "password", user_agent)


# Where a password's owner is looked up: by the email she signs in with, or by her id.
_PASSWORD_OF = {
    "email": "SELECT id, password FROM user WHERE email = $v AND deleted_at IS NONE LIMIT 1",
    "id": "SELECT id, password FROM $v WHERE deleted_at IS NONE",
}


def _password_owner(db: Database, by: str, value, password: str) -> str | None:
    """The key of the live member found by ``email`` or ``id`` whose password this is.

    The hash is read as the system: no member or visitor identity may read a hash, and this
    function is the one place that does; the hash is compared here and never leaves it.
    """
    with db.system() as s:
        row = s.one(_PASSWORD_OF[by], {"v": value})
    stored = (row or {}).get("password")
    # An account without a password (she joined through a provider) opens with none of them.
    matches = _password_matches(stored if isinstance(stored, str) else None, password)
    return str(row["id"].id) if matches else None


def _password_matches(stored: str | None, password: str) -> bool:
    with _ONE_HASH_AT_A_TIME:
        try:
            ok = _HASHER.verify(stored or _ABSENT_HASH, password)
        except (VerificationError, InvalidHashError):
            ok = False
    return ok and stored is not None


def hash_password(password: str) -> str:
    """An argon2id hash with the engine's parameters, made here (the GIL released)."""
    with _ONE_HASH_AT_A_TIME:
        return _ENGINE_HASHER.hash(password)


def open_session(db: Database, key: str, method: str, user_agent: str = "") -> SessionUser:
    """Record a new session for member ``key`` and return her as the session sees her."""
    token = secrets.token_urlsafe(24)
    with db.member(key) as s:
        s.query(
            "CREATE $sid SET user = $me, method = $method, user_agent = $agent",
            {"sid": RecordID("user_session", token), "me": RecordID("user", key),
             "method": method, "agent": (user_agent or "")[:300]},
        )
    user = load_session_user(db, f"{key}:{token}")
    if user is None:  # pragma: no cover - the row was just written
        raise NotAllowed("session could not be opened")
    return user


def load_session_user(db: Database, cookie_id: str) -> SessionUser | None:
    """The member for a session cookie, or None if she is gone or the session was ended.

    A session lasts 30 days from sign-in at most and ends after 14 idle days, whatever the
    cookie says. Its last use is written at most every 10 minutes, in a block of its own: the
    check itself writes nothing, so the connection stays signed in as her for the page's
    queries (a block that writes makes the next one authenticate again).
    """
    key, _, token = (cookie_id or "").partition(":")
    try:
        me, sid = record_id("user", key), record_id("user_session", token)
        with db.member(me.id) as s:
            row = s.one(
                """SELECT username, display_name, email, tier, onboarding,
                       (SELECT created_at, last_seen_at < time::now() - 10m AS stale
                        FROM ONLY $sid WHERE user = $me AND revoked_at = NONE
                        AND created_at > time::now() - 30d
                        AND last_seen_at > time::now() - 14d) AS session
                   FROM ONLY $me""",
                {"me": me, "sid": sid},
            )
        if row and row.get("session") and row["session"]["stale"]:
            with db.member(me.id) as s:
                s.query("UPDATE $sid SET last_seen_at = time::now() WHERE user = $me "
                        "AND revoked_at = NONE RETURN NONE", {"me": me, "sid": sid})
    except (NotAllowed, NotFound):
        return None
    if not row or not row.get("session"):
        return None
    row["signed_in_at"] = row.pop("session")["created_at"]
    row["session"] = token
    return SessionUser(key=str(me.id), **row)


def end_session(db: Database, user: SessionUser) -> None:
    """Sign out this session only."""
    with db.member(user.key) as s:
        s.query("UPDATE $sid SET revoked_at = time::now() WHERE revoked_at = NONE",
                {"sid": RecordID("user_session", user.session)})


def end_other_sessions(db: Database, user: SessionUser) -> int:
    """Revoke every session of the member but this one; return how many were ended."""
    with db.member(user.key) as s:
        ended = s.rows(
            """UPDATE user_session SET revoked_at = time::now()
               WHERE user = $me AND revoked_at = NONE AND id != $sid RETURN id""",
            {"me": RecordID("user", user.key), "sid": RecordID("user_session", user.session)},
        )
    return len(ended)


def list_sessions(db: Database, user: SessionUser) -> list[dict]:
    """Her open sessions, newest first, the current one marked."""
    with db.member(user.key) as s:
        rows = s.rows(
            """SELECT id, method, user_agent, created_at, last_seen_at FROM user_session
               WHERE user = $me AND revoked_at = NONE ORDER BY created_at DESC LIMIT 50""",
            {"me": RecordID("user", user.key)},
        )
    for row in rows:
        row["current"] = str(row["id"].id) == user.session
    return rows


def verify_password(db: Database, user: SessionUser, password: str) -> bool:
    """True if ``password`` is hers (compared like a sign-in)."""
    if not password or len(password) > MAX_PASSWORD:
        return False
    return _password_owner(db, "id", RecordID("user", user.key), password) == user.key


def change_password(db: Database, user: SessionUser, current: str, new: str) -> int:
    """Set a new password after checking the current one; end every other session.

    Returns how many other sessions were ended. Raises ``Invalid`` for the form.
    """
    errors = check_password_rules(new, "new_password")
    if not verify_password(db, user, current):
        errors["current_password"] = "That is not your current password."
    if errors:
        raise Invalid(errors)
    with db.member(user.key) as s:
        s.query("UPDATE $me SET password = crypto::argon2::generate($new)",
                {"me": RecordID("user", user.key), "new": new})
    return end_other_sessions(db, user)


def change_email(db: Database, user: SessionUser, new_email: str, password: str) -> str:
    """Change her email after checking her password; returns the stored (lowercased) email."""
    email = normalize_email(new_email)
    errors = {}
    if not EMAIL_RE.match(email):
        errors["email"] = "Enter a valid email address."
    if not verify_password(db, user, password):
        errors["password"] = "That is not your password."
    if errors:
        raise Invalid(errors)
    if email == user.email:
        return email
    if _taken(db, email, "").get("email"):
        raise Invalid({"email": "Another account uses this email."})
    try:
        with db.member(user.key) as s:
            s.query("UPDATE $me SET email = $email", {"me": RecordID("user", user.key),
                                                      "email": email})
    except Conflict:  # taken between the check and the write
        raise Invalid({"email": "Another account uses this email."}) from None
    return email


def delete_account(db: Database, user: SessionUser, password: str | None,
                   confirm_username: str) -> None:
    """Soft-delete her account: her content disappears for everyone and every session ends.

    Members with a password confirm with it; OAuth-only members confirm with their username.
    """
    if (confirm_username or "").strip().lower() != user.username:
        raise Invalid({"confirm": "Type your username to confirm."})
    if has_password(db, user) and not verify_password(db, user, password or ""):
        raise Invalid({"password": "That is not your password."})
    with db.member(user.key) as s:
        s.query("UPDATE $me SET deleted_at = time::now()", {"me": RecordID("user", user.key)})


def has_password(db: Database, user: SessionUser) -> bool:
    """Whether she can sign in with a password (a flag she may read; the hash nobody may)."""
    with db.member(user.key) as s:
        return bool(s.value("RETURN $me.has_password", {"me": RecordID("user", user.key)}))
