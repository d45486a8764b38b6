"""Vlogs: posting, editing, deleting and reading one vlog, and the partner's answer to a tag.

Everything runs as the member who acts (or the visitor), so the database decides who sees a
vlog (``fn::sees_vlog``: managers always, others once it is published — public to everyone,
followers-only to followers) and who may change it (``fn::can_manage``: her own, or a group
she owns or administers). Lists are in ``vlog_lists``, likes and comments in
``vlog_comments``, background work in ``vlog_jobs``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from surrealdb import RecordID

from ..db import Database, key_of, record_id
from ..errors import Invalid, NotFound
from . import options

MAX_TITLE = 140
MAX_BODY = 10_000
MAX_IMAGES = 10
MAX_STYLES = 5
MAX_CHOREOGRAPHER = 120
MAX_MUSIC = 200
VISIBILITIES = {"public": "Everyone", "followers": "Followers", "private": "Only me"}
PARTNER_ANSWERS = ("approved", "declined")

# What a page shows of one vlog; the viewer's own state (liked, may manage) alongside.
_ONE = """SELECT record::id(id) AS key, id, title, body, kind, status, visibility, level,
        choreographer, music, images, video, poster, captions, like_count, comment_count,
        published_at, created_at, updated_at,
        styles AS style_keys, styles.*.name AS styles,
        record::tb(owner) AS owner_kind, record::id(owner) AS owner_key,
        owner.username AS username, owner.slug AS slug,
        (owner.display_name ?? owner.name) AS owner_name, author.display_name AS author_name,
        author.username AS author_username,
        fn::can_manage(owner) AS can_manage
    FROM ONLY $vlog"""
_TAG = """SELECT status, record::id(out) AS key, out.username AS username,
        out.display_name AS display_name FROM vlog_tag WHERE in = $vlog LIMIT 1"""
_LIKED = "SELECT id FROM vlog_like WHERE in = $me AND out = $vlog LIMIT 1"
_PAGE = ";\n".join((_ONE, _TAG, _LIKED))  # the vlog, its partner tag, whether she liked it


@dataclass
class VlogInput:
    """What the posting and editing forms send (plain values)."""

    title: str = ""
    body: str = ""
    styles: list[str] = field(default_factory=list)
    level: str = ""
    visibility: str = "public"
    partner: str = ""  # a username, or ""
    choreographer: str = ""
    music: str = ""
    owner: str = ""  # "" for herself, else the slug of a group she manages


def new_key() -> str:
    """A fresh vlog key, made before the vlog so its files can be counted against it."""
    return uuid.uuid4().hex[:20]


def vlog_record(key: str) -> RecordID:
    return record_id("vlog", key)


def check(db: Database, user_key: str, data: VlogInput) -> dict:
    """The fields to write, checked; ``Invalid`` (field → reason) names every problem."""
    errors: dict[str, str] = {}
    title = " ".join((data.title or "").split())
    body = (data.body or "").strip()
    if not title:
        errors["title"] = "Give your vlog a title."
    elif len(title) > MAX_TITLE:
        errors["title"] = f"Keep the title to {MAX_TITLE} characters (it has {len(title)})."
    if len(body) > MAX_BODY:
        errors["body"] = f"Keep the description to {MAX_BODY:,} characters (it has {len(body):,})."
    known = {s["id"] for s in options.lookup_options(db)["styles"]}
    styles = list(dict.fromkeys(s for s in data.styles if s))
    if any(s not in known for s in styles):
        errors["styles"] = "Choose styles from the list."
    elif len(styles) > MAX_STYLES:
        errors["styles"] = f"Choose at most {MAX_STYLES} styles."
    if data.level and data.level not in options.LEVELS:
        errors["level"] = "Choose a level from the list."
    if data.visibility not in VISIBILITIES:
        errors["visibility"] = "Choose who may see it."
    credits = {"choreographer": (data.choreographer, MAX_CHOREOGRAPHER),
               "music": (data.music, MAX_MUSIC)}
    for name, (value, limit) in credits.items():
        if len((value or "").strip()) > limit:
            errors[name] = f"Keep this to {limit} characters."
    partner = None
    username = (data.partner or "").strip().lstrip("@").lower()
    if username:
        partner = _partner(db, user_key, username)
        if partner is None:
            errors["partner"] = f"No dancer is called @{username}."
        elif key_of(partner) == user_key:
            errors["partner"] = "Tag the dancer you danced with, not yourself."
    owner = _owner(db, user_key, data.owner, errors)
    if errors:
        raise Invalid(errors)
    return {"title": title, "body": body,
            "styles": [RecordID("dance_style", s) for s in styles],
            "level": data.level or None, "visibility": data.visibility,
            "choreographer": (data.choreographer or "").strip() or None,
            "music": (data.music or "").strip() or None,
            "partner": partner, "owner": owner}


def _partner(db: Database, user_key: str, username: str) -> RecordID | None:
    with db.member(user_key) as s:
        return s.value("""LET $u = (SELECT VALUE id FROM user WHERE username = $name LIMIT 1)[0];
            RETURN (SELECT VALUE owner FROM profile WHERE owner = $u AND $u != NONE LIMIT 1)[0];""",
                       {"name": username})


def _owner(db: Database, user_key: str, slug: str, errors: dict) -> RecordID:
    if not slug:
        return RecordID("user", user_key)
    for group in groups_she_posts_for(db, user_key):
        if group["slug"] == slug:
            return group["id"]
    errors["owner"] = "You may post as yourself or as a group you run."
    return RecordID("user", user_key)


def groups_she_posts_for(db: Database, user_key: str) -> list[dict]:
    """The groups she owns or administers (she may post as them)."""
    with db.member(user_key) as s:
        rows = s.rows("""SELECT group AS id, group.slug AS slug, group.name AS name
            FROM group_member WHERE user = $me AND role IN ['owner', 'admin'] LIMIT 100""",
                      {"me": RecordID("user", user_key)})
    return [r for r in rows if r.get("slug")]


def create_vlog(db: Database, user_key: str, fields: dict, *, key: str, kind: str,
                images: list[dict] | None = None, video: dict | None = None,
                poster: dict | None = None, captions: dict | None = None,
                status: str = "ready") -> str:
    """Write a checked vlog (``check``'s fields) and its partner tag; returns its key.

    A ``ready`` vlog is published at once; a ``processing`` one when the worker finishes.
    The partner is notified (the ``vlog_tagged`` event) and the credit shows once she accepts.
    """
    me = RecordID("user", user_key)
    vlog = vlog_record(key)
    values = {k: v for k, v in fields.items() if k not in ("partner", "owner")}
    values.update(kind=kind, images=images or [], video=video, poster=poster,
                  captions=captions, status=status)
    with db.member(user_key) as s:
        s.query("""BEGIN TRANSACTION;
            CREATE $vlog CONTENT $values RETURN NONE;
            IF $status = 'ready' { UPDATE $vlog SET published_at = time::now() RETURN NONE; };
            IF $partner != NONE { RELATE $vlog->vlog_tag->$partner SET status = 'pending' RETURN NONE; };
            COMMIT TRANSACTION;""",
                {"vlog": vlog, "values": dict(values, owner=fields["owner"], author=me),
                 "status": status,
                 "partner": fields.get("partner")})
    return key


def update_vlog(db: Database, user_key: str, key: str, fields: dict,
                captions: dict | None | bool = False) -> None:
    """Change what she may edit (text, styles, level, visibility, credits; captions when
    given, ``None`` removing them). A new partner is asked again; the old tag goes."""
    vlog = vlog_record(key)
    current = get_vlog(db, user_key, key)
    if not current["can_manage"]:
        raise NotFound("no such vlog")
    values = {k: fields[k] for k in ("title", "body", "styles", "level", "visibility",
                                     "choreographer", "music")}
    if captions is not False:
        values["captions"] = captions
    partner = fields.get("partner")
    old = (current.get("partner") or {}).get("key")
    with db.member(user_key) as s:
        s.query("""BEGIN TRANSACTION;
            UPDATE $vlog MERGE $values RETURN NONE;
            IF $change { DELETE vlog_tag WHERE in = $vlog RETURN NONE; };
            IF $change AND $partner != NONE {
                RELATE $vlog->vlog_tag->$partner SET status = 'pending' RETURN NONE; };
            COMMIT TRANSACTION;""",
                {"vlog": vlog, "values": values, "partner": partner,
                 "change": (key_of(partner) if partner else None) != old})


def delete_vlog(db: Database, user_key: str, key: str) -> None:
    """Soft-delete: gone from every page, list and block at once (with its likes and
    comments); its files are removed by the ``purge_media`` job after a grace period."""
    with db.member(user_key) as s:
        # Read first: once deleted, the vlog is hidden from her too, so RETURN gives nothing.
        mine = s.value("RETURN (SELECT VALUE fn::can_manage(owner) FROM ONLY $vlog)",
                       {"vlog": vlog_record(key)})
        if not mine:
            raise NotFound("no such vlog")
        s.query("UPDATE $vlog SET deleted_at = time::now() WHERE deleted_at = NONE RETURN NONE",
                {"vlog": vlog_record(key)})


def get_vlog(db: Database, viewer_key: str | None, key: str) -> dict:
    """One vlog as the viewer may see it (``NotFound`` otherwise), with its partner credit
    (shown to others once accepted), ``liked`` and ``can_manage``."""
    vlog = vlog_record(key)
    identity = db.member(viewer_key) if viewer_key else db.visitor()
    me = RecordID("user", viewer_key) if viewer_key else None
    with identity as s:
        row, tag, liked = s.query(_PAGE, {"vlog": vlog, "me": me})
    if not row:
        raise NotFound("no such vlog")
    row["partner"] = tag[0] if tag and tag[0].get("username") else None
    row["liked"] = bool(liked) and me is not None
    row["style_keys"] = [key_of(s) for s in row.get("style_keys") or []]
    return row


def media_keys(vlog: dict) -> set[str]:
    """Every stored file the vlog shows (its pictures' variants, video, poster, captions)."""
    keys = set()
    for image in list(vlog.get("images") or []) + [vlog.get("poster")]:
        for variant in ((image or {}).get("variants") or {}).values():
            keys.add(variant["key"])
    for part in (vlog.get("video"), vlog.get("captions")):
        if part and part.get("key"):
            keys.add(part["key"])
    return keys


def answer_tag(db: Database, user_key: str, key: str, answer: str) -> None:
    """The tagged partner accepts (``approved``) or declines the credit."""
    if answer not in PARTNER_ANSWERS:
        raise Invalid({"answer": "Accept or decline."})
    with db.member(user_key) as s:
        done = s.rows("UPDATE vlog_tag SET status = $answer WHERE in = $vlog AND out = $me "
                      "RETURN id", {"vlog": vlog_record(key), "me": RecordID("user", user_key),
                                    "answer": answer})
    if not done:
        raise NotFound("no such tag")


def pending_tags(db: Database, user_key: str) -> list[dict]:
    """Vlogs that credit her as partner and wait for her answer, newest first."""
    with db.member(user_key) as s:
        rows = s.rows("""SELECT record::id(in) AS key, in.title AS title, created_at,
                in.author.display_name AS by FROM vlog_tag
            WHERE out = $me AND status = 'pending' ORDER BY created_at DESC LIMIT 20""",
                      {"me": RecordID("user", user_key)})
    return [r for r in rows if r.get("title")]
