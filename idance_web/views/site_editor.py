"""The site editor, for a member's site (``/me/site``) and a group's (``/g/<slug>/manage/site``).

One set of views serves both: ``make_editor`` binds them to a way of finding the site's owner
from the URL. The database decides who may change the site (``fn::can_manage``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from surrealdb import RecordID

from ..blocks import REGISTRY, BlockInvalid, types_for, validate
from ..db import Conflict, Invalid, NotFound
from ..extensions import get_db
from ..forms import EmptyForm
from ..media import MediaError
from ..services import public_sites, sites
from ..uploads import FormImages


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


def _parse_block(kind: str, existing: dict, images: FormImages) -> tuple[dict, dict[str, str]]:
    """The submitted block form as raw data for ``blocks.validate``, and upload errors.

    New uploads are read into ``images``, not stored: the caller stores them once the block
    is valid.
    """
    spec = REGISTRY[kind]
    raw, upload_errors = {}, {}

    def image(name: str, old: dict | None) -> dict | None:
        try:
            return images.read(name, old)
        except MediaError as exc:
            upload_errors[name] = exc.message
            return old

    for field in spec.fields:
        if field.kind == "image":
            raw[field.name] = image(field.name, existing.get(field.name))
        else:
            raw[field.name] = request.form.get(field.name, "")
    if spec.items is not None:
        old_items = existing.get("items", [])
        items = []
        for i in range(spec.items.max + 2):
            prefix = f"items-{i}-"
            if not any(k.startswith(prefix) for k in (*request.form, *request.files)):
                continue
            if request.form.get(prefix + "remove"):
                continue
            entry = {}
            for field in spec.items.fields:
                if field.kind == "image":
                    old = old_items[i].get(field.name) if i < len(old_items) else None
                    entry[field.name] = image(prefix + field.name, old)
                else:
                    entry[field.name] = request.form.get(prefix + field.name, "")
            items.append(entry)
        raw["items"] = items
    return raw, upload_errors


def make_editor(name: str, prefix: str, resolve: Callable[..., Owner]) -> Blueprint:
    """An editor blueprint under ``prefix``; ``resolve(**view_args)`` finds the owner."""
    bp = Blueprint(name, __name__, url_prefix=prefix)

    def context(**view_args):
        owner = resolve(**view_args)
        site = sites.get_site(get_db(), current_user.key, owner.record)
        return owner, site

    def here(endpoint: str, **kw) -> str:
        # The block page's own ``key`` is in view_args too: what the caller names wins.
        return url_for(f"{name}.{endpoint}", **{**(request.view_args or {}), **kw})

    def render_editor(owner, site, status=200, **extra):
        page = request.args.get("page") or extra.pop("page", "home")
        pages = site["draft"].get("pages", []) if site else []
        if site and page not in {p["slug"] for p in pages}:
            page = "home"
        blocks = sites.editor_blocks(get_db(), current_user.key, site["id"], page) if site else []
        return render_template(
            "site/editor.html", owner=owner, site=site, page=page, pages=pages, blocks=blocks,
            block_types=types_for(owner.table), registry=REGISTRY, themes=sites.THEMES,
            fonts=sites.FONTS, form=EmptyForm(), here=here, errors=extra.pop("errors", {}),
            **extra), status

    @bp.get("")
    @login_required
    def edit(**view_args):
        owner, site = context(**view_args)
        return render_editor(owner, site)

    @bp.post("/create")
    @login_required
    def create(**view_args):
        owner = resolve(**view_args)
        try:
            sites.create_site(get_db(), current_user.key, owner.record)
        except NotFound:
            abort(403)
        flash("Your site is ready to build. Add a first block.", "success")
        return redirect(here("edit"))

    def _site_or_404(**view_args):
        owner, site = context(**view_args)
        if site is None:
            abort(404)
        return owner, site

    def draft_page(site) -> str | None:
        """The ``page`` the request names, if the draft has it (blocks elsewhere are never shown)."""
        page = request.values.get("page", "home")
        return page if page in {p["slug"] for p in site["draft"].get("pages", [])} else None

    def submit_block(owner, kind, page, key, existing, save):
        """Check the block form, store its uploads, then ``save(data)``; None once saved, else
        the form again (with nothing stored)."""
        images = FormImages()
        raw, errors = _parse_block(kind, existing, images)
        try:
            data = validate(kind, raw, owner.table)
            errors = errors or images.store()
            if errors:
                raise BlockInvalid(errors)
        except BlockInvalid as exc:
            return _block_form(owner, kind, page, images.echo(raw), {**exc.errors, **errors},
                               key, 400)
        try:
            save(data)
        except Conflict:
            images.discard()
            return _block_form(owner, kind, page, images.echo(raw), {"kind": "Try again."},
                               key, 409)
        except Exception:
            images.discard()
            raise
        return None

    def _block_form(owner, kind, page, data, errors, key, status=200):
        return render_template(
            "site/block_form.html", owner=owner, block=REGISTRY[kind], page=page, data=data,
            errors=errors, key=key, form=EmptyForm(), here=here), status

    @bp.route("/blocks/new", methods=["GET", "POST"])
    @login_required
    def block_new(**view_args):
        owner, site = _site_or_404(**view_args)
        kind = request.values.get("kind", "")
        page = draft_page(site)
        if page is None:
            flash("That page does not exist.", "error")
            return redirect(here("edit"))
        if kind not in {b.name for b in types_for(owner.table)}:
            flash("Choose a block type from the list.", "error")
            return redirect(here("edit", page=page))
        if request.method == "POST":
            refused = submit_block(owner, kind, page, None, {}, lambda data: sites.add_block(
                get_db(), current_user.key, site["id"], page, kind, data))
            if refused:
                return refused
            flash(f"{REGISTRY[kind].label} added.", "success")
            return redirect(here("edit", page=page))
        return _block_form(owner, kind, page, {}, {}, None)

    @bp.route("/blocks/<key>", methods=["GET", "POST"])
    @login_required
    def block_edit(key: str, **view_args):
        owner, site = _site_or_404(**view_args)
        try:
            block = sites.get_block(get_db(), current_user.key, site["id"], key)
        except NotFound:
            abort(404)
        if request.method == "POST":
            refused = submit_block(
                owner, block["kind"], block["page"], key, block["data"],
                lambda data: sites.update_block(get_db(), current_user.key, site["id"], key, data))
            if refused:
                return refused
            flash("Block saved. Publish to show it to visitors.", "success")
            return redirect(here("edit", page=block["page"]))
        return _block_form(owner, block["kind"], block["page"], block["data"], {}, key)

    @bp.post("/blocks/<key>/<action>")
    @login_required
    def block_action(key: str, action: str, **view_args):
        _, site = _site_or_404(**view_args)
        db, me, sid = get_db(), current_user.key, site["id"]
        try:
            block = sites.get_block(db, me, sid, key)
            if action in ("up", "down"):
                sites.move_block(db, me, sid, key, -1 if action == "up" else 1)
            elif action == "duplicate":
                sites.duplicate_block(db, me, sid, key)
            elif action in ("hide", "show"):
                sites.set_hidden(db, me, sid, key, action == "hide")
            elif action == "delete":
                sites.delete_block(db, me, sid, key)
            else:
                abort(404)
        except NotFound:
            abort(404)
        return redirect(here("edit", page=block["page"]) + f"#block-{key}")

    @bp.post("/reorder")
    @login_required
    def reorder(**view_args):
        """Drag and drop: the page's block keys in their new order."""
        _, site = _site_or_404(**view_args)
        page = draft_page(site)
        if page is None:
            abort(404)
        keys = request.form.getlist("keys")[:500]
        try:
            sites.reorder(get_db(), current_user.key, site["id"], page, keys)
        except NotFound:
            abort(400, "A block in that order does not exist.")
        if request.accept_mimetypes.best == "application/json":
            return jsonify({"ok": True})
        return redirect(here("edit", page=page))

    @bp.post("/pages")
    @login_required
    def page_add(**view_args):
        owner, site = _site_or_404(**view_args)
        slug, title = request.form.get("slug", ""), request.form.get("title", "")
        try:
            sites.add_page(get_db(), current_user.key, site, slug, title)
        except Invalid as exc:
            return render_editor(owner, site, 400, errors=exc.fields,
                                 new_page={"slug": slug, "title": title})
        return redirect(here("edit", page=slug.strip().lower()))

    @bp.post("/pages/<slug>/delete")
    @login_required
    def page_delete(slug: str, **view_args):
        _, site = _site_or_404(**view_args)
        try:
            sites.remove_page(get_db(), current_user.key, site, slug)
        except Invalid as exc:
            flash(" ".join(exc.fields.values()), "error")
        return redirect(here("edit"))

    @bp.post("/settings")
    @login_required
    def settings(**view_args):
        owner, site = _site_or_404(**view_args)
        seo = {"title": request.form.get("seo_title", ""),
               "description": request.form.get("seo_description", "")}
        try:
            sites.update_settings(get_db(), current_user.key, site,
                                  request.form.get("theme", ""), request.form.get("font", ""), seo)
        except Invalid as exc:
            return render_editor(owner, site, 400, errors=exc.fields)
        flash("Settings saved. Publish to show them to visitors.", "success")
        return redirect(here("edit"))

    @bp.post("/publish")
    @login_required
    def publish(**view_args):
        _, site = _site_or_404(**view_args)
        sites.publish_site(get_db(), current_user.key, site["id"])
        flash("Published: visitors now see this version.", "success")
        return redirect(here("edit"))

    @bp.post("/unpublish")
    @login_required
    def unpublish(**view_args):
        _, site = _site_or_404(**view_args)
        sites.unpublish_site(get_db(), current_user.key, site["id"])
        flash("Your site is offline. Publish again to bring it back.", "success")
        return redirect(here("edit"))

    @bp.get("/preview")
    @bp.get("/preview/<page>")
    @login_required
    def preview(page: str = "home", **view_args):
        """The draft, exactly as visitors will see it once published (never cached)."""
        owner = resolve(**view_args)
        data = public_sites.load_page(get_db(), owner.table, owner.name, page,
                                      draft_for=current_user.key)
        if data is None:
            abort(404)
        response = render_template("public/site.html", site=data, registry=REGISTRY,
                                   canonical=owner.public_path, preview=True)
        return response, 200, {"Cache-Control": "private, no-store"}

    return bp


def _me(**_) -> Owner:
    return Owner(RecordID("user", current_user.key), "user", current_user.username,
                 current_user.display_name)


member_editor = make_editor("site", "/me/site", _me)
