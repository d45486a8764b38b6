"""Vlog pages: the feed and explore (``/vlogs``), posting (``/vlogs/new``), one vlog
(``/vlogs/<key>``), editing it, and its files (``/vlogs/<key>/media/<file>``).

Every read runs as the viewer (a member or the visitor): the database decides what she sees,
the files included, which are served only after the vlog itself was read under her identity.
Likes, comments, deletion, reports and the partner's answer are in ``vlog_actions``.
"""

from __future__ import annotations

from flask import (Blueprint, abort, current_app, flash, redirect, render_template, request,
                   url_for)
from flask_login import current_user, login_required
from werkzeug.exceptions import RequestEntityTooLarge

from .. import uploads, vlog_uploads
from ..body_limits import limit_body
from ..errors import Invalid
from ..extensions import get_db
from ..forms import CommentForm, ReportForm, VlogForm, attach_errors
from ..media import MediaError
from ..media_errors import UploadTooLarge
from ..services import (options, quota, social, vlog_comments, vlog_jobs, vlog_lists,
                        vlog_transcode, vlogs)
from ..video import MAX_CAPTION_BYTES
from .media import send_stored
from ..services.vlogs import MAX_IMAGES

bp = Blueprint("vlogs", __name__)

PUBLIC_MEDIA_AGE = 3600  # a public vlog made private stays in shared caches at most this long
PRIVATE_MEDIA_AGE = 300


def _viewer() -> str | None:
    return current_user.key if current_user.is_authenticated else None


@bp.app_template_global()
def vlog_media(key: str, part: dict | None, variant: str = "medium") -> str:
    """The address of one of a vlog's files (a picture's variant, its poster, video or
    captions), served through the vlog's own checked route."""
    if not part:
        return ""
    if part.get("variants"):
        variants = part["variants"]
        chosen = variants.get(variant) or next(iter(variants.values()))
        file_key = chosen["key"]
    else:
        file_key = part.get("key")
    return url_for("vlogs.media", key=key, file=file_key) if file_key else ""


@bp.get("/vlogs")
def index():
    """Her feed (signed in); visitors see explore."""
    if not current_user.is_authenticated:
        return explore()
    db = get_db()
    page = vlog_lists.feed(db, current_user.key, request.args.get("after", ""))
    # An empty feed says why: she follows nobody, or those she follows posted nothing yet.
    follows = page.cards or social.follows_anyone(db, current_user.key)
    return render_template("vlogs/index.html", tab="feed", page=page, follows=follows,
                           waiting=vlog_lists.unpublished(db, current_user.key)
                           if not request.args.get("after") else [],
                           tags=vlogs.pending_tags(db, current_user.key))


@bp.get("/vlogs/explore")
def explore():
    """Public vlogs, newest first, of one style when chosen."""
    db = get_db()
    known = options.lookup_options(db)
    style = request.args.get("style", "")[:60]
    names = {s["id"]: s["name"] for s in known["styles"]}
    if style not in names:
        style = ""
    page = vlog_lists.explore(db, _viewer(), style, request.args.get("after", ""))
    return render_template("vlogs/index.html", tab="explore", page=page, style=style,
                           style_name=names.get(style, ""), families=known["families"],
                           waiting=[], tags=[])


def _form(db, obj=None) -> VlogForm:
    form = VlogForm(obj=obj)
    form.offer(options.lookup_options(db), vlogs.groups_she_posts_for(db, current_user.key))
    return form


def _input(form: VlogForm) -> vlogs.VlogInput:
    return vlogs.VlogInput(
        title=form.title.data or "", body=form.body.data or "", styles=form.styles.data or [],
        level=form.level.data or "", visibility=form.visibility.data or "",
        partner=form.partner.data or "", choreographer=form.choreographer.data or "",
        music=form.music.data or "", owner=form.owner.data or "")


def _new_page(form: VlogForm, status: int = 200, images_error: str | None = None):
    db = get_db()
    config = current_app.config["IDANCE"]
    return render_template("vlogs/new.html", form=form, max_images=MAX_IMAGES,
                           images_error=images_error,
                           used=quota.usage(db, current_user.key),
                           quota=config.media_quota_bytes, max_video=config.max_video_bytes,
                           max_seconds=config.max_video_seconds,
                           max_body=_post_limit()), status


def _post_limit() -> int:
    """The largest body /vlogs/new takes: a video and its captions, or ten pictures, and the
    form's other fields."""
    config = current_app.config["IDANCE"]
    return max(config.max_video_bytes + MAX_CAPTION_BYTES,
               MAX_IMAGES * config.max_image_bytes) + 64 * 1024


@bp.errorhandler(UploadTooLarge)
@bp.errorhandler(RequestEntityTooLarge)
def _too_large(exc):
    """A body past the cap is refused before it is read: the form again, with the limit."""
    if request.endpoint != "vlogs.new" or not current_user.is_authenticated:
        abort(413)
    form = VlogForm(formdata=None)
    form.offer(options.lookup_options(get_db()),
               vlogs.groups_she_posts_for(get_db(), current_user.key))
    form.form_errors.append(f"That upload is too large: at most {_post_limit() / 1e6:.0f} MB "
                            "in all. Choose a shorter video or smaller pictures.")
    return _new_page(form, 413)


@bp.route("/vlogs/new", methods=["GET", "POST"])
@login_required
@limit_body(_post_limit)
def new():
    """Post a vlog: a video (with captions) or one to ten pictures, each described."""
    db = get_db()
    form = _form(db)
    if request.method == "GET":
        return _new_page(form)
    if not form.validate_on_submit():
        if form.csrf_token.errors:
            abort(400)
        return _new_page(form, 400)
    try:
        key = _post(db, form)
    except Invalid as exc:
        images_error = exc.fields.pop("images", None)
        attach_errors(form, exc.fields)
        return _new_page(form, getattr(exc, "upload_status", None) or 400, images_error)
    flash("Posted." if request.files.get("video") is None else "Posted: the video is ready "
          "or being processed.", "success")
    return redirect(url_for("vlogs.show", key=key), code=303)


def _picked_images(form: VlogForm) -> list[tuple[int, object, str]]:
    """(row, file, alt) of every picture sent, in order; files beyond the rows included."""
    picked = []
    for name in request.files:
        parts = name.split("-")
        if len(parts) == 3 and parts[0] == "images" and parts[2] == "file" and parts[1].isascii() \
                and parts[1].isdigit():
            for upload in request.files.getlist(name):
                if uploads.has_file(upload):
                    alt = (request.form.get(f"images-{parts[1]}-alt") or "").strip()
                    picked.append((int(parts[1]), upload, alt))
    return sorted(picked, key=lambda p: p[0])


def _post(db, form: VlogForm) -> str:
    errors: dict[str, str] = {}
    try:
        fields = vlogs.check(db, current_user.key, _input(form))
    except Invalid as exc:
        errors.update(exc.fields)
        fields = None
    picked = _picked_images(form)
    clip = request.files.get("video")
    if uploads.has_file(clip):
        if picked:
            errors["images"] = "Post a video or pictures, not both."
        return _post_video(db, fields, clip, errors)
    if len(picked) > MAX_IMAGES:
        errors["images"] = f"A vlog has at most {MAX_IMAGES} pictures (you sent {len(picked)})."
    elif not picked:
        errors["images"] = "Add a video or one to ten pictures."
    processed, status = [], 400
    for row, upload, alt in picked[:MAX_IMAGES]:
        if not alt:
            errors[f"images-{row}"] = "Describe this picture for people who cannot see it."
            continue
        try:
            processed.append(uploads.process_upload(upload, alt))
        except MediaError as exc:
            errors[f"images-{row}"] = exc.reason
            status = exc.status
    if errors:
        raise _invalid(errors, status)
    key = vlogs.new_key()
    subject = vlogs.vlog_record(key)
    try:
        images = uploads.store_vlog_images(processed, subject)
    except MediaError as exc:
        raise _invalid({"images": exc.reason}, exc.status) from exc
    return _create(db, fields, key, kind="images", images=images)


def _post_video(db, fields, clip, errors: dict) -> str:
    status, pending = 400, None
    try:
        captions = vlog_uploads.read_captions(request.files.get("captions"))
    except MediaError as exc:
        errors["captions"], status = exc.reason, exc.status
        captions = None
    if not errors:
        try:
            pending = vlog_uploads.receive_video(clip)
        except MediaError as exc:
            errors["video"], status = exc.reason, exc.status
    if errors:
        raise _invalid(errors, status)
    pending.captions = captions
    key = vlogs.new_key()
    subject = vlogs.vlog_record(key)
    try:
        stored = vlog_uploads.store_video(pending, subject)
    except MediaError as exc:
        raise _invalid({"video": exc.reason}, exc.status) from exc
    source = stored.pop("source", None)
    made = _create(db, fields, key, kind="video", **stored)
    if source:
        vlog_transcode.queue_transcode(db, subject, source, current_user.key)
    return made


def _create(db, fields: dict, key: str, **media) -> str:
    try:
        return vlogs.create_vlog(db, current_user.key, fields, key=key, **media)
    except BaseException:
        vlog_jobs.queue_purge(db, vlogs.vlog_record(key))  # give the bytes back, drop the files
        raise


def _invalid(errors: dict, status: int) -> Invalid:
    exc = Invalid(errors)
    exc.upload_status = status
    return exc


@bp.get("/vlogs/<key>")
def show(key: str):
    """One vlog: its video or pictures, description, credits, likes, comments and related."""
    db = get_db()
    vlog = vlogs.get_vlog(db, _viewer(), key)
    report = ReportForm.offered()
    return render_template(
        "vlogs/show.html", vlog=vlog, comments=vlog_comments.comments_of(db, _viewer(), key),
        related=vlog_lists.related(db, _viewer(), key, vlog["style_keys"]),
        comment_form=CommentForm(), report=report)


@bp.route("/vlogs/<key>/edit", methods=["GET", "POST"])
@login_required
def edit(key: str):
    """Change a vlog's text, styles, level, audience and credits."""
    db = get_db()
    vlog = vlogs.get_vlog(db, current_user.key, key)
    if not vlog["can_manage"]:
        abort(404)
    if request.method == "GET":
        form = _form(db)
        _fill(form, vlog)
        return render_template("vlogs/edit.html", form=form, vlog=vlog)
    form = _form(db)
    status = 400
    if form.validate_on_submit():
        try:
            data = _input(form)
            data.owner = vlog["slug"] or ""
            fields = vlogs.check(db, current_user.key, data)
            captions = _edited_captions(form, vlog)
            vlogs.update_vlog(db, current_user.key, key, fields, captions=captions)
        except Invalid as exc:
            attach_errors(form, exc.fields)
        else:
            flash("Saved.", "success")
            return redirect(url_for("vlogs.show", key=key), code=303)
    elif form.csrf_token.errors:
        abort(400)
    return render_template("vlogs/edit.html", form=form, vlog=vlog), status


def _edited_captions(form: VlogForm, vlog: dict):
    """New captions (stored and counted), None to remove them, False to leave them."""
    upload = request.files.get("captions")
    if vlog["kind"] != "video" or not (uploads.has_file(upload) or form.remove_captions.data):
        return False
    if not uploads.has_file(upload):
        return None
    try:
        text = vlog_uploads.read_captions(upload)
        return vlog_uploads.store_captions(text, vlogs.vlog_record(vlog["key"]))
    except MediaError as exc:
        raise Invalid({"captions": exc.reason}) from exc


def _fill(form: VlogForm, vlog: dict) -> None:
    for name in ("title", "body", "level", "visibility", "choreographer", "music"):
        getattr(form, name).data = vlog.get(name) or ""
    form.styles.data = vlog["style_keys"]
    form.partner.data = (vlog.get("partner") or {}).get("username") or ""


@bp.get("/vlogs/<key>/media/<path:file>")
def media(key: str, file: str):
    """One of the vlog's files, to whoever may see the vlog: public caching for a public
    vlog (an hour), private for the others."""
    vlog = vlogs.get_vlog(get_db(), _viewer(), key)
    if file not in vlogs.media_keys(vlog):
        abort(404)
    public = vlog["visibility"] == "public" and vlog.get("published_at") is not None
    return send_stored(file, private=not public,
                       max_age=PUBLIC_MEDIA_AGE if public else PRIVATE_MEDIA_AGE)
