"""Provider identities: (provider, subject) → member, and accounts made from them.

All SurrealQL of the OAuth feature lives here. An identity is never attached to an account
because an email matches (the pre-hijack defence): a new identity either creates a new account
or is linked by a member who is signed in.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from surrealdb import RecordID

from ..db import Database, DatabaseError, key_of, record_id
from ..errors import Conflict, Refused
from ..text import fold
from .accounts import EMAIL_RE, RESERVED_USERNAMES, USERNAME_RE, normalize_email


@dataclass(frozen=True)
class ProviderProfile:
    """What a provider told us about her, after its token was verified."""

    provider: str
    subject: str
    email: str | None = None  # as the provider sent it (None when it sent none)
    email_verified: bool = False
    name: str = ""
    # The address a new account may take: the provider's, unless it said it is unverified.
    account_email: str | None = None


@dataclass(frozen=True)
class KnownIdentity:
    user_key: str
    deleted: bool


class EmailInUse(Conflict):
    """An account already uses this email: she signs in with her password and links."""


class IdentityTaken(Conflict):
    """This provider identity already belongs to an account."""


class LastWayIn(Refused):
    """Unlinking would leave the account without any way to sign in."""


def find_identity(db: Database, provider: str, subject: str) -> KnownIdentity | None:
    """The member this identity signs in, or None for an identity we have never seen."""
    with db.system() as s:
        row = s.one(
            """SELECT user, user.deleted_at != NONE AS deleted FROM oauth_identity
               WHERE provider = $provider AND subject = $subject LIMIT 1""",
            {"provider": provider, "subject": subject},
        )
    if not row:
        return None
    return KnownIdentity(user_key=key_of(row["user"]), deleted=bool(row["deleted"]))


def email_in_use(db: Database, email: str) -> bool:
    """Whether any account (deleted ones too: they keep their address) uses ``email``."""
    with db.system() as s:
        return bool(s.value("RETURN count(SELECT id FROM user WHERE email = $email) > 0",
                            {"email": normalize_email(email)}))


def usable_email(email: str | None) -> str | None:
    """``email`` normalized if it can be an account's address, else None."""
    email = normalize_email(email or "")
    return email if EMAIL_RE.match(email) and len(email) <= 254 else None


# -- usernames ------------------------------------------------------------------------------

def _slug(text: str) -> str:
    slug = re.sub(r"[\s.]+", "_", fold(text or ""))
    slug = re.sub(r"[^a-z0-9_-]", "", slug)
    slug = re.sub(r"_{2,}", "_", slug).strip("_-")
    return slug[:26].strip("_-")


def username_base(name: str, email: str | None) -> str:
    """A username stem from her name, else her email's local part, else ``dancer``."""
    for candidate in (_slug(name), _slug((email or "").split("@")[0])):
        if len(candidate) >= 3:
            return candidate
    return "dancer"


def _free_username(db: Database, base: str) -> str:
    with db.system() as s:
        # A prefix range on the username index (a starts_with() filter would read every user).
        taken = set(s.value(
            "RETURN SELECT VALUE username FROM user WHERE username >= $base AND username < $end",
            {"base": base, "end": base + "\U0010ffff"},
        ) or [])
    if base not in taken and base not in RESERVED_USERNAMES and USERNAME_RE.match(base):
        return base
    for n in range(2, 1000):
        name = f"{base}{n}"
        if name not in taken:
            return name
    return f"{base}{secrets.randbelow(9000) + 1000}"


# -- accounts -------------------------------------------------------------------------------

_CREATE_ACCOUNT = """
BEGIN TRANSACTION;
-- The provider's verified address confirms hers (migration 0022) when it is the one she uses.
LET $u = CREATE ONLY user SET email = $email, username = $username, display_name = $name,
    verified_email = IF $verified = true AND string::lowercase($pemail ?? '') = $email
        THEN $email END;
CREATE profile SET owner = $u.id;
CREATE oauth_identity SET provider = $provider, subject = $subject, user = $u.id,
    email = $pemail ?? NONE, email_verified = $verified;
RETURN $u.id;
COMMIT TRANSACTION;
"""


def create_account(db: Database, profile: ProviderProfile, email: str, display_name: str) -> str:
    """Create a member with no password, her identity and her empty profile; return her key.

    Raises ``EmailInUse`` or ``IdentityTaken`` (a race with another request).
    """
    email = normalize_email(email)
    name = (display_name or profile.name or "").strip()[:80]
    for _ in range(5):
        username = _free_username(db, username_base(name, email))
        try:
            with db.system() as s:
                results = s.query(_CREATE_ACCOUNT, {
                    "email": email, "username": username, "name": name or username,
                    "provider": profile.provider, "subject": profile.subject,
                    "pemail": profile.email, "verified": profile.email_verified,
                })
        except Conflict as exc:  # the db layer names the unique index that refused
            if exc.index == "user_email":
                raise EmailInUse(email) from exc
            if exc.index == "oauth_identity_subject":
                raise IdentityTaken(profile.subject) from exc
            if exc.index != "user_username":
                raise
        else:
            user = next(r for r in reversed(results) if r is not None)
            return str(record_id("user", user).id)
    raise DatabaseError("no free username")  # pragma: no cover - five username races in a row


# -- linking --------------------------------------------------------------------------------

def linked_identities(db: Database, user_key: str) -> list[dict]:
    """Her linked identities (provider, email, created_at), oldest first."""
    with db.member(user_key) as s:
        return s.rows(
            """SELECT provider, email, created_at FROM oauth_identity WHERE user = $me
               ORDER BY created_at""",
            {"me": RecordID("user", user_key)},
        )


def link_identity(db: Database, user_key: str, profile: ProviderProfile) -> str:
    """Attach ``profile`` to member ``user_key``.

    Returns ``linked`` or ``already`` (this very identity is hers); raises ``IdentityTaken``
    when it belongs to someone else and ``Conflict`` when she has another identity of this
    provider linked (one per provider: unlinking is by provider).
    """
    me = RecordID("user", user_key)
    with db.system() as s:
        owner, mine = s.query(
            """RETURN (SELECT VALUE user FROM oauth_identity
                       WHERE provider = $provider AND subject = $subject LIMIT 1)[0];
               RETURN count(SELECT id FROM oauth_identity
                            WHERE user = $me AND provider = $provider);""",
            {"provider": profile.provider, "subject": profile.subject, "me": me},
        )
        if owner is not None:
            if key_of(owner) == user_key:
                return "already"
            raise IdentityTaken(profile.subject)
        if mine:
            raise Conflict("another identity of this provider is linked")
        try:
            s.query(
                """CREATE oauth_identity SET provider = $provider, subject = $subject, user = $me,
                       email = $pemail ?? NONE, email_verified = $verified""",
                {"provider": profile.provider, "subject": profile.subject, "me": me,
                 "pemail": profile.email, "verified": profile.email_verified},
            )
        except Conflict as exc:
            raise IdentityTaken(profile.subject) from exc
    return "linked"


def unlink_identity(db: Database, user_key: str, provider: str, has_password: bool) -> int:
    """Remove her identities of ``provider``; refuse (``LastWayIn``) to remove the last way in.

    The check and the delete are one statement, so two unlinks cannot both pass the check.
    """
    try:
        with db.member(user_key) as s:
            removed = s.rows(
                """IF !$has_password AND count(SELECT id FROM oauth_identity
                       WHERE user = $me AND provider != $provider) = 0 {
                       THROW 'last-way-in';
                   } ELSE {
                       RETURN (DELETE oauth_identity WHERE user = $me AND provider = $provider
                               RETURN BEFORE);
                   };""",
                {"me": RecordID("user", user_key), "provider": provider,
                 "has_password": has_password},
            )
    except DatabaseError as exc:
        if "last-way-in" in str(exc):
            raise LastWayIn("This is the only way to sign in to the account: link another "
                            "provider before unlinking it.") from None
        raise
    return len(removed)
