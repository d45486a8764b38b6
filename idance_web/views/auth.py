"""Email/password sign-up, sign-in and sign-out."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user

from .. import mail
from ..errors import Invalid
from ..extensions import get_db, limiter
from ..forms import EmptyForm, LoginForm, SignupForm, attach_errors
from ..security import safe_next
from ..services import accounts, onboarding

bp = Blueprint("auth", __name__)


def _account_key() -> str:
    """Rate-limit key for the account a sign-in names (so one IP pool cannot hide it)."""
    return "account:" + accounts.normalize_email(request.form.get("email", ""))[:254]


def start_session(user: accounts.SessionUser) -> None:
    """Sign ``user`` in on a fresh cookie (nothing from before the sign-in survives)."""
    session.clear()
    login_user(user)


@bp.route("/signup", methods=["GET", "POST"])
@limiter.limit("10/hour", methods=["POST"])
def signup():
    """Create an account and start her set-up; errors show the form again with the input
    kept (not the password)."""
    if current_user.is_authenticated:
        return redirect("/me")
    form = SignupForm()
    if form.validate_on_submit():
        try:
            user = accounts.sign_up(get_db(), form.email.data, form.username.data,
                                    form.display_name.data, form.password.data,
                                    request.user_agent.string)
        except Invalid as exc:
            attach_errors(form, exc.fields)
        else:
            start_session(user)
            mail.send_verification(get_db(), user.key, user.display_name)
            onboarding.begin(get_db(), user.key)
            flash(f"Welcome to iDance, {user.display_name}! We sent a link to {user.email} "
                  "to confirm your address.", "success")
            return redirect(url_for("onboarding.resume"))
    form.password.data = ""
    status = 400 if request.method == "POST" else 200
    return render_template("auth/signup.html", form=form), status


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit("20/minute", methods=["POST"])
@limiter.limit("20/minute", methods=["POST"], key_func=_account_key)
def login():
    """Sign in with email and password."""
    form = LoginForm()
    target = safe_next(request.values.get("next"))
    if current_user.is_authenticated:
        return redirect(target)
    if form.validate_on_submit():
        try:
            user = accounts.sign_in(get_db(), form.email.data, form.password.data,
                                    request.user_agent.string)
        except accounts.InvalidCredentials:
            form.form_errors.append("Wrong email or password.")
        else:
            start_session(user)
            return redirect(target)
    form.next.data = target if target != "/" else ""
    status = 400 if request.method == "POST" else 200
    return render_template("auth/login.html", form=form, providers=_providers()), status


@bp.post("/logout")
def logout():
    """End this session (a POST with a CSRF token: no GET signs anyone out)."""
    form = EmptyForm()
    if form.validate_on_submit() and current_user.is_authenticated:
        accounts.end_session(get_db(), current_user._get_current_object())
    logout_user()
    session.clear()
    return redirect("/")


def _providers() -> list[str]:
    from flask import current_app

    offered = current_app.extensions.get("idance.oauth_providers")
    return list(offered or [])
