"""Notifications, her preferences and push devices: ``/notifications``, the settings' forms,
``/api/devices`` and the service worker at ``/sw.js``."""

from __future__ import annotations

from pathlib import Path

from flask import (Blueprint, Response, current_app, flash, g, jsonify, redirect,
                   render_template, request, url_for)
from flask_login import current_user, login_required

from ..errors import Invalid
from ..extensions import get_db, member_cache
from ..forms import EmptyForm, MarkReadForm, NotificationPrefsForm, attach_errors
from ..member_cache import token
from ..security import safe_next
from ..services import notifications, push
from .account import _settings

bp = Blueprint("notifications", __name__)


@bp.get("/notifications")
@login_required
def index():
    """Her notifications, newest first, alike ones grouped; a page after ``?after=``."""
    try:
        items, cursor = notifications.list_notifications(get_db(), current_user.key,
                                                         request.args.get("after"))
    except Invalid:
        return redirect(url_for(".index"))
    return render_template("notifications/index.html", items=items, cursor=cursor,
                           read_form=MarkReadForm(), all_form=EmptyForm())


@bp.get("/notifications/<key>")
@login_required
def show(key: str):
    """One notification in full (a visitor's contact message, a notice from iDance)."""
    row = notifications.get_notification(get_db(), current_user.key, key)
    return render_template("notifications/show.html", n=row, read_form=MarkReadForm())


@bp.post("/notifications/read")
@login_required
def read():
    """Mark one item read (the keys of its notifications), then go back."""
    form = MarkReadForm()
    if form.validate_on_submit():
        try:
            notifications.mark_read(get_db(), current_user.key, form.ids.data)
        except Invalid:
            flash("Those notifications do not exist.", "error")
    if request.accept_mimetypes.best == "application/json":
        return jsonify(unread=notifications.unread_count(get_db(), current_user.key))
    return redirect(safe_next(form.next.data, url_for(".index")), code=303)


@bp.post("/notifications/read-all")
@login_required
def read_all():
    if EmptyForm().validate_on_submit():
        notifications.mark_all_read(get_db(), current_user.key)
        flash("All notifications marked read.", "success")
    return redirect(url_for(".index"), code=303)


@bp.post("/me/settings/notifications")
@login_required
def preferences():
    """Store her choices per kind (shown in iDance, pushed to her devices)."""
    form = NotificationPrefsForm(prefix="nt")
    if form.validate_on_submit():
        shown, pushed = set(form.in_app.data or ()), set(form.push.data or ())
        try:
            notifications.save_preferences(get_db(), current_user.key, {
                kind: {"in_app": kind in shown, "push": kind in pushed}
                for kind in notifications.KINDS})
        except Invalid as exc:
            attach_errors(form, exc.fields)
        else:
            flash("Notification settings saved.", "success")
            return redirect(url_for("account.settings") + "#notifications-h", code=303)
    return _settings(400, notification_form=form)


@bp.post("/me/settings/devices/<key>/remove")
@login_required
def device_remove(key: str):
    """Forget one of her devices (the page's form; scripts use ``DELETE /api/devices/<id>``)."""
    if EmptyForm().validate_on_submit():
        push.remove_device(get_db(), current_user.key, key)
        flash("That device will get no more notifications.", "success")
    return redirect(url_for("account.settings") + "#devices-h", code=303)


@bp.post("/api/devices")
@login_required
def device_add():
    """Store this browser's push subscription (JSON, with the CSRF token in ``X-CSRFToken``)."""
    if not push.push_enabled(current_app.config["IDANCE"]):
        return jsonify(error="Push notifications are not configured on this server."), 409
    try:
        subscription = push.validate_subscription(request.get_json(silent=True))
        key = push.register_device(get_db(), current_user.key, subscription,
                                   push.device_label(request.headers.get("User-Agent", "")))
    except Invalid as exc:
        return jsonify(error="The subscription was refused.", fields=exc.fields), 400
    return jsonify(id=key), 201


@bp.delete("/api/devices/<key>")
@login_required
def device_delete(key: str):
    """Remove one of her devices; another member's id answers 404."""
    push.remove_device(get_db(), current_user.key, key)
    return "", 204


@bp.get("/sw.js")
def service_worker():
    """The service worker, from the site's root so that its scope is the whole site."""
    body = (Path(current_app.static_folder) / "js" / "sw.js").read_bytes()
    # Browsers check for a new worker at most daily anyway; no-cache makes them ask each time.
    return Response(body, mimetype="text/javascript", headers={
        "Cache-Control": "no-cache", "Service-Worker-Allowed": "/"})


class _LazyCount:
    """Her unread count, read the first time a template uses it: only pages that render the
    navigation pay for the query."""

    _value: int | None = None

    def __int__(self) -> int:
        if self._value is None:
            # Public pages are cached and shared: they never read the session for this. An
            # error page reads nothing either (the database may be why it is shown).
            signed_in = not (g.get("public_page") or g.get("error_page")) \
                and current_user.is_authenticated
            self._value = _unread(current_user.key) if signed_in else 0
        return self._value

    def __bool__(self) -> bool:
        return int(self) > 0

    def __str__(self) -> str:
        return str(int(self))


def _unread(key: str) -> int:
    # Kept per member until a notification of hers or one of her preferences changes.
    return member_cache().count("notifications", key, lambda: (
        notifications.unread_count(get_db(), key), {token("notifications", f"user:{key}")}))


@bp.app_context_processor
def unread_badge() -> dict:
    """``notifications_unread`` for the navigation's badge, on signed-in pages."""
    return {"notifications_unread": _LazyCount()}
