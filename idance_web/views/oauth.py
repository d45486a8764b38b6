"""Sign in with Google, Facebook or Apple, and link or unlink them from settings.

The sign-in transaction (state, nonce, PKCE verifier, redirect URI, next, link target) lives in
the session for Google and Facebook, whose callbacks are top-level GETs that carry the Lax
session cookie. Apple answers with a cross-site POST that carries no Lax cookie, so its
transaction has its own signed cookie scoped to the Apple callback; that callback never writes
the session unless it signs her in, or it would replace the cookie of the member linking Apple.
"""

from __future__ import annotations

import hmac
import logging
import time
from dataclasses import asdict

from flask import (
    Blueprint,
    abort,
    after_this_request,
    current_app,
    flash,
    g,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_required
from itsdangerous import BadSignature, URLSafeTimedSerializer

from .. import sign_in_providers as providers
from ..errors import Conflict, NotFound
from ..extensions import csrf, get_db, limiter
from ..forms import OAuthEmailForm, attach_errors
from ..security import public_origin, safe_next
from ..services import accounts, identities, onboarding
from ..services.identities import ProviderProfile
from .auth import start_session

bp = Blueprint("oauth", __name__)
log = logging.getLogger("idance.oauth")

TX_SECONDS = 600
APPLE_COOKIE = "idance_apple_tx"
INVALID = "Sign-in expired or invalid, try again."
APPLE_NO_COOKIE = ("Your Apple sign-in expired or was started in another browser. "
                   "Start again from the sign-in page.")


def _label(provider: str) -> str:
    return providers.LABELS.get(provider, provider.title())


def _offered() -> tuple[str, ...]:
    return tuple(current_app.extensions.get("idance.oauth_providers") or ())


def _require_offered(provider: str) -> None:
    if provider not in _offered():
        raise NotFound(f"{provider} is not offered")


def _callback_url(provider: str) -> str:
    """The redirect URI, built from the configured origin, never from request headers."""
    if provider == "apple":
        endpoint, args = "oauth.apple_callback", {}
    else:
        endpoint, args = "oauth.callback", {"provider": provider}
    return public_origin() + url_for(endpoint, **args)


def _refuse(provider: str, reason: str):
    log.warning("%s sign-in refused [%s]: %s", provider, g.get("request_id"), reason)
    abort(400, INVALID)


def _page(status: int, title: str, text: str, **extra):
    return render_template("auth/oauth_error.html", title=title, text=text, **extra), status


def _unavailable(provider: str, exc: Exception):
    log.error("%s sign-in unavailable [%s]: %s", provider, g.get("request_id"), exc)
    label = _label(provider)
    return _page(503, f"{label} sign-in unavailable",
                 f"{label} sign-in is unavailable right now. Try again later, or sign in "
                 "another way.")


# -- the transaction --------------------------------------------------------------------------

def _apple_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt="idance.oauth.apple")


def _remember(tx: dict, response):
    """Keep the transaction until the callback (Apple: its own cookie; else the session)."""
    if tx["provider"] == "apple":
        response.set_cookie(APPLE_COOKIE, _apple_serializer().dumps(tx), max_age=TX_SECONDS,
                            path=url_for("oauth.apple_callback"), secure=True, httponly=True,
                            samesite="None")
    else:
        now = time.time()
        live = [(s, t) for s, t in (session.get("oauth_tx") or {}).items() if t["exp"] > now]
        kept = dict(sorted(live, key=lambda item: item[1]["exp"])[-2:])  # a few tabs at most
        kept[tx["state"]] = tx
        session["oauth_tx"] = kept
    return response


def _take_session_tx(provider: str, state: str | None) -> dict | None:
    """The transaction ``state`` names, removed (single use), if it is this provider's."""
    pending = dict(session.get("oauth_tx") or {})
    tx = pending.pop(state, None) if state else None
    session["oauth_tx"] = pending
    if tx is None or tx["provider"] != provider or tx["exp"] < time.time():
        return None
    return tx


def _begin(provider: str, next_url: str | None, link: str | None, handoff: bool):
    redirect_uri = _callback_url(provider)
    try:
        rv = providers.begin(provider, redirect_uri)
    except providers.ProviderUnavailable as exc:
        return _unavailable(provider, exc)
    tx = {"provider": provider, "state": rv["state"], "nonce": rv.get("nonce"),
          "code_verifier": rv.get("code_verifier"), "redirect_uri": redirect_uri,
          "next": next_url, "link": link, "exp": int(time.time()) + TX_SECONDS}
    if handoff:
        # A form's redirect to another origin breaks CSP form-action 'self' in Chromium:
        # the link form lands on a page that continues to the provider instead.
        label = _label(provider)
        body, status = _page(200, f"Continue to {label}",
                             f"Continue to {label} to link it to your account.",
                             continue_url=rv["url"], continue_label=f"Continue to {label}")
        response = make_response(body, status)
    else:
        response = redirect(rv["url"])
    return _remember(tx, response)


# -- sign-in start and callbacks -----------------------------------------------------------------

@bp.get("/login/<provider>")
@limiter.limit("30/minute")
def login(provider: str):
    """Start signing in with ``provider``."""
    _require_offered(provider)
    target = safe_next(request.args.get("next"), "") or None
    if current_user.is_authenticated:
        return redirect(target or "/")
    return _begin(provider, target, None, handoff=False)


@bp.get("/auth/<provider>/callback")
@limiter.limit("30/minute")
def callback(provider: str):
    """Google and Facebook come back here with ``code`` and ``state``."""
    _require_offered(provider)
    if provider == "apple":
        _refuse(provider, "Apple answered with a GET")
    tx = _take_session_tx(provider, request.args.get("state"))
    if tx is None:
        _refuse(provider, "state missing, unknown, used or of another provider")
    return _complete(provider, tx, request.args.to_dict())


@bp.post("/auth/apple/callback")
@csrf.exempt
@limiter.limit("30/minute")
def apple_callback():
    """Apple posts ``code``, ``state`` (and ``user`` the first time) from its own page."""
    _require_offered("apple")
    path = url_for("oauth.apple_callback")

    @after_this_request
    def forget_transaction(response):
        response.delete_cookie(APPLE_COOKIE, path=path, secure=True, httponly=True,
                               samesite="None")
        return response

    raw = request.cookies.get(APPLE_COOKIE)
    if not raw:
        log.warning("apple sign-in refused [%s]: no transaction cookie", g.get("request_id"))
        abort(400, APPLE_NO_COOKIE)
    try:
        tx = _apple_serializer().loads(raw, max_age=TX_SECONDS)
    except BadSignature:
        _refuse("apple", "transaction cookie forged or expired")
    state = request.form.get("state") or ""
    if tx.get("provider") != "apple" or not hmac.compare_digest(state.encode(),
                                                                str(tx["state"]).encode()):
        _refuse("apple", "state does not match the transaction")
    return _complete("apple", tx, request.form.to_dict())


def _complete(provider: str, tx: dict, params: dict):
    try:
        profile = providers.complete(provider, tx, params)
    except providers.SignInCancelled:
        return redirect(url_for("account.settings") if tx.get("link") else url_for("auth.login"))
    except providers.SignInInvalid as exc:
        _refuse(provider, str(exc))
    except providers.ProviderUnavailable as exc:
        return _unavailable(provider, exc)
    if tx.get("link"):
        return _link(profile, tx["link"])
    return _sign_in(profile, tx.get("next"))


def _sign_in(profile: ProviderProfile, next_url: str | None):
    db = get_db()
    label = _label(profile.provider)
    known = identities.find_identity(db, profile.provider, profile.subject)
    if known is not None:
        if known.deleted:
            return _page(403, "Account deleted",
                         f"The iDance account this {label} sign-in belonged to was deleted.")
        user = accounts.open_session(db, known.user_key, profile.provider,
                                     request.user_agent.string)
        start_session(user)
        return redirect(safe_next(next_url))
    if profile.account_email is None:
        session["oauth_pending"] = {**asdict(profile), "next": next_url,
                                    "exp": int(time.time()) + TX_SECONDS}
        return redirect(url_for("oauth.email"))
    return _create_account(profile, profile.account_email, next_url)


def _email_in_use_page(provider: str):
    label = _label(provider)
    return _page(409, "This email already has an account",
                 f"An iDance account already uses the email address of your {label} account. "
                 f"Sign in with your password, then link {label} from Settings.",
                 action_url=url_for("auth.login"), action_label="Sign in with your password")


def _create_account(profile: ProviderProfile, email: str, next_url: str | None):
    """A new member for a new identity (never an existing account, even with her email),
    sent to her set-up."""
    db = get_db()
    if identities.email_in_use(db, email):
        return _email_in_use_page(profile.provider)
    try:
        key = identities.create_account(db, profile, email, profile.name)
    except identities.EmailInUse:
        return _email_in_use_page(profile.provider)
    except identities.IdentityTaken:
        _refuse(profile.provider, "identity created by a concurrent sign-in")
    user = accounts.open_session(db, key, profile.provider, request.user_agent.string)
    start_session(user)
    onboarding.begin(db, key)
    flash(f"Welcome to iDance, {user.display_name}!", "success")
    # A new member starts with her set-up wherever the sign-in began; its last page links to
    # where she was going.
    if safe_next(next_url, ""):
        session["welcome_next"] = safe_next(next_url, "")
    return redirect(url_for("onboarding.resume"))


@bp.route("/auth/email", methods=["GET", "POST"])
@limiter.limit("20/minute", methods=["POST"])
def email():
    """Ask for an email the provider did not give; the identity comes from the session."""
    pending = session.get("oauth_pending")
    if not pending or pending.get("exp", 0) < time.time():
        session.pop("oauth_pending", None)
        abort(400, INVALID)
    profile = ProviderProfile(**{k: v for k, v in pending.items() if k not in ("next", "exp")})
    form = OAuthEmailForm()
    if form.validate_on_submit():
        address = identities.usable_email(form.email.data)
        label = _label(profile.provider)
        if address is None:
            attach_errors(form, {"email": "Enter a valid email address."})
        elif identities.email_in_use(get_db(), address):
            attach_errors(form, {"email": "An iDance account already uses this email. Sign in "
                                          f"with your password, then link {label} from Settings."})
        else:
            session.pop("oauth_pending", None)
            return _create_account(profile, address, pending.get("next"))
    status = 400 if request.method == "POST" else 200
    return render_template("auth/oauth_email.html", form=form,
                           provider_label=_label(profile.provider)), status


# -- linking from settings -----------------------------------------------------------------------

def _link(profile: ProviderProfile, link_id: str):
    """Attach the identity to the member whose session started the link (still signed in)."""
    db = get_db()
    label = _label(profile.provider)
    member = accounts.load_session_user(db, link_id)
    if member is None:
        _refuse(profile.provider, "the session that started the link has ended")
    back = {"action_url": url_for("account.settings"), "action_label": "Back to settings"}
    try:
        outcome = identities.link_identity(db, member.key, profile)
    except identities.IdentityTaken:
        return _page(409, f"{label} account already linked",
                     f"This {label} account is already linked to another iDance account. "
                     "Unlink it there first.", **back)
    except Conflict:
        return _page(409, f"Another {label} account is linked",
                     f"Your iDance account is already linked to a different {label} account. "
                     "Unlink it first.", **back)
    if profile.provider != "apple":  # Apple's callback carries no session to flash into
        flash(f"{label} is linked." if outcome == "linked" else f"{label} was already linked.",
              "success")
    return redirect(url_for("account.settings") + "#providers-h")


@bp.post("/me/settings/providers/<provider>/link")
@login_required
@limiter.limit("20/minute")
def link(provider: str):
    """Start the provider's flow to link it to the signed-in member."""
    _require_offered(provider)
    if not current_user.signed_in_recently():
        flash("For your safety, sign out and sign in again before linking a provider: your "
              f"last sign-in was more than {accounts.RECENT_SIGN_IN_MINUTES} minutes ago.",
              "error")
        return redirect(url_for("account.settings"))
    linked = identities.linked_identities(get_db(), current_user.key)
    if any(row["provider"] == provider for row in linked):
        flash(f"{_label(provider)} is already linked.", "success")
        return redirect(url_for("account.settings"))
    return _begin(provider, None, current_user.get_id(), handoff=True)


@bp.post("/me/settings/providers/<provider>/unlink")
@login_required
def unlink(provider: str):
    """Unlink a provider, unless it is her last way to sign in."""
    if provider not in providers.PROVIDERS:
        raise NotFound(f"no provider {provider}")
    db = get_db()
    user = current_user._get_current_object()
    label = _label(provider)
    try:
        removed = identities.unlink_identity(db, user.key, provider,
                                             accounts.has_password(db, user))
    except identities.LastWayIn:
        flash(f"{label} is your only way to sign in, so it cannot be unlinked. "
              "Link another provider first.", "error")
    else:
        if removed:
            flash(f"{label} is unlinked.", "success")
    return redirect(url_for("account.settings"))


@bp.app_context_processor
def provider_helpers():
    """For ``account/_providers.html``: her linked providers (queried only when used)."""
    def linked_providers() -> dict:
        if not current_user.is_authenticated:
            return {}
        rows = identities.linked_identities(get_db(), current_user.key)
        return {row["provider"]: row for row in rows}

    return {"linked_providers": linked_providers, "offered_providers": _offered,
            "provider_label": _label}
