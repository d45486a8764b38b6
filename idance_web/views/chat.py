"""Chat: ``/chat`` (her conversations), ``/chat/<chat_key>`` (one chat) and its actions.

Members only. Every action is a form that posts and redirects without JavaScript; the page's
script posts messages as JSON (``201`` and the message as the live stream sends it) and marks
them read. Every read and write runs as the member, so the database decides who reads and who
sends; the page names the reason when she cannot write.
"""

from __future__ import annotations

import uuid

from flask import (Blueprint, abort, before_render_template, current_app, flash, g, jsonify,
                   redirect, render_template, request, url_for)
from flask_login import current_user, login_required

from ..db import DatabaseError
from ..errors import AppError, Invalid, NotAllowed, Refused
from ..extensions import get_db, limiter, member_cache
from ..forms import EmptyForm, ReportForm, attach_errors
from ..forms.chat import MessageForm
from ..member_cache import token
from ..services import chat, chat_actions, groups, social

bp = Blueprint("chat", __name__)


@bp.before_request
@login_required
def _members_only():
    """Every page here is for signed-in members (visitors go to sign in)."""


@bp.app_context_processor
def _chat_badge():
    """``chat_unread``: the navigation badge's count (0 until a page fills it in)."""
    return {"chat_unread": 0}


@bp.record_once
def _count_for_pages(state) -> None:
    before_render_template.connect(_fill_badge, state.app)


def _fill_badge(app, template, context, **extra) -> None:
    """Count her unread messages for a signed-in page. Error pages keep 0: they need no
    count and must not ask a database that may be what failed; so do partials (``_x.html``),
    which a page renders inside itself and whose navigation is the page's."""
    name = template.name or ""
    if name.startswith("errors/") or "/_" in name or g.get("public_page") \
            or not getattr(current_user, "is_authenticated", False):
        return
    if g.get("chat_unread") is not None:  # counted by the page itself (her home)
        context["chat_unread"] = g.chat_unread
        return
    try:
        context["chat_unread"] = _unread(current_user.key)
    except (AppError, DatabaseError):
        pass


def _unread(key: str) -> int:
    # Kept per member until her read states, a message or a chat she counts, or the other
    # member of a direct chat changes.
    def count():
        total, records = chat.unread_badge(get_db(), key)
        return total, {token("chats", f"user:{key}"),
                       *(token("chat" if r.table_name == "chat" else "member", r)
                         for r in records)}

    return member_cache().count("chat", key, count)


def _wants_json() -> bool:
    return request.is_json or request.accept_mimetypes.best == "application/json"


def _messages_per_minute() -> str:
    return f"{current_app.config['IDANCE'].chat_messages_per_minute}/minute"


@bp.get("/chat")
def index():
    """Her conversations, most recent activity first, and her read-receipts setting."""
    db = get_db()
    return render_template("chat/index.html", chats=chat.list_chats(db, current_user.key),
                           receipts=chat_actions.read_receipts(db, current_user.key),
                           form=EmptyForm())


@bp.post("/chat/settings")
def settings():
    """Read receipts on or off (off is for VIP members)."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    on = request.form.get("read_receipts") != "0"
    try:
        chat_actions.set_read_receipts(get_db(), current_user.key, on)
    except Refused as exc:
        flash(exc.reason, "error")
    else:
        flash("Read receipts on: others see when you have read their messages." if on else
              "Read receipts off: nobody sees when you have read their messages.", "success")
    return redirect(url_for("chat.index"), code=303)


def _render_thread(chat_key: str, form: MessageForm | None = None, status: int = 200,
                   error: str | None = None):
    view = chat.thread(get_db(), current_user.key, chat_key, request.args.get("before"))
    if form is None:
        form = MessageForm(formdata=None)
    # A new key for each new message; a refused one keeps its key (nothing was made with it).
    if not form.idempotency_key.data:
        form.idempotency_key.data = uuid.uuid4().hex
    report = ReportForm(prefix="report")
    report.reason.choices = list(social.REPORT_REASONS.items())
    return render_template("chat/thread.html", c=view, form=form, action=EmptyForm(),
                           report=report, error=error,
                           per_minute=current_app.config["IDANCE"].chat_messages_per_minute), \
        status


@bp.get("/chat/<chat_key>")
def thread(chat_key: str):
    """One chat: the history (newest at the bottom, older pages upward) and the form."""
    return _render_thread(chat_key)


@bp.post("/chat/<chat_key>/messages")
@limiter.limit(_messages_per_minute, key_func=lambda: f"chat:{current_user.key}")
def send(chat_key: str):
    """Send a message: a form post (redirect to the chat) or JSON (``201`` + the message)."""
    if request.is_json:
        data = request.get_json(silent=True)
        if not isinstance(data, dict):
            return jsonify(error="Send a JSON object with body and idempotency_key."), 400
        body, key = data.get("body"), data.get("idempotency_key")
        if not isinstance(body, str):
            return jsonify(error="Write a message first.", fields={"body": "Write a message "
                                                                          "first."}), 400
        form = None
    else:
        form = MessageForm()
        if not form.validate_on_submit():
            abort(400)
        body, key = form.body.data, form.idempotency_key.data
    try:
        payload, created = chat_actions.send(get_db(), current_user.key, chat_key, body, key)
    except Invalid as exc:
        if form is None:
            return jsonify(error=" ".join(exc.fields.values()), fields=exc.fields), 400
        attach_errors(form, exc.fields)
        return _render_thread(chat_key, form, 400)
    except Refused as exc:
        if form is None:
            return jsonify(error=exc.reason), exc.status
        return _render_thread(chat_key, form, exc.status, exc.reason)
    if form is None:
        return jsonify(payload), 201 if created else 200
    return redirect(url_for("chat.thread", chat_key=chat_key) + "#latest", code=303)


@bp.errorhandler(429)
def too_many(exc):
    """Sending too fast: the reason, and (for the form) her text kept in the box."""
    reason = (f"You are sending messages too fast (at most "
              f"{current_app.config['IDANCE'].chat_messages_per_minute} a minute). Wait a "
              "moment and send again: your text is kept.")
    chat_key = (request.view_args or {}).get("chat_key")
    if _wants_json() or chat_key is None:
        return jsonify(error=reason), 429
    try:
        return _render_thread(chat_key, MessageForm(), 429, reason)
    except AppError:  # not her chat: the plain answer
        return jsonify(error=reason), 429


def _action(chat_key: str, act, done: str | None = None, anchor: str = ""):
    """Run a chat action from a form post; JSON answers for the page's script."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        result = act(get_db(), current_user.key)
    except (Invalid, Refused) as exc:
        reason = " ".join(exc.fields.values()) if isinstance(exc, Invalid) else exc.reason
        if _wants_json():
            return jsonify(error=reason), exc.status
        flash(reason, "error")
    else:
        if _wants_json():
            return jsonify(result if isinstance(result, dict) else {"ok": True})
        if done:
            flash(done, "success")
    return redirect(url_for("chat.thread", chat_key=chat_key) + anchor, code=303)


@bp.get("/chat/<chat_key>/messages/<message_key>/edit")
def message_edit_form(chat_key: str, message_key: str):
    """The edit form for her message (the page's script edits in place)."""
    view = chat.thread(get_db(), current_user.key, chat_key, limit=1)
    form = MessageForm(formdata=None)
    form.body.data = chat.message_body(get_db(), current_user.key, chat_key, message_key)
    return render_template("chat/edit.html", c=view, m={"key": message_key}, form=form)


@bp.post("/chat/<chat_key>/messages/<message_key>/edit")
def message_edit(chat_key: str, message_key: str):
    form = MessageForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        payload = chat_actions.edit(get_db(), current_user.key, chat_key, message_key,
                                    form.body.data)
    except Invalid as exc:
        attach_errors(form, exc.fields)
        view = chat.thread(get_db(), current_user.key, chat_key, limit=1)
        return render_template("chat/edit.html", c=view, m={"key": message_key},
                               form=form), 400
    except Refused as exc:
        flash(exc.reason, "error")
        return redirect(url_for("chat.thread", chat_key=chat_key), code=303)
    if _wants_json():
        return jsonify(payload)
    return redirect(url_for("chat.thread", chat_key=chat_key) + f"#m-{message_key}", code=303)


@bp.post("/chat/<chat_key>/messages/<message_key>/delete")
def message_delete(chat_key: str, message_key: str):
    return _action(chat_key, lambda db, me: chat_actions.delete(db, me, chat_key, message_key),
                   anchor=f"#m-{message_key}")


@bp.post("/chat/<chat_key>/read")
def read(chat_key: str):
    """Her read position moves to a message (``up_to``) or to the latest one."""
    up_to = request.form.get("up_to") or None

    def act(db, me):
        at = chat_actions.mark_read(db, me, chat_key, up_to)
        return {"read_at": at.isoformat() if at else None,
                "badge": chat.unread_total(db, me)}

    return _action(chat_key, act)


@bp.post("/chat/<chat_key>/mute")
def mute(chat_key: str):
    muted = request.form.get("muted") != "0"
    return _action(chat_key, lambda db, me: chat_actions.set_muted(db, me, chat_key, muted),
                   "Muted: this chat no longer counts in your badge." if muted else "Unmuted.")


@bp.post("/chat/<chat_key>/leave")
def leave(chat_key: str):
    return _action(chat_key, lambda db, me: chat_actions.leave(db, me, chat_key),
                   "You left the chat.")


@bp.post("/chat/<chat_key>/rejoin")
def rejoin(chat_key: str):
    return _action(chat_key, lambda db, me: chat_actions.rejoin(db, me, chat_key),
                   "Welcome back.")


@bp.get("/g/<slug>/chat")
def group(slug: str):
    """The group's chat: there when it exists, else its managers are offered to open it."""
    db = get_db()
    found = groups.get_group(db, slug, current_user.key)
    key = chat_actions.group_chat(db, current_user.key, chat.group_record(found["key"]))
    if key:
        return redirect(url_for("chat.thread", chat_key=key))
    if found.get("my_role") not in ("owner", "admin"):
        flash("This group has no chat yet; its owner and admins can open one.", "info")
        return redirect(url_for("groups.show", slug=slug))
    return render_template("chat/open_group.html", g=found, form=EmptyForm())


@bp.post("/g/<slug>/chat")
def group_open(slug: str):
    """Open the group's chat (its owner and admins)."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        key = chat_actions.open_group_chat(get_db(), current_user.key, slug)
    except NotAllowed:
        abort(403)
    return redirect(url_for("chat.thread", chat_key=key), code=303)
