"""Likes and comments on vlogs.

The database keeps the rules (migrations ``0011`` and ``0018``): one like per member and vlog
(a unique index), likes and comments only where the vlog is visible, no comment between
members who blocked one another, one level of replies, edits of her own comment within 15
minutes, hiding by the vlog's managers (never rewriting), and counts kept by events that go
down as well as up. The service checks the same things first to name the problem.
"""

from __future__ import annotations

import datetime as dt

from surrealdb import RecordID

from ..db import Database, key_of
from ..errors import Conflict, Invalid, NotAllowed, NotFound
from ..record_ids import record_id
from .vlogs import vlog_record

MAX_COMMENT = 2000
EDIT_WINDOW = dt.timedelta(minutes=15)
LISTED = 200

_COMMENTS = """SELECT record::id(id) AS key, parent, body, hidden,
        created_at, edited_at, record::id(author) AS author_key, author.username AS username,
        author.display_name AS display_name
    FROM comments WHERE target = $vlog ORDER BY created_at LIMIT $limit"""


def set_like(db: Database, user_key: str, key: str, like: bool) -> int:
    """Like or unlike (each idempotent); returns the vlog's like count afterwards."""
    me, vlog = RecordID("user", user_key), vlog_record(key)
    with db.member(user_key) as s:
        if like:
            try:
                s.query("RELATE $me->vlog_like->$vlog RETURN NONE", {"me": me, "vlog": vlog})
            except Conflict:
                pass  # liked already: the pair index keeps one
        else:
            s.query("DELETE vlog_like WHERE in = $me AND out = $vlog RETURN NONE",
                    {"me": me, "vlog": vlog})
        count = s.value("RETURN (SELECT VALUE like_count FROM ONLY $vlog)", {"vlog": vlog})
    if count is None:
        raise NotFound("no such vlog")
    return int(count)


def _body(body: str) -> str:
    body = (body or "").strip()
    if not body:
        raise Invalid({"body": "Write something first."})
    if len(body) > MAX_COMMENT:
        raise Invalid({"body": f"Keep a comment to {MAX_COMMENT:,} characters "
                               f"(it has {len(body):,})."})
    return body


def add_comment(db: Database, user_key: str, key: str, body: str,
                parent_key: str = "") -> str:
    """Comment on a vlog, or reply to a top-level comment; returns the comment's key.

    ``NotAllowed`` when the database refuses (the vlog is not hers to see, or one of the two
    blocked the other); ``Invalid`` for an empty or long text or a reply to a reply."""
    body = _body(body)
    me, vlog = RecordID("user", user_key), vlog_record(key)
    parent = record_id("comments", parent_key) if parent_key else None
    with db.member(user_key) as s:
        if parent is not None:
            found = s.one("SELECT parent, target FROM ONLY $p", {"p": parent})
            if not found or found.get("target") != vlog:
                raise NotFound("no such comment")
            if found.get("parent") is not None:
                raise Invalid({"body": "Reply to the comment this reply answers."})
        made = s.rows("CREATE comments SET target = $vlog, author = $me, body = $body, "
                      "parent = $parent RETURN record::id(id) AS key",
                      {"vlog": vlog, "me": me, "body": body, "parent": parent})
    if not made:
        raise NotAllowed("You cannot comment on this vlog.")
    return made[0]["key"]


def _own(s, user_key: str, comment_key: str) -> tuple[RecordID, dict]:
    comment = record_id("comments", comment_key)
    row = s.one("SELECT author, created_at, target FROM ONLY $c", {"c": comment})
    if not row:
        raise NotFound("no such comment")
    return comment, row


def edit_comment(db: Database, user_key: str, comment_key: str, body: str,
                 now: dt.datetime | None = None) -> None:
    """Change her own comment within 15 minutes of posting it (marked as edited)."""
    body = _body(body)
    now = now or dt.datetime.now(dt.UTC)
    with db.member(user_key) as s:
        comment, row = _own(s, user_key, comment_key)
        if row["author"] != RecordID("user", user_key):
            raise NotFound("no such comment")
        if now - row["created_at"] > EDIT_WINDOW:
            raise Invalid({"body": "A comment can be edited for 15 minutes after posting."})
        done = s.rows("UPDATE $c SET body = $body, edited_at = time::now() "
                      "WHERE created_at > time::now() - 15m RETURN id",
                      {"c": comment, "body": body})
    if not done:
        raise Invalid({"body": "A comment can be edited for 15 minutes after posting."})


def delete_comment(db: Database, user_key: str, comment_key: str) -> None:
    """Delete her own comment (its replies stay; the count goes down)."""
    with db.member(user_key) as s:
        comment, row = _own(s, user_key, comment_key)
        done = s.rows("UPDATE $c SET deleted_at = time::now() WHERE author = $me "
                      "AND deleted_at = NONE RETURN id",
                      {"c": comment, "me": RecordID("user", user_key)})
    if not done:
        raise NotFound("no such comment")


def set_hidden(db: Database, user_key: str, comment_key: str, hidden: bool) -> str:
    """The vlog's owner (or its group's managers) hides or shows a comment; returns the
    vlog's key. Others: ``NotAllowed``."""
    with db.member(user_key) as s:
        comment, row = _own(s, user_key, comment_key)
        done = s.rows("UPDATE $c SET hidden = $hidden WHERE fn::can_manage(target.owner) "
                      "RETURN hidden", {"c": comment, "hidden": hidden})
    if not done or done[0]["hidden"] != hidden:
        raise NotAllowed("Only the vlog's owner may hide comments.")
    return str(row["target"].id)


def comments(session, key: str, viewer_key: str | None,
             now: dt.datetime | None = None) -> list[dict]:
    """Top-level comments, oldest first, each with its ``replies``; read on ``session`` (the
    viewer's identity), which hides what she may not see. Each says whether she may edit it."""
    now = now or dt.datetime.now(dt.UTC)
    rows = session.rows(_COMMENTS, {"vlog": vlog_record(key), "limit": LISTED})
    top: dict[str, dict] = {}
    for row in rows:
        row["mine"] = viewer_key is not None and row["author_key"] == viewer_key
        row["editable"] = row["mine"] and now - row["created_at"] <= EDIT_WINDOW
        row["replies"] = []
        row["parent"] = key_of(row["parent"]) if row.get("parent") else None
        if row["parent"] is None:
            top[row["key"]] = row
        elif row["parent"] in top:
            top[row["parent"]]["replies"].append(row)
    return list(top.values())


def comments_of(db: Database, viewer_key: str | None, key: str) -> list[dict]:
    """``comments`` under the viewer's identity."""
    identity = db.member(viewer_key) if viewer_key else db.visitor()
    with identity as s:
        return comments(s, key, viewer_key)
