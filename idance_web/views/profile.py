"""The profile editor (``/me/profile``) and the city type-ahead."""

from __future__ import annotations

from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from ..errors import Invalid, NotFound, Refused
from ..extensions import get_db
from ..forms import EmptyForm
from ..services import places, profiles
from ..services.options import LEVELS, ROLES, lookup_options
from ..uploads import has_file, store_image

bp = Blueprint("profile", __name__)

STYLE_ROWS_EXTRA = 2
LINK_ROWS_EXTRA = 2


def _rows(prefix: str, names: tuple[str, ...]) -> list[dict]:
    """Repeated field groups (``styles-0-style``, ``styles-0-level``…) in index order."""
    rows: dict[int, dict] = {}
    for key, value in request.form.items():
        parts = key.split("-")
        if len(parts) == 3 and parts[0] == prefix and parts[1].isdigit() and parts[2] in names:
            index = int(parts[1])
            if index < 50:
                rows.setdefault(index, {})[parts[2]] = value.strip()
    return [rows[i] for i in sorted(rows)]


def parse_profile_form() -> profiles.ProfileInput:
    form = request.form
    return profiles.ProfileInput(
        display_name=form.get("display_name", ""),
        pronouns=form.get("pronouns", ""),
        bio=form.get("bio", ""),
        looking_for=form.getlist("looking_for"),
        styles=_rows("styles", ("style", "level", "role")),
        interests=form.getlist("interests"),
        city_id=form.get("city_id", "").strip(),
        city_query=form.get("city_query", ""),
        height_cm=form.get("height_cm", ""),
        birth_date=form.get("birth_date", ""),
        measurements={k: form.get(f"m_{k}", "") for k in profiles.MEASUREMENTS},
        social_links=_rows("links", ("platform", "handle")),
        discoverable="discoverable" in form,
        show_distance="show_distance" in form,
        show_age="show_age" in form,
    )


def _editor(values: dict, errors: dict | None = None, choices=None, status: int = 200):
    return render_template(
        "profile/edit.html", p=values, errors=errors or {}, city_choices=choices or [],
        options=lookup_options(get_db()), levels=LEVELS, roles=ROLES,
        looking=profiles.LOOKING_FOR, measurement_fields=profiles.MEASUREMENTS,
        style_rows=len(values.get("styles") or []) + STYLE_ROWS_EXTRA,
        link_rows=len(values.get("social_links") or []) + LINK_ROWS_EXTRA,
        form=EmptyForm(),
    ), status


@bp.get("/me/profile")
@login_required
def edit():
    """The whole profile in one form that works without JavaScript."""
    return _editor(profiles.own_profile(get_db(), current_user.key))


@bp.post("/me/profile")
@login_required
def update():
    data = parse_profile_form()
    try:
        profiles.update_profile(get_db(), current_user.key, data)
    except Invalid as exc:
        # Show what she typed, not what is stored.
        values = profiles.own_profile(get_db(), current_user.key)
        values.update(_echo(data))
        return _editor(values, exc.fields, exc.choices.get("city"), status=400)
    flash("Profile saved.", "success")
    return redirect(url_for("account.show"))


def _echo(data: profiles.ProfileInput) -> dict:
    birth = data.birth_date
    return {
        "display_name": data.display_name, "pronouns": data.pronouns, "bio": data.bio,
        "looking_for": data.looking_for, "styles": data.styles, "interests": data.interests,
        "city_label": data.city_query, "city": data.city_id or None, "height_cm": data.height_cm,
        "birth_date_text": birth, "measurements": data.measurements,
        "social_links": data.social_links, "discoverable": data.discoverable,
        "show_distance": data.show_distance, "show_age": data.show_age,
    }


@bp.get("/api/cities")
def cities():
    """City type-ahead: ``?q=ber`` → ``[{id, name, state, country, label}]``."""
    query = request.args.get("q", "")[:60]
    response = jsonify(places.search_cities(get_db(), query))
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


@bp.post("/me/profile/images/<slot>")
@login_required
def image_update(slot: str):
    """Upload (or remove) her avatar or cover; refusals come back next to the field."""
    if slot not in profiles.IMAGE_UPDATES:
        raise NotFound("no such image slot")
    if request.form.get("remove"):
        profiles.set_image(get_db(), current_user.key, slot, None)
        flash("Image removed.", "success")
        return redirect(url_for("profile.edit"))
    upload = request.files.get("file")
    alt = request.form.get("alt", "")
    if not has_file(upload):
        return _image_error(slot, "Choose an image to upload.", alt, 400)
    try:
        image = store_image(upload, alt)
    except Refused as exc:  # a refused upload
        return _image_error(slot, exc.reason, alt, exc.status)
    profiles.set_image(get_db(), current_user.key, slot, image)
    flash("Image saved.", "success")
    return redirect(url_for("profile.edit"))


def _image_error(slot: str, message: str, alt: str, status: int):
    values = profiles.own_profile(get_db(), current_user.key)
    response = _editor(values, {f"{slot}_file": message}, status=status)
    return response[0], status
