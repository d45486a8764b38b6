"""What each demo member's site holds: the pages and blocks of her kind of site (teacher,
performer, social dancer, competitor), written from her name, city and styles.

The same member always gets the same site (a random generator seeded by her key), and every
block's data goes through ``blocks.validate``.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field

from .. import blocks
from ..services import sites
from ..services.options import LEVELS
from ..text import fold

VIDEO_IDS = ["demoSalsa01", "demoTango02", "demoHouse03", "demoLindy04", "demoZouk005",
             "demoBallet6", "demoWaack07", "demoKizo008"]  # 11 characters, as YouTube's ids

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


def valid_block(kind: str, data: dict) -> dict:
    """``data`` as ``blocks.validate`` leaves it."""
    return blocks.validate(kind, data)  # raises Invalid: a demo bug, never silenced


@dataclass
class _Member:
    """What a demo site's text is made from: the member, her city, her kind of site."""

    member: dict
    index: int
    kind: str
    rng: random.Random
    images: list[dict]
    today: dt.date
    first: str = ""
    city: str = ""
    style: str = ""
    path: str = ""
    studio: str = ""
    local: dict = field(default_factory=dict)
    fill: dict = field(default_factory=dict)
    second: tuple[str, str] | None = None  # (slug, title) of a second page

    def money(self, amount: float) -> str:
        return self.local["currency"].format(f"{round(amount * self.local['rate']):,}")

    def image(self, n: int) -> dict | None:
        return self.images[(self.index + n) % len(self.images)] if self.images else None


def _member(member: dict, index: int, images: list[dict], today: dt.date) -> _Member:
    m = _Member(member, index, KINDS[index % len(KINDS)],
                random.Random(f"demo-site-{member['key']}"), images, today)
    m.first, m.city = member["display_name"].split()[0], member["city"]
    m.local = CITY.get(fold(m.city), DEFAULT_CITY)
    style_rows = member["styles"] or [{"name": "Salsa", "level": "intermediate"}]
    m.style = style_rows[0]["name"]
    m.fill = {"first": m.first, "style": m.style, "city": m.city,
              "years": m.rng.randint(3, 15), "styles_text": " and ".join(
                  r["name"] for r in style_rows[:2])}
    m.path = f"/@{member['username']}"
    m.studio = m.rng.choice(m.local["studios"])
    if m.kind == "teacher" and index % 8 == 0:
        m.second = ("classes", "Classes")
    elif m.kind in ("performer", "social") and index % 3 == 0:
        m.second = ("about", "About me")
    return m


def _hero(m: _Member) -> dict:
    name, style, city = m.member["display_name"], m.style, m.city
    hero = {"title": {"teacher": f"Dance {style} with {m.first}",
                      "performer": f"{name}, on stage",
                      "social": f"{m.first} dances {style}",
                      "competitor": f"{name}, competing in {style}"}[m.kind],
            "subtitle": {"teacher": f"{m.fill['styles_text']} classes in {city}, for every level",
                         "performer": f"Performer and choreographer in {city}",
                         "social": f"Socials, festivals and practice in {city}",
                         "competitor": f"Training and results, {city}"}[m.kind],
            "image": m.image(0)}
    if m.kind == "teacher":
        hero.update(cta_label="See my classes",
                    cta_url=f"{m.path}/classes" if m.second else "https://example.com/book")
    elif m.kind == "performer":
        hero.update(cta_label="Book a show",
                    cta_url=f"https://example.com/{m.member['username']}/booking")
    return hero


def _common_blocks(m: _Member) -> dict[str, dict]:
    """The blocks every kind of site picks from (drawn in a fixed order: same seed, same site)."""
    rng, username, style, city = m.rng, m.member["username"], m.style, m.city
    texts = {"teacher": TEACHER_TEXT, "performer": PERFORMER_TEXT, "social": SOCIAL_TEXT,
             "competitor": COMPETITOR_TEXT}[m.kind]
    about = {"title": f"About {m.first}", "body": rng.choice(texts).format(**m.fill)}
    quote_text, quote_author = rng.choice(QUOTES[m.kind])
    links = {"title": "Find me elsewhere", "show_social": m.index % 5 == 0, "items": [
        {"label": f"My {style} playlist", "url": f"https://example.com/{username}/playlist"},
        {"label": "Photos from the last festival",
         "url": f"https://example.com/{username}/photos"},
        {"label": f"{city} dance calendar",
         "url": f"https://example.com/calendar/{fold(city).replace(' ', '-')}"},
    ][: rng.randint(2, 3)]}
    video = {"title": rng.choice(["Latest practice", "Showcase", "A little demo", "On the floor"]),
             "url": f"https://www.youtube.com/watch?v={VIDEO_IDS[m.index % len(VIDEO_IDS)]}",
             "caption": f"{style}, filmed in {city}."}
    return {
        "hero": _hero(m), "about": about, "links": links, "video": video,
        "quote": {"text": quote_text.format(**m.fill), "author": quote_author},
        "contact": {"title": "Get in touch", "intro": {
            "teacher": "Questions about classes or private lessons? Write to me.",
            "performer": "For bookings and collaborations, send me a message.",
            "competitor": "Looking for a partner or a sponsor? Let's talk."}.get(
                m.kind, "Say hello!")},
        "styles": {"title": "What I dance"},
        "vlogs": {"title": "From my vlog", "count": str(rng.choice([3, 4, 6]))},
        "map": {"title": "Where to find me",
                "note": f"Most evenings at {m.studio}, {m.local['area']}."},
    }


Pages = tuple[list[tuple[str, dict]], list[tuple[str, dict]]]  # (home, the second page)


def _teacher(m: _Member, b: dict) -> Pages:
    rng, style = m.rng, m.style
    weekdays = rng.sample(blocks.WEEKDAYS[:5], k=3)
    levels = LEVELS[:4]  # every level but professional
    workshop = m.today + dt.timedelta(days=21 + m.index % 40)
    schedule = {"title": "Weekly classes & workshops", "items": [
        {"title": f"{style} {lvl}", "style": style, "level": lvl, "weekday": day,
         "time": f"{18 + n}:{'30' if n % 2 else '00'}", "place": m.studio}
        for n, (day, lvl) in enumerate(zip(weekdays, rng.sample(levels, k=3)))
    ] + [{"title": f"Weekend workshop: {style} musicality", "style": style,
          "level": "all levels", "date": workshop.isoformat(), "time": "14:00",
          "place": rng.choice(m.local["studios"])}]}
    pricing = {"title": "Prices", "items": [
        {"name": "Drop-in class", "price": m.money(15), "description": "Pay at the door."},
        {"name": "10-class card", "price": m.money(120), "description": "Valid for 4 months."},
        {"name": "Private lesson", "price": m.money(60),
         "description": "60 minutes, solo or couple."},
    ]}
    cta = {"label": "Book a trial class", "url": f"{m.path}/classes" if m.second
           else "https://example.com/book", "note": "The first class is free."}
    home = [("hero", b["hero"]), ("text", b["about"]), ("styles", b["styles"])]
    if m.second:
        return home + [("quote", b["quote"]), ("cta", cta), ("contact", b["contact"])], [
            ("text", {"title": "How my classes work",
                      "body": "Classes run in blocks of four weeks; drop in any "
                              "week. **No partner needed.**"}),
            ("schedule", schedule), ("pricing", pricing), ("map", b["map"])]
    return home + [("schedule", schedule), ("pricing", pricing), ("quote", b["quote"]),
                   ("video", b["video"]), ("map", b["map"]), ("cta", cta),
                   ("contact", b["contact"])], []


def _performer(m: _Member, b: dict) -> Pages:
    gallery = {"title": "On stage", "items": [
        {"image": m.image(n), "caption": c} for n, c in
        enumerate(["Festival night", "Rehearsal", "Curtain call"], start=1)]}
    home = [("hero", b["hero"]), ("text", b["about"]), ("video", b["video"]),
            ("gallery", gallery), ("vlogs", b["vlogs"]), ("quote", b["quote"]),
            ("links", b["links"]), ("contact", b["contact"])]
    if not m.second:
        home.insert(3, ("styles", b["styles"]))
        return home, []
    story = m.rng.choice(PERFORMER_TEXT).format(**m.fill)
    return home, [("text", {"title": "My story", "body": story}),
                  ("image", {"image": m.image(4), "caption": f"Rehearsing in {m.city}"}),
                  ("styles", b["styles"])]


def _social(m: _Member, b: dict) -> Pages:
    cta = {"label": "Dance with me at the next social",
           "url": f"https://example.com/socials/{fold(m.city).replace(' ', '-')}",
           "note": "Every Friday, all levels welcome."}
    home = [("hero", b["hero"]), ("text", b["about"]), ("styles", b["styles"]),
            ("image", {"image": m.image(2), "caption": f"Friday social in {m.city}"}),
            ("vlogs", b["vlogs"]), ("links", b["links"]), ("map", b["map"]), ("cta", cta)]
    if not m.second:
        return home, []
    return home, [("text", {"title": "How I started",
                            "body": f"A friend dragged me to a {m.style} class in {m.city}. "
                                    "One year later I was dancing at my first festival."}),
                  ("quote", b["quote"])]


def _competitor(m: _Member, b: dict) -> Pages:
    rng, style = m.rng, m.style
    comp = m.today + dt.timedelta(days=30 + m.index % 50)
    schedule = {"title": "Season", "items": [
        {"title": "Training with my coach", "style": style, "level": "advanced",
         "weekday": rng.choice(["tuesday", "thursday"]), "time": "19:00", "place": m.studio},
        {"title": f"{m.city} Open: {style}", "style": style, "level": "advanced",
         "date": comp.isoformat(), "time": "10:00", "place": rng.choice(m.local["studios"])},
        {"title": "National championship", "style": style, "level": "professional",
         "date": (comp + dt.timedelta(days=35)).isoformat()},
    ]}
    return [("hero", b["hero"]), ("text", b["about"]), ("styles", b["styles"]),
            ("schedule", schedule), ("video", b["video"]), ("quote", b["quote"]),
            ("links", b["links"]), ("contact", b["contact"])], []


PAGES = {"teacher": _teacher, "performer": _performer, "social": _social,
         "competitor": _competitor}


def plan_site(member: dict, index: int, images: list[dict], today: dt.date) -> dict:
    """What a demo member's site holds: settings, pages and validated blocks per page."""
    m = _member(member, index, images, today)
    common = _common_blocks(m)
    home, other = PAGES[m.kind](m, common)
    if not images:  # no storage: leave out what needs stored media
        home = [(k, d) for k, d in home if k not in ("image", "gallery")]
        other = [(k, d) for k, d in other if k not in ("image", "gallery")]
    pages = {"home": [(k, valid_block(k, d)) for k, d in home]}
    if m.second:
        pages[m.second[0]] = [(k, valid_block(k, d)) for k, d in other]
    themes, fonts = list(sites.THEMES), list(sites.FONTS)
    return {
        "theme": themes[index % len(themes)],
        "font": fonts[(index // len(themes)) % len(fonts)],
        "seo": {"title": f"{member['display_name']}: {m.style} in {m.city}"[:70],
                "description": common["hero"]["subtitle"]},
        "second": m.second,
        "pages": pages,
    }
