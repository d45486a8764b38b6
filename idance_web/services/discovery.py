"""Discovery: dancers near her, likes, passes, super-likes, who liked her, passed dancers.

Everything runs as the member herself, so the database decides what she may see: blocked
pairs never see each other (``fn::hidden_from_me`` in the profile rules), minors are in no
list (``adult``), and nobody learns who passed on them. Tiers change what she may do here:
free members have a daily like limit and a 100 km radius; pro adds unlimited likes, undoing a
pass and "who liked me"; VIP adds travel mode and super-likes.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import math
from dataclasses import dataclass, field

from surrealdb import RecordID

from ..db import Database, key_of
from ..errors import Conflict, Invalid, NotAllowed, NotFound
from .nearby import km_for_chord, nearby_dancers
from .similar import similar_dancers
from .options import LEVELS, ROLES, lookup_options
from .places import city_label, format_distance
from .profiles import LOOKING_FOR

RADIUS_MIN, RADIUS_MAX, FREE_RADIUS_MAX = 5, 500, 100
AGE_MIN, AGE_MAX = 18, 120
HEIGHT_MIN, HEIGHT_MAX = 50, 260
PAGE = 20
# A dancer who hides her distance is placed in one of these bands, never at a number, and a
# radius filter reaches her only when it covers her whole band: bisection learns the band.
BANDS_KM = (10, 50, 100, 500)


@dataclass
class Filters:
    """A discovery search, as the GET form gives it (checked by ``check_filters``)."""

    radius_km: int = 50
    style: str = ""
    level: str = ""
    role: str = ""
    looking_for: str = ""
    age_min: int | None = None
    age_max: int | None = None
    height_min: int | None = None
    height_max: int | None = None
    travel_city: str = ""  # VIP: a city key to discover around instead of her own
    after: str = ""  # the cursor of the page before


@dataclass
class Me:
    """What discovery needs to know about the member searching."""

    key: str
    tier: str
    adult: bool
    location: list[float] | None
    city_label: str
    likes_today: int = 0
    style_ids: set[str] = field(default_factory=set)


@dataclass
class Results:
    cards: list[dict]
    next_cursor: str | None
    origin_label: str


def band_of(km: float) -> int | None:
    """The smallest band that holds ``km``; None beyond the last band."""
    for band in BANDS_KM:
        if km <= band:
            return band
    return None


def shown_distance(km: float, show: bool) -> str:
    """What a card says: whole kilometres, or only the band for a dancer who hides it."""
    if show:
        return format_distance(km)
    band = band_of(km)
    return f"within {band} km" if band and band < BANDS_KM[-1] else "100+ km"


def radius_limit(tier: str) -> int:
    return RADIUS_MAX if tier in ("pro", "vip") else FREE_RADIUS_MAX


def check_filters(f: Filters, tier: str, style_ids: set[str]) -> None:
    """Raise ``Invalid`` naming each filter out of its range (or beyond her tier)."""
    errors: dict[str, str] = {}
    top = radius_limit(tier)
    if not RADIUS_MIN <= f.radius_km <= RADIUS_MAX:
        errors["radius_km"] = f"Choose a radius between {RADIUS_MIN} and {RADIUS_MAX} km."
    elif f.radius_km > top:
        errors["radius_km"] = (f"Free members search up to {top} km; "
                               "pro and VIP members up to 500 km.")
    if f.style and f.style not in style_ids:
        errors["style"] = "Choose a dance style from the list."
    if f.level and f.level not in LEVELS:
        errors["level"] = "Choose a level from the list."
    if f.role and f.role not in ROLES:
        errors["role"] = "Choose lead, follow or both."
    if (f.level or f.role) and not f.style:
        errors["style"] = "Choose the style the level or role is for."
    if f.looking_for and f.looking_for not in LOOKING_FOR:
        errors["looking_for"] = "Choose from the list."
    for low, high, name, lo, hi, label in (
            (f.age_min, f.age_max, "age", AGE_MIN, AGE_MAX, "Ages"),
            (f.height_min, f.height_max, "height", HEIGHT_MIN, HEIGHT_MAX, "Heights")):
        for value in (low, high):
            if value is not None and not lo <= value <= hi:
                errors[name] = f"{label} go from {lo} to {hi}."
        if low is not None and high is not None and low > high and name not in errors:
            errors[name] = "The lower bound is above the upper one."
    if f.travel_city and tier != "vip":
        errors["travel_city"] = "Travel mode is for VIP members."
    if errors:
        raise Invalid(errors)


def me(db: Database, user_key: str) -> Me:
    """Her tier, whether she is an adult, her location and how many likes she gave today."""
    since = dt.datetime.combine(dt.date.today(), dt.time(), dt.UTC)
    with db.member(user_key) as s:
        row = s.one(
            """SELECT $me.tier AS tier, adult, location, city.name AS city_name,
                   city.state.name AS city_state, city.country.name AS city_country,
                   count(SELECT id FROM swipe WHERE in = $me AND created_at >= $since
                         AND direction != 'pass') AS likes_today,
                   (SELECT VALUE record::id(out) FROM user_dance_style WHERE in = $me) AS styles
               FROM profile WHERE owner = $me LIMIT 1""",
            {"me": RecordID("user", user_key), "since": since},
        )
    if row is None:
        raise NotFound("no profile")
    return Me(key=user_key, tier=row.get("tier") or "free", adult=bool(row.get("adult")),
              location=row.get("location"),
              city_label=city_label({"name": row.get("city_name"), "state": row.get("city_state"),
                                     "country": row.get("city_country")}),
              likes_today=row.get("likes_today") or 0, style_ids=set(row.get("styles") or []))


def _cursor(distance: float, key: str) -> str:
    raw = json.dumps([round(distance, 6), key]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _after(cursor: str) -> tuple[float, str] | None:
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        distance, key = json.loads(raw)
        return float(distance), str(key)
    except (ValueError, TypeError):
        raise Invalid({"cursor": "That page link is broken; start again."}) \
            from None


CARDS = """
SELECT record::id(owner) AS key, owner.username AS username,
    owner.display_name AS display_name, avatar, looking_for, show_age, public_age,
    show_distance, height_cm, city.name AS city_name, city.state.name AS city_state,
    city.country.name AS city_country,
    (SELECT record::id(out) AS style, out.name AS name, level, role FROM user_dance_style
     WHERE in = $parent.owner ORDER BY name) AS styles
FROM profile
WHERE adult = true AND discoverable = true AND owner NOT IN $skip AND owner IN $users"""
# `owner IN $users` comes after `adult = true`: in the other order the planner reads every
# adult's row through the `profile_adult_from` index instead of the few owners (EXPLAIN).
# Each filter that applies adds its condition: an `OR` anywhere in the WHERE (such as
# `$x = NONE OR …`) makes the engine scan the table instead of using the owner index.
FILTERS = {
    "looking_for": " AND $looking_for IN looking_for",
    "height_min": " AND height_cm >= $height_min",
    "height_max": " AND height_cm <= $height_max",
    "age_min": " AND show_age = true AND public_age >= $age_min",
    "age_max": " AND show_age = true AND public_age <= $age_max",
}
# Candidates read from the grid cells per round trip; sparse filters read more.
CANDIDATES = 60


def _origin(db: Database, who: Me, f: Filters) -> tuple[list[float], str]:
    if not f.travel_city:
        return who.location, who.city_label
    if not f.travel_city.isdigit() or len(f.travel_city) > 12:
        raise Invalid({"travel_city": "Choose a city from the list."})
    with db.member(who.key) as s:
        row = s.one("SELECT vector, name, state.name AS state, country.name AS country "
                    "FROM ONLY $city", {"city": RecordID("city", int(f.travel_city))})
    if not row:
        raise Invalid({"travel_city": "Choose a city from the list."})
    return row["vector"], city_label(row)


def nearby(db: Database, user_key: str, f: Filters, limit: int = PAGE) -> Results:
    """Dancers within ``f.radius_km`` of her city (or her travel city), nearest first.

    Exact: candidates come nearest first from the grid cells covering the radius (checked by
    great-circle distance, ``services/nearby.py``), then their cards with every other filter,
    in rounds until a page is full. Excludes her, people she already liked or passed, blocked pairs (the
    database hides them), minors and non-discoverable profiles.
    """
    who = me(db, user_key)
    if not who.adult:
        raise NotAllowed("discovery is for adults with a date of birth")
    check_filters(f, who.tier, _style_ids(db))
    origin, label = _origin(db, who, f)
    if origin is None:
        return Results([], None, "")
    after = _after(f.after)
    mine = RecordID("user", user_key)
    params = {"me": mine, "looking_for": f.looking_for or None, "height_min": f.height_min,
              "height_max": f.height_max, "age_min": f.age_min, "age_max": f.age_max}
    sql = CARDS + "".join(FILTERS[name] for name in FILTERS if params[name] is not None)
    cards: list[dict] = []
    last = None  # the (chord, user) of the last candidate read
    with db.member(user_key) as s:
        params["skip"] = [mine, *s.value("SELECT VALUE out FROM swipe WHERE in = $me",
                                         {"me": mine})]
    while True:
        with db.member(user_key) as s:
            found = nearby_dancers(s, origin, f.radius_km, style=f.style or None,
                                   role=f.role or None, level=f.level or None,
                                   limit=CANDIDATES, exclude=mine, after=last)
            km = {key_of(r["user"]): km_for_chord(r["chord"]) for r in found}
            rows = s.query(sql, {**params, "users": [r["user"] for r in found]})[0] \
                if found else []
        for row in rows:
            card = ranked_card(row, km[row["key"]], f.radius_km)
            if card and (after is None or (card["_rank"], card["key"]) > after):
                cards.append(card)
        if len(found) < CANDIDATES:
            break
        last = (found[-1]["chord"], found[-1]["user"])
        # A hidden distance ranks at its band's edge (never nearer than she is), so the page
        # is final once enough cards rank before the next unread candidate.
        if sum(1 for c in cards if c["_rank"] <= km_for_chord(last[0])) > limit:
            break
    cards.sort(key=lambda c: (c["_rank"], c["key"]))
    nxt = None
    if len(cards) > limit:
        cards = cards[:limit]
        nxt = _cursor(cards[-1]["_rank"], cards[-1]["key"])
    for card in cards:
        card.pop("_rank")
    return Results(cards, nxt, label)


def similar(db: Database, user_key: str, username: str | None = None,
            limit: int = PAGE) -> list[dict]:
    """Dancers most like her (or like ``username``), most similar first: the neighbour lists
    the worker keeps from profile embeddings, read as her, so blocked pairs, minors, people
    she already answered and hidden profiles drop out."""
    who = me(db, user_key)
    if not who.adult:
        raise NotAllowed("discovery is for adults with a date of birth")
    mine = RecordID("user", user_key)
    of = member_record(db, user_key, username) if username else mine
    with db.member(user_key) as s:
        users = similar_dancers(s, of, limit=50)
        skip = [mine, of, *s.value("SELECT VALUE out FROM swipe WHERE in = $me", {"me": mine})]
        rows = s.query(CARDS, {"users": users, "skip": skip, "me": mine})[0] if users else []
    order = {key_of(u): i for i, u in enumerate(users)}
    cards = [_card(row, None, 0.0) for row in sorted(rows, key=lambda r: order[r["key"]])]
    for card in cards:
        card.pop("_rank")
    return cards[:limit]


def ranked_card(row: dict, km: float, radius_km: int) -> dict | None:
    """The card for ``row`` with its rank, or None when a hidden distance's band is wider
    than the radius (so no sequence of radii can place her more finely than her band)."""
    rank = km
    if not row.get("show_distance"):
        band = band_of(km)
        if band is None or band > radius_km:
            return None
        rank = float(band)
    return _card(row, km, rank)


def _card(row: dict, km: float | None, rank: float) -> dict:
    return {
        "key": row["key"], "username": row["username"], "display_name": row["display_name"],
        "avatar": row.get("avatar"), "looking_for": row.get("looking_for") or [],
        "styles": row.get("styles") or [],
        "age": row.get("public_age") if row.get("show_age") else None,
        "city": city_label({"name": row.get("city_name"), "state": row.get("city_state"),
                            "country": row.get("city_country")}),
        "distance": None if km is None else shown_distance(km, bool(row.get("show_distance"))),
        "_rank": rank,
    }


def _style_ids(db: Database) -> set[str]:
    return {s["id"] for s in lookup_options(db)["styles"]}


@dataclass
class SwipeResult:
    matched: bool
    likes_left: int | None  # None: unlimited


def swipe(db: Database, user_key: str, username: str, direction: str,
          daily_likes: int) -> SwipeResult:
    """Like, pass on or super-like ``username``. A mutual like makes a match and its chat
    (in the database, in the same transaction).

    Raises ``NotFound`` for an unknown, deleted or blocked dancer, ``Invalid`` for herself, a
    second swipe or a super-like without VIP, and ``LimitReached`` past the daily likes.
    """
    if direction not in ("like", "pass", "super_like"):
        raise Invalid({"direction": "Like, pass or super-like."})
    who = me(db, user_key)
    if not who.adult:
        raise NotAllowed("likes are for adults with a date of birth")
    other = member_record(db, user_key, username)
    if key_of(other) == user_key:
        raise Invalid({"direction": "You cannot like yourself."})
    if direction == "super_like" and who.tier != "vip":
        raise Invalid({"direction": "Super-likes are for VIP members."})
    limited = who.tier == "free" and direction != "pass"
    if limited and who.likes_today >= daily_likes:
        raise LimitReached(daily_likes)
    mine = RecordID("user", user_key)
    try:
        with db.member(user_key) as s:
            # The database refuses (returns nothing for) a swipe on a minor or a blocked pair.
            made, matched = s.query(
                """RELATE $me->swipe->$other SET direction = $direction RETURN VALUE id;
                   RETURN record::exists(type::thing('match', array::sort([$me, $other])));""",
                {"me": mine, "other": other, "direction": direction})
    except Conflict:
        raise Invalid({"direction": "You already answered this dancer."}) from None
    if not made:
        raise NotFound("this dancer cannot be liked")
    left = None if not limited else max(0, daily_likes - who.likes_today - 1)
    return SwipeResult(matched=bool(matched), likes_left=left)


class LimitReached(Exception):
    """Her free daily likes are used up; they come back at midnight (server time)."""

    def __init__(self, limit: int):
        self.limit = limit
        tomorrow = dt.datetime.combine(dt.date.today() + dt.timedelta(days=1), dt.time())
        self.resets_at = tomorrow
        super().__init__(f"You have used your {limit} likes for today. They come back at "
                         f"midnight; pro members like without a limit.")


def member_record(db: Database, user_key: str, username: str) -> RecordID:
    """The record of the dancer ``username`` as she may see it (blocked pairs: not found)."""
    with db.member(user_key) as s:
        found = s.value(
            """LET $u = (SELECT VALUE id FROM user WHERE username = $name LIMIT 1)[0];
               RETURN (SELECT VALUE owner FROM profile WHERE owner = $u AND $u != NONE
                       LIMIT 1)[0];""",
            {"name": (username or "").strip().lower()})
    if not found:
        raise NotFound("no such dancer")
    return found
