"""Generated dancer profiles for the benchmarks: styles, levels, roles, interests, bios.

Deterministic for a seed. Bios are built from a persona (teacher, social dancer, competitor,
newcomer, performer, DJ, choreographer) and the dancer's styles, so that profiles that share
styles and goals also read alike, as real ones do.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from idance_web.services.lookup_data import DANCE_STYLES, INTERESTS  # noqa: E402
from idance_web.services.profiles import LEVELS, LOOKING_FOR  # noqa: E402

STYLES = {slug: (name, family, partnered) for slug, name, family, partnered in DANCE_STYLES}
BY_FAMILY: dict[str, list[str]] = {}
for _slug, (_name, _family, _p) in STYLES.items():
    BY_FAMILY.setdefault(_family, []).append(_slug)
# Some families are far more common on a dance app than others.
FAMILY_WEIGHTS = {"latin": 30, "afro": 10, "ballroom": 12, "swing": 12, "tango": 10,
                  "street": 12, "concert": 8, "folk": 4, "social": 6, "fitness": 3}
INTEREST_NAMES = {slug: name for slug, name, _c in INTERESTS}

PERSONAS = {
    "teacher": {
        "open": ["I have taught {s0} for {y} years.", "Dance teacher: {s0} and {s1}.",
                 "I run weekly {s0} classes for all levels.", "Certified {s0} instructor."],
        "more": ["My classes are about connection, posture and musicality.",
                 "I love seeing beginners find their groove.",
                 "Private lessons and workshops on request.",
                 "I also organise a monthly practica."],
        "want": ["students", "gigs", "crew"],
        "interests": ["teaching", "workshops", "choreography", "festivals"],
    },
    "social": {
        "open": ["Social dancer, out at {s0} socials most weekends.",
                 "I dance {s0} for fun after work.", "{s0} and {s1} are my happy place.",
                 "Weekend {s0} dancer."],
        "more": ["Always up for one more song.", "Looking for people to go to socials with.",
                 "Festivals are my holidays.", "I travel to dance whenever I can."],
        "want": ["dance_partner", "practice_partner", "friends"],
        "interests": ["social_dancing", "festivals", "travel", "live_music"],
    },
    "competitor": {
        "open": ["Competitive {s0} dancer.", "I compete in {s0} and {s1}.",
                 "Training for championships in {s0}."],
        "more": ["Looking for a partner with the same drive.", "I train five days a week.",
                 "Technique first, then the show.", "We compete nationally and abroad."],
        "want": ["dance_partner", "teacher", "practice_partner"],
        "interests": ["competing", "fitness", "performing"],
    },
    "newcomer": {
        "open": ["I started {s0} {m} months ago.", "Total beginner in {s0}.",
                 "New to {s0} and loving it."],
        "more": ["Looking for someone patient to practise with.",
                 "I would like a teacher for private lessons.", "Still counting my steps!",
                 "Any tips for a newcomer are welcome."],
        "want": ["teacher", "practice_partner", "friends"],
        "interests": ["social_dancing", "workshops", "fitness"],
    },
    "performer": {
        "open": ["Performer and {s0} dancer.", "Stage dancer: {s0}, {s1}.",
                 "I perform {s0} with a company."],
        "more": ["Open to shows, music videos and festivals.", "Looking for a crew to create with.",
                 "I love mixing styles on stage.", "Available for gigs and collaborations."],
        "want": ["crew", "gigs"],
        "interests": ["performing", "choreography", "theatre", "videography"],
    },
    "dj": {
        "open": ["DJ and {s0} dancer.", "I play music for {s0} socials.",
                 "{s0} DJ at festivals around {region}."],
        "more": ["Music first: I dance what I play.", "Always digging for new tracks.",
                 "Booking for socials and marathons.", "Live bands are the best."],
        "want": ["gigs", "friends", "crew"],
        "interests": ["djing", "music_production", "live_music", "festivals"],
    },
    "choreographer": {
        "open": ["Choreographer working in {s0} and {s1}.", "I make {s0} pieces for stage.",
                 "Choreographer and {s0} teacher."],
        "more": ["Casting dancers for a new piece.", "I love improvisation as a starting point.",
                 "Contemporary ideas, traditional roots.", "Rehearsals twice a week."],
        "want": ["crew", "students", "gigs"],
        "interests": ["choreography", "theatre", "performing", "photography"],
    },
}
REGIONS = ["Europe", "the Americas", "Latin America", "the north", "the coast", "the capital"]


def _styles(rng: random.Random) -> list[dict]:
    families = list(FAMILY_WEIGHTS)
    family = rng.choices(families, weights=[FAMILY_WEIGHTS[f] for f in families])[0]
    count = rng.choices([1, 2, 3, 4], weights=[30, 40, 20, 10])[0]
    pool = BY_FAMILY[family][:]
    chosen = rng.sample(pool, k=min(count, len(pool)))
    if rng.random() < 0.3:  # a style from another family
        other = rng.choice(list(STYLES))
        if other not in chosen:
            chosen.append(other)
    out = []
    for slug in chosen:
        name, _family, partnered = STYLES[slug]
        role = rng.choice(["lead", "follow", "both"]) if partnered else "both"
        out.append({"style": slug, "name": name, "level": rng.choice(LEVELS), "role": role})
    return out


def make_profile(rng: random.Random) -> dict:
    """One dancer: bio, styles (slug, name, level, role), interests, looking-for."""
    persona = PERSONAS[rng.choice(list(PERSONAS))]
    styles = _styles(rng)
    names = [s["name"] for s in styles] + [styles[0]["name"]]
    slots = {"s0": names[0], "s1": names[1], "y": rng.randint(2, 25), "m": rng.randint(1, 11),
             "region": rng.choice(REGIONS)}
    sentences = [rng.choice(persona["open"]).format(**slots)]
    sentences += rng.sample(persona["more"], k=rng.randint(1, 3))
    interests = rng.sample(persona["interests"], k=rng.randint(1, 3))
    if rng.random() < 0.4:
        interests.append(rng.choice(list(INTEREST_NAMES)))
    looking = rng.sample(persona["want"], k=rng.randint(1, 2))
    if rng.random() < 0.2:
        looking.append(rng.choice(list(LOOKING_FOR)))
    return {
        "bio": " ".join(sentences),
        "styles": styles,
        "interests": [INTEREST_NAMES[i] for i in dict.fromkeys(interests)],
        "interest_ids": list(dict.fromkeys(interests)),
        "looking_for": list(dict.fromkeys(looking)),
    }


def make_profiles(count: int, seed: int = 12) -> list[dict]:
    """``count`` generated dancers, the same for the same seed."""
    rng = random.Random(seed)
    return [make_profile(rng) for _ in range(count)]
