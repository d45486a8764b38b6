"""The site editor, for a member's site (``/me/site``) and a group's (``/g/<slug>/manage/site``).

One blueprint, registered twice (``register``): as ``site`` under her own address and as
``group_site`` under a group's. A URL value preprocessor finds whose site the address names
and keeps it in ``g.site_owner``; links within the editor (``url_for('.edit')``) carry the
group's address over. The database decides who may change the site (``fn::can_manage``).
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import (Blueprint, Flask, abort, current_app, flash, g, jsonify, redirect,
                   render_template, request, url_for)
from flask_login import current_user, login_required
from surrealdb import RecordID

from ..blocks import REGISTRY, types_for, validate
from ..errors import Conflict, Invalid, NotAllowed, NotFound, Refused
from ..extensions import get_db
from ..forms import EmptyForm, PageForm, SettingsForm, attach_errors, block_form, stored_image
from ..forms.site import stored_block_images
from ..services import groups, public_sites, sites
from ..uploads import FormImages

bp = Blueprint("site", __name__)


def register(app: Flask) -> None:
    """Serve the editor for her own site and for a group's."""
    app.register_blueprint(bp, url_prefix="/me/site")
    # `<group_slug>`, not `<slug>`: the editor's own page routes take a `slug` argument.
    app.register_blueprint(bp, name="group_site", url_prefix="/g/<group_slug>/manage/site")


@dataclass
class Owner:
    """Whose site is being edited, and where its public pages live."""

    record: RecordID
    table: str  # user | group
    name: str  # username or group slug
    title: str

    @property
    def public_path(self) -> str:
        return f"/@{self.name}" if self.table == "user" else f"/g/{self.name}"


@bp.url_value_preprocessor
def _find_owner(endpoint, values) -> None:
    """Whose site the address names, in ``g.site_owner``: hers, or a group's she manages
    (NotFound / NotAllowed otherwise). A visitor is sent to sign in first (below)."""
    slug = (values or {}).pop("group_slug", None)
    if not current_user.is_authenticated:
        return
    if slug is None:
        g.site_owner = Owner(RecordID("user", current_user.key), "user", current_user.username,
                             current_user.display_name)
    else:
        group = groups.managed_group(get_db(), current_user.key, slug)
        g.site_owner = Owner(RecordID("group", group["key"]), "group", group["slug"],
                             group["name"])


@bp.url_defaults
def _keep_owner(endpoint, values) -> None:
    """Links within a group's editor keep the group's address."""
    owner = g.get("site_owner")
    if owner is not None and owner.table == "group" and \
            current_app.url_map.is_endpoint_expecting(endpoint, "group_slug"):
        values.setdefault("group_slug", owner.name)


@bp.before_request
@login_required
def _members_only() -> None:
    """Every page here is for signed-in members."""


def _site() -> dict:
    """The site being edited; NotFound while its owner has none."""
    site = sites.get_site(get_db(), current_user.key, g.site_owner.record)
    if site is None:
        raise NotFound("no site yet")
    return site


def _draft_page(site: dict) -> str | None:
    """The ``page`` the request names, if the draft has it (blocks elsewhere are never shown)."""
    page = request.values.get("page", "home")
    return page if page in {p["slug"] for p in site["draft"].get("pages", [])} else None


def _editor(site: dict | None, status: int = 200, page_form: PageForm | None = None,
            settings_form: SettingsForm | None = None):
    """The editor page; ``page_form`` or ``settings_form`` as submitted, if one came back."""
    owner = g.site_owner
    page = request.args.get("page") or "home"
    pages = site["draft"].get("pages", []) if site else []
    if site and page not in {p["slug"] for p in pages}:
        page = "home"
    blocks = sites.editor_blocks(get_db(), current_user.key, site["id"], page) if site else []
    draft = site["draft"] if site else {}
    seo = draft.get("seo") or {}
    settings_form = settings_form or SettingsForm(formdata=None, data={
        "theme": draft.get("theme"), "font": draft.get("font"),
        "seo_title": seo.get("title") or "", "seo_description": seo.get("description") or ""})
    return render_template(
        "site/editor.html", owner=owner, site=site, page=page, pages=pages, blocks=blocks,
        block_types=types_for(owner.table), registry=REGISTRY, form=EmptyForm(),
        page_form=page_form or PageForm(formdata=None), settings_form=settings_form), status


@bp.get("")
def edit():
    return _editor(sites.get_site(get_db(), current_user.key, g.site_owner.record))


@bp.post("/create")
def create():
    try:
        sites.create_site(get_db(), current_user.key, g.site_owner.record)
    except NotFound as exc:  # a site she may not manage
        raise NotAllowed("site not created") from exc
    flash("Your site is ready to build. Add a first block.", "success")
    return redirect(url_for(".edit"))


# -- blocks ------------------------------------------------------------------------------------

def _block_page(form, kind: str, page: str, key: str | None = None, stored: int = 0,
                status: int = 200):
    """The block form page; ``stored`` is how many of its rows hold saved entries."""
    if "items" in form:
        form["items"].pad()
    return render_template("site/block_form.html", block=REGISTRY[kind], page=page, form=form,
                           key=key, stored=stored), status


def _block_input(form, kind: str, images: FormImages) -> tuple[dict, dict[str, str]]:
    """The submitted block as raw data for ``blocks.validate``, and refused uploads.

    New uploads are read into ``images``, not stored: the caller stores them once the block
    is valid. A removed row (``items-N-remove``) is left out.
    """
    refused: dict[str, str] = {}

    def value(field, spec):
        if spec.kind != "image":
            return field.data
        try:
            return images.read(field)
        except Refused as exc:  # a refused upload: the stored image stays
            refused[field.name] = exc.reason
            return stored_image(field)

    spec = REGISTRY[kind]
    raw = {f.name: value(form[f.name], f) for f in spec.fields}
    if spec.items is not None:
        raw["items"] = [{f.name: value(row[f.name], f) for f in spec.items.fields}
                        for row in form["items"] if not row.remove.data]
    return raw, refused


def _submit_block(kind: str, page: str, key: str | None, stored: dict, save):
    """Check the block form, store its uploads, then ``save(data)``; None once saved, else
    the form again (with nothing stored)."""
    form = block_form(kind)(data=stored_block_images(kind, stored))
    rows = len(stored.get("items") or [])
    images = FormImages()
    try:
        if not form.validate():
            raise Invalid({})
        raw, refused = _block_input(form, kind, images)
        try:
            data = validate(kind, raw, g.site_owner.table)
        except Invalid as exc:
            raise Invalid({**exc.fields, **refused}) from exc
        if refused:
            raise Invalid(refused)
        images.store()
    except Invalid as exc:
        attach_errors(form, exc.fields)
        return _block_page(form, kind, page, key, rows, 400)
    try:
        save(data)
    except Conflict:
        images.discard()
        attach_errors(form, {"kind": "Try again."})
        return _block_page(form, kind, page, key, rows, 409)
    except Exception:
        images.discard()
        raise
    return None


@bp.route("/blocks/new", methods=["GET", "POST"])
def block_new():
    site = _site()
    kind = request.values.get("kind", "")
    page = _draft_page(site)
    if page is None:
        flash("That page does not exist.", "error")
        return redirect(url_for(".edit"))
    if kind not in {b.name for b in types_for(g.site_owner.table)}:
        flash("Choose a block type from the list.", "error")
        return redirect(url_for(".edit", page=page))
    if request.method == "POST":
        refused = _submit_block(kind, page, None, {}, lambda data: sites.add_block(
            get_db(), current_user.key, site["id"], page, kind, data))
        if refused:
            return refused
        flash(f"{REGISTRY[kind].label} added.", "success")
        return redirect(url_for(".edit", page=page))
    return _block_page(block_form(kind)(formdata=None), kind, page)


@bp.route("/blocks/<key>", methods=["GET", "POST"])
def block_edit(key: str):
    site = _site()
    block = sites.get_block(get_db(), current_user.key, site["id"], key)
    kind, page, stored = block["kind"], block["page"], block["data"]
    if request.method == "POST":
        refused = _submit_block(kind, page, key, stored, lambda data: sites.update_block(
            get_db(), current_user.key, site["id"], key, data))
        if refused:
            return refused
        flash("Block saved. Publish to show it to visitors.", "success")
        return redirect(url_for(".edit", page=page))
    return _block_page(block_form(kind)(formdata=None, data=stored), kind, page, key,
                       len(stored.get("items") or []))


BLOCK_ACTIONS = {
    "up": lambda db, me, sid, key: sites.move_block(db, me, sid, key, -1),
    "down": lambda db, me, sid, key: sites.move_block(db, me, sid, key, 1),
    "duplicate": sites.duplicate_block,
    "hide": lambda db, me, sid, key: sites.set_hidden(db, me, sid, key, True),
    "show": lambda db, me, sid, key: sites.set_hidden(db, me, sid, key, False),
    "delete": sites.delete_block,
}


@bp.post("/blocks/<key>/<action>")
def block_action(key: str, action: str):
    site = _site()
    db, me, sid = get_db(), current_user.key, site["id"]
    block = sites.get_block(db, me, sid, key)
    if action not in BLOCK_ACTIONS:
        raise NotFound("no such action")
    BLOCK_ACTIONS[action](db, me, sid, key)
    return redirect(url_for(".edit", page=block["page"]) + f"#block-{key}")


@bp.post("/reorder")
def reorder():
    """Drag and drop: the page's block keys in their new order."""
    site = _site()
    page = _draft_page(site)
    if page is None:
        raise NotFound("no such page")
    keys = request.form.getlist("keys")[:500]
    try:
        sites.reorder(get_db(), current_user.key, site["id"], page, keys)
    except NotFound:
        abort(400, "A block in that order does not exist.")
    if request.accept_mimetypes.best == "application/json":
        return jsonify({"ok": True})
    return redirect(url_for(".edit", page=page))


# -- pages, look, publishing --------------------------------------------------------------------

@bp.post("/pages")
def page_add():
    site, form = _site(), PageForm()
    try:
        if not form.validate():
            raise Invalid({})
        sites.add_page(get_db(), current_user.key, site, form.slug.data or "",
                       form.title.data or "")
    except Invalid as exc:
        attach_errors(form, exc.fields)
        return _editor(site, 400, page_form=form)
    return redirect(url_for(".edit", page=(form.slug.data or "").strip().lower()))


@bp.post("/pages/<slug>/delete")
def page_delete(slug: str):
    site = _site()
    try:
        sites.remove_page(get_db(), current_user.key, site, slug)
    except Invalid as exc:
        flash(" ".join(exc.fields.values()), "error")
    return redirect(url_for(".edit"))


@bp.post("/settings")
def settings():
    site, form = _site(), SettingsForm()
    seo = {"title": form.seo_title.data or "", "description": form.seo_description.data or ""}
    try:
        if not form.validate():
            raise Invalid({})
        sites.update_settings(get_db(), current_user.key, site, form.theme.data or "",
                              form.font.data or "", seo)
    except Invalid as exc:
        attach_errors(form, exc.fields)
        return _editor(site, 400, settings_form=form)
    flash("Settings saved. Publish to show them to visitors.", "success")
    return redirect(url_for(".edit"))


@bp.post("/publish")
def publish():
    sites.publish_site(get_db(), current_user.key, _site()["id"])
    flash("Published: visitors now see this version.", "success")
    return redirect(url_for(".edit"))


@bp.post("/unpublish")
def unpublish():
    sites.unpublish_site(get_db(), current_user.key, _site()["id"])
    flash("Your site is offline. Publish again to bring it back.", "success")
    return redirect(url_for(".edit"))


@bp.get("/preview")
@bp.get("/preview/<page>")
def preview(page: str = "home"):
    """The draft, exactly as visitors will see it once published (never cached)."""
    owner = g.site_owner
    data = public_sites.load_page(get_db(), owner.table, owner.name, page,
                                  draft_for=current_user.key)
    if data is None:
        raise NotFound("no such page")
    response = render_template("public/site.html", site=data, registry=REGISTRY,
                               canonical=owner.public_path, preview=True)
    return response, 200, {"Cache-Control": "private, no-store"}
