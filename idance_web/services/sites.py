"""Sites: the editor's operations on a member's or a group's site and its blocks.

Everything runs as the editing member; the database lets her touch only sites whose owner she
manages (``fn::can_manage``). The editor works on the ``draft`` stage; ``publish_site`` copies
it to the ``published`` stage visitors see.
"""

from __future__ import annotations

import re

from surrealdb import RecordID

from ..blocks import REGISTRY
from ..db import Database, key_of, record_id
from ..errors import Conflict, Invalid, NotFound

PAGE_SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$")
# Page slugs that would collide with routes under /@user/… and /g/slug/….
RESERVED_PAGES = frozenset("""home manage edit settings site contact schedule schedule.ics
    feed vlogs members join leave admin api static new delete publish preview""".split())
THEMES = {
    "rose": "Rose — warm pink on cream",
    "ink": "Ink — black and white, high contrast",
    "ocean": "Ocean — deep blue and sand",
    "forest": "Forest — green and linen",
    "sunset": "Sunset — orange and plum",
}
FONTS = {"modern": "Modern sans", "classic": "Classic serif", "studio": "Studio mono headings"}
DEFAULT_DRAFT = {"pages": [{"slug": "home", "title": "Home"}], "theme": "rose",
                 "font": "modern", "seo": {}}
_RETRIES = 5

BUMP = "UPDATE $site SET version += 1 RETURN NONE;"


def get_site(db: Database, user_key: str, owner: RecordID) -> dict | None:
    """The site of ``owner`` with its draft settings, if she may manage it."""
    with db.member(user_key) as s:
        return s.one("SELECT * FROM site WHERE owner = $owner LIMIT 1", {"owner": owner})


def create_site(db: Database, user_key: str, owner: RecordID) -> dict:
    """Create the site of ``owner`` (idempotent: returns the existing one)."""
    existing = get_site(db, user_key, owner)
    if existing:
        return existing
    try:
        with db.member(user_key) as s:
            row = s.one("CREATE site SET owner = $owner, draft = $draft",
                        {"owner": owner, "draft": DEFAULT_DRAFT})
    except Conflict:
        row = get_site(db, user_key, owner)
    if not row:
        raise NotFound("you cannot manage this owner's site")
    return row


def editor_blocks(db: Database, user_key: str, site: RecordID, page: str) -> list[dict]:
    """The draft blocks of one page, in order."""
    with db.member(user_key) as s:
        rows = s.rows(
            "SELECT id, kind, page, position, data, hidden FROM content_block"
            " WHERE site = $site AND stage = 'draft'"
            " AND page = $page ORDER BY position",
            {"site": site, "page": page},
        )
    for row in rows:
        row["key"] = key_of(row["id"])
    return rows


def add_block(db: Database, user_key: str, site: RecordID, page: str, kind: str,
              data: dict) -> str:
    """Append a block to a page; returns its key. Positions never collide (unique index)."""
    if kind not in REGISTRY:
        raise Invalid({"kind": "Choose a block type from the list."})
    for _ in range(_RETRIES):
        try:
            with db.member(user_key) as s:
                row = s.query(
                    """LET $last = (SELECT VALUE position FROM content_block
                        WHERE site = $site AND stage = 'draft' AND page = $page
                        ORDER BY position DESC LIMIT 1)[0] ?? 0;
                       CREATE ONLY content_block SET site = $site, stage = 'draft', page = $page,
                           kind = $kind, data = $data, position = $last + 1;"""
                    + BUMP,
                    {"site": site, "page": page, "kind": kind, "data": data},
                )[1]
            if not row:
                raise NotFound("not your site")
            return key_of(row["id"])
        except Conflict:
            continue  # another tab took that position first: take the next one
    raise Conflict("could not find a free position")


def get_block(db: Database, user_key: str, site: RecordID, key: str) -> dict:
    with db.member(user_key) as s:
        row = s.one("SELECT id, kind, page, position, data, hidden FROM ONLY $id"
                    " WHERE site = $site AND stage = 'draft'",
                    {"id": record_id("content_block", key), "site": site})
    if not row:
        raise NotFound("no such block")
    row["key"] = key
    return row


# One statement per field a draft block changes by itself (field names are never parameters).
_BLOCK_UPDATES = {
    "data": "UPDATE $id SET data = $value WHERE site = $site AND stage = 'draft' RETURN id;",
    "hidden": "UPDATE $id SET hidden = $value WHERE site = $site AND stage = 'draft' RETURN id;",
}


def _change_block(db: Database, user_key: str, site: RecordID, key: str, field: str,
                  value) -> None:
    with db.member(user_key) as s:
        done = s.query(_BLOCK_UPDATES[field] + BUMP,
                       {"id": record_id("content_block", key), "site": site, "value": value})[0]
    if not done:
        raise NotFound("no such block")


def update_block(db: Database, user_key: str, site: RecordID, key: str, data: dict) -> None:
    """Replace a draft block's data (already validated against its type)."""
    _change_block(db, user_key, site, key, "data", data)


def set_hidden(db: Database, user_key: str, site: RecordID, key: str, hidden: bool) -> None:
    """Hide a draft block from the published page without deleting it (or show it again)."""
    _change_block(db, user_key, site, key, "hidden", hidden)


def delete_block(db: Database, user_key: str, site: RecordID, key: str) -> None:
    with db.member(user_key) as s:
        s.query("DELETE $id WHERE site = $site AND stage = 'draft';" + BUMP,
                {"id": record_id("content_block", key), "site": site})


def duplicate_block(db: Database, user_key: str, site: RecordID, key: str) -> str:
    """Copy a block to the end of its page; returns the copy's key."""
    block = get_block(db, user_key, site, key)
    copy = add_block(db, user_key, site, block["page"], block["kind"], block["data"])
    if block.get("hidden"):
        set_hidden(db, user_key, site, copy, True)
    return copy


def reorder(db: Database, user_key: str, site: RecordID, page: str, keys: list[str]) -> None:
    """Put a page's blocks in the order of ``keys``; blocks not named keep their order after.

    Positions are first moved out of the way (negative), then renumbered, in one transaction,
    so the unique index never sees two blocks in one place and no block is lost when another
    tab added one meanwhile.
    """
    wanted = [record_id("content_block", k) for k in dict.fromkeys(keys)]
    with db.member(user_key) as s:
        s.query(
            """BEGIN TRANSACTION;
               LET $current = (SELECT id, position FROM content_block WHERE site = $site
                   AND stage = 'draft' AND page = $page ORDER BY position).id;
               LET $order = array::concat(
                   array::intersect($wanted, $current),
                   array::complement($current, $wanted));
               FOR $i IN 0..array::len($order) {
                   UPDATE $order[$i] SET position = -1 - $i;
               };
               FOR $i IN 0..array::len($order) {
                   UPDATE $order[$i] SET position = $i + 1;
               };
               UPDATE $site SET version += 1 RETURN NONE;
               COMMIT TRANSACTION;""",
            {"site": site, "page": page, "wanted": wanted},
        )


def move_block(db: Database, user_key: str, site: RecordID, key: str, step: int) -> None:
    """Move a block one place up (-1) or down (+1) on its page."""
    block = get_block(db, user_key, site, key)
    keys = [b["key"] for b in editor_blocks(db, user_key, site, block["page"])]
    i = keys.index(key)
    j = max(0, min(len(keys) - 1, i + step))
    keys[i], keys[j] = keys[j], keys[i]
    reorder(db, user_key, site, block["page"], keys)


def check_page(slug: str, title: str, existing: list[dict]) -> None:
    """Raise ``Invalid`` unless a page ``slug`` titled ``title`` may join ``existing``."""
    errors = {}
    if not PAGE_SLUG.match(slug or ""):
        errors["slug"] = "Use lowercase letters, digits and dashes (up to 40)."
    elif slug in RESERVED_PAGES:
        errors["slug"] = "That address is reserved. Choose another."
    elif any(p["slug"] == slug for p in existing):
        errors["slug"] = "This site already has a page at that address."
    if not (title or "").strip() or len(title.strip()) > 60:
        errors["title"] = "Give the page a title of up to 60 characters."
    if len(existing) >= 12:
        errors["slug"] = "A site has at most 12 pages."
    if errors:
        raise Invalid(errors)


def add_page(db: Database, user_key: str, site: dict, slug: str, title: str) -> None:
    """Add an empty page to the draft (appended in the database: a page another tab added
    meanwhile stays)."""
    check_page((slug or "").strip().lower(), title, site["draft"].get("pages", []))
    with db.member(user_key) as s:
        s.query("UPDATE $site SET draft.pages += $page, version += 1 RETURN NONE",
                {"site": site["id"], "page": {"slug": slug.strip().lower(),
                                              "title": title.strip()}})


def remove_page(db: Database, user_key: str, site: dict, slug: str) -> None:
    """Remove a page and its draft blocks (the home page stays).

    The page is filtered out of the stored list in the database, not written back from the
    caller's copy: a page another tab added meanwhile stays."""
    if slug == "home":
        raise Invalid({"slug": "The home page cannot be removed."})
    with db.member(user_key) as s:
        s.query("""BEGIN TRANSACTION;
                   DELETE content_block WHERE site = $site AND stage = 'draft' AND page = $slug;
                   UPDATE $site SET draft.pages = draft.pages[WHERE slug != $slug],
                       version += 1 RETURN NONE;
                   COMMIT TRANSACTION;""", {"site": site["id"], "slug": slug})


def update_settings(db: Database, user_key: str, site: dict, theme: str, font: str,
                    seo: dict) -> None:
    """Theme, fonts and SEO fields of the draft."""
    errors = {}
    if theme not in THEMES:
        errors["theme"] = "Choose a theme from the list."
    if font not in FONTS:
        errors["font"] = "Choose fonts from the list."
    clean = {k: (seo.get(k) or "").strip() for k in ("title", "description")}
    if len(clean["title"]) > 70:
        errors["seo_title"] = "Keep the title under 70 characters (search engines cut it)."
    if len(clean["description"]) > 300:
        errors["seo_description"] = "Keep the description under 300 characters."
    if errors:
        raise Invalid(errors)
    with db.member(user_key) as s:
        s.query("UPDATE $site SET draft.theme = $theme, draft.font = $font, draft.seo = $seo,"
                " version += 1 RETURN NONE",
                {"site": site["id"], "theme": theme, "font": font, "seo": clean})


def publish_site(db: Database, user_key: str, site: RecordID) -> int:
    """Make the draft what visitors see; returns the published version.

    The published stage is replaced whole in one transaction: visitors see the old version or
    the new one, never a mix.
    """
    with db.member(user_key) as s:
        version = s.query(
            """BEGIN TRANSACTION;
               DELETE content_block WHERE site = $site AND stage = 'published';
               INSERT INTO content_block (SELECT site, page, kind, position, data, hidden,
                   'published' AS stage FROM content_block
                   WHERE site = $site AND stage = 'draft') RETURN NONE;
               UPDATE $site SET published = draft, published_version = version,
                   published_at = time::now() RETURN NONE;
               COMMIT TRANSACTION;
               RETURN $site.published_version;""",
            {"site": site},
        )[-1]
    if version is None:
        raise NotFound("not your site")
    return version


def unpublish_site(db: Database, user_key: str, site: RecordID) -> None:
    """Take the site offline (a 404 to visitors); the draft stays."""
    with db.member(user_key) as s:
        s.query("UPDATE $site SET published_version = NONE RETURN NONE", {"site": site})
