"""The demo members: 64 dancers in eight cities, each with styles, a bio and what she looks
for. Every one signs in with her email and ``DEMO_PASSWORD``."""

from __future__ import annotations

import random

from surrealdb import RecordID

from ..db import Database
from ..errors import Refused
from ..services.options import LEVELS
from ..text import fold

DEMO_PASSWORD = "dance-demo-2026"
DEMO_EMAIL_DOMAIN = "demo.idance.example"
DEMO_CITIES = ["berlin", "paris", "london", "new york city", "buenos aires", "sao paulo",
               "barcelona", "tokyo"]
MEMBER_COUNT = 64


class DemoRefused(Refused):
    """The demo may not be loaded here."""

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
LOOKING = ["dance_partner", "practice_partner", "teacher", "students", "crew", "gigs", "friends"]


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in fold(text)).strip("-")


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


def load_demo_members(db: Database) -> tuple[str, list[dict]]:
    """Insert the demo members unless they are there; (a summary, the members).

    Raises ``DemoRefused`` without the lookup data (their cities)."""
    with db.system() as s:
        cities = _demo_cities(s)
        if len(cities) < 6:
            raise DemoRefused("lookup data is missing: run `idance migrate` first")
        styles = set(s.value("RETURN (SELECT VALUE record::id(id) FROM dance_style)"))
        members = demo_members(cities, styles)
        first = members[0]["key"]
        if s.value("RETURN record::exists(type::thing('user', $k))", {"k": first}):
            return "Demo members already loaded.", members
        password_hash = s.value("RETURN crypto::argon2::generate($p)", {"p": DEMO_PASSWORD})
        _insert_members(s, members, password_hash)
    return f"Loaded {len(members)} demo members in {len(cities)} cities.", members


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
