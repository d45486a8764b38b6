"""Chat: what a member does in a chat — send, edit, delete, read, mute, leave — and opening a
group's chat, and her read-receipts setting.

Everything runs as the member; the database has the last word (migration ``0019``): sending
only to an open chat she is in, matched and unblocked (a direct chat) or not gone from it (a
group chat); editing her own message within 15 minutes; deleting her own. The checks here come
first so that she gets a sentence instead of a silent refusal, and what the database did is
read back.
"""

from __future__ import annotations

import datetime as dt
import re

from surrealdb import RecordID

from ..db import Database, record_id
from ..errors import Conflict, Invalid, NotAllowed, NotFound, Refused
from ..security import CONTROL_CHARS
from .chat import (EDIT_WINDOW, MESSAGE_FIELDS, chat_key, chat_record, message_payload,
                   thread)

MAX_BODY = 4000
IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


def clean_body(body: str | None) -> str:
    """A message body as stored: line ends made ``\\n``, surrounding blanks trimmed.
    ``Invalid`` (field ``body``) when empty, too long or not storable text."""
    text = (body or "").replace("\r\n", "\n").replace("\r", "\n").strip()
    if not text:
        raise Invalid({"body": "Write a message first."})
    if len(text) > MAX_BODY:
        raise Invalid({"body": f"A message holds at most {MAX_BODY:,} characters; this one "
                               f"has {len(text):,}."})
    if CONTROL_CHARS.search(text):
        raise Invalid({"body": "That text holds a control character we cannot store."})
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise Invalid({"body": "That text holds a character we cannot store."}) from None
    return text


def check_idempotency_key(key: str | None) -> str:
    """The page's key for one message. ``Invalid`` unless 8-64 letters, digits, ``-``, ``_``."""
    if not isinstance(key, str) or not IDEMPOTENCY_KEY.match(key):
        raise Invalid({"idempotency_key": "The message key is malformed; reload the page and "
                                          "send again."})
    return key


def send(db: Database, member_key: str, key: str, body: str | None,
         idempotency_key: str | None) -> tuple[dict, bool]:
    """Send ``body`` to chat ``key``; returns (the ``message`` payload, whether it is new).

    The same idempotency key again (a double submit, a retried request) returns the message
    it made, and makes nothing. ``Invalid`` for a bad body or key, ``Refused`` (403, with the
    reason) when she may not write here, ``NotFound`` when she cannot see the chat.
    """
    text = clean_body(body)
    idem = check_idempotency_key(idempotency_key)
    chat = chat_record(key)
    me = RecordID("user", member_key)
    params = {"chat": chat, "me": me, "body": text, "key": idem}
    with db.member(member_key) as s:
        try:
            made = s.rows(f"""CREATE message SET chat = $chat, author = $me, body = $body,
                                  idempotency_key = $key RETURN {MESSAGE_FIELDS}""", params)
        except Conflict:
            made = None
        if made is None:
            # The key was used: that message is the answer (a retry of the same send).
            earlier = s.rows(f"""SELECT {MESSAGE_FIELDS} FROM message
                                 WHERE author = $me AND idempotency_key = $key""", params)
            if not earlier or earlier[0]["chat"] != chat:
                raise Invalid({"idempotency_key": "That message key was already used; reload "
                                                  "the page and send again."})
            return message_payload(earlier[0]), False
    if not made:
        reason = thread(db, member_key, key, limit=1)["reason"]  # NotFound when not hers
        raise Refused(reason or "You cannot write in this chat.", status=403)
    return message_payload(made[0]), True


def _own_message(s, chat: RecordID, message: RecordID, me: RecordID) -> dict:
    row = s.one("SELECT author, chat, created_at, deleted_at FROM $m", {"m": message})
    if row is None or row["chat"] != chat:
        raise NotFound("no such message")
    if row["author"] != me:
        raise NotAllowed("not her message")
    if row["deleted_at"] is not None:
        raise Refused("That message was deleted.")
    return row


def edit(db: Database, member_key: str, key: str, message_key: str, body: str | None) -> dict:
    """Change her message's text (within 15 minutes of sending); returns its payload, now
    marked edited. ``Refused`` once the window has passed or the message is deleted."""
    text = clean_body(body)
    chat, message = chat_record(key), record_id("message", message_key)
    me = RecordID("user", member_key)
    too_late = Refused(f"A message can be edited for {EDIT_WINDOW.seconds // 60} minutes after "
                       "it was sent.")
    with db.member(member_key) as s:
        row = _own_message(s, chat, message, me)
        if dt.datetime.now(dt.timezone.utc) - row["created_at"] >= EDIT_WINDOW:
            raise too_late
        after = s.one(f"UPDATE $m SET body = $body, edited_at = time::now() "
                      f"RETURN {MESSAGE_FIELDS}", {"m": message, "body": text})
    if after is None or after.get("body") != text:
        raise too_late  # the database's own clock said so (its field rule keeps the old text)
    return message_payload(after)


def delete(db: Database, member_key: str, key: str, message_key: str) -> dict:
    """Delete her message: it stays in the history as "message deleted", its text gone."""
    chat, message = chat_record(key), record_id("message", message_key)
    me = RecordID("user", member_key)
    with db.member(member_key) as s:
        _own_message(s, chat, message, me)
        after = s.one(f"UPDATE $m SET deleted_at = time::now() RETURN {MESSAGE_FIELDS}",
                      {"m": message})
    if after is None or after.get("deleted_at") is None:
        raise NotAllowed("deletion refused")
    return message_payload({**after, "body": None})


def mark_read(db: Database, member_key: str, key: str,
              up_to: str | None = None) -> dt.datetime | None:
    """Move her read position forward to the message ``up_to`` (a key of this chat), or to the
    chat's latest message; never backward. Returns her read position."""
    chat = chat_record(key)
    message = record_id("message", up_to) if up_to else None
    with db.member(member_key) as s:
        return s.value(
            """LET $at = IF $m THEN (SELECT VALUE created_at FROM $m WHERE chat = $chat)[0]
                   ELSE (SELECT VALUE last_message_at FROM ONLY $chat) END;
               LET $state = type::thing('chat_state', [$chat, $me]);
               IF $at != NONE { UPDATE $state SET read_at = $at
                   WHERE read_at = NONE OR read_at < $at RETURN NONE; };
               RETURN (SELECT VALUE read_at FROM ONLY $state);""",
            {"chat": chat, "m": message, "me": RecordID("user", member_key)})


def _set_state(db: Database, member_key: str, key: str, changes: str, **values) -> dict:
    chat = chat_record(key)
    with db.member(member_key) as s:
        row = s.one(f"""UPDATE type::thing('chat_state', [$chat, $me]) SET {changes}
                        RETURN muted, left_at, chat.kind AS kind""",
                    {"chat": chat, "me": RecordID("user", member_key), **values})
    if row is None:
        raise NotFound("no such chat")
    return row


def set_muted(db: Database, member_key: str, key: str, muted: bool) -> None:
    """Mute or unmute the chat for her: its messages stop counting in her badge."""
    _set_state(db, member_key, key, "muted = $muted", muted=bool(muted))


def leave(db: Database, member_key: str, key: str) -> None:
    """Leave a group chat: she reads it up to now and writes no more (she may come back
    while she is in the group). ``Refused`` for a direct chat."""
    row = _set_state(db, member_key, key, "left_at = left_at ?? time::now()")
    if row["kind"] != "group" or row["left_at"] is None:
        raise Refused("Only a group chat can be left; end a direct chat by unmatching.")


def rejoin(db: Database, member_key: str, key: str) -> None:
    """Come back to a group chat she left (while she is still in the group)."""
    row = _set_state(db, member_key, key, "left_at = NONE")
    if row["left_at"] is not None:
        raise Refused("You cannot come back to this chat.")


def open_group_chat(db: Database, member_key: str, group_slug: str) -> str:
    """The key of the group's chat, opened now by one of its owners or admins when it has
    none. ``NotAllowed`` for anyone else while it has none; ``NotFound`` for no such group."""
    with db.member(member_key) as s:
        group = s.value("RETURN (SELECT VALUE id FROM group WHERE slug = $slug LIMIT 1)[0]",
                        {"slug": group_slug})
        if group is None:
            raise NotFound("no such group")
        chat = RecordID("chat", [group])
        if s.value("RETURN (SELECT VALUE id FROM ONLY $chat)", {"chat": chat}) is None:
            try:
                made = s.rows("CREATE $chat SET kind = 'group', group = $group RETURN id",
                              {"chat": chat, "group": group})
            except Conflict:  # opened meanwhile
                made = [chat]
            if not made:
                raise NotAllowed("only the group's owners and admins open its chat")
    return chat_key(chat)


def group_chat(db: Database, member_key: str, group: RecordID) -> str | None:
    """The key of the group's chat when it exists and she can read it."""
    chat = RecordID("chat", [group])
    with db.member(member_key) as s:
        found = s.value("RETURN (SELECT VALUE id FROM ONLY $chat)", {"chat": chat})
    return chat_key(chat) if found else None


def set_read_receipts(db: Database, member_key: str, on: bool) -> None:
    """Share her read positions ("seen") or not. Turning them off is for VIP members
    (``Refused`` otherwise)."""
    with db.member(member_key) as s:
        after = s.value("UPDATE $me SET read_receipts = $on RETURN VALUE read_receipts",
                        {"me": RecordID("user", member_key), "on": bool(on)})
    if not after or after[0] != bool(on):
        raise Refused("Turning read receipts off is for VIP members.")


def read_receipts(db: Database, member_key: str) -> bool:
    """Whether she shares her read positions."""
    with db.member(member_key) as s:
        value = s.value("RETURN (SELECT VALUE read_receipts FROM ONLY $me)",
                        {"me": RecordID("user", member_key)})
    return value is not False
