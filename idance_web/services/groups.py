"""Groups (companies, studios, teams, crews, schools): create, edit, delete, browse, follow.

Everything runs as the acting member (or the visitor): the database decides who may change a
group (``fn::can_manage``; deleting it takes its owner, ``fn::owns``). Memberships and roles
are in ``group_members.py``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from surrealdb import RecordID

from ..db import Database, key_of
from ..errors import Conflict, Invalid, NotAllowed, NotFound
from .options import MAX_STYLES, lookup_options
from .places import check_city, chord_km, city_label, format_distance, search_cities

KINDS = {"studio": "Studio", "crew": "Crew", "company": "Company", "team": "Team",
         "school": "School", "other": "Other"}
JOIN_MODES = {"open": "Open: anyone can join", "request": "On request: admins approve who joins",
              "invite": "By invitation only"}
VISIBILITIES = {"public": "Public: listed in the group directory",
                "unlisted": "Unlisted: only people with the address find it"}
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,48}[a-z0-9]$")
# Addresses that would read as part of the app rather than a group.
RESERVED = frozenset({
    "new", "manage", "admin", "edit", "settings", "api", "static", "groups", "group", "g", "me",
    "login", "logout", "signup", "search", "explore", "mine", "help", "about", "site", "follow",
    "join", "leave", "www", "media"})
MANAGERS = ("owner", "admin")
LISTED = 24  # groups per directory page: the cards one page shows, whatever the community's size
AFTER = re.compile(r"^[0-9]{1,20}:[A-Za-z0-9_-]{1,64}$")  # a ``visibility_key`` cursor

GROUP_FIELDS = """slug, name, kind, description, logo, cover, join_mode, visibility, created_at,
    city, city.name AS city_name, city.state.name AS city_state,
    city.country.name AS city_country, styles, styles.*.name AS style_names"""


@dataclass
class GroupInput:
    """What the group form submits, as plain values."""

    kind: str = ""
    slug: str = ""
    name: str = ""
    description: str = ""
    city_id: str = ""
    city_query: str = ""
    styles: list[str] = field(default_factory=list)
    join_mode: str = "request"
    visibility: str = "public"


def check(db: Database, data: GroupInput, creating: bool = True) -> dict:
    """The values to store; raises ``Invalid`` (field → reason; ``choices["city"]`` when the
    city text was ambiguous)."""
    errors, values = {}, {}
    if creating:
        slug = (data.slug or "").strip().lower()
        if not SLUG.match(slug):
            errors["slug"] = ("Use 3–50 lowercase letters, digits and dashes, starting and "
                              "ending with a letter or digit.")
        elif slug in RESERVED:
            errors["slug"] = "That address is reserved. Choose another."
        values["slug"] = slug
    if data.kind not in KINDS:
        errors["kind"] = "Choose what kind of group this is."
    name = (data.name or "").strip()
    if not 1 <= len(name) <= 100:
        errors["name"] = "Give the group a name of up to 100 characters."
    description = (data.description or "").replace("\r\n", "\n")
    if len(description) > 10000:
        errors["description"] = "Keep the description under 10,000 characters."
    known = {s["id"] for s in lookup_options(db)["styles"]}
    styles = list(dict.fromkeys(s for s in data.styles if s))
    if any(s not in known for s in styles):
        errors["styles"] = "Choose styles from the list."
    elif len(styles) > MAX_STYLES:
        errors["styles"] = f"Choose at most {MAX_STYLES} styles."
    if data.join_mode not in JOIN_MODES:
        errors["join_mode"] = "Choose how people join."
    if data.visibility not in VISIBILITIES:
        errors["visibility"] = "Choose who can find the group."
    city, choices = check_city(db, data, errors)
    if errors:
        raise Invalid(errors, {"city": choices})
    values.update(kind=data.kind, name=name, description=description, city=city,
                  styles=[RecordID("dance_style", s) for s in styles],
                  join_mode=data.join_mode, visibility=data.visibility)
    return values


def create_group(db: Database, user_key: str, data: GroupInput | dict,
                 images: dict | None = None) -> str:
    """Create a group she owns (the ``group_owner`` event makes her owner row); its slug.

    ``data`` is the form's input, or what ``check(..., creating=True)`` made of it (a view
    that checks before storing uploads need not have it checked twice)."""
    values = data if isinstance(data, dict) else check(db, data, creating=True)
    images = images or {}
    try:
        with db.member(user_key) as s:
            row = s.one(
                """CREATE ONLY group SET slug = $v.slug, name = $v.name, kind = $v.kind,
                       description = $v.description, styles = $v.styles, city = $v.city,
                       location = IF $v.city != NONE THEN $v.city.vector ELSE NONE END,
                       join_mode = $v.join_mode, visibility = $v.visibility,
                       logo = $logo, cover = $cover, created_by = $me RETURN slug""",
                {"v": values, "me": RecordID("user", user_key), "logo": images.get("logo"),
                 "cover": images.get("cover")},
            )
    except Conflict as exc:
        if exc.index == "group_slug":
            raise Invalid({"slug": "That address is taken. Choose another."}) from exc
        raise
    if not row:
        raise NotAllowed("group not created")
    return row["slug"]


def update_group(db: Database, user_key: str, slug: str, data: GroupInput | dict,
                 images: dict | None = None) -> None:
    """Save the details form (the slug stays). ``data`` as for ``create_group``; ``images``
    holds only the slots that change (an image record, or None to remove it)."""
    slug = (slug or "").lower()
    values = data if isinstance(data, dict) else check(db, data, creating=False)
    images = images or {}
    with db.member(user_key) as s:
        done = s.rows(
            """UPDATE group SET name = $v.name, kind = $v.kind, description = $v.description,
                   styles = $v.styles, city = $v.city,
                   location = IF $v.city != NONE THEN $v.city.vector ELSE NONE END,
                   join_mode = $v.join_mode, visibility = $v.visibility,
                   logo = IF $set_logo THEN $logo ELSE logo END,
                   cover = IF $set_cover THEN $cover ELSE cover END
               WHERE slug = $slug RETURN id""",
            {"v": values, "slug": slug, "set_logo": "logo" in images,
             "logo": images.get("logo"), "set_cover": "cover" in images,
             "cover": images.get("cover")},
        )
    if not done:
        _refuse(db, user_key, slug)


def delete_group(db: Database, user_key: str, slug: str, confirm: str) -> None:
    """Soft-delete the group (its owner only); the ``group_deleted`` event takes its site down."""
    slug = (slug or "").lower()
    if (confirm or "").strip().lower() != slug:
        raise Invalid({"confirm": "Type the group's address exactly to confirm."})
    with db.member(user_key) as s:
        left = s.value(
            """UPDATE group SET deleted_at = time::now() WHERE slug = $slug RETURN NONE;
               RETURN count(SELECT id FROM group WHERE slug = $slug);""",
            {"slug": slug},
        )
    if left:
        raise NotAllowed("only the owner deletes a group")


def _refuse(db: Database, user_key: str, slug: str):
    """Raise NotFound when she cannot see the group, else NotAllowed."""
    with db.member(user_key) as s:
        seen = s.value("RETURN count(SELECT id FROM group WHERE slug = $slug)", {"slug": slug})
    raise NotAllowed("not a manager") if seen else NotFound("no such group")


def _shape(row: dict) -> dict:
    row["key"] = key_of(row["id"]) if row.get("id") else None
    row["city_label"] = city_label({"name": row.get("city_name"), "state": row.get("city_state"),
                                    "country": row.get("city_country")})
    row["city"] = key_of(row["city"]) if row.get("city") else None
    row["style_names"] = [n for n in row.get("style_names") or [] if n]
    row["style_ids"] = [key_of(s) for s in row.pop("styles", None) or []]
    return row


def get_group(db: Database, slug: str, viewer_key: str | None = None) -> dict:
    """A group with its roster, follower count, and the viewer's role and follow."""
    me = RecordID("user", viewer_key) if viewer_key else None
    identity = db.member(viewer_key) if viewer_key else db.visitor()
    with identity as s:
        _, group, roster, followers, role, following, published = s.query(
            f"""LET $g = (SELECT id, {GROUP_FIELDS} FROM group WHERE slug = $slug LIMIT 1)[0];
               RETURN $g;
               SELECT user.username AS username, user.display_name AS display_name, role
                   FROM group_member WHERE group = $g.id AND $g != NONE
                   AND role IN ['owner', 'admin', 'member'] LIMIT 1000;
               RETURN count(SELECT id FROM follow WHERE out = $g.id AND $g != NONE);
               RETURN (SELECT VALUE role FROM group_member WHERE group = $g.id AND user = $me
                   AND $g != NONE LIMIT 1)[0];
               RETURN count(SELECT id FROM follow WHERE in = $me AND out = $g.id AND $g != NONE) > 0;
               RETURN (SELECT VALUE published_version FROM site WHERE owner = $g.id
                   AND $g != NONE LIMIT 1)[0] != NONE;""",
            {"slug": (slug or "").lower(), "me": me},
        )
    if not group:
        raise NotFound("no such group")
    order = {"owner": 0, "admin": 1, "member": 2}
    roster = [m for m in roster or [] if m.get("username")]
    roster.sort(key=lambda m: (order[m["role"]], (m["display_name"] or "").lower()))
    return {**_shape(group), "roster": roster, "followers": followers, "my_role": role,
            "following": following, "published": published}


def managed_group(db: Database, user_key: str, slug: str) -> dict:
    """The group and her role when she owns or administers it (the app's own check; the
    database checks again on every change). NotFound / NotAllowed otherwise."""
    with db.member(user_key) as s:
        _, group, role = s.query(
            """LET $g = (SELECT id, slug, name FROM group WHERE slug = $slug LIMIT 1)[0];
               RETURN $g;
               RETURN (SELECT VALUE role FROM group_member WHERE group = $g.id AND user = $me
                   AND $g != NONE LIMIT 1)[0];""",
            {"slug": (slug or "").lower(), "me": RecordID("user", user_key)},
        )
    if not group:
        raise NotFound("no such group")
    if role not in MANAGERS:
        raise NotAllowed("not a manager of this group")
    return {**group, "key": key_of(group["id"]), "role": role}


def browse(db: Database, viewer_key: str | None = None, style: str = "",
           city_text: str = "", after: str = "") -> dict:
    """Public groups: near a city (nearest first), or newest first (of a style), ``LISTED`` at
    a time: ``after`` is the ``next`` cursor of the page before (newest-first listings only).

    Unknown styles and cities are reported, not guessed further.
    """
    style_id = style if any(s["id"] == style for s in lookup_options(db)["styles"]) else None
    found = search_cities(db, city_text, limit=1) if (city_text or "").strip() else []
    city = found[0] if found else None  # the largest city of that name
    params = {"style": RecordID("dance_style", style_id) if style_id else None,
              "me": RecordID("user", viewer_key) if viewer_key else None,
              "after": after if AFTER.match(after or "") else "", "limit": LISTED + 1}
    # A visitor follows nothing; for her the subquery would read every follower of each group.
    following = ("(count(SELECT id FROM follow WHERE in = $me AND out = $parent.id) > 0)"
                 if viewer_key else "false")
    identity = db.member(viewer_key) if viewer_key else db.visitor()
    with identity as s:
        if city:
            # The nearest groups first (HNSW), then the filters: the index answers the KNN
            # part alone, as combining it with other conditions loses its results here.
            rows = s.query(
                f"""LET $at = (SELECT VALUE vector FROM ONLY $city);
                   SELECT id, {GROUP_FIELDS}, {following} AS following,
                       vector::distance::knn() AS distance FROM group
                       WHERE location <|{LISTED},100|> $at ORDER BY distance;""",
                {**params, "city": RecordID("city", int(city["id"]))})[-1]
            rows = [r for r in rows if r["visibility"] == "public"
                    and (not style_id or RecordID("dance_style", style_id) in r["styles"])]
        else:
            # Newest first on the directory's sort key (migration 0014), one page after another
            # from a cursor: an index range, never a scan of every group.
            rows = s.rows(f"""SELECT id, {GROUP_FIELDS}, {following} AS following, visibility_key
                              FROM group WHERE visibility_key > $after
                              {"AND styles CONTAINS $style" if style_id else ""}
                              ORDER BY visibility_key LIMIT $limit""", params)
    more = not city and len(rows) > LISTED
    rows = rows[:LISTED]
    for row in rows:
        _shape(row)
        if "distance" in row:
            row["distance"] = format_distance(chord_km(row.pop("distance") or 0.0))
    return {"groups": rows, "city": city, "style": style_id,
            "next": rows[-1]["visibility_key"] if more else None,
            "unknown_style": bool(style) and not style_id,
            "unknown_city": bool((city_text or "").strip()) and not city}


def my_groups(db: Database, user_key: str) -> list[dict]:
    """Her memberships with their role, pending invitations and requests included."""
    with db.member(user_key) as s:
        rows = s.rows(
            """SELECT role, group.slug AS slug, group.name AS name, group.kind AS kind,
                   invited_by.display_name AS invited_by, updated_at FROM group_member
               WHERE user = $me ORDER BY updated_at DESC LIMIT 200""",
            {"me": RecordID("user", user_key)},
        )
    order = {"invited": 0, "owner": 1, "admin": 2, "member": 3, "requested": 4}
    rows = [r for r in rows if r.get("slug")]  # a deleted group reads as nothing
    rows.sort(key=lambda r: (order.get(r["role"], 9), (r["name"] or "").lower()))
    return rows


def set_following(db: Database, user_key: str, slug: str, follow: bool) -> None:
    """Follow or unfollow a group (idempotent)."""
    me = RecordID("user", user_key)
    with db.member(user_key) as s:
        group = s.value("RETURN (SELECT VALUE id FROM group WHERE slug = $slug LIMIT 1)[0]",
                        {"slug": (slug or "").lower()})
        if group is None:
            raise NotFound("no such group")
        if not follow:
            s.query("DELETE follow WHERE in = $me AND out = $g", {"me": me, "g": group})
            return
        try:
            s.query("RELATE $me->follow->$g RETURN NONE", {"me": me, "g": group})
        except Conflict:
            pass  # already following
