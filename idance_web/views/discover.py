"""Discovery and matching: ``/discover``, ``/u/<username>``, ``/matches`` and their actions.

Members only. Every action is a POST form that works without JavaScript (a small script
does likes and passes in place); every read and write runs as the member, so the database
hides blocked pairs and minors and refuses what her tier does not include.
"""

from __future__ import annotations

from flask import (Blueprint, abort, current_app, flash, jsonify, redirect, render_template,
                   request, url_for)
from flask_login import current_user, login_required

from ..errors import Invalid, NotFound
from ..extensions import get_db, limiter
from ..forms import DiscoverForm, EmptyForm, ReportForm, attach_errors
from ..security import safe_next
from ..services import discovery, groups, options, places, profiles, social, vlog_lists

bp = Blueprint("discover", __name__)


@bp.before_request
@login_required
def _members_only():
    """Every page here is for signed-in members (visitors go to sign in)."""


def _filter_form(me: discovery.Me) -> DiscoverForm:
    form = DiscoverForm(request.args)
    known = options.lookup_options(get_db())
    form.style.choices = [("", "Any style")] + [(s["id"], s["name"]) for s in known["styles"]]
    form.level.choices = [("", "Any level")] + [(v, v.title()) for v in options.LEVELS]
    form.role.choices = [("", "Any role"), ("lead", "Leads"), ("follow", "Follows"),
                         ("both", "Leads and follows")]
    form.looking_for.choices = [("", "Anything")] + list(profiles.LOOKING_FOR.items())
    if "radius_km" not in request.args:
        form.radius_km.data = min(50, discovery.radius_limit(me.tier))
    return form


def _filters(form: DiscoverForm) -> discovery.Filters:
    return discovery.Filters(
        radius_km=form.radius_km.data if form.radius_km.data is not None else 50,
        style=form.style.data or "", level=form.level.data or "", role=form.role.data or "",
        looking_for=form.looking_for.data or "", age_min=form.age_min.data,
        age_max=form.age_max.data, height_min=form.height_min.data,
        height_max=form.height_max.data, travel_city=form.travel_city.data or "",
        after=form.after.data or "")


@bp.get("/discover")
def index():
    """Dancers near her (or near her travel city), nearest first, with filters."""
    db = get_db()
    me = discovery.me(db, current_user.key)
    form = _filter_form(me)
    context = {"form": form, "me": me, "results": None, "action": EmptyForm(),
               "daily_likes": current_app.config["IDANCE"].daily_likes,
               "tab": "nearby"}
    if not me.adult:
        return render_template("discover/index.html", **context)
    if not me.location:
        return render_template("discover/index.html", **context)
    if form.travel_query.data and not form.travel_city.data:
        found = places.search_cities(db, form.travel_query.data, limit=1)
        form.travel_city.data = found[0]["id"] if found else ""
    status = 200
    if form.validate():
        try:
            context["results"] = discovery.nearby(db, current_user.key, _filters(form))
            context["next_steps"] = _next_steps(me, form)
        except Invalid as exc:
            attach_errors(form, exc.fields)
            status = 400
    else:
        status = 400
    return render_template("discover/index.html", **context), status


def _next_steps(me: discovery.Me, form: DiscoverForm) -> list[tuple[str, str]]:
    """What a search that found nobody can try next (label, address): a wider radius within
    her tier, no filters, travel mode (VIP; the plan for others), her styles, groups."""
    args = {k: v for k, v in request.args.items() if v and k != "after"}
    radius = form.radius_km.data or 50
    wider = min(discovery.radius_limit(me.tier), radius * 2)
    steps = []
    if wider > radius:
        steps.append((f"Widen to {wider} km", url_for("discover.index",
                                                      **{**args, "radius_km": wider})))
    kept = {k: v for k, v in args.items() if k in ("radius_km", "travel_query", "travel_city")}
    if len(kept) < len(args):
        steps.append(("Clear the filters", url_for("discover.index", **kept)))
    if me.tier == "vip":
        steps.append(("Travel to another city", "#travel_query"))
    else:
        steps.append(("Travel mode (VIP)", url_for("account.settings", _anchor="plan-h")))
    steps.append(("Edit your styles", url_for("profile.edit")))
    steps.append(("Groups near you", url_for("discover.groups_tab")))
    return steps


@bp.get("/discover/similar")
def similar():
    """Dancers whose profiles read most like hers (styles, levels, roles, bio, interests)."""
    me = discovery.me(get_db(), current_user.key)
    cards = discovery.similar(get_db(), current_user.key) if me.adult else []
    return render_template("discover/similar.html", tab="similar", me=me, cards=cards)


@bp.get("/discover/groups")
def groups_tab():
    """Teachers, studios and crews: the group directory's style and distance filters."""
    db = get_db()
    style = request.args.get("style", "")[:60]
    # Near her own city until she names another.
    city = request.args.get("city", discovery.me(db, current_user.key).city_label.split(",")[0])[:60]
    found = groups.browse(db, current_user.key, style, city)
    return render_template("discover/groups.html", found=found, style=style, city=city,
                           options=options.lookup_options(db), kinds=groups.KINDS,
                           form=EmptyForm(), tab="groups")


@bp.get("/discover/passed")
def passed():
    """The dancers she passed on; pro and VIP members may take a pass back."""
    return _people("passed", social.passed, "Dancers you passed on")


@bp.get("/discover/liked-you")
def liked_you():
    """Who liked her and waits for her answer (pro and VIP; super-likes for everyone)."""
    return _people("liked", social.liked_me, "Who liked you")


def _people(tab: str, read, title: str):
    db = get_db()
    return render_template("discover/people.html", tab=tab, me=discovery.me(db, current_user.key),
                           people=read(db, current_user.key), form=EmptyForm(), title=title)


@bp.post("/u/<username>/swipe")
@limiter.limit("120/minute", key_func=lambda: f"swipe:{current_user.key}")
def swipe(username: str):
    """Like, pass or super-like; answers JSON to the page's script, a redirect otherwise."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    direction = request.form.get("direction", "")
    wants_json = request.accept_mimetypes.best == "application/json"
    try:
        result = discovery.swipe(get_db(), current_user.key, username, direction,
                                 current_app.config["IDANCE"].daily_likes)
    except discovery.LimitReached as exc:
        if wants_json:
            return jsonify(error=str(exc), resets_at=exc.resets_at.isoformat()), 429
        flash(str(exc), "error")
        return redirect(_back(), code=303)
    except Invalid as exc:
        message = " ".join(exc.fields.values())
        if wants_json:
            return jsonify(error=message), 400
        flash(message, "error")
        return redirect(_back(), code=303)
    text = ("It's a match! Say hello." if result.matched
            else {"pass": "Passed.", "like": "Liked.", "super_like": "Super-liked!"}[direction])
    if wants_json:
        return jsonify(matched=result.matched, message=text, likes_left=result.likes_left)
    flash(text, "success")
    return redirect(url_for("discover.matches") if result.matched else _back(), code=303)


def _back() -> str:
    return safe_next(request.form.get("next"), url_for("discover.index"))


@bp.post("/u/<username>/undo-pass")
def undo_pass(username: str):
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        social.undo_pass(get_db(), current_user.key, username)
    except NotFound:
        flash("Taking back a pass is for pro and VIP members.", "error")
        return redirect(url_for("discover.passed"), code=303)
    flash("Pass taken back: they can show up in discovery again.", "success")
    return redirect(url_for("discover.passed"), code=303)


@bp.get("/u/<username>")
def member(username: str):
    """Another dancer as members see her: public fields, styles, distance, and actions."""
    db = get_db()
    p = profiles.public_profile(db, username, current_user.key)
    target = discovery.member_record(db, current_user.key, username)
    lists = social.follow_lists(db, current_user.key, target)
    followed = any(f["key"] == current_user.key for f in lists["followers"])
    report = ReportForm.offered()
    me = discovery.me(db, current_user.key)
    alike = discovery.similar(db, current_user.key, username, limit=6) if me.adult else []
    return render_template("discover/member.html", p=p, lists=lists, followed=followed,
                           similar=alike,
                           owner_vlogs=vlog_lists.by_owner(db, current_user.key, target),
                           own=p["username"] == current_user.username, form=EmptyForm(),
                           report=report, can_swipe=me.adult and p.get("adult"), me=me)


@bp.post("/u/<username>/follow")
def follow(username: str):
    return _member_action(username, lambda db, me: social.set_following(
        db, me, username, request.form.get("follow") != "0"), "Saved.")


@bp.post("/u/<username>/block")
def block(username: str):
    return _member_action(username, lambda db, me: social.block(db, me, username),
                          "Blocked. You will not see each other any more.",
                          after=url_for("discover.index"))


@bp.post("/u/<username>/report")
@limiter.limit("10/hour", key_func=lambda: f"report:{current_user.key}")
def report(username: str):
    form = ReportForm.offered()
    problem = form.problem()
    if problem is not None:
        flash(problem, "error")
        return redirect(url_for("discover.member", username=username), code=303)
    return _member_action(username, lambda db, me: social.report(
        db, me, username, form.reason.data, form.note.data),
        "Thank you: we received your report and will look at it.")


def _member_action(username: str, act, done: str, after: str | None = None):
    if request.endpoint != "discover.report" and not EmptyForm().validate_on_submit():
        abort(400)
    try:
        act(get_db(), current_user.key)
    except Invalid as exc:
        flash(" ".join(exc.fields.values()), "error")
    else:
        flash(done, "success")
    return redirect(safe_next(request.form.get("next"), after or url_for(
        "discover.member", username=username)), code=303)


@bp.get("/matches")
def matches():
    """Her matches, newest first, each with a link to its chat."""
    return render_template("discover/matches.html",
                           matches=social.matches(get_db(), current_user.key), form=EmptyForm())


@bp.post("/matches/<pair>/unmatch")
def unmatch(pair: str):
    if not EmptyForm().validate_on_submit():
        abort(400)
    social.unmatch(get_db(), current_user.key, pair)
    flash("Unmatched. The conversation has ended for both of you.", "success")
    return redirect(url_for("discover.matches"), code=303)


@bp.get("/me/blocked")
def blocked():
    return render_template("discover/blocked.html",
                           people=social.blocked_members(get_db(), current_user.key),
                           form=EmptyForm())


@bp.post("/me/blocked/<key>/unblock")
def unblock(key: str):
    if not EmptyForm().validate_on_submit() or not key.isalnum() or len(key) > 40:
        abort(400)
    social.unblock(get_db(), current_user.key, key)
    flash("Unblocked.", "success")
    return redirect(url_for("discover.blocked"), code=303)
