"""What a visitor sees of a published site, read as the visitor in at most two queries.

The database refuses drafts, hidden blocks and private fields to the visitor identity; this
module only shapes what comes back. The first query finds the owner, the site and the page's
blocks; the second fetches the live data those blocks show (vlogs, styles, roster), all of it
in one batch whatever the number of blocks.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from ..blocks import REGISTRY, WEEKDAYS
from ..db import Database, key_of

PAGE_QUERY = """
LET $owner = IF $kind = 'user'
    THEN (SELECT VALUE id FROM user WHERE username = $name LIMIT 1)[0]
    ELSE (SELECT VALUE id FROM group WHERE slug = $name LIMIT 1)[0] END;
-- Only the owner index filters: an OR with an unindexed condition would scan every site. An
-- unpublished site reads as having no settings (and the visitor cannot read it at all).
LET $site = (SELECT id, owner,
    IF $draft THEN draft ELSE (IF published_version != NONE THEN published END) END AS settings,
    IF $draft THEN version ELSE published_version END AS version, published_at FROM site
    WHERE owner = $owner AND $owner != NONE LIMIT 1)[0];
RETURN $site;
SELECT id, kind, position, data FROM content_block
    WHERE site = $site.id AND $site != NONE AND stage = $stage AND page = $page
    AND hidden = false ORDER BY position;
RETURN IF $kind = 'user' THEN (SELECT owner.username AS name, owner.display_name AS title,
        bio AS about, avatar, cover, social_links, city.name AS city,
        city.country.name AS country FROM profile WHERE owner = $owner LIMIT 1)[0]
    ELSE (SELECT slug AS name, name AS title, kind, description AS about, logo AS avatar,
        cover, city.name AS city, city.country.name AS country, styles.*.name AS styles
        FROM ONLY $owner) END;
"""

LIVE_QUERIES = {
    "vlogs": """SELECT id, title, published_at, poster, images[0] AS cover, wall_key FROM vlog
        WHERE owner = $owner AND wall_key > '' AND visibility = 'public' LIMIT $vlog_count;""",
    "styles": """SELECT out.name AS name, out.family AS family, level, role
        FROM user_dance_style WHERE in = $owner;""",
    "members": """SELECT user, user.username AS username, user.display_name AS display_name, role
        FROM group_member WHERE group = $owner AND role IN ['owner', 'admin', 'member'];""",
}
ROLE_ORDER = {"owner": 0, "admin": 1, "member": 2}


@dataclass
class PublicPage:
    """Everything a public page template needs, and what its cache entry depends on."""

    kind: str  # user | group
    name: str
    page: str
    site_key: str
    owner_key: str
    version: int
    published_at: dt.datetime | None
    settings: dict
    owner: dict
    blocks: list[dict]
    live: dict = field(default_factory=dict)

    @property
    def depends_on(self) -> set[str]:
        """The records whose change must drop this page from the render cache."""
        ids = {self.owner_key, f"site:{self.site_key}"}
        ids.update(str(m["user"]) for m in self.live.get("members", []) if m.get("user"))
        return ids

    @property
    def title(self) -> str:
        pages = {p["slug"]: p["title"] for p in self.settings.get("pages", [])}
        return pages.get(self.page, "")


def load_page(db: Database, kind: str, name: str, page: str = "home",
              today: dt.date | None = None, draft_for: str | None = None) -> PublicPage | None:
    """The published page ``page`` of the site of ``kind``/``name``; None if not public.

    With ``draft_for`` (a member's key) the page is read as that member from the draft: the
    owner's preview, which the database shows only to those who manage the site.
    """
    identity = db.member(draft_for) if draft_for else db.visitor()
    with identity as s:
        _, _, site, blocks, owner = s.query(
            PAGE_QUERY, {"kind": kind, "name": (name or "").lower(), "page": page,
                         "draft": bool(draft_for), "stage": "draft" if draft_for else "published"})
        if not site or not owner or not site.get("settings"):
            return None
        settings = site["settings"]
        if page not in {p["slug"] for p in settings.get("pages", [])}:
            return None
        result = PublicPage(kind=kind, name=owner["name"], page=page,
                            site_key=key_of(site["id"]), owner_key=str(site["owner"]),
                            version=site["version"],
                            published_at=site.get("published_at"), settings=settings,
                            owner=owner, blocks=blocks or [])
        needed = [REGISTRY[b["kind"]].live for b in result.blocks if b["kind"] in REGISTRY]
        wanted = [k for k in LIVE_QUERIES if k in needed]
        if wanted:
            counts = [b["data"].get("count", 3) for b in result.blocks if b["kind"] == "vlogs"]
            rows = s.query("".join(LIVE_QUERIES[k] for k in wanted),
                           {"owner": site["owner"], "vlog_count": max(counts or [3])})
            result.live = dict(zip(wanted, rows))
    _shape_live(result, today or dt.date.today())
    return result


def _shape_live(page: PublicPage, today: dt.date) -> None:
    members = page.live.get("members")
    if members:
        members.sort(key=lambda m: (ROLE_ORDER.get(m["role"], 9), m["display_name"].lower()))
    if page.kind == "group" and "styles" not in page.live:
        page.live["styles"] = [{"name": n} for n in page.owner.get("styles") or []]
    for vlog in page.live.get("vlogs", []):
        vlog["key"] = key_of(vlog["id"])
    for block in page.blocks:
        block["key"] = key_of(block["id"])
        if block["kind"] == "schedule":
            block["data"]["items"] = upcoming(block["data"].get("items", []), today)


def upcoming(items: list[dict], today: dt.date) -> list[dict]:
    """Weekly entries in weekday order, then dated ones from today on (past dates hide)."""
    weekly = [i for i in items if i.get("weekday")]
    weekly.sort(key=lambda i: (WEEKDAYS.index(i["weekday"]), i.get("time", "")))
    dated = [i for i in items if not i.get("weekday") and i.get("date")
             and dt.date.fromisoformat(i["date"]) >= today]
    dated.sort(key=lambda i: (i["date"], i.get("time", "")))
    return weekly + dated


def schedule_entries(db: Database, kind: str, name: str, today: dt.date) -> tuple[str, list]:
    """Every upcoming schedule entry of a published site (all pages), for the .ics file."""
    page = load_page(db, kind, name, "home", today)
    if page is None:
        return "", []
    entries = []
    with db.visitor() as s:
        rows = s.rows(
            """SELECT data FROM content_block WHERE site = $site AND stage = 'published'
               AND kind = 'schedule' AND hidden = false""",
            {"site": _site_id(page)},
        )
    for row in rows:
        entries += upcoming(row["data"].get("items", []), today)
    return page.owner.get("title", name), entries


def _site_id(page: PublicPage):
    from surrealdb import RecordID

    return RecordID("site", page.site_key)

