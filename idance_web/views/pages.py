"""The landing page."""

from __future__ import annotations

from flask import Blueprint, render_template

from ..extensions import get_db
from ..services.community import landing_overview

bp = Blueprint("pages", __name__)


@bp.get("/")
def home():
    """Featured dancers and what the community holds."""
    return render_template("pages/home.html", overview=landing_overview(get_db()))
