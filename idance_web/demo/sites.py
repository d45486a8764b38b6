"""Demo sites: a published website for every demo member, built through the editor's services.

Each site is made the way a member makes hers (``services.sites`` running as that member):
create, look and SEO, blocks, an extra page on some, publish. A few sites then get edits that
stay in the draft (a new text block, another theme) or a block published hidden: visitors must
never see those. What each site holds is planned in ``site_plans.py``.

Idempotent: members who already have a site are skipped, so a second run changes nothing.
Image blocks need a media storage (small generated illustrations are stored through the upload
pipeline); without one, image and gallery blocks and hero covers are left out.
"""

from __future__ import annotations

import datetime as dt
import io

from PIL import Image, ImageDraw
from surrealdb import RecordID

from ..db import Database
from ..media import process_image
from ..storage import save_image
from ..services import sites
from ..services.options import LEVELS
from .members import MEMBER_COUNT
from .site_plans import plan_site, valid_block

DRAFT_ONLY_TITLE = "Summer intensive (not announced yet)"
HIDDEN_TITLE = "Notes for my next season"
RANK = {level: rank for rank, level in enumerate(LEVELS, start=1)}
# Colour pairs (top, bottom, accent) of the generated illustrations.
PALETTES = [((246, 204, 214), (160, 52, 94), (255, 226, 150)),
            ((24, 24, 28), (90, 90, 100), (245, 245, 245)),
            ((20, 60, 110), (210, 190, 150), (250, 240, 210)),
            ((40, 90, 60), (220, 214, 190), (245, 230, 180)),
            ((250, 150, 70), (90, 30, 80), (255, 220, 120)),
            ((130, 90, 160), (30, 20, 50), (255, 200, 230))]
PALETTE_NAMES = ["rose and gold", "black and white", "deep blue and sand", "green and linen",
                 "orange and plum", "violet and night blue"]


def demo_images(storage, prefix: str = "") -> list[dict]:
    """Small generated illustrations, stored through the upload pipeline; their records.
    ``prefix`` goes before every key (``vlog/`` for pictures served only through a vlog)."""
    records = []
    for n, ((top, bottom, accent), name) in enumerate(zip(PALETTES, PALETTE_NAMES)):
        w, h = 960, 600
        im = Image.new("RGB", (w, h))
        draw = ImageDraw.Draw(im)
        for y in range(h):
            t = y / (h - 1)
            shade = tuple(int(a + (b - a) * t) for a, b in zip(top, bottom))
            draw.line([(0, y), (w, y)], fill=shade)
        glow = tuple(int(c * 0.35 + a * 0.65) for c, a in zip(top, accent))
        draw.ellipse([w * 0.2, h * 0.05, w * 0.8, h * 0.95], fill=glow)
        draw.rectangle([0, h * 0.86, w, h], fill=tuple(int(c * 0.6) for c in bottom))
        ink = tuple(int(c * 0.25) for c in bottom)
        for cx, lean in ((w * 0.42 + n * 6, -1), (w * 0.58 - n * 6, 1)):
            draw.ellipse([cx - 22, h * 0.26, cx + 22, h * 0.26 + 44], fill=ink)  # head
            draw.polygon([(cx - 18, h * 0.36), (cx + 18, h * 0.36), (cx + 60 * lean, h * 0.74),
                          (cx - 40 * lean, h * 0.74)], fill=ink)  # body and skirt
            draw.line([(cx, h * 0.40), (cx + 110 * lean, h * 0.30)], fill=ink, width=12)  # arm
            draw.line([(cx + 10 * lean, h * 0.72), (cx + 30 * lean, h * 0.86)], fill=ink, width=12)
            draw.line([(cx - 10 * lean, h * 0.72), (cx - 45 * lean, h * 0.86)], fill=ink, width=12)
        buffer = io.BytesIO()
        im.save(buffer, "PNG")
        processed = process_image(buffer.getvalue(), max_bytes=10 * 1024 * 1024,
                                  alt=f"Illustration of two dancers under a spotlight, in {name}")
        records.append(save_image(storage, processed, prefix))
    return records


def _members(s) -> list[dict]:
    keys = [RecordID("user", f"demo_{i:03d}") for i in range(MEMBER_COUNT)]
    users, profiles, styles, with_site = s.query(
        """SELECT record::id(id) AS key, username, display_name FROM user WHERE id IN $ids;
           SELECT record::id(owner) AS key, city.name AS city, city.country.name AS country
               FROM profile WHERE owner IN $ids;
           SELECT record::id(in) AS key, out.name AS name, level FROM user_dance_style
               WHERE record::id(in) IN $keys;
           SELECT VALUE record::id(owner) FROM site WHERE owner IN $ids;""",
        {"ids": keys, "keys": [k.id for k in keys]},
    )
    place = {p["key"]: p for p in profiles}
    chosen: dict[str, list[dict]] = {}
    for row in sorted(styles, key=lambda r: -RANK.get(r["level"], 0)):  # best style first
        chosen.setdefault(row["key"], []).append(row)
    done = set(with_site)
    found = []
    for user in sorted(users, key=lambda u: u["key"]):
        if user["key"] in done:
            continue
        user.update(city=place.get(user["key"], {}).get("city") or "my city",
                    country=place.get(user["key"], {}).get("country") or "",
                    styles=chosen.get(user["key"], []))
        found.append(user)
    return found


def build_site(db: Database, member: dict, index: int, plan: dict) -> dict:
    """Make and publish one member's site as her, then the draft-only edits; counts."""
    key = member["key"]
    site = sites.create_site(db, key, RecordID("user", key))
    sid = site["id"]
    sites.update_settings(db, key, site, plan["theme"], plan["font"], plan["seo"])
    if plan["second"]:
        sites.add_page(db, key, site, *plan["second"])
    added = 0
    for page, page_blocks in plan["pages"].items():
        for kind, data in page_blocks:
            sites.add_block(db, key, sid, page, kind, data)
            added += 1
    if index % 16 == 11:  # published, but hidden: the owner keeps it for later
        hidden = sites.add_block(db, key, sid, "home", "text", valid_block("text", {
            "title": HIDDEN_TITLE, "body": "Ideas for the autumn term; not ready to share."}))
        sites.set_hidden(db, key, sid, hidden, True)
    sites.publish_site(db, key, sid)
    drafts = 0
    if index % 8 == 3:  # added after publishing: only the owner sees it, in her editor
        sites.add_block(db, key, sid, "home", "text", valid_block("text", {
            "title": DRAFT_ONLY_TITLE,
            "body": "Five days of technique and styling. Dates and prices to be confirmed."}))
        drafts += 1
    if index % 16 == 7:  # trying another look before publishing it
        themes = list(sites.THEMES)
        other = themes[(themes.index(plan["theme"]) + 2) % len(themes)]
        sites.update_settings(db, key, {"id": sid}, other, plan["font"], plan["seo"])
        drafts += 1
    return {"blocks": added, "pages": len(plan["pages"]), "drafts": drafts}


def load_demo_sites(db: Database, storage=None, today: dt.date | None = None) -> str:
    """Give every demo member a published site; return a one-line summary.

    ``storage`` (the app's media storage) enables image and gallery blocks and hero covers.
    Members who already have a site are left alone, so a second run changes nothing.
    """
    with db.system() as s:
        if not s.value("RETURN record::exists(user:demo_000)"):
            return "No demo members: load the demo community first."
        members = _members(s)
    if not members:
        return "Demo sites already loaded."
    images = demo_images(storage) if storage is not None else []
    today = today or dt.date.today()
    totals = {"blocks": 0, "pages": 0, "drafts": 0}
    for member in members:
        index = int(member["key"].split("_")[1])
        counts = build_site(db, member, index, plan_site(member, index, images, today))
        for name in totals:
            totals[name] += counts[name]
    return (f"Published {len(members)} demo sites ({totals['blocks']} blocks on "
            f"{totals['pages']} pages; {totals['drafts']} draft-only edits not yet published).")
