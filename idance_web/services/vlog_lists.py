"""Lists of vlogs: her feed, explore (all public vlogs, or those of a style), related vlogs,
one dancer's newest (on her profile), and her unpublished ones.

Every list reads newest first through an ascending index on a sort key the database computes
(``wall_key``: published and not deleted; ``world_key``: public too; migration ``0018``) and
continues after the last key a page showed: no ``START``, no table scan. Her feed reads her
own ``feed_entry`` rows, which events write when a vlog is published or she follows someone. Every read runs as
the viewer, so the vlog select rule drops what she may not see.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from surrealdb import RecordID

from ..db import Database, key_of
from .vlogs import vlog_record

PAGE = 12
RELATED = 6
# One card: enough for a poster, a title, who posted it, its styles and counts.
CARD = """record::id(id) AS key, title, kind, status, visibility, poster, images[0] AS cover,
    like_count, comment_count, published_at, styles.*.name AS styles,
    record::tb(owner) AS owner_kind, owner.username AS username, owner.slug AS slug,
    (owner.display_name ?? owner.name) AS owner_name"""
# Her feed rows (written by the vlog_fanout and follow_feed events), then their cards.
_FEED = """SELECT vlog, key FROM feed_entry WHERE member = $me AND key > $after LIMIT $limit"""
# No ORDER BY: the index yields its keys in ascending order, and with an ORDER BY the engine
# reads the whole range before cutting it to the page (measured in bench/vlogs.py).
_EXPLORE = f"""SELECT {CARD}, world_key FROM vlog WHERE world_key > $after LIMIT $limit"""
_STYLE_KEYS = """SELECT vlog, key FROM vlog_style WHERE key > $low AND key < $high
    LIMIT $limit"""
_CARDS = f"SELECT {CARD}, world_key, wall_key FROM $ids"
# One owner's published vlogs, newest first, through the (owner, wall_key) index.
_OWNER = f"""SELECT {CARD}, wall_key FROM vlog WHERE owner = $owner AND wall_key > ''
    LIMIT $limit"""
_MINE = f"""SELECT {CARD}, created_at FROM vlog WHERE owner = $me AND published_at = NONE
    AND deleted_at = NONE LIMIT 20"""


@dataclass
class Page:
    """A page of cards and the key to continue after ("" on the last page)."""

    cards: list[dict] = field(default_factory=list)
    after: str = ""


def _covered(rows: list[dict]) -> list[dict]:
    for row in rows:
        row["cover"] = row.get("poster") or row.get("cover")
    return rows


def _cut(rows: list[dict], limit: int, sort_key: str) -> Page:
    more = len(rows) > limit
    rows = _covered(rows[:limit])
    return Page(rows, rows[-1][sort_key] if more and rows else "")


def _cursor(after: str) -> str:
    # Keys are digits, a colon and a record key; anything else starts from the top.
    after = (after or "")[:120]
    return after if all(c.isalnum() or c in ":_-" for c in after) else ""


def feed(db: Database, user_key: str, after: str = "", limit: int = PAGE) -> Page:
    """Her own vlogs and those of the dancers and groups she follows, newest first."""
    with db.member(user_key) as s:
        entries = s.rows(_FEED, {"me": RecordID("user", user_key), "after": _cursor(after),
                                 "limit": limit + 1})
        rows = s.rows(_CARDS, {"ids": [e["vlog"] for e in entries[:limit]]}) if entries else []
    rows.sort(key=lambda r: r["wall_key"])
    return Page(_covered(rows), entries[limit - 1]["key"] if len(entries) > limit else "")


def unpublished(db: Database, user_key: str) -> list[dict]:
    """Her vlogs that are not published yet (videos being processed, or that failed)."""
    with db.member(user_key) as s:
        rows = s.rows(_MINE, {"me": RecordID("user", user_key)})
    return sorted(rows, key=lambda r: r["created_at"], reverse=True)


def by_owner(db: Database, viewer_key: str, owner: RecordID | None = None,
             limit: int = 6) -> list[dict]:
    """The newest published vlogs of ``owner`` (a dancer; the viewer herself when None) that
    the viewer may see."""
    owner = owner or RecordID("user", viewer_key)
    with db.member(viewer_key) as s:
        return _covered(s.rows(_OWNER, {"owner": owner, "limit": limit}))


def explore(db: Database, viewer_key: str | None, style: str = "", after: str = "",
            limit: int = PAGE) -> Page:
    """Public vlogs, newest first; of one style when ``style`` is a style key."""
    identity = db.member(viewer_key) if viewer_key else db.visitor()
    after = _cursor(after)
    with identity as s:
        if not style:
            return _cut(s.rows(_EXPLORE, {"after": after, "limit": limit + 1}), limit,
                        "world_key")
        keys = s.rows(_STYLE_KEYS, {"low": f"{style}|{after}", "high": f"{style}|~",
                                    "limit": limit + 1})
        rows = s.rows(_CARDS, {"ids": [k["vlog"] for k in keys]}) if keys else []
    rows = sorted((r for r in rows if r.get("world_key")), key=lambda r: r["world_key"])
    page = _cut(rows, limit, "world_key")
    if len(keys) <= limit:
        page.after = ""
    return page


def related(db: Database, viewer_key: str | None, key: str, styles: list[str],
            limit: int = RELATED) -> list[dict]:
    """Vlogs like this one: its nearest by embedding (kept by the worker), then the newest
    of its first style; the viewer's own identity filters both."""
    vlog = vlog_record(key)
    identity = db.member(viewer_key) if viewer_key else db.visitor()
    with identity as s:
        near = s.value("""RETURN (SELECT VALUE related FROM ONLY
            type::thing('vlog_embedding', record::id($vlog))) ?? []""", {"vlog": vlog}) or []
        ids = list(near[: limit * 2])
        if styles:
            keys = s.rows(_STYLE_KEYS, {"low": f"{styles[0]}|", "high": f"{styles[0]}|~",
                                        "limit": limit + 1})
            ids += [k["vlog"] for k in keys]
        keys = [k for k in dict.fromkeys(key_of(i) for i in ids) if k != key]
        rows = s.rows(_CARDS, {"ids": [vlog_record(k) for k in keys]}) if keys else []
    order = {k: n for n, k in enumerate(keys)}
    rows.sort(key=lambda r: order.get(r["key"], 99))
    return _covered(rows)[:limit]
