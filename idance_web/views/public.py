"""Public dancer and group websites, their schedule files, sitemap and robots.txt.

Pages are served from the render cache: a hit costs no query, a conditional GET is answered
304 from it, and nothing personal is ever in a cached page (no CSRF token, no signed-in
header, no cookie; the header of a signed-in visitor is added by a script from /api/header).
"""

from __future__ import annotations

import datetime as dt
from typing import Callable, Iterable
from urllib.parse import urlsplit

from flask import (Blueprint, Response, abort, current_app, g, redirect, render_template, request,
                   session, url_for)
from flask_login import current_user

from ..blocks import REGISTRY
from ..errors import Invalid, NotFound
from ..extensions import csrf, get_db, limiter
from ..forms import ContactForm, attach_errors
from ..security import public_origin
from ..services import profiles, public_sites
from ..services import sitemap as sitemap_pages
from ..services.sitemap import Sitemap
from ..services.contact import send_contact
from ..services.ics import calendar

bp = Blueprint("public", __name__)


def _respond(entry) -> Response:
    g.public_page = True  # no session cookie, no Vary: Cookie (see security.py)
    if request.if_none_match.contains(entry.etag):
        response = Response(status=304)
    else:
        response = Response(entry.body, mimetype="text/html")
    response.set_etag(entry.etag)
    if entry.last_modified:
        response.headers["Last-Modified"] = entry.last_modified
    # Shared caches may keep the page but must ask again each time (a 304 from the render
    # cache is cheap): a page its owner took offline is gone at once, for everyone.
    response.headers["Cache-Control"] = "public, no-cache"
    return response


def visitor_page(key: tuple, build: Callable[[], tuple[str, Iterable[str]]]) -> Response | None:
    """A page every visitor sees alike, from the render cache; None for a signed-in member
    (or a visitor with a message to flash), who gets her own render.

    ``build()`` renders it and names what it shows (see ``page_cache``)."""
    if current_user.is_authenticated or session.get("_flashes"):
        return None
    cache = current_app.extensions["idance.public_cache"]
    key = ("visitor", *key)
    entry = cache.pages.get(key)
    if entry is None:
        read_at = cache.pages.generation
        html, depends_on = build()
        entry = cache.pages.put(key, html.encode(), depends_on, read_at=read_at)
    return _respond(entry)


def render_public_page(kind: str, name: str, page: str):
    """The cached response for a published page, or None when there is none."""
    cache = current_app.extensions["idance.public_cache"]
    today = dt.date.today()
    base = public_origin()
    key = (kind, name.lower(), page, today.isoformat())
    entry = cache.pages.get(key)
    if entry is None:
        read_at = cache.pages.generation
        data = public_sites.load_page(get_db(), kind, name, page, today)
        if data is None:
            return None
        path = (f"/@{data.name}" if kind == "user" else f"/g/{data.name}")
        canonical = base + path + ("" if page == "home" else f"/{page}")
        html = render_template("public/site.html", site=data, registry=REGISTRY,
                               canonical=canonical)
        entry = cache.pages.put(key, html.encode(), data.depends_on, data.published_at,
                                read_at=read_at)
    return _respond(entry)


@bp.get("/@<username>")
@bp.get("/@<username>/<page>")
def dancer(username: str, page: str = "home"):
    """A dancer's site; without a published site, her public profile."""
    response = render_public_page("user", username, page)
    if response is not None:
        return response
    if page != "home":
        raise NotFound("no such page")
    viewer = current_user.key if current_user.is_authenticated else None
    profile = profiles.public_profile(get_db(), username, viewer)
    return render_template("profile/public.html", p=profile)


@bp.get("/g/<slug>")
@bp.get("/g/<slug>/<page>")
def group(slug: str, page: str = "home"):
    """A group's published site."""
    response = render_public_page("group", slug, page)
    if response is None:
        raise NotFound("no published page")
    return response


@bp.get("/@<username>/schedule.ics")
@bp.get("/g/<slug>/schedule.ics", endpoint="group_schedule")
def schedule(username: str | None = None, slug: str | None = None):
    """The published schedule as an iCalendar file."""
    kind, name = ("user", username) if username else ("group", slug)
    title, entries = public_sites.schedule_entries(get_db(), kind, name, dt.date.today())
    if not title:
        raise NotFound("no published schedule")
    body = calendar(title, entries, uid_domain=urlsplit(public_origin()).hostname or "idance",
                    name=name)
    g.public_page = True
    return Response(body, mimetype="text/calendar", headers={
        "Content-Disposition": f'attachment; filename="{name}-schedule.ics"',
        "Cache-Control": "public, max-age=300"})


@bp.post("/@<username>/contact")
@bp.post("/g/<slug>/contact", endpoint="group_contact")
@csrf.exempt  # a visitor's form on a cached page carries no token; rate limits guard it
@limiter.limit("5/hour")
def contact(username: str | None = None, slug: str | None = None):
    """A visitor writes to the owner; the owner's email is never published."""
    kind, name = ("user", username) if username else ("group", slug)
    form = ContactForm()
    if form.website.data:  # the honeypot field people never see
        return redirect(request.path.rsplit("/", 1)[0] + "?sent=1", code=303)
    try:
        send_contact(get_db(), kind, name, form.name.data or "", form.email.data or "",
                     form.message.data or "")
    except Invalid as exc:
        # The page with the form is cached and shared: the form comes back on a page of its
        # own, with her words kept and each problem named.
        attach_errors(form, exc.fields)
        back = f"/@{name}" if kind == "user" else f"/g/{name}"
        return render_template("public/contact.html", form=form, back=back,
                               action=request.path), 400
    target = url_for("public.dancer", username=name) if kind == "user" else url_for(
        "public.group", slug=name)
    return redirect(target + "?sent=1#contact", code=303)


@bp.get("/api/header")
def header_fragment():
    """The signed-in member's header, fetched by public pages (never cached)."""
    response = Response(render_template("_partials/header.html"))
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _sitemap() -> Sitemap:
    """This app's sitemap cache (made on first use)."""
    cache = current_app.extensions.get("idance.sitemap")
    return cache if cache is not None else current_app.extensions.setdefault(
        "idance.sitemap", Sitemap())


def _xml(body: bytes) -> Response:
    g.public_page = True
    return Response(body, mimetype="application/xml",
                    headers={"Cache-Control": "public, max-age=3600"})


@bp.get("/sitemap.xml")
def sitemap():
    """The sitemap index: one numbered page per stretch of published sites."""
    base = public_origin()
    body = _sitemap().document((base, "index"), lambda: render_template(
        "public/sitemap_index.xml", base=base,
        pages=range(1, sitemap_pages.page_count(get_db()) + 1)).encode())
    return _xml(body)


@bp.get("/sitemap-<int:number>.xml")
def sitemap_page(number: int):
    """One page of the sitemap: the pages of up to ``SITES_PER_PAGE`` published sites."""
    base, cache = public_origin(), _sitemap()

    def render():
        sites = cache.page_sites(get_db(), number)
        if sites is None:
            return None
        return render_template("public/sitemap.xml", base=base, sites=sites).encode()

    body = cache.document((base, number), render)
    if body is None:
        abort(404)
    return _xml(body)


@bp.get("/robots.txt")
def robots():
    base = public_origin()
    body = "\n".join(["User-agent: *", "Disallow: /me", "Disallow: /api/", "Disallow: /login",
                      "Disallow: /signup", "Disallow: /chat", f"Sitemap: {base}/sitemap.xml", ""])
    g.public_page = True
    return Response(body, mimetype="text/plain", headers={"Cache-Control": "public, max-age=86400"})
