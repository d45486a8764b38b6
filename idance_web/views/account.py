"""The signed-in member's own pages: ``/me`` and ``/me/settings``."""

from __future__ import annotations

import json

from flask import Blueprint, Response, flash, redirect, render_template, session, url_for
from flask_login import current_user, login_required, logout_user

from ..errors import Invalid
from ..extensions import get_db, member_cache
from ..forms import DeleteForm, EmailForm, EmptyForm, PasswordForm, attach_errors
from .. import mail
from ..services import accounts, email_links, vlog_lists
from ..services.export import export_account
from ..services.profiles import own_profile
from . import notification_settings

bp = Blueprint("account", __name__, url_prefix="/me")


@bp.get("")
@login_required
def show():
    """Her own profile, private parts included, with links to edit it."""
    key = current_user.key
    main = member_cache().fragment("me", key, lambda: render_template(
        "account/_me.html", p=own_profile(get_db(), key),
        owner_vlogs=vlog_lists.by_owner(get_db(), key)))
    return render_template("account/me.html", main=main)


def _settings(status: int = 200, **forms):
    db = get_db()
    user = current_user._get_current_object()
    forms.setdefault("password_form", PasswordForm(prefix="pw"))
    forms.setdefault("email_form", EmailForm(prefix="em"))
    forms.setdefault("delete_form", DeleteForm(prefix="del"))
    forms.setdefault("notification_form", notification_settings.prefs_form(db, user.key))
    return render_template(
        "account/settings.html",
        sessions=accounts.list_sessions(db, user),
        has_password=accounts.has_password(db, user),
        email_state=email_links.email_state(db, user.key),
        plain_form=EmptyForm(),
        **notification_settings.context(db, user.key),
        **forms,
    ), status


@bp.get("/settings")
@login_required
def settings():
    """Password, email, sessions, sign-in providers, tier, export and deletion."""
    return _settings()


@bp.post("/settings/password")
@login_required
def password_change():
    form = PasswordForm(prefix="pw")
    if form.validate_on_submit():
        try:
            ended = accounts.change_password(get_db(), current_user._get_current_object(),
                                             form.current_password.data, form.new_password.data)
        except Invalid as exc:
            attach_errors(form, exc.fields)
        else:
            flash(f"Password changed. {ended} other session(s) signed out.", "success")
            return redirect(url_for("account.settings"))
    return _settings(400, password_form=form)


@bp.post("/settings/email")
@login_required
def email_change():
    form = EmailForm(prefix="em")
    if form.validate_on_submit():
        try:
            email = accounts.change_email(get_db(), current_user._get_current_object(),
                                          form.email.data, form.password.data)
        except Invalid as exc:
            attach_errors(form, exc.fields)
        else:
            sent = mail.send_verification(get_db(), current_user.key, current_user.display_name)
            flash(f"Email changed to {email}." + (" We sent it a link to confirm it." if sent
                                                  else ""), "success")
            return redirect(url_for("account.settings"))
    form.password.data = ""
    return _settings(400, email_form=form)


@bp.post("/settings/sessions/sign-out-others")
@login_required
def sessions_end_others():
    if EmptyForm().validate_on_submit():
        ended = accounts.end_other_sessions(get_db(), current_user._get_current_object())
        flash(f"{ended} other session(s) signed out.", "success")
    return redirect(url_for("account.settings"))


@bp.get("/settings/export")
@login_required
def export():
    """Download everything she owns as JSON (reads only: a GET changes nothing)."""
    data = export_account(get_db(), current_user.key)
    body = json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True)
    filename = f"idance-{current_user.username}.json"
    return Response(body, mimetype="application/json", headers={
        "Content-Disposition": f'attachment; filename="{filename}"',
        "Cache-Control": "no-store",
    })


@bp.post("/settings/delete")
@login_required
def delete():
    """Delete her account after she confirms; every session ends."""
    form = DeleteForm(prefix="del")
    if form.validate_on_submit():
        try:
            accounts.delete_account(get_db(), current_user._get_current_object(),
                                    form.password.data, form.confirm.data)
        except Invalid as exc:
            attach_errors(form, exc.fields)
        else:
            logout_user()
            session.clear()
            flash("Your account has been deleted.", "success")
            return redirect("/")
    return _settings(400, delete_form=form)
