"""Her home (``/`` signed in): what waits for her, in two round trips, read as her.

The first batch reads her profile's place, her site's state, her newest matches, the chats
with messages she has not read, her newest notifications with the unread count, and the
newest vlogs of her feed. The second, when she may discover and has a city, reads the dancers
nearest her whom she has not answered yet, with their cards: its grid-cell ranges are
built from her city's vector, which the first batch reads. Every statement runs under her
identity, so the database decides what she sees (blocked pairs, ended matches and chats,
minors and hidden profiles drop out as on the pages each section links to).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from surrealdb import RecordID

from ..db import Database, key_of
from . import notifications
from .chat import chat_key
from .discovery import CARDS, ranked_card
from .nearby import km_for_chord, nearby_query
from .vlog_lists import CARD as VLOG_CARD

MATCHES = 6  # newest matches shown
CHATS = 5  # chats with unread messages shown, latest activity first
NOTIFICATIONS = 6  # newest notification rows read (grouped, then cut to NOTICES)
NOTICES = 5
FEED = 4  # vlogs of others from her feed
FEED_READ = 8  # feed rows read to find FEED that are not hers
NEARBY = 6  # dancers near her she has not answered
NEARBY_KM = 50
NEARBY_CANDIDATES = 10  # nearest unanswered read; the cards drop minors

# Ended matches are hidden by the table's rule; the chat's last message says whether they talked.
_MATCHES = """LET $matches = SELECT created_at, chat, chat.last_message_at AS talked_at,
        array::complement(users, [$me])[0] AS other
    FROM match WHERE users CONTAINS $me ORDER BY created_at DESC LIMIT $matches_shown"""
# Her chats as the navigation's badge counts them (neither muted nor left: services/chat.py,
# unread_total), each chat's unread messages read from its history index; then those with
# any, each chat read once (every link followed from a row would read the chat again).
_CHATS = """LET $states = SELECT chat, fn::chat_unread(chat) AS unread FROM chat_state
    WHERE member = $me AND muted = false AND left_at = NONE;
LET $waiting = $states[WHERE unread > 0];
LET $unread = SELECT id, kind, group.name AS group_name, last_message_preview AS preview,
        (last_message_at ?? created_at) AS activity,
        IF kind = 'direct' THEN array::complement(members, [$me])[0] END AS other
    FROM $waiting.chat ORDER BY activity DESC LIMIT $chats_shown;
LET $people = array::union($matches.other, $unread[WHERE other != NONE].other)"""
_FEED = """LET $entries = SELECT vlog, key FROM feed_entry WHERE member = $me AND key > ''
    LIMIT $feed_read"""
HOME = ";\n".join((notifications.HIDDEN_KINDS, _MATCHES, _CHATS, _FEED, f"""RETURN {{
    place: (SELECT adult, location FROM profile WHERE owner = $me LIMIT 1)[0],
    site: (SELECT version, published_version, published_at FROM site WHERE owner = $me
        LIMIT 1)[0],
    matches: $matches,
    unread: $unread,
    waiting: $waiting,
    unread_total: math::sum($states.unread),
    people: (SELECT id, username, display_name FROM $people),
    notices: ({notifications.NEWEST}),
    notices_unread: {notifications.UNREAD_COUNT},
    feed: (SELECT {VLOG_CARD}, wall_key FROM $entries.vlog WHERE owner != $me)
}}"""))
# After the nearby rows (`$found`, the dancers she swiped left out by `$skip`), their cards;
# not read when there are none: with no owners to look up, the planner would take another
# index than the owners' (docs/architecture.md, "Her home").
_NEARBY_CARDS = f"""LET $users = $found.user;
RETURN {{found: $found, cards: IF array::len($users) > 0 THEN ({CARDS}) ELSE [] END}}"""


@dataclass
class Home:
    """What her home shows; each list may be empty (the page says what to do next)."""

    matches: list[dict] = field(default_factory=list)
    unread_chats: list[dict] = field(default_factory=list)
    chat_unread: int = 0  # the badge's count: unread messages in chats not muted or left
    notifications: list[notifications.Item] = field(default_factory=list)
    notifications_unread: int = 0
    feed: list[dict] = field(default_factory=list)
    nearby: list[dict] = field(default_factory=list)
    nearby_blocked_by: str | None = None  # "age" or "city": why there is no nearby list
    site: dict = field(default_factory=dict)


def member_home(db: Database, member_key: str) -> Home:
    """Read her home. Changes nothing."""
    me = RecordID("user", member_key)
    params = {"me": me, "matches_shown": MATCHES, "chats_shown": CHATS, "feed_read": FEED_READ,
              **notifications.list_params(member_key, NOTIFICATIONS)}
    with db.member(member_key) as s:
        found = s.value(HOME, params)
    names = {str(p["id"]): p for p in found["people"] or []}
    counts = {str(w["chat"]): w["unread"] for w in found["waiting"] or []}
    home = Home(
        # A match whose dancer she cannot read (a block since) is left out, as on /matches.
        matches=[_match(m, names[str(m["other"])]) for m in found["matches"] or []
                 if str(m["other"]) in names],
        unread_chats=[_chat(c, names, counts) for c in found["unread"] or []],
        chat_unread=int(found["unread_total"] or 0),
        notifications=notifications.group_rows(found["notices"] or [])[:NOTICES],
        notifications_unread=int(found["notices_unread"] or 0),
        feed=_feed(found["feed"] or []),
        site=_site(found["site"]),
    )
    profile = found["place"] or {}
    if not profile.get("adult"):
        home.nearby_blocked_by = "age"
    elif not profile.get("location"):
        home.nearby_blocked_by = "city"
    else:
        home.nearby = unanswered_nearby(db, member_key, profile["location"])
    return home


def unanswered_nearby(db: Database, member_key: str, origin: list[float],
                      limit: int = NEARBY) -> list[dict]:
    """The dancers nearest ``origin`` within ``NEARBY_KM`` whom she has neither liked nor
    passed, nearest first, as discovery's cards (a hidden distance shows its band): one round
    trip. Blocked pairs, minors and hidden profiles are left out by the database."""
    me = RecordID("user", member_key)
    query = nearby_query(origin, NEARBY_KM, limit=NEARBY_CANDIDATES, exclude=me,
                         skip_param="skip")
    sql = (f"LET $skip = SELECT VALUE out FROM swipe WHERE in = $me;\n"
           f"LET $found = ({query.sql});\n{_NEARBY_CARDS}")
    with db.member(member_key) as s:
        found = s.value(sql, {**query.vars, "me": me})
    km = {key_of(r["user"]): km_for_chord(r["chord"]) for r in found["found"] or []}
    cards = [card for row in found["cards"] or []
             if (card := ranked_card(row, km[row["key"]], NEARBY_KM)) is not None]
    cards.sort(key=lambda c: (c["_rank"], c["key"]))
    for card in cards:
        card.pop("_rank")
    return cards[:limit]


def _match(row: dict, person: dict) -> dict:
    return {"username": person["username"], "display_name": person["display_name"],
            "created_at": row["created_at"], "new": row.get("talked_at") is None,
            "chat": chat_key(row["chat"]) if row.get("chat") else None}


def _chat(row: dict, names: dict, counts: dict) -> dict:
    if row["kind"] == "group":
        title = row.get("group_name") or "Group chat"
    else:
        title = (names.get(str(row.get("other"))) or {}).get("display_name") or "Deleted member"
    return {"key": chat_key(row["id"]), "title": title, "kind": row["kind"],
            "unread": int(counts.get(str(row["id"])) or 0), "preview": row.get("preview"),
            "activity": row["activity"]}


def _feed(rows: list[dict]) -> list[dict]:
    rows.sort(key=lambda r: r.get("wall_key") or "")
    for row in rows:
        row["cover"] = row.get("poster") or row.get("cover")
    return rows[:FEED]


def _site(row: dict | None) -> dict:
    """``state``: ``none`` (no site yet), ``draft`` (never published or taken offline),
    ``changes`` (published, with draft changes not published) or ``published``."""
    if row is None:
        return {"state": "none"}
    if row.get("published_version") is None:
        return {"state": "draft"}
    changed = row.get("version") != row.get("published_version")
    return {"state": "changes" if changed else "published",
            "published_at": row.get("published_at")}
