"""``/search``: dancers, groups and dance styles by name."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_login import current_user

from ..extensions import get_db, limiter
from ..services import search as search_service

bp = Blueprint("search", __name__)


@bp.get("/search")
@limiter.limit("60/minute")
def index():
    """Results for ``q``; an empty, short or odd query gets the page with a hint, never an
    error."""
    member = current_user.key if current_user.is_authenticated else None
    db = get_db()
    results = search_service.search(db, request.args.get("q"), member)
    suggested = search_service.suggested_styles(db) if results.query and results.empty else []
    return render_template("search/index.html", r=results, member=member, suggested=suggested,
                           min_chars=search_service.MIN_CHARS,
                           max_chars=search_service.MAX_CHARS)
