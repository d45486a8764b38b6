"""The set-up after sign-up (``/me/welcome``): her city, her dance styles, a picture, then a
starter site.

Each step saves where the profile and site editors keep things, may be skipped, and is where
she comes back to (``services/onboarding.py`` keeps her place). Every page here is hers only.
"""

from __future__ import annotations

from flask import (Blueprint, abort, flash, redirect, render_template, request, session,
                   url_for)
from flask_login import current_user, login_required

from ..errors import Invalid, NotFound, Refused
from ..extensions import get_db
from ..forms import (CityStepForm, ProfileImageForm, StarterForm, StylesStepForm,
                     attach_errors)
from ..services import onboarding, profiles, starter_sites
from ..services.onboarding import LABELS, STEPS
from ..services.options import lookup_options
from .profile import save_image

bp = Blueprint("onboarding", __name__, url_prefix="/me/welcome")


@bp.before_request
@login_required
def _members_only() -> None:
    """Every page here is for a signed-in member, about herself."""


def _page(step: str, status: int = 200, **context):
    """A step's page, with the list of steps and the form that skips it."""
    return render_template(f"onboarding/{step}.html", step=step, steps=STEPS, labels=LABELS,
                           **context), status


def _onward(step: str):
    """``step`` is saved or skipped: on to the next one, or to the end."""
    following = onboarding.step_done(get_db(), current_user.key, step)
    return redirect(url_for(f"onboarding.{following}" if following else "onboarding.done"))


@bp.get("")
def resume():
    """Back where she left off (the end page once she is through)."""
    step = current_user.onboarding
    return redirect(url_for(f"onboarding.{step}" if step in STEPS else "onboarding.done"))


@bp.route("/city", methods=["GET", "POST"])
def city():
    """Step 1: her city, through the profile editor's type-ahead."""
    if request.method == "POST":
        form = CityStepForm()
        try:
            if not form.validate():
                raise Invalid({})
            profiles.set_city(get_db(), current_user.key, form.city_id.data or "",
                              form.city_query.data or "")
        except Invalid as exc:
            attach_errors(form, exc.fields, form.error_aliases)
            return _page("city", 400, form=form, city_choices=exc.choices.get("city"))
        return _onward("city")
    profile = profiles.own_profile(get_db(), current_user.key)
    form = CityStepForm(formdata=None, data={"city_query": profile.get("city_label") or "",
                                             "city_id": profile.get("city") or ""})
    return _page("city", form=form, city_choices=[])


@bp.route("/styles", methods=["GET", "POST"])
def styles():
    """Step 2: her dance styles, each with level and role (the profile editor's rows)."""
    if request.method == "POST":
        form = StylesStepForm()
        try:
            if not form.validate():
                raise Invalid({})
            profiles.set_styles(get_db(), current_user.key, [row.data for row in form.styles])
        except Invalid as exc:
            attach_errors(form, exc.fields)
            form.offer(lookup_options(get_db()))
            return _page("styles", 400, form=form)
        return _onward("styles")
    profile = profiles.own_profile(get_db(), current_user.key)
    form = StylesStepForm(formdata=None, data={"styles": profile.get("styles") or []})
    form.offer(lookup_options(get_db()))
    return _page("styles", form=form)


@bp.route("/picture", methods=["GET", "POST"])
def picture():
    """Step 3: her profile picture, through the profile editor's upload and its checks."""
    if request.method == "POST":
        form = ProfileImageForm("avatar")
        try:
            save_image("avatar", form)
        except Refused as exc:  # not an image we take, too large, too many pixels, no file
            form.file.errors = [exc.reason]
            profile = profiles.own_profile(get_db(), current_user.key)
            return _page("picture", exc.status, form=form, p=profile)
        return _onward("picture")
    profile = profiles.own_profile(get_db(), current_user.key)
    form = ProfileImageForm("avatar", formdata=None,
                            data={"alt": (profile.get("avatar") or {}).get("alt", "")})
    return _page("picture", form=form, p=profile)


def _site_page(status: int = 200, form: StarterForm | None = None):
    db = get_db()
    profile = profiles.own_profile(db, current_user.key)
    existing = starter_sites.site_content(db, current_user.key)
    return _page("site", status, form=form or StarterForm(formdata=None), existing=existing,
                 layouts=starter_sites.layouts(profile, current_user.username))


@bp.route("/site", methods=["GET", "POST"])
def site():
    """Last: a starter site from her profile, published now or opened in the editor first.
    A site that has content already is left as it is."""
    if request.method == "GET":
        return _site_page()
    form = StarterForm()
    if not form.validate():
        abort(400)
    db = get_db()
    try:
        profile = profiles.own_profile(db, current_user.key)
        chosen = starter_sites.layout(profile, current_user.username, form.layout.data or "")
        starter_sites.start_site(db, current_user.key, chosen, publish=bool(form.publish.data))
    except NotFound:
        form.form_errors.append("Choose one of the layouts below.")
        return _site_page(400, form)
    except Refused as exc:  # her site has content: nothing was written
        form.form_errors.append(exc.reason)
        return _site_page(exc.status, form)
    onboarding.step_done(db, current_user.key, "site")
    if form.publish.data:
        flash(f"Your site is published at /@{current_user.username}.", "success")
        return redirect(url_for("onboarding.done"))
    flash(f"Your site has the “{chosen.title}” layout. Change anything, then publish.",
          "success")
    return redirect(url_for("site.edit"))


@bp.post("/<step>/skip")
def skip(step: str):
    """Leave ``step`` as it is and go on (skipping the last one ends the set-up)."""
    if step not in STEPS:
        raise NotFound("no such step")
    return _onward(step)


@bp.post("/finish")
def finish():
    """Stop the set-up wherever it is: the profile and site editors hold all it offers."""
    onboarding.finish(get_db(), current_user.key)
    flash("Set-up closed. Your profile and your site editor have everything it offered.",
          "success")
    return redirect(url_for("account.show"))


@bp.get("/done")
def done():
    """The end: what she set up, and where to go from here."""
    db = get_db()
    return render_template("onboarding/done.html",
                           p=profiles.own_profile(db, current_user.key),
                           site=starter_sites.site_content(db, current_user.key),
                           going_to=session.pop("welcome_next", None))
