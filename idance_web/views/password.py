"""Links sent by email: forgotten passwords and address verification.

``/password/forgot`` answers the same whether or not an account uses the address, and is
rate-limited by address and by IP. The link pages (``/password/reset/<token>``,
``/email/verify/<token>``) change nothing on GET (mail scanners open links); each answers a
link that cannot be used with a page that says why, never an error.
"""

from __future__ import annotations

from flask import (Blueprint, flash, make_response, redirect, render_template, request, session,
                   url_for)
from flask_login import current_user, login_required, login_user, logout_user

from .. import mail
from ..errors import Invalid
from ..extensions import get_db, limiter
from ..forms import EmptyForm, ForgotForm, ResetForm, attach_errors
from ..services import accounts, email_links
from ..services.email_links import LinkRefused

bp = Blueprint("password", __name__)


def _address_key() -> str:
    """Rate-limit key for the address a request names (one IP pool cannot hide it)."""
    return "forgot:" + accounts.normalize_email(request.form.get("email", ""))[:254]


def _private(body: str, status: int = 200):
    # The token is in the URL: keep the page out of caches and histories' shared copies.
    response = make_response(body, status)
    response.headers["Cache-Control"] = "no-store"
    return response


def _refused(exc: LinkRefused, purpose: str):
    return _private(render_template("auth/link_refused.html", reason=exc.reason,
                                    purpose=purpose), 400)


def _other_member(purpose: str):
    reason = ("This link is for another account. Sign out first, then open the link again.")
    return _private(render_template("auth/link_refused.html", reason=reason, purpose=purpose,
                                    other_member=True), 403)


def _usable(token: str, purpose: str):
    """(the link, None) if it can be used here, else (None, the page that says why)."""
    try:
        link = email_links.check_link(get_db(), token, purpose)
    except LinkRefused as exc:
        return None, _refused(exc, purpose)
    if current_user.is_authenticated and current_user.key != link.user_key:
        return None, _other_member(purpose)
    return link, None


@bp.route("/password/forgot", methods=["GET", "POST"])
@limiter.limit("5/hour", methods=["POST"])
@limiter.limit("3/hour", methods=["POST"], key_func=_address_key)
def forgot():
    """Ask for a link to set a password; the same answer whether or not the address is known."""
    form = ForgotForm()
    if form.validate_on_submit():
        db = get_db()
        found = email_links.request_reset(db, form.email.data)
        if found:
            mail.send_link(db, "reset", found["email"], found["token"],
                           name=found["display_name"], has_password=found["has_password"])
        return render_template("auth/password_sent.html", email=form.email.data,
                               expires=email_links.expires_text("reset"))
    status = 400 if request.method == "POST" else 200
    return render_template("auth/password_forgot.html", form=form), status


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
@limiter.limit("20/hour", methods=["POST"])
def reset(token: str):
    """Set a new (or a first) password through a reset link; she is signed in afterwards and
    every other session of hers ends."""
    db = get_db()
    link, refusal = _usable(token, "reset")
    if refusal:
        return refusal
    form = ResetForm()
    if form.validate_on_submit():
        if form.password.data != form.confirm.data:
            form.confirm.errors.append("The two passwords are not the same.")
        else:
            try:
                email_links.reset_password(db, token, form.password.data)
            except Invalid as exc:
                attach_errors(form, exc.fields)
            except LinkRefused as exc:
                return _refused(exc, "reset")
            else:
                user = accounts.open_session(db, link.user_key, "password",
                                             request.user_agent.string)
                logout_user()
                session.clear()
                login_user(user)
                flash("Your password is set and you are signed in. Every other session was "
                      "signed out.", "success")
                return redirect("/me")
    form.password.data = form.confirm.data = ""
    status = 400 if request.method == "POST" else 200
    return _private(render_template("auth/password_reset.html", form=form, link=link), status)


@bp.route("/email/verify/<token>", methods=["GET", "POST"])
@limiter.limit("20/hour", methods=["POST"])
def verify(token: str):
    """Confirm an address through its link (a button: opening the link changes nothing)."""
    db = get_db()
    link, refusal = _usable(token, "verify")
    if refusal:
        return refusal
    form = EmptyForm()
    if form.validate_on_submit():
        try:
            email_links.verify_email(db, token)
        except LinkRefused as exc:
            return _refused(exc, "verify")
        flash(f"Thank you: {link.email} is confirmed.", "success")
        return redirect(url_for("account.settings") if current_user.is_authenticated
                        else url_for("auth.login"))
    return _private(render_template("auth/email_verify.html", form=form, link=link))


@bp.post("/me/settings/email/verify")
@login_required
@limiter.limit("5/hour")
def verify_again():
    """Send her another verification link."""
    if EmptyForm().validate_on_submit():
        sent = mail.send_verification(get_db(), current_user.key, current_user.display_name)
        if sent:
            flash(f"We sent a link to {sent}. It works for "
                  f"{email_links.expires_text('verify')}.", "success")
        else:
            flash("Your email address is already confirmed.", "success")
    return redirect(url_for("account.settings"))
