"""The profile editor (``/me/profile``) and the city type-ahead."""

from __future__ import annotations

from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from markupsafe import Markup

from ..errors import Invalid, NotFound, Refused
from ..extensions import get_db, member_cache
from ..forms import ProfileForm, ProfileImageForm, attach_errors
from ..services import places, profiles
from ..services.options import lookup_options
from ..uploads import has_file, store_image

bp = Blueprint("profile", __name__)
SLOTS = ("avatar", "cover")


def form_data(profile: dict) -> dict:
    """Her stored profile as the editor's fields hold it."""
    birth = profile.get("birth_date")
    return {
        **{k: profile.get(k) for k in ("display_name", "pronouns", "bio", "looking_for",
                                       "interests", "height_cm", "discoverable",
                                       "show_distance", "show_age")},
        "styles": profile.get("styles") or [], "links": profile.get("social_links") or [],
        "city_query": profile.get("city_label") or "", "city_id": profile.get("city") or "",
        "birth_date": birth.strftime("%Y-%m-%d") if birth else "",
        "m": profile.get("measurements") or {},
    }


def profile_input(form: ProfileForm) -> profiles.ProfileInput:
    """What she submitted, as the service takes it."""
    return profiles.ProfileInput(
        display_name=form.display_name.data or "", pronouns=form.pronouns.data or "",
        bio=form.bio.data or "", looking_for=form.looking_for.data or [],
        styles=[row.data for row in form.styles], interests=form.interests.data or [],
        city_id=form.city_id.data or "", city_query=form.city_query.data or "",
        height_cm=form.height_cm.data or "", birth_date=form.birth_date.data or "",
        measurements={k: v or "" for k, v in form.m.data.items()},
        social_links=[row.data for row in form.links],
        discoverable=form.discoverable.data, show_distance=form.show_distance.data,
        show_age=form.show_age.data)


def _render_editor(profile: dict, form: ProfileForm | None = None,
                   images: dict | None = None, city_choices=None) -> str:
    """The editor's forms: ``form`` and ``images`` are the forms as submitted, if one was."""
    if form is None:
        form = ProfileForm(formdata=None, data=form_data(profile))
    form.offer(lookup_options(get_db()))
    images = {slot: (images or {}).get(slot) or ProfileImageForm(
        slot, formdata=None, data={"alt": (profile.get(slot) or {}).get("alt", "")})
        for slot in SLOTS}
    return render_template("profile/_edit.html", p=profile, form=form, images=images,
                           city_choices=city_choices or [])


def _editor(profile: dict, form: ProfileForm | None = None, images: dict | None = None,
            city_choices=None, status: int = 200):
    """The editor page showing what she submitted (and why it was refused)."""
    main = Markup(_render_editor(profile, form, images, city_choices))
    return render_template("profile/edit.html", main=main), status


@bp.get("/me/profile")
@login_required
def edit():
    """The whole profile in one form that works without JavaScript."""
    key = current_user.key
    main = member_cache().fragment("profile-editor", key, lambda: _render_editor(
        profiles.own_profile(get_db(), key)))
    return render_template("profile/edit.html", main=main)


@bp.post("/me/profile")
@login_required
def update():
    form = ProfileForm()
    try:
        if not form.validate():
            raise Invalid({})
        profiles.update_profile(get_db(), current_user.key, profile_input(form))
    except Invalid as exc:
        # The form shows what she typed, not what is stored.
        attach_errors(form, exc.fields, form.error_aliases)
        return _editor(profiles.own_profile(get_db(), current_user.key), form,
                       city_choices=exc.choices.get("city"), status=400)
    flash("Profile saved.", "success")
    return redirect(url_for("account.show"))


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
    form = ProfileImageForm(slot)
    if form.remove.data:
        profiles.set_image(get_db(), current_user.key, slot, None)
        flash("Image removed.", "success")
        return redirect(url_for("profile.edit"))
    try:
        save_image(slot, form)
    except Refused as exc:  # a refused upload
        form.file.errors = [exc.reason]
        return _editor(profiles.own_profile(get_db(), current_user.key), images={slot: form},
                       status=exc.status)
    flash("Image saved.", "success")
    return redirect(url_for("profile.edit"))


def save_image(slot: str, form: ProfileImageForm) -> None:
    """Check, store and set the image ``form`` carries as her ``slot`` picture.

    Raises ``Refused`` with the reason to show next to the file (nothing stored then): no file,
    a file that is not an image we accept, too large, too many pixels, her quota spent.
    """
    if not has_file(form.file.data):
        raise Refused("Choose an image to upload.", 400)
    image = store_image(form.file.data, form.alt.data or "")
    profiles.set_image(get_db(), current_user.key, slot, image)
