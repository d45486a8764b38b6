"""``idance demo``: a believable demo community, loaded idempotently (never in production).

Every demo member signs in with her email and ``DEMO_PASSWORD``. Each part of the demo (members
now; sites, groups, vlogs and chats as those features land) checks its own marker, so a second
run changes nothing.
"""

from __future__ import annotations

import random

from ..config import Config
from ..db import Database

DEMO_PASSWORD = "dance-demo-2026"
DEMO_EMAIL_DOMAIN = "demo.idance.example"
DEMO_CITIES = ["berlin", "paris", "london", "new york city", "buenos aires", "sao paulo",
               "barcelona", "tokyo"]
MEMBER_COUNT = 64

FIRST = ("Ana Lucía Marta Sofia Chloé Amara Yuki Priya Lena Nadia Inés Camila Zoe Mei Aisha "
         "Hana Elif Léa Maya Rosa Tomás Mateo Kenji Omar Luca Jonas Rafael Diego Kwame Arjun "
         "Felix Malik Hugo Emil Santiago Theo").split()
LAST = ("García Silva Müller Dubois Okafor Tanaka Sharma Novak Rossi Costa Haddad Kim "
        "Moreau Schmidt Fernández Nakamura Mensah Ivanova Petit Lopez Yilmaz Santos").split()
BIOS = [
    "Social dancer by night, engineer by day. Always up for a practice session.",
    "Teaching beginners is my favourite thing: patience, posture and a lot of laughing.",
    "Competitive dancer looking for a partner with the same drive.",
    "Started dancing two years ago and never looked back. Festivals, socials, workshops!",
    "Choreographer and performer. I love mixing styles on stage.",
    "I run a small weekly practice group. Come and say hi.",
]
PARTNERED = ["salsa", "bachata", "kizomba", "lindy_hop", "west_coast_swing", "argentine_tango",
             "waltz", "zouk", "cha_cha", "foxtrot"]
SOLO = ["hip_hop", "house", "contemporary", "ballet", "jazz", "breaking", "waacking", "popping",
        "flamenco", "tap"]
LEVELS = ["beginner", "improver", "intermediate", "advanced", "professional"]
LOOKING = ["dance_partner", "practice_partner", "teacher", "students", "crew", "gigs", "friends"]


class DemoRefused(RuntimeError):
    """The demo may not be loaded here."""


def _slug(text: str) -> str:
    import unicodedata

    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return "".join(c if c.isalnum() else "-" for c in folded).strip("-")


def demo_members(cities: list[dict], styles: set[str], count: int = MEMBER_COUNT) -> list[dict]:
    """The demo members, deterministic for a given list of cities and styles."""
    rng = random.Random(2026)
    partnered = [s for s in PARTNERED if s in styles]
    solo = [s for s in SOLO if s in styles]
    members = []
    used = set()
    for i in range(count):
        first, last = FIRST[i % len(FIRST)], rng.choice(LAST)
        username = _slug(f"{first}-{last}")[:26]
        while username in used:
            username = f"{username[:26]}-{i}"
        used.add(username)
        city = cities[i % len(cities)]
        pool = partnered if i % 3 else solo
        chosen = rng.sample(pool, k=min(len(pool), rng.randint(1, 3)))
        members.append({
            "key": f"demo_{i:03d}",
            "username": username,
            "display_name": f"{first} {last}",
            "email": f"{username}@{DEMO_EMAIL_DOMAIN}",
            "city": city,
            "bio": rng.choice(BIOS),
            "looking_for": rng.sample(LOOKING, k=rng.randint(1, 3)),
            "styles": [
                {"style": s, "level": rng.choice(LEVELS),
                 "role": "both" if s in SOLO else rng.choice(["lead", "follow", "both"])}
                for s in chosen
            ],
        })
    return members


def load_demo(db: Database, config: Config) -> str:
    """Load the demo community; return a one-line summary. Refused in production."""
    if config.is_production:
        raise DemoRefused("the demo community is never loaded in production")
    from .demo_discovery import load_demo_discovery
    from .demo_sites import load_demo_sites
    from ..media import storage_from_config

    with db.system() as s:
        cities = _demo_cities(s)
        if len(cities) < 6:
            raise DemoRefused("lookup data is missing: run `idance migrate` first")
        styles = set(s.value("RETURN (SELECT VALUE record::id(id) FROM dance_style)"))
        members = demo_members(cities, styles)
        first = members[0]["key"]
        loaded = s.value("RETURN record::exists(type::thing('user', $k))", {"k": first})
        if not loaded:
            password_hash = s.value("RETURN crypto::argon2::generate($p)", {"p": DEMO_PASSWORD})
            _insert_members(s, members, password_hash)
    # Each part checks its own marker, so a part added later still loads on an old demo.
    parts = [
        "Demo members already loaded." if loaded else
        f"Loaded {len(members)} demo members in {len(cities)} cities.",
        load_demo_sites(db, storage_from_config(config)),
        load_demo_groups(db),
        load_demo_discovery(db, [m["key"] for m in members]),
    ]
    parts.append(f"Sign in as {members[0]['email']} with password {DEMO_PASSWORD}.")
    return " ".join(parts)


def _demo_cities(s) -> list[dict]:
    found = []
    for name in DEMO_CITIES:
        row = s.one(
            "SELECT id, name, vector, population FROM city WHERE name_key = $k ORDER BY population DESC LIMIT 1",
            {"k": name},
        )
        if row:
            found.append(row)
    return found


def _insert_members(s, members: list[dict], password_hash: str) -> None:
    from surrealdb import RecordID

    users, profiles, styles = [], [], []
    for m in members:
        uid = RecordID("user", m["key"])
        users.append({"id": uid, "email": m["email"], "username": m["username"],
                      "display_name": m["display_name"], "password": password_hash,
                      "has_password": True})
        profiles.append({"id": RecordID("profile", m["key"]), "owner": uid, "bio": m["bio"],
                         "city": m["city"]["id"], "location": m["city"]["vector"],
                         "looking_for": m["looking_for"], "discoverable": True})
        for st in m["styles"]:
            styles.append({"in": uid, "out": RecordID("dance_style", st["style"]),
                           "level": st["level"], "role": st["role"]})
    s.query(
        """
        BEGIN TRANSACTION;
        INSERT INTO user $users RETURN NONE;
        INSERT INTO profile $profiles RETURN NONE;
        INSERT RELATION INTO user_dance_style $styles RETURN NONE;
        COMMIT TRANSACTION;
        """,
        {"users": users, "profiles": profiles, "styles": styles},
    )



# (slug, name, kind, owner, styles, join mode, description): owners are demo members, and each
# group lives in its owner's city.
DEMO_GROUPS = [
    ("sol-salsa-studio", "Sol Salsa Studio", "studio", "demo_001", ["salsa", "bachata"],
     "request", "Salsa and bachata classes every weeknight, socials on **Fridays**."),
    ("north-side-crew", "North Side Crew", "crew", "demo_003", ["hip_hop", "breaking"],
     "request", "Training sessions, battles and cyphers. Bring your own cardboard."),
    ("tango-del-puerto", "Tango del Puerto", "school", "demo_004", ["argentine_tango"],
     "open", "Argentine tango from the first embrace to performance level."),
    ("contempo-company", "Contempo Dance Company", "company", "demo_006",
     ["contemporary", "ballet"], "invite", "A touring contemporary company. Auditions twice a year."),
    ("swing-lab", "Swing Lab", "studio", "demo_010", ["lindy_hop", "west_coast_swing"], "open",
     "Lindy hop and West Coast Swing: classes, practicas and a monthly live-band night."),
    ("waack-attack", "Waack Attack", "crew", "demo_015", ["waacking", "house"], "request",
     "Waacking and house crew. We train on Sundays and take requests from all levels."),
]


def load_demo_groups(db: Database) -> str:
    """Demo groups with owners, admins, members and pending requests; idempotent.

    Owned by demo members in their cities; the roster comes from demo members of the same
    city. Runs as the system, so the ``group_owner`` event makes each owner row.
    """
    from surrealdb import RecordID

    with db.system() as s:
        if s.value("RETURN record::exists(type::thing('group', 'demo_' + $k))",
                   {"k": DEMO_GROUPS[0][0].replace("-", "_")}):
            return "Demo groups already loaded."
        made = 0
        for slug, name, kind, owner, styles, join_mode, description in DEMO_GROUPS:
            known = [st for st in styles
                     if s.value("RETURN record::exists(type::thing('dance_style', $k))", {"k": st})]
            owner_id = RecordID("user", owner)
            if not s.value("RETURN record::exists($o)", {"o": owner_id}):
                continue  # demo members not loaded (or fewer of them)
            s.query(
                """LET $p = (SELECT city, location FROM profile WHERE owner = $owner LIMIT 1)[0];
                   CREATE $id SET slug = $slug, name = $name, kind = $kind, styles = $styles,
                       description = $description, join_mode = $join_mode, visibility = 'public',
                       city = $p.city, location = $p.location, created_by = $owner RETURN NONE;
                   LET $others = (SELECT VALUE owner FROM profile WHERE city = $p.city
                       AND owner != $owner AND string::starts_with(record::id(owner), 'demo_')
                       ORDER BY owner LIMIT 8);
                   FOR $i IN 0..array::len($others) {
                       CREATE group_member SET group = $id, user = $others[$i],
                           role = IF $i = 0 THEN 'admin' ELSE IF $i < 6 THEN 'member'
                               ELSE 'requested' END;
                   };""",
                {"id": RecordID("group", "demo_" + slug.replace("-", "_")), "slug": slug,
                 "name": name, "kind": kind, "styles": [RecordID("dance_style", st) for st in known],
                 "description": description, "join_mode": join_mode, "owner": owner_id},
            )
            made += 1
    published = [_publish_group_site(db, slug, name, kind, owner, description)
                 for slug, name, kind, owner, _, _, description in DEMO_GROUPS]
    return f"Loaded {made} demo groups ({sum(published)} with a published site)."


def _publish_group_site(db: Database, slug: str, name: str, kind: str, owner: str,
                        description: str) -> bool:
    """A published site for a demo group, built by its owner: banner, story, roster, contact."""
    from surrealdb import RecordID

    from . import sites
    from ..blocks import validate

    group = RecordID("group", "demo_" + slug.replace("-", "_"))
    try:
        site = sites.create_site(db, owner, group)
    except Exception:  # the group was not made (its owner is missing)
        return False
    blocks = [
        ("hero", {"title": name, "subtitle": f"A dance {kind} on iDance",
                  "cta_label": "Write to us", "cta_url": f"/g/{slug}#contact"}),
        ("text", {"title": "Who we are", "body": description}),
        ("schedule", {"title": "When we meet", "items": [
            {"title": "Open class", "weekday": "wednesday", "time": "19:30", "level": "all levels"},
            {"title": "Practice", "weekday": "sunday", "time": "16:00", "level": "all levels"}]}),
        ("members", {"title": "Our people"}),
        ("map", {"title": "Where"}),
        ("contact", {"title": "Get in touch"}),
    ]
    for kind_name, data in blocks:
        sites.add_block(db, owner, site["id"], "home", kind_name,
                        validate(kind_name, data, "group"))
    sites.publish_site(db, owner, site["id"])
    return True
