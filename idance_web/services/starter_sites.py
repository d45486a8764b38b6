"""Starter sites: three layouts written from her profile, to publish at once or edit first.

A layout is a list of blocks of the registry's own types, each checked by ``blocks.validate``
like a block made in the editor. ``start_site`` writes one to her site's draft in a single
transaction that refuses a site with content: a starter never overwrites what she built.
"""

from __future__ import annotations

from dataclasses import dataclass

from surrealdb import RecordID

from .. import blocks
from ..db import Database, DatabaseError
from ..errors import NotFound, Refused
from . import sites
from .options import LEVELS

MAX_STYLES_NAMED = 3  # in a hero's subtitle: more reads as a list, not a line
ROLE_WORDS = {"lead": "lead", "follow": "follow", "both": "lead and follow"}
SITE_HAS_CONTENT = ("Your site already has content, so we left it as it is. Open the site "
                    "editor to change it.")


@dataclass(frozen=True)
class Layout:
    """A starter layout: its look and the (validated) blocks of its home page."""

    name: str
    title: str
    summary: str
    theme: str
    font: str
    blocks: tuple[tuple[str, dict], ...]

    @property
    def labels(self) -> list[str]:
        """The blocks' names as the editor shows them, in order."""
        return [blocks.REGISTRY[kind].label for kind, _ in self.blocks]

    @property
    def hero(self) -> dict:
        return next(data for kind, data in self.blocks if kind == "hero")


def _joined(words: list[str]) -> str:
    """"a", "a and b", "a, b and c"."""
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def _strongest_first(profile: dict) -> list[dict]:
    """Her styles, the one she dances at the highest level first (then by name)."""
    rank = {level: i for i, level in enumerate(LEVELS)}
    return sorted(profile.get("styles") or [], key=lambda s: -rank.get(s.get("level"), -1))


def _about(profile: dict) -> str:
    """Her bio, or a first paragraph made of what her profile says (she can rewrite it)."""
    if (profile.get("bio") or "").strip():
        return profile["bio"]
    styles = [f"{s['name']} ({s['level']}, {ROLE_WORDS.get(s['role'], s['role'])})"
              for s in _strongest_first(profile)]
    city = profile.get("city_name")
    if styles:
        line = f"I dance {_joined(styles)}" + (f" in {city}." if city else ".")
    else:
        line = f"I am a dancer in {city}." if city else "I am a dancer."
    return line + " Write to me through the form below."


def _subtitle(profile: dict) -> str:
    names = [s["name"] for s in _strongest_first(profile)][:MAX_STYLES_NAMED]
    city = profile.get("city_name")
    what = " · ".join(names) if names else "Dancer"
    return (f"{what} in {city}" if city else what)[:240]


def layouts(profile: dict, username: str) -> list[Layout]:
    """Three starter layouts for the profile ``own_profile`` returned, blocks validated."""
    name = profile.get("display_name") or username
    picture = profile.get("cover") or profile.get("avatar")
    hero = {"title": name, "subtitle": _subtitle(profile), "image": picture}
    about = {"title": "About me", "body": _about(profile)}
    styles = {"title": "What I dance"}
    contact = {"title": "Get in touch", "intro": "Write to me about classes, practice or a dance."}
    stage = [("hero", hero), ("text", about), ("styles", styles),
             ("vlogs", {"title": "From my vlog", "count": "3"})]
    if profile.get("avatar"):
        stage.insert(1, ("image", {"image": profile["avatar"], "caption": name}))
    if profile.get("social_links"):
        stage.append(("links", {"title": "Find me elsewhere", "show_social": True}))
    plans = [
        ("portrait", "Portrait", "Your picture and name up front, a few words about you, "
         "your styles and a contact form.", "rose", "modern",
         [("hero", hero), ("text", about), ("styles", styles), ("contact", contact)]),
        ("essentials", "Essentials", "Short and clear: your name, your styles and a way to "
         "reach you.", "ink", "classic",
         [("hero", {**hero, "image": None, "cta_label": "Write to me",
                    "cta_url": f"/@{username}#contact-h"}),
          ("styles", styles), ("contact", contact)]),
        ("stage", "Stage", "For dancers who show their dancing: your picture, your story, "
         "your styles and your latest vlogs as you post them.", "sunset", "studio",
         stage + [("contact", contact)]),
    ]
    return [Layout(key, title, summary, theme, font,
                   tuple((kind, blocks.validate(kind, data)) for kind, data in chosen))
            for key, title, summary, theme, font, chosen in plans]


def layout(profile: dict, username: str, name: str) -> Layout:
    """The layout called ``name``; ``NotFound`` for a name no layout has."""
    for found in layouts(profile, username):
        if found.name == name:
            return found
    raise NotFound(f"no starter layout {name!r}")


def site_content(db: Database, user_key: str) -> dict | None:
    """Her site as the starter sees it (None: no site yet): ``blocks`` in the draft,
    ``published``, and the ``path`` visitors find it at."""
    with db.member(user_key) as s:
        row = s.one(
            """LET $site = (SELECT id, published_version FROM site WHERE owner = $me LIMIT 1)[0];
               RETURN IF $site = NONE THEN NONE ELSE {
                   published: $site.published_version != NONE,
                   blocks: (SELECT count() AS n FROM content_block WHERE site = $site.id
                       AND stage = 'draft' GROUP ALL)[0].n ?? 0
               } END;""",
            {"me": RecordID("user", user_key)})
    return row


def start_site(db: Database, user_key: str, chosen: Layout, publish: bool) -> None:
    """Write ``chosen`` to her site's draft home page, with its theme, fonts and search text,
    and publish it if asked; the site is created if she has none.

    Raises ``Refused`` (409) and changes nothing when her site already has draft blocks or a
    published version: checked inside the transaction that writes, so two tabs cannot both
    fill it.
    """
    site = sites.create_site(db, user_key, RecordID("user", user_key))
    rows = [{"site": site["id"], "stage": "draft", "page": "home", "kind": kind, "data": data,
             "position": position} for position, (kind, data) in enumerate(chosen.blocks, 1)]
    seo = {"title": f"{chosen.hero['title']}: {chosen.hero.get('subtitle', '')}"[:70],
           "description": chosen.hero.get("subtitle", "")}
    try:
        with db.member(user_key) as s:
            s.query(
                """BEGIN TRANSACTION;
                   IF $site.published_version != NONE OR (SELECT VALUE id FROM content_block
                       WHERE site = $site AND stage = 'draft' LIMIT 1) != [] {
                       THROW 'site-has-content';
                   };
                   INSERT INTO content_block $rows RETURN NONE;
                   UPDATE $site SET draft.theme = $theme, draft.font = $font, draft.seo = $seo,
                       version += 1 RETURN NONE;
                   COMMIT TRANSACTION;""",
                {"site": site["id"], "rows": rows, "theme": chosen.theme, "font": chosen.font,
                 "seo": seo})
    except DatabaseError as exc:  # a THROW arrives as a database error with its text
        if "site-has-content" in str(exc):
            raise Refused(SITE_HAS_CONTENT, 409) from None
        raise
    if publish:
        sites.publish_site(db, user_key, site["id"])
