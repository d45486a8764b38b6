"""Demo sites: a published website for every demo member, built through the editor's services.

Each site is made the way a member makes hers (``services.sites`` running as that member):
create, look and SEO, blocks, an extra page on some, publish. A few sites then get edits that
stay in the draft (a new text block, another theme) or a block published hidden: visitors must
never see those. Every block's data goes through ``blocks.validate`` first.

Idempotent: members who already have a site are skipped, so a second run changes nothing.
Image blocks need a media storage (small generated illustrations are stored through the upload
pipeline); without one, image and gallery blocks and hero covers are left out.
"""

from __future__ import annotations

import datetime as dt
import io
import random

from PIL import Image, ImageDraw
from surrealdb import RecordID

from .. import blocks
from ..db import Database
from ..media import process_image, save_image
from ..services import sites
from ..services.options import LEVELS
from ..text import fold
from .members import MEMBER_COUNT

DRAFT_ONLY_TITLE = "Summer intensive (not announced yet)"
HIDDEN_TITLE = "Notes for my next season"
VIDEO_IDS = ["demoSalsa01", "demoTango02", "demoHouse03", "demoLindy04", "demoZouk005",
             "demoBallet6", "demoWaack07", "demoKizo008"]  # 11 characters, as YouTube's ids

RANK = {level: rank for rank, level in enumerate(LEVELS, start=1)}
KINDS = ["teacher", "performer", "social", "competitor"]  # the member's kind: index % 4

CITY = {
    "berlin": {"studios": ["Tanzhaus Kreuzberg", "Studio Wedding", "Halle am Kanal"],
               "area": "five minutes from the U-Bahn", "currency": "€{}", "rate": 1},
    "paris": {"studios": ["Studio Oberkampf", "Salle Belleville", "Atelier du Canal"],
              "area": "near the Canal Saint-Martin", "currency": "{} €", "rate": 1},
    "london": {"studios": ["Shoreditch Dance Rooms", "Camden Studio 2", "Southbank Hall"],
               "area": "two minutes from the Overground", "currency": "£{}", "rate": 1},
    "new york city": {"studios": ["Studio 54th Street", "Brooklyn Dance Loft",
                                  "Chelsea Movement Space"],
                      "area": "by the L train", "currency": "${}", "rate": 1.2},
    "buenos aires": {"studios": ["Salón Palermo", "Milonga San Telmo", "Estudio Almagro"],
                     "area": "in the heart of Palermo", "currency": "US${}", "rate": 0.8},
    "sao paulo": {"studios": ["Estúdio Vila Madalena", "Espaço Pinheiros", "Sala Liberdade"],
                  "area": "near Fradique Coutinho station", "currency": "R${}", "rate": 5},
    "barcelona": {"studios": ["Estudi Gràcia", "Sala Poblenou", "Espai Raval"],
                  "area": "a short walk from Diagonal", "currency": "{} €", "rate": 1},
    "tokyo": {"studios": ["Shibuya Dance Base", "Studio Shimokita", "Ebisu Movement Lab"],
              "area": "three minutes from the station", "currency": "¥{}", "rate": 150},
}
DEFAULT_CITY = {"studios": ["the studio", "the community hall", "the dance school"],
                "area": "easy to reach by public transport", "currency": "€{}", "rate": 1}

QUOTES = {
    "teacher": [
        (("{first} explains every step so it finally makes sense. I went from frozen to "
          "dancing a whole social in three months."), "Jana, student since 2024"),
        ("The warmest classes in town. You leave with a smile and sore feet.", "Marco, beginner"),
        ("I came for one trial class and stayed for two years.", "Sam, intermediate"),
    ],
    "performer": [
        ("Every performance tells a story; you forget to breathe.", "City Culture Guide"),
        ("Precise, musical and generous. The highlight of our festival.", "Festival organiser"),
    ],
    "social": [
        ("{first} has the rare gift of making a crowded floor feel like a conversation.",
         "A regular at the Friday social"),
        ("Best follow-the-music dancer I know. Never a boring song.", "Practice partner"),
    ],
    "competitor": [
        ("Clean lines, fearless musicality. One to watch this season.", "Dance Weekly"),
        ("{first} trains harder than anyone in the studio.", "Coach"),
    ],
}
TEACHER_TEXT = [
    ("I have been teaching {style} in {city} for {years} years. My classes are about "
     "connection first: posture, listening, and a lot of laughing. No partner needed, we "
     "rotate.\n\n**New here?** Come ten minutes early and I will show you the basics."),
    ("Dancer, teacher and eternal student. I fell in love with {style} at a social in "
     "{city} and never stopped. Today I teach small groups where everyone gets feedback, "
     "every week.\n\n- technique you can use on a crowded floor\n- musicality drills\n"
     "- a practice hour after every class"),
]
PERFORMER_TEXT = [
    ("I perform and choreograph {style} and everything around it. My pieces mix "
     "social dance with theatre; you may have seen me on stages around {city}.\n\n"
     "Booking for festivals, weddings and music videos is open for next season."),
    ("Stage is where I feel at home. Trained in {style}, I create short pieces for "
     "festivals and small venues in {city} and beyond. I love collaborations with "
     "musicians: *write to me*."),
]
SOCIAL_TEXT = [
    ("By day I work in an office; by night you will find me at the {style} socials of "
     "{city}. Always happy to dance with newcomers, and always looking for practice "
     "partners."),
    ("Two years into {style} and still hooked. I keep this page to share the socials, "
     "festivals and playlists I love in {city}. Say hi on the dance floor!"),
]
COMPETITOR_TEXT = [
    ("Competitive {style} dancer based in {city}. I train five days a week and compete on "
     "the national circuit; currently looking for a partner with the same drive.\n\n"
     "**Results:** finalist at two regional championships this year."),
    ("Competing in {style} since I was sixteen. Training, results and the occasional "
     "behind-the-scenes video: this is where I keep track of the season."),
]

# Colour pairs (top, bottom, accent) of the generated illustrations.
PALETTES = [((246, 204, 214), (160, 52, 94), (255, 226, 150)),
            ((24, 24, 28), (90, 90, 100), (245, 245, 245)),
            ((20, 60, 110), (210, 190, 150), (250, 240, 210)),
            ((40, 90, 60), (220, 214, 190), (245, 230, 180)),
            ((250, 150, 70), (90, 30, 80), (255, 220, 120)),
            ((130, 90, 160), (30, 20, 50), (255, 200, 230))]
PALETTE_NAMES = ["rose and gold", "black and white", "deep blue and sand", "green and linen",
                 "orange and plum", "violet and night blue"]


def _valid(kind: str, data: dict) -> dict:
    return blocks.validate(kind, data)  # raises Invalid: a demo bug, never silenced


def demo_images(storage) -> list[dict]:
    """Small generated illustrations, stored through the upload pipeline; their records."""
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
        records.append(save_image(storage, processed))
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


def plan_site(member: dict, index: int, images: list[dict], today: dt.date) -> dict:
    """What a demo member's site holds: settings, pages and validated blocks per page."""
    rng = random.Random(f"demo-site-{member['key']}")
    kind = KINDS[index % len(KINDS)]
    first = member["display_name"].split()[0]
    city = member["city"]
    local = CITY.get(fold(city), DEFAULT_CITY)
    style_rows = member["styles"] or [{"name": "Salsa", "level": "intermediate"}]
    style = style_rows[0]["name"]
    styles_text = " and ".join(r["name"] for r in style_rows[:2])
    fill = {"first": first, "style": style, "city": city, "years": rng.randint(3, 15)}
    path = f"/@{member['username']}"
    studio = rng.choice(local["studios"])

    def money(amount: float) -> str:
        return local["currency"].format(f"{round(amount * local['rate']):,}")

    image = (lambda n: images[(index + n) % len(images)]) if images else (lambda n: None)
    second = None  # (slug, title) of a second page
    if kind == "teacher" and index % 8 == 0:
        second = ("classes", "Classes")
    elif kind in ("performer", "social") and index % 3 == 0:
        second = ("about", "About me")

    hero = {"title": {"teacher": f"Dance {style} with {first}",
                      "performer": f"{member['display_name']}, on stage",
                      "social": f"{first} dances {style}",
                      "competitor": f"{member['display_name']}, competing in {style}"}[kind],
            "subtitle": {"teacher": f"{styles_text} classes in {city}, for every level",
                         "performer": f"Performer and choreographer in {city}",
                         "social": f"Socials, festivals and practice in {city}",
                         "competitor": f"Training and results, {city}"}[kind],
            "image": image(0)}
    if kind == "teacher":
        hero.update(cta_label="See my classes",
                    cta_url=f"{path}/classes" if second else "https://example.com/book")
    elif kind == "performer":
        hero.update(cta_label="Book a show", cta_url=f"https://example.com/{member['username']}/booking")
    texts = {"teacher": TEACHER_TEXT, "performer": PERFORMER_TEXT, "social": SOCIAL_TEXT,
             "competitor": COMPETITOR_TEXT}[kind]
    about = {"title": f"About {first}", "body": rng.choice(texts).format(**fill)}
    quote_text, quote_author = rng.choice(QUOTES[kind])
    quote = {"text": quote_text.format(**fill), "author": quote_author}
    links = {"title": "Find me elsewhere", "show_social": index % 5 == 0, "items": [
        {"label": f"My {style} playlist", "url": f"https://example.com/{member['username']}/playlist"},
        {"label": "Photos from the last festival", "url": f"https://example.com/{member['username']}/photos"},
        {"label": f"{city} dance calendar",
         "url": f"https://example.com/calendar/{fold(city).replace(' ', '-')}"},
    ][: rng.randint(2, 3)]}
    video = {"title": rng.choice(["Latest practice", "Showcase", "A little demo", "On the floor"]),
             "url": f"https://www.youtube.com/watch?v={VIDEO_IDS[index % len(VIDEO_IDS)]}",
             "caption": f"{style}, filmed in {city}."}
    contact = {"title": "Get in touch",
               "intro": {"teacher": "Questions about classes or private lessons? Write to me.",
                         "performer": "For bookings and collaborations, send me a message.",
                         "competitor": "Looking for a partner or a sponsor? Let's talk."}
               .get(kind, "Say hello!")}
    styles_block = {"title": "What I dance"}
    vlogs = {"title": "From my vlog", "count": str(rng.choice([3, 4, 6]))}
    map_block = {"title": "Where to find me",
                 "note": f"Most evenings at {studio}, {local['area']}."}

    home: list[tuple[str, dict]] = [("hero", hero)]
    other: list[tuple[str, dict]] = []
    if kind == "teacher":
        weekdays = rng.sample(blocks.WEEKDAYS[:5], k=3)
        levels = LEVELS[:4]  # every level but professional
        workshop = today + dt.timedelta(days=21 + index % 40)
        schedule = {"title": "Weekly classes & workshops", "items": [
            {"title": f"{style} {lvl}", "style": style, "level": lvl, "weekday": day,
             "time": f"{18 + n}:{'30' if n % 2 else '00'}", "place": studio}
            for n, (day, lvl) in enumerate(zip(weekdays, rng.sample(levels, k=3)))
        ] + [{"title": f"Weekend workshop: {style} musicality", "style": style,
              "level": "all levels", "date": workshop.isoformat(), "time": "14:00",
              "place": rng.choice(local["studios"])}]}
        pricing = {"title": "Prices", "items": [
            {"name": "Drop-in class", "price": money(15), "description": "Pay at the door."},
            {"name": "10-class card", "price": money(120), "description": "Valid for 4 months."},
            {"name": "Private lesson", "price": money(60),
             "description": "60 minutes, solo or couple."},
        ]}
        cta = {"label": "Book a trial class", "url": f"{path}/classes" if second
               else "https://example.com/book", "note": "The first class is free."}
        if second:
            home += [("text", about), ("styles", styles_block), ("quote", quote),
                     ("cta", cta), ("contact", contact)]
            other = [("text", {"title": "How my classes work",
                               "body": "Classes run in blocks of four weeks; drop in any "
                                       "week. **No partner needed.**"}),
                     ("schedule", schedule), ("pricing", pricing), ("map", map_block)]
        else:
            home += [("text", about), ("styles", styles_block), ("schedule", schedule),
                     ("pricing", pricing), ("quote", quote), ("video", video),
                     ("map", map_block), ("cta", cta), ("contact", contact)]
    elif kind == "performer":
        gallery = {"title": "On stage", "items": [
            {"image": image(n), "caption": c} for n, c in
            enumerate(["Festival night", "Rehearsal", "Curtain call"], start=1)]}
        home += [("text", about), ("video", video), ("gallery", gallery), ("vlogs", vlogs),
                 ("quote", quote), ("links", links), ("contact", contact)]
        if second:
            story = rng.choice(PERFORMER_TEXT).format(**fill)
            other = [("text", {"title": "My story", "body": story}),
                     ("image", {"image": image(4), "caption": f"Rehearsing in {city}"}),
                     ("styles", styles_block)]
        else:
            home.insert(3, ("styles", styles_block))
    elif kind == "social":
        cta = {"label": "Dance with me at the next social",
               "url": f"https://example.com/socials/{fold(city).replace(' ', '-')}",
               "note": "Every Friday, all levels welcome."}
        home += [("text", about), ("styles", styles_block), ("image", {
            "image": image(2), "caption": f"Friday social in {city}"}),
                 ("vlogs", vlogs), ("links", links), ("map", map_block), ("cta", cta)]
        if second:
            other = [("text", {"title": "How I started",
                               "body": f"A friend dragged me to a {style} class in {city}. "
                                       "One year later I was dancing at my first festival."}),
                     ("quote", quote)]
    else:  # competitor
        comp = today + dt.timedelta(days=30 + index % 50)
        schedule = {"title": "Season", "items": [
            {"title": "Training with my coach", "style": style, "level": "advanced",
             "weekday": rng.choice(["tuesday", "thursday"]), "time": "19:00", "place": studio},
            {"title": f"{city} Open: {style}", "style": style, "level": "advanced",
             "date": comp.isoformat(), "time": "10:00", "place": rng.choice(local["studios"])},
            {"title": "National championship", "style": style, "level": "professional",
             "date": (comp + dt.timedelta(days=35)).isoformat()},
        ]}
        home += [("text", about), ("styles", styles_block), ("schedule", schedule),
                 ("video", video), ("quote", quote), ("links", links), ("contact", contact)]
    if not images:  # no storage: leave out what needs stored media
        home = [(k, d) for k, d in home if k not in ("image", "gallery")]
        other = [(k, d) for k, d in other if k not in ("image", "gallery")]
    pages = {"home": [(k, _valid(k, d)) for k, d in home]}
    if second:
        pages[second[0]] = [(k, _valid(k, d)) for k, d in other]
    themes, fonts = list(sites.THEMES), list(sites.FONTS)
    return {
        "theme": themes[index % len(themes)],
        "font": fonts[(index // len(themes)) % len(fonts)],
        "seo": {"title": f"{member['display_name']}: {style} in {city}"[:70],
                "description": hero["subtitle"]},
        "second": second,
        "pages": pages,
    }


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
        hidden = sites.add_block(db, key, sid, "home", "text", _valid("text", {
            "title": HIDDEN_TITLE, "body": "Ideas for the autumn term; not ready to share."}))
        sites.set_hidden(db, key, sid, hidden, True)
    sites.publish_site(db, key, sid)
    drafts = 0
    if index % 8 == 3:  # added after publishing: only the owner sees it, in her editor
        sites.add_block(db, key, sid, "home", "text", _valid("text", {
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
