"""Dancer profiles: the editor's data, the public view, styles, interests, location, privacy.

What others may see is decided by the database (field permissions hide date of birth,
measurements and the exact point); this module also never selects them for anyone else.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass, field

from surrealdb import RecordID

from ..db import Database, key_of
from ..errors import Invalid, NotFound
from .options import LEVELS, MAX_STYLES, ROLES, lookup_options
from .places import check_city, city_label, distance_km, format_distance

LOOKING_FOR = {
    "dance_partner": "Dance partner", "practice_partner": "Practice partner",
    "teacher": "A teacher", "students": "Students", "crew": "Crew or company",
    "gigs": "Gigs", "friends": "Friends",
}
MEASUREMENTS = {"chest_cm": "Chest (cm)", "waist_cm": "Waist (cm)", "hips_cm": "Hips (cm)",
                "inseam_cm": "Inseam (cm)", "shoe_eu": "Shoe size (EU)"}
MAX_LINKS = 10
MAX_HANDLE = 100  # the database's limit on social_links[*].handle


@dataclass
class ProfileInput:
    """What the editor submits, as plain values (the view parses the form into this)."""

    display_name: str = ""
    pronouns: str = ""
    bio: str = ""
    looking_for: list[str] = field(default_factory=list)
    styles: list[dict] = field(default_factory=list)  # {style, level, role}
    interests: list[str] = field(default_factory=list)
    city_id: str = ""
    city_query: str = ""
    height_cm: str = ""
    birth_date: str = ""
    measurements: dict[str, str] = field(default_factory=dict)
    social_links: list[dict] = field(default_factory=list)  # {platform, handle}
    discoverable: bool = True
    show_distance: bool = True
    show_age: bool = False


def own_profile(db: Database, user_key: str) -> dict:
    """Everything of her own profile for the editor and ``/me``, private fields included."""
    me = RecordID("user", user_key)
    with db.member(user_key) as s:
        row = s.one(
            """SELECT *, owner.username AS username, owner.display_name AS display_name,
                   city.name AS city_name, city.state.name AS city_state,
                   city.country.name AS city_country,
                   (SELECT record::id(out) AS style, out.name AS name, level, role
                    FROM user_dance_style WHERE in = $me ORDER BY name) AS styles,
                   (SELECT VALUE record::id(out) FROM user_interest WHERE in = $me) AS interests
               FROM profile WHERE owner = $me LIMIT 1""",
            {"me": me},
        )
    if row is None:
        raise NotFound("no profile")
    return _shape(row)


def public_profile(db: Database, username: str, viewer_key: str | None = None) -> dict:
    """What another person sees of ``username``: public fields only, distance if allowed.

    Runs as the viewer (a member) or as the visitor; never selects private fields.
    """
    identity = db.member(viewer_key) if viewer_key else db.visitor()
    with identity as s:
        _, row, viewer = s.query(
            """LET $u = (SELECT VALUE id FROM user WHERE username = $username LIMIT 1)[0];
               SELECT owner.username AS username, owner.display_name AS display_name, pronouns,
                   bio, avatar, cover, looking_for, height_cm, show_age, public_age,
                   show_distance, location, social_links, adult,
                   city.name AS city_name, city.state.name AS city_state,
                   city.country.name AS city_country,
                   (SELECT out.name AS name, level, role FROM user_dance_style
                    WHERE in = $u ORDER BY name) AS styles,
                   (SELECT VALUE out.name FROM user_interest WHERE in = $u) AS interests
               FROM profile WHERE owner = $u AND $u != NONE LIMIT 1;
               RETURN (SELECT location FROM profile WHERE owner = $viewer LIMIT 1)[0].location;""",
            {"username": (username or "").lower(),
             "viewer": RecordID("user", viewer_key) if viewer_key else None},
        )
    if not row:
        raise NotFound("no such dancer")
    profile = _shape(row[0])
    theirs = profile.pop("location", None)
    mine = viewer
    profile["distance"] = (
        format_distance(distance_km(mine, theirs))
        if profile.pop("show_distance") and mine and theirs and viewer_key else None
    )
    profile["age"] = profile.pop("public_age") if profile.pop("show_age") else None
    return profile


def _shape(row: dict) -> dict:
    row["id"] = key_of(row["id"]) if "id" in row else None
    row.pop("owner", None)
    row.pop("embedding", None)
    for link in row.get("social_links") or []:
        link["platform"] = key_of(link["platform"])
    row["city_label"] = city_label({"name": row.get("city_name"), "state": row.get("city_state"),
                                    "country": row.get("city_country")})
    if row.get("city") is not None:
        row["city"] = key_of(row["city"])
    return row


def age_on(birth: dt.date, today: dt.date) -> int:
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


def _int_in(raw: str, low: int, high: int, name: str, label: str, errors: dict):
    """The whole number in ``raw`` if it lies in [low, high]; None (and an error) otherwise."""
    if not (raw or "").strip():
        return None
    try:
        number = float(raw)
    except ValueError:
        number = math.nan
    if not math.isfinite(number):  # "inf", "nan" and "1e309" parse as floats
        errors[name] = f"{label} must be a number."
        return None
    value = int(number)
    if not low <= value <= high:
        errors[name] = f"{label} must be between {low} and {high}."
        return None
    return value


def _check(db: Database, data: ProfileInput) -> tuple[dict, dict]:
    """Validate the editor's input; return (values for the database, field errors)."""
    options, errors, values = lookup_options(db), {}, {}
    name = (data.display_name or "").strip()
    if not 1 <= len(name) <= 80:
        errors["display_name"] = "Enter a display name of up to 80 characters."
    values["display_name"] = name
    values["pronouns"] = (data.pronouns or "").strip() or None
    if values["pronouns"] and len(values["pronouns"]) > 40:
        errors["pronouns"] = "Keep pronouns under 40 characters."
    if len(data.bio or "") > 10000:
        errors["bio"] = "Keep your bio under 10,000 characters."
    values["bio"] = (data.bio or "").replace("\r\n", "\n")
    values["looking_for"] = [v for v in dict.fromkeys(data.looking_for) if v in LOOKING_FOR]
    values["height_cm"] = _int_in(data.height_cm, 50, 260, "height_cm", "Height", errors)
    values["birth_date"] = None
    if (data.birth_date or "").strip():
        try:
            born = dt.date.fromisoformat(data.birth_date.strip())
        except ValueError:
            errors["birth_date"] = "Use the date picker or YYYY-MM-DD."
        else:
            age = age_on(born, dt.date.today())
            if not 13 <= age <= 120:
                errors["birth_date"] = "You must be at least 13 years old."
            values["birth_date"] = dt.datetime.combine(born, dt.time(), dt.UTC)
            values["public_age"] = age if data.show_age else None
    values.setdefault("public_age", None)
    measurements = {}
    for key, label in MEASUREMENTS.items():
        number = _int_in(data.measurements.get(key, ""), 10, 250, f"m_{key}", label, errors)
        if number is not None:
            measurements[key] = number
    values["measurements"] = measurements or None
    values.update(_check_styles(data, options, errors))
    values["interests"] = [RecordID("interest", i) for i in dict.fromkeys(data.interests)
                           if any(o["id"] == i for o in options["interests"])]
    values["social_links"] = _check_links(data.social_links, options["platforms"], errors)
    values.update(discoverable=bool(data.discoverable), show_distance=bool(data.show_distance),
                  show_age=bool(data.show_age))
    return values, errors


def _check_styles(data: ProfileInput, options: dict, errors: dict) -> dict:
    known = {s["id"] for s in options["styles"]}
    styles, seen = [], set()
    for i, entry in enumerate(data.styles):
        style = entry.get("style") or ""
        if not style:
            continue
        if style not in known:
            errors[f"styles-{i}"] = "Choose a style from the list."
        elif style in seen:
            errors[f"styles-{i}"] = "You listed this style twice."
        elif entry.get("level") not in LEVELS or entry.get("role") not in ROLES:
            errors[f"styles-{i}"] = "Choose a level and a role for this style."
        else:
            seen.add(style)
            styles.append({"out": RecordID("dance_style", style), "level": entry["level"],
                           "role": entry["role"]})
    if len(styles) > MAX_STYLES:
        errors["styles"] = f"List at most {MAX_STYLES} styles."
    return {"styles": styles}


def _check_links(links: list[dict], platforms: dict, errors: dict) -> list[dict]:
    out = []
    for i, link in enumerate(links):
        platform, handle = link.get("platform") or "", (link.get("handle") or "").strip()
        if not handle and not platform:
            continue
        handle = handle.lstrip("@") if platform != "website" else handle
        spec = platforms.get(platform)
        if spec is None:
            errors[f"links-{i}"] = "Choose a platform."
        elif len(handle) > MAX_HANDLE:
            errors[f"links-{i}"] = f"Keep links under {MAX_HANDLE} characters."
        elif not re.fullmatch(spec["handle_pattern"], handle):
            errors[f"links-{i}"] = f"That is not a valid {spec['name']} handle."
        else:
            out.append({"platform": RecordID("social_platform", platform), "handle": handle})
    if len(out) > MAX_LINKS:
        errors["links"] = f"Add at most {MAX_LINKS} links."
    return out


# Her city and her styles, written by the whole editor and by the set-up's steps alike.
SET_CITY = """UPDATE profile SET city = $city,
                  location = IF $city != NONE THEN $city.vector ELSE NONE END
                  WHERE owner = $me;"""
SET_STYLES = """DELETE user_dance_style WHERE in = $me;
                IF array::len($styles) > 0 {
                    INSERT RELATION INTO user_dance_style $styles RETURN NONE;
                };"""


def update_profile(db: Database, user_key: str, data: ProfileInput) -> None:
    """Save the whole profile in one transaction, styles and interests included.

    Raises ``Invalid`` (field → reason; ``choices["city"]`` lists the candidates when the
    city text was ambiguous).
    """
    values, errors = _check(db, data)
    city, choices = check_city(db, data, errors)
    if errors:
        raise Invalid(errors, {"city": choices})
    me = RecordID("user", user_key)
    styles = [{"in": me, **s} for s in values.pop("styles")]
    interests = [{"in": me, "out": i} for i in values.pop("interests")]
    display_name = values.pop("display_name")
    with db.member(user_key) as s:
        s.query(
            "BEGIN TRANSACTION;"
            "UPDATE $me SET display_name = $display_name;"
            "UPDATE profile MERGE $values WHERE owner = $me;"
            + SET_CITY + SET_STYLES +
            """DELETE user_interest WHERE in = $me;
               IF array::len($interests) > 0 { INSERT RELATION INTO user_interest $interests RETURN NONE; };
               COMMIT TRANSACTION;""",
            {"me": me, "display_name": display_name, "values": values, "city": city,
             "styles": styles, "interests": interests},
        )


def set_city(db: Database, user_key: str, city_id: str, city_query: str) -> None:
    """Set her city (and with it the coarse location others may measure distances to).

    Raises ``Invalid`` naming ``city``, with the candidates in ``choices["city"]`` when the
    text fits several cities; a city is required here (the profile editor may clear it).
    """
    data = ProfileInput(city_id=city_id or "", city_query=city_query or "")
    errors: dict[str, str] = {}
    city, choices = check_city(db, data, errors)
    if city is None and not errors:
        errors["city"] = "Type your city and pick it from the list, or skip this step."
    if errors:
        raise Invalid(errors, {"city": choices})
    with db.member(user_key) as s:
        s.query(SET_CITY, {"me": RecordID("user", user_key), "city": city})


def set_styles(db: Database, user_key: str, styles: list[dict]) -> None:
    """Replace her dance styles (``{style, level, role}`` each) in one transaction.

    Raises ``Invalid`` as the profile editor does (``styles-<row>``: the row's problem), and
    for a list with no style in it: at least one is needed here.
    """
    errors: dict[str, str] = {}
    values = _check_styles(ProfileInput(styles=styles), lookup_options(db), errors)
    if not values["styles"] and not errors:
        errors["styles"] = "Choose at least one style, or skip this step."
    if errors:
        raise Invalid(errors)
    me = RecordID("user", user_key)
    with db.member(user_key) as s:
        s.query("BEGIN TRANSACTION;" + SET_STYLES + "COMMIT TRANSACTION;",
                {"me": me, "styles": [{"in": me, **row} for row in values["styles"]]})


IMAGE_UPDATES = {
    "avatar": "UPDATE profile SET avatar = $image WHERE owner = $me RETURN NONE",
    "cover": "UPDATE profile SET cover = $image WHERE owner = $me RETURN NONE",
}


def set_image(db: Database, user_key: str, slot: str, image: dict | None) -> None:
    """Set (or clear, with None) her avatar or cover image."""
    if slot not in IMAGE_UPDATES:
        raise NotFound("no such image slot")
    with db.member(user_key) as s:
        s.query(IMAGE_UPDATES[slot], {"me": RecordID("user", user_key), "image": image})
