"""The demo community's social life: ages, follows, likes, a few matches with their chats, and
one super-like waiting for the documented demo account (``demo_000``).

Written as the system, in one pass; the events make the matches and chats as they would for
real likes. Its marker is the documented account's first like.
"""

from __future__ import annotations

import datetime as dt
import random

from ..db import Database

ANA = "demo_000"
# Same-city pairs (members cycle through the eight demo cities): both like each other.
MATCHED = [(ANA, "demo_008"), (ANA, "demo_016"), ("demo_001", "demo_009"),
           ("demo_002", "demo_010"), ("demo_003", "demo_011")]
# A VIP member's super-like that the documented account has not answered yet.
WAITING = ("demo_024", ANA)


def load_demo_discovery(db: Database, keys: list[str]) -> str:
    """Give every demo member an adult date of birth, then follows, likes and matches."""
    with db.system() as s:
        if s.value("RETURN count(SELECT id FROM swipe WHERE in = type::thing('user', $k) "
                   "LIMIT 1)", {"k": ANA}):
            return "Demo likes and matches already loaded."
        rng = random.Random(18)
        today = dt.date.today()
        for i, key in enumerate(keys):
            born = dt.date(today.year - rng.randint(20, 45), rng.randint(1, 12), rng.randint(1, 28))
            age = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
            s.query("UPDATE profile SET birth_date = $born, show_age = $show, "
                    "public_age = IF $show THEN $age ELSE NONE END "
                    "WHERE owner = type::thing('user', $k) RETURN NONE",
                    {"k": key, "born": dt.datetime.combine(born, dt.time(), dt.UTC),
                     "show": i % 3 != 0, "age": age})
        follows = list(dict.fromkeys((a, b) for a in keys for b in rng.sample(keys, 3) if a != b))
        likes = [pair for a, b in MATCHED for pair in ((a, b), (b, a))]
        likes += [(a, b) for a, b in follows[::4] if (a, b) not in likes and (b, a) not in likes
                  and ANA not in (a, b)]
        s.query(
            """UPDATE type::thing('user', $vip) SET tier = 'vip' RETURN NONE;
               FOR $f IN $follows {
                   RELATE (type::thing('user', $f[0]))->follow->(type::thing('user', $f[1]))
                       RETURN NONE;
               };
               FOR $l IN $likes {
                   RELATE (type::thing('user', $l[0]))->swipe->(type::thing('user', $l[1]))
                       SET direction = 'like' RETURN NONE;
               };
               RELATE (type::thing('user', $vip))->swipe->(type::thing('user', $ana))
                   SET direction = 'super_like' RETURN NONE;""",
            {"follows": [list(f) for f in follows], "likes": list(dict.fromkeys(likes)),
             "vip": WAITING[0], "ana": ANA})
        matches = s.value("RETURN count(SELECT id FROM match)")
    return (f"Demo members are 20 to 45, follow each other and made {matches} matches; "
            f"one super-like waits for the first member.")
