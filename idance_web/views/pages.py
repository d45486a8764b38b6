"""``/``: the landing page for visitors, her home for a signed-in member."""

from __future__ import annotations

from flask import Blueprint, g, make_response, render_template
from flask_login import current_user

from ..extensions import get_db
from ..services.community import landing_overview
from ..services.home import NEARBY_KM, member_home

bp = Blueprint("pages", __name__)


@bp.get("/")
def home():
    """Visitors: featured dancers and what the community holds. A member: her home."""
    if current_user.is_authenticated:
        return _member_home()
    return render_template("pages/home.html", overview=landing_overview(get_db()))


def _member_home():
    """Her matches, unread chats, notifications, feed, dancers nearby and her site's state.

    The response is hers alone: ``private, no-store`` keeps it out of every shared and
    browser cache, and it never passes through the render cache of public pages.
    """
    home = member_home(get_db(), current_user.key)
    g.chat_unread = home.chat_unread  # the navigation's badge, counted with the page
    response = make_response(render_template(
        "pages/member_home.html", home=home, me=current_user, nearby_km=NEARBY_KM,
        notifications_unread=home.notifications_unread))
    response.headers["Cache-Control"] = "private, no-store"
    response.vary.add("Cookie")
    return response
