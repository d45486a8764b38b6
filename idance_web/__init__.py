"""iDance: a home on the web for dancers."""

from __future__ import annotations

import logging
import math
import time
from urllib.parse import urlsplit, urlunsplit

from flask import Flask, g, render_template, request

from . import config as config_module
from .config import Config
from .db import Database, DatabaseError, DatabaseUnavailable, DataUnwritable
from .errors import AppError, NotAllowed, NotFound, Refused
from .extensions import csrf, limiter, login_manager
from .security import safe_next

__version__ = "0.1.0"


def create_app(config: Config | None = None) -> Flask:
    """Build the app. Without ``config`` settings come from ``IDANCE_*`` variables."""
    app = Flask(__name__, template_folder="../templates", static_folder="../static")
    configure_settings(app, config)
    configure_observability(app)
    configure_database(app)
    configure_extensions(app)
    configure_security(app)
    configure_templates(app)
    configure_blueprints(app)
    configure_jobs(app)
    configure_live(app)
    configure_errors(app)
    configure_cli(app)
    return app


def configure_settings(app: Flask, config: Config | None) -> None:
    if config is None:
        from dotenv import load_dotenv

        load_dotenv(override=False)
        config = config_module.from_env()
    config.validate()
    app.config["IDANCE"] = config
    app.config.update(
        SECRET_KEY=config.secret_key,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=config.is_production,
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_SECURE=config.is_production,
        MAX_CONTENT_LENGTH=config.max_image_bytes + 64 * 1024,
        WTF_CSRF_TIME_LIMIT=None,
        TESTING=config.env == "test",
        RATELIMIT_ENABLED=config.rate_limits,
        RATELIMIT_STORAGE_URI=config.rate_limit_storage,
        RATELIMIT_KEY_PREFIX=f"idance-{config.database}",  # environments may share one store
        # A shared store that stops answering: count in process memory until it is back,
        # rather than fail every limited request.
        RATELIMIT_IN_MEMORY_FALLBACK_ENABLED=True,
    )
    if config.trusted_proxies:
        from werkzeug.middleware.proxy_fix import ProxyFix

        # The host is never taken from a forwarded header: redirect URIs use IDANCE_PUBLIC_URL.
        n = config.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=0)


def configure_observability(app: Flask) -> None:
    from . import metrics, request_log

    request_log.init_app(app)  # first: its hooks time every other one
    metrics.init_app(app)


def configure_database(app: Flask) -> None:
    from .media import Decoders
    from .storage import storage_from_config
    from .member_cache import MemberCache
    from .page_cache import PublicCache
    from .realtime import Hub

    db = app.extensions["idance.db"] = Database(app.config["IDANCE"])
    app.extensions["idance.storage"] = storage_from_config(app.config["IDANCE"])
    # Built here, started only by the serving process (realtime.start_hub).
    hub = app.extensions["idance.hub"] = Hub(db)
    hub.init_app(app)
    app.extensions["idance.public_cache"] = PublicCache(hub)
    app.extensions["idance.member_cache"] = MemberCache(hub, db)
    # One app per process: its decoding threads bound how many uploads decode at once.
    app.extensions["idance.image_decoders"] = Decoders(app.config["IDANCE"].image_decoders)


def configure_extensions(app: Flask) -> None:
    from . import body_limits
    from .sign_in_providers import registry

    csrf.init_app(app)
    body_limits.init_app(app)  # first of the hooks: the CSRF check reads the body
    login_manager.init_app(app)
    limiter.init_app(app)
    registry.init_app(app)  # registers the configured sign-in providers


def configure_security(app: Flask) -> None:
    from .security import init_security

    init_security(app)


def configure_templates(app: Flask) -> None:
    from .templating import init_templates

    init_templates(app)


def configure_blueprints(app: Flask) -> None:
    from .views import (account, auth, chat, discover, events, groups, health, media,
                        notifications, oauth, onboarding, pages, password, profile, public,
                        search, site_editor, vlog_actions, vlogs)

    for blueprint in (pages.bp, health.bp, auth.bp, password.bp, account.bp, profile.bp,
                      onboarding.bp, oauth.bp, public.bp, media.bp, groups.bp, discover.bp,
                      chat.bp, notifications.bp, search.bp, events.bp, vlogs.bp,
                      vlog_actions.bp):
        app.register_blueprint(blueprint)
    site_editor.register(app)  # her own site's editor, and a group's


def configure_errors(app: Flask) -> None:
    log = logging.getLogger("idance")

    @app.errorhandler(DatabaseUnavailable)
    def database_unavailable(exc):
        if isinstance(exc, DataUnwritable):
            log.error("database cannot write its data: free disk space or make the data "
                      "directory writable; pages answer 503 until it can [%s]: %s",
                      g.get("request_id"), exc)
        else:
            log.error("database unavailable [%s]: %s", g.get("request_id"), exc)
        if "_login_user" not in g:
            # Her session could not be read: the page is rendered for a visitor rather than
            # ask the database again from inside the error page.
            g._login_user = login_manager.anonymous_user()
        return app_response(_render_error(503, retry_after=exc.retry_after), 503, exc)

    @app.errorhandler(DatabaseError)
    def database_error(exc):
        # The engine's text names fields and records: it goes to the log, never the page.
        log.error("database error [%s] %s: %s", g.get("request_id"), request.path, exc)
        return _render_error(500), 500

    @app.errorhandler(AppError)
    def app_error(exc):
        # NotFound and NotAllowed are the 404 and 403 pages; another refusal a view left to
        # this handler is logged. Only a Refused reason is written for the person.
        code = exc.status if exc.status in ERROR_TEXT else 400
        if not isinstance(exc, (NotFound, NotAllowed)):
            log.warning("%s [%s] %s: %s", type(exc).__name__, g.get("request_id"), request.path,
                        exc)
        shown = exc.reason if isinstance(exc, Refused) else None
        return _render_error(code, shown), code

    for code in (400, 403, 404, 405, 413, 422, 429, 500):
        app.register_error_handler(code, _error_page(code))


ERROR_TEXT = {
    400: ("Bad request", "The request could not be understood. Go back and try again."),
    403: ("Not allowed", "You are not allowed to do that."),
    404: ("Not found", "There is nothing here. The page may have moved or been unpublished."),
    405: ("Not allowed", "That method is not allowed here."),
    409: ("Changed meanwhile", "That was changed meanwhile. Go back, reload and try again."),
    413: ("Too large", "That upload is too large."),
    415: ("Not accepted", "That kind of file is not accepted here."),
    422: ("Cannot process", "That input could not be processed."),
    429: ("Slow down", "Too many attempts in a short time."),
    500: ("Something went wrong", "Something went wrong on our side. It has been logged."),
    503: ("Unavailable", "iDance is briefly unavailable. Try again in a moment."),
}


def _render_error(code: int, description: str | None = None, retry_after: int | None = None) -> str:
    title, text = ERROR_TEXT[code]
    g.error_page = True  # the navigation's counts are left out: an error page reads nothing
    return render_template(
        "errors/error.html", code=code, title=title, text=description or text,
        request_id=g.get("request_id"),
        back=_way_back(), retry_after=retry_after,
    )


def _way_back() -> str | None:
    """The page she came from, when it is on this site and not this very page."""
    referrer = request.referrer
    if not referrer:
        return None
    parts = urlsplit(referrer)
    if parts.scheme not in ("http", "https") or parts.netloc != request.host:
        return None
    target = safe_next(urlunsplit(("", "", parts.path, parts.query, "")), default="")
    if not target or target == request.full_path.rstrip("?"):
        return None
    return target


def _retry_after(exc) -> int | None:
    """Seconds until the breached limit lets her in again (the same figure the limiter
    writes into ``Retry-After``), or None when no limit is known."""
    seconds = getattr(exc, "retry_after", None)
    if seconds:
        return int(seconds)
    current = limiter.current_limit
    if current is None or not current.breached:
        return None
    return max(1, math.ceil(current.reset_at - time.time()))


def _error_page(code: int):
    def handler(exc):
        # Only descriptions the app wrote itself are shown (abort(400, "…")).
        description = getattr(exc, "description", None) if code in (400, 422, 429) else None
        default = getattr(type(exc), "description", None)
        shown = description if description and description != default else None
        original = getattr(exc, "original_exception", None)
        if code == 500 and original is not None:
            # Flask logged the traceback just before; this line ties it to the page's id.
            logging.getLogger("idance").error("server error [%s] %s: %s", g.get("request_id"),
                                              request.path, type(original).__name__)
        retry = _retry_after(exc) if code == 429 else None
        return app_response(_render_error(code, shown, retry), code, exc)

    return handler


def app_response(body: str, code: int, exc):
    from flask import make_response

    response = make_response(body, code)
    retry = getattr(exc, "retry_after", None)
    if retry:
        response.headers["Retry-After"] = str(retry)
    # A 405 names the methods the URL does answer (RFC 9110 requires Allow).
    allowed = getattr(exc, "valid_methods", None)
    if allowed:
        response.headers["Allow"] = ", ".join(allowed)
    return response


def configure_jobs(app: Flask) -> None:
    from .job_handlers import init_app

    init_app(app)  # the in-process worker, started by the first request (embedded engine)


def configure_live(app: Flask) -> None:
    from .live import init_app

    init_app(app)  # the /events streams and their fan-out (fed by the hub)


def configure_cli(app: Flask) -> None:
    from .cli import register

    register(app)
