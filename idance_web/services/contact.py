"""The contact block: a visitor writes to a site's owner without learning her email."""

from __future__ import annotations

from ..db import Database
from ..errors import Invalid, NotFound
from .accounts import EMAIL_RE

MAX_MESSAGE = 2000


def send_contact(db: Database, kind: str, name: str, sender: str, email: str,
                 message: str) -> None:
    """Deliver a visitor's message as a notification to the owner (a group's managers).

    Runs as the worker, whose one write here is a notification. Raises ``Invalid`` (field →
    reason), or ``NotFound`` for a site that is unknown, unpublished or shows no contact form.
    """
    sender, email, message = sender.strip()[:80], email.strip()[:254], message.strip()
    errors = {}
    if not sender:
        errors["name"] = "Tell them your name."
    if not EMAIL_RE.match(email):
        errors["email"] = "Give an email address they can answer to."
    if not 1 <= len(message) <= MAX_MESSAGE:
        errors["message"] = f"Write a message of up to {MAX_MESSAGE} characters."
    if errors:
        raise Invalid(errors)
    text = f"{sender} <{email}> wrote via your site:\n\n{message}"
    with db.worker() as s:
        sent = s.query(
            """LET $owner = IF $kind = 'user'
                   THEN (SELECT VALUE id FROM user WHERE username = $name LIMIT 1)[0]
                   ELSE (SELECT VALUE id FROM group WHERE slug = $name LIMIT 1)[0] END;
               LET $site = (SELECT VALUE id FROM site WHERE owner = $owner
                   AND $owner != NONE AND published_version != NONE LIMIT 1)[0];
               -- Only a site that shows a contact form takes messages.
               LET $published = $site != NONE AND count(SELECT id FROM content_block
                   WHERE site = $site AND stage = 'published' AND kind = 'contact'
                   AND hidden = false) > 0;
               LET $to = IF !$published THEN []
                   ELSE IF $kind = 'user' THEN [$owner]
                   ELSE (SELECT VALUE user FROM group_member WHERE group = $owner
                         AND role IN ['owner', 'admin']) END;
               FOR $r IN $to { CREATE notification SET recipient = $r, kind = 'contact',
                   subject = $owner, text = $text RETURN NONE; };
               RETURN array::len($to);""",
            {"kind": kind, "name": name.lower(), "text": text},
        )[-1]
    if not sent:
        raise NotFound("this site takes no messages")
