"""Groups: the directory (``/groups``), creating one, its page, joining and following, and
managing it (``/g/<slug>/manage``; the site editor under ``/g/<slug>/manage/site`` is
``site_editor.py``'s).

Views parse, call a service as the signed-in member and render. Manage pages check her role
first (403), but the database is the guard: every change runs as her. NotFound and NotAllowed
are left to the central handlers (404 / 403).
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from ..errors import Invalid, NotAllowed, NotFound, Refused
from ..extensions import get_db
from ..forms import IMAGE_SLOTS, EmptyForm, GroupForm, attach_errors, stored_image
from ..security import safe_next
from ..services import group_members, groups, social
from ..services.options import lookup_options
from ..uploads import FormImages
from .public import visitor_page

bp = Blueprint("groups", __name__)


def _viewer() -> str | None:
    return current_user.key if current_user.is_authenticated else None


def _back(slug: str) -> str:
    return safe_next(request.form.get("next"), url_for("groups.show", slug=slug))


def _manager(slug: str) -> dict:
    """Her group when she owns or administers it: NotFound / NotAllowed otherwise (the app's
    own check)."""
    return groups.managed_group(get_db(), current_user.key, slug)


# -- the directory and a group's page ---------------------------------------------------------

@bp.get("/groups")
def index():
    """Public groups, by style and near a city; and her own groups when signed in."""
    style, city = request.args.get("style", "")[:60], request.args.get("city", "")[:60]
    after = request.args.get("after", "")[:90]

    def render() -> str:
        found = groups.browse(get_db(), _viewer(), style, city, after)
        mine = groups.my_groups(get_db(), current_user.key) if _viewer() else []
        return render_template("groups/index.html", found=found, mine=mine, style=style,
                               city=city, options=lookup_options(get_db()), kinds=groups.KINDS,
                               form=EmptyForm())

    # A visitor's directory shows groups only (their counts are kept on the group rows).
    return (visitor_page(("groups", style, city, after), lambda: (render(), {"group:*"}))
            or render())


@bp.get("/groups/<slug>")
def show(slug: str):
    """A group's own page in the app (a member's never cached: it shows her role and buttons;
    visitors share one render)."""
    def render() -> str:
        group = groups.get_group(get_db(), slug, _viewer())
        followers = social.follow_lists(get_db(), _viewer(), ("group", group["key"]))
        return render_template("groups/show.html", g=group, kinds=groups.KINDS,
                               join_modes=groups.JOIN_MODES, form=EmptyForm(),
                               followers=followers["followers"])

    def for_visitors() -> tuple[str, set[str]]:
        # Its roster and followers are people whose names may change: any member's change
        # drops it (cheap beside rendering it for every visitor).
        html = render()
        return html, {"group:*", "group_member:*", "follow:*", "user:*", "site:*"}

    return visitor_page(("group", slug.lower()), for_visitors) or render()


# -- creating and editing ---------------------------------------------------------------------

def form_data(group: dict) -> dict:
    """A stored group as the details form holds it."""
    return {**{k: group.get(k) for k in ("kind", "slug", "name", "description", "logo", "cover",
                                         "join_mode", "visibility")},
            "city_query": group.get("city_label") or "", "city_id": group.get("city") or "",
            "styles": group.get("style_ids") or []}


def group_input(form: GroupForm) -> groups.GroupInput:
    """What she submitted, as the service takes it."""
    return groups.GroupInput(
        kind=form.kind.data or "", slug=form.slug.data or "", name=form.name.data or "",
        description=form.description.data or "", city_id=form.city_id.data or "",
        city_query=form.city_query.data or "", styles=(form.styles.data or [])[:50],
        join_mode=form.join_mode.data or "", visibility=form.visibility.data or "")


def _form(form: GroupForm, group: dict | None = None, choices=None, status: int = 200):
    form.offer(lookup_options(get_db()))
    return render_template("groups/form.html", form=form, group=group,
                           city_choices=choices or []), status


def _submitted(group: dict | None) -> GroupForm:
    """The submitted form; a stored logo and cover are what its image fields replace."""
    return GroupForm(data={slot: (group or {}).get(slot) for slot in IMAGE_SLOTS})


def _images(form: GroupForm, images: FormImages) -> tuple[dict, int | None]:
    """Read the logo and cover into ``images`` (not stored yet): (slot → image, or None to
    remove it, for the slots that change; the status of a refused file, which becomes an
    error on its field)."""
    chosen, status = {}, None
    for slot in IMAGE_SLOTS:
        old = stored_image(form[slot])
        try:
            value = images.read(form[slot])
        except Refused as exc:  # a refused upload
            attach_errors(form, {slot: exc.reason})
            status = exc.status
        else:
            if value is not old:
                chosen[slot] = value
    return chosen, status


def _save(form: GroupForm, group: dict | None, save):
    """Check the form, then store the uploads (none for a form that comes back), then
    ``save(values, images)``, which may still raise ``Invalid`` (a taken address)."""
    images = FormImages()
    try:
        if not form.validate():
            raise Invalid({})
        values = groups.check(get_db(), group_input(form), creating=group is None)
        chosen, refused = _images(form, images)
        if refused:
            return _form(form, group, status=refused)
        images.store()  # Invalid, keyed by slot, if the quota refuses one
        return save(values, chosen)
    except Invalid as exc:
        images.discard()
        attach_errors(form, exc.fields, form.error_aliases)
        return _form(form, group, exc.choices.get("city"), 400)
    except Exception:
        images.discard()  # refused after all (403, a failure): keep no files for it
        raise


@bp.route("/groups/new", methods=["GET", "POST"])
@login_required
def new():
    """Start a group: she becomes its owner."""
    if request.method == "GET":
        return _form(GroupForm(data={"kind": "studio", "join_mode": "request",
                                     "visibility": "public"}))

    def save(values, images):
        slug = groups.create_group(get_db(), current_user.key, values, images)
        flash("Your group is ready. Invite members and build its site.", "success")
        return redirect(url_for("groups.manage", slug=slug))

    return _save(_submitted(None), None, save)


@bp.route("/g/<slug>/manage/details", methods=["GET", "POST"])
@login_required
def details(slug: str):
    """Edit the group's details (the address stays)."""
    _manager(slug)
    group = groups.get_group(get_db(), slug, current_user.key)
    if request.method == "GET":
        return _form(GroupForm(data=form_data(group)), group)

    def save(values, images):
        groups.update_group(get_db(), current_user.key, slug, values, images)
        flash("Group details saved.", "success")
        return redirect(url_for("groups.manage", slug=slug))

    form = _submitted(group)
    form.slug.data = group["slug"]
    return _save(form, group, save)


# -- her own membership and follow -------------------------------------------------------------

MEMBER_ACTIONS = {
    "join": lambda db, me, slug: group_members.join(db, me, slug),
    "accept": lambda db, me, slug: group_members.accept(db, me, slug),
    "decline": lambda db, me, slug: group_members.leave(db, me, slug, ("invited",)),
    "withdraw": lambda db, me, slug: group_members.leave(db, me, slug, ("requested",)),
    "leave": lambda db, me, slug: group_members.leave(db, me, slug, ("owner", "admin", "member")),
    "follow": lambda db, me, slug: groups.set_following(db, me, slug, True),
    "unfollow": lambda db, me, slug: groups.set_following(db, me, slug, False),
}
DONE = {"join": None, "accept": "Welcome to the group.", "decline": "Invitation declined.",
        "withdraw": "Request withdrawn.", "leave": "You left the group.",
        "follow": "You follow this group now.", "unfollow": "You no longer follow this group."}


@bp.post("/g/<slug>/<any(join, accept, decline, withdraw, leave, follow, unfollow):action>")
@login_required
def member_action(slug: str, action: str):
    try:
        result = MEMBER_ACTIONS[action](get_db(), current_user.key, slug)
    except Refused as exc:
        flash(exc.reason, "error")
        return redirect(_back(slug))
    if action == "join":
        flash("Welcome to the group." if result == "member" else
              "Request sent: an admin will answer.", "success")
    else:
        flash(DONE[action], "success")
    return redirect(_back(slug))


# -- managing -----------------------------------------------------------------------------------

@bp.get("/g/<slug>/manage")
@login_required
def manage(slug: str):
    """Members, requests, invitations, roles, transfer, details, deletion, the site."""
    _manager(slug)
    group = groups.get_group(get_db(), slug, current_user.key)
    view = group_members.manager_view(get_db(), current_user.key, slug)
    return render_template("groups/manage.html", g=group, roles=view["roles"], log=view["log"],
                           form=EmptyForm(), errors={}, invite_name="")


def _manage_error(slug: str, message: str):
    flash(message, "error")
    return redirect(url_for("groups.manage", slug=slug))


@bp.post("/g/<slug>/manage/invite")
@login_required
def invite(slug: str):
    _manager(slug)
    username = request.form.get("username", "").strip()[:40]
    if not username:
        return _manage_error(slug, "Type the username of the member to invite.")
    try:
        role = group_members.invite(get_db(), current_user.key, slug, username)
    except Refused as exc:
        return _manage_error(slug, exc.reason)
    flash(f"{username} had asked to join: approved." if role == "member"
          else f"{username} is invited.", "success")
    return redirect(url_for("groups.manage", slug=slug))


@bp.post("/g/<slug>/manage/members/<username>/<action>")
@login_required
def member_change(slug: str, username: str, action: str):
    """Approve, refuse, cancel, promote, demote or remove one member."""
    _manager(slug)
    if action not in group_members.ACTIONS:
        raise NotFound("no such action")
    return _member_action(slug, "Done.", group_members.change, get_db(), current_user.key,
                          slug, username, action)


@bp.post("/g/<slug>/manage/transfer")
@login_required
def transfer(slug: str):
    """The owner hands the group on; she stays as an admin."""
    _manager(slug)
    username = request.form.get("username", "")[:40]
    return _member_action(slug, f"{username} owns the group now; you are an admin.",
                          group_members.transfer, get_db(), current_user.key, slug, username)


def _member_action(slug: str, done: str, action, *args):
    """Run a membership change; refusals come back on the manage page (ids that are not
    there are 404 and a refusal by the database 403)."""
    try:
        action(*args)
    except Refused as exc:
        return _manage_error(slug, exc.reason)
    flash(done, "success")
    return redirect(url_for("groups.manage", slug=slug))


@bp.post("/g/<slug>/manage/delete")
@login_required
def delete(slug: str):
    """The owner deletes the group; its site goes offline with it."""
    _manager(slug)
    try:
        groups.delete_group(get_db(), current_user.key, slug, request.form.get("confirm", ""))
    except Invalid as exc:
        return _manage_error(slug, exc.fields["confirm"])
    except NotAllowed:
        return _manage_error(slug, "Only the owner can delete the group.")
    flash("The group is deleted.", "success")
    return redirect(url_for("groups.index"))
