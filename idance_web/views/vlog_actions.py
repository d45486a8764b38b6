"""What members do on a vlog: like, comment, reply, edit, delete or hide a comment, delete
the vlog, answer a partner tag, report. Every action is a POST form that works without
JavaScript and redirects back to the vlog."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_login import current_user, login_required

from ..errors import Invalid, NotAllowed
from ..extensions import get_db, limiter
from ..forms import EmptyForm, ReportForm
from ..record_ids import record_id
from ..services import social, vlog_comments, vlogs

bp = Blueprint("vlog_actions", __name__)


@bp.before_request
@login_required
def _members_only():
    """Every action here is a signed-in member's."""


def _back(key: str, anchor: str = ""):
    return redirect(url_for("vlogs.show", key=key) + anchor, code=303)


def _checked() -> None:
    if not EmptyForm().validate_on_submit():
        abort(400)


@bp.post("/vlogs/<key>/like")
@limiter.limit("120/minute", key_func=lambda: f"like:{current_user.key}")
def like(key: str):
    """Like (``like=1``) or unlike (``like=0``); both idempotent."""
    _checked()
    vlog_comments.set_like(get_db(), current_user.key, key, request.form.get("like") != "0")
    return _back(key, "#likes")


@bp.post("/vlogs/<key>/comments")
@limiter.limit("30/minute", key_func=lambda: f"comment:{current_user.key}")
def comment(key: str):
    """Comment, or reply to a comment (``parent``)."""
    _checked()
    try:
        made = vlog_comments.add_comment(get_db(), current_user.key, key,
                                         request.form.get("body", ""),
                                         request.form.get("parent", ""))
    except Invalid as exc:
        flash(" ".join(exc.fields.values()), "error")
        return _back(key, "#comments")
    except NotAllowed as exc:
        flash(str(exc) or "You cannot comment on this vlog.", "error")
        return _back(key, "#comments")
    return _back(key, f"#c-{made}")


@bp.post("/vlogs/<key>/comments/<comment_key>/edit")
def comment_edit(key: str, comment_key: str):
    _checked()
    try:
        vlog_comments.edit_comment(get_db(), current_user.key, comment_key,
                                   request.form.get("body", ""))
    except Invalid as exc:
        flash(" ".join(exc.fields.values()), "error")
    return _back(key, f"#c-{comment_key}")


@bp.post("/vlogs/<key>/comments/<comment_key>/delete")
def comment_delete(key: str, comment_key: str):
    _checked()
    vlog_comments.delete_comment(get_db(), current_user.key, comment_key)
    flash("Comment deleted.", "success")
    return _back(key, "#comments")


@bp.post("/vlogs/<key>/comments/<comment_key>/hide")
def comment_hide(key: str, comment_key: str):
    """The vlog's owner hides (``hidden=1``) or shows again (``hidden=0``) a comment."""
    _checked()
    vlog_comments.set_hidden(get_db(), current_user.key, comment_key,
                             request.form.get("hidden") != "0")
    return _back(key, f"#c-{comment_key}")


@bp.post("/vlogs/<key>/delete")
def delete(key: str):
    _checked()
    vlogs.delete_vlog(get_db(), current_user.key, key)
    flash("Vlog deleted.", "success")
    return redirect(url_for("vlogs.index"), code=303)


@bp.post("/vlogs/<key>/partner")
def partner(key: str):
    """The tagged partner accepts (``answer=approved``) or declines the credit."""
    _checked()
    try:
        vlogs.answer_tag(get_db(), current_user.key, key, request.form.get("answer", ""))
    except Invalid as exc:
        flash(" ".join(exc.fields.values()), "error")
    else:
        flash("Thank you: your answer is saved.", "success")
    return _back(key)


@bp.post("/vlogs/<key>/report")
@limiter.limit("10/hour", key_func=lambda: f"report:{current_user.key}")
def report(key: str):
    """Report the vlog, or one of its comments (``comment``)."""
    form = ReportForm.offered()
    problem = form.problem()
    if problem is not None:
        flash(problem, "error")
        return _back(key)
    comment_key = request.form.get("comment", "")
    target = record_id("comments", comment_key) if comment_key else vlogs.vlog_record(key)
    try:
        social.report_record(get_db(), current_user.key, target, form.reason.data,
                             form.note.data)
    except Invalid as exc:
        flash(" ".join(exc.fields.values()), "error")
    else:
        flash("Thank you: we received your report and will look at it.", "success")
    return _back(key)
