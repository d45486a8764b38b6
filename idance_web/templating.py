"""Template filters and helpers shared by every page."""

from __future__ import annotations

from flask import Flask, current_app

from . import navigation
from .text import plain_text, render_markdown


def social_url(link: dict) -> str:
    """The address of a social link, from its platform's template (handles were validated)."""
    from .extensions import get_db
    from .services.options import lookup_options

    platform = lookup_options(get_db())["platforms"].get(link.get("platform"))
    if platform is None:
        return "#"
    return platform["url_template"].replace("{handle}", link.get("handle", ""))


def media_url(image: dict | None, variant: str = "medium") -> str:
    """Where a stored image variant is served from ('' when there is none)."""
    if not image:
        return ""
    variants = image.get("variants") or {}
    chosen = variants.get(variant) or next(iter(variants.values()), None)
    if not chosen:
        return ""
    return current_app.extensions["idance.storage"].url(chosen["key"])


def init_templates(app: Flask) -> None:
    """Register filters and globals on ``app``'s Jinja environment."""
    from .services.onboarding import LABELS
    from .services.profiles import LOOKING_FOR, MEASUREMENTS

    navigation.init_app(app)

    app.jinja_env.filters["markdown"] = render_markdown
    app.jinja_env.filters["plain"] = plain_text
    app.jinja_env.globals.update(
        social_url=social_url, media_url=media_url, looking_labels=LOOKING_FOR,
        measurement_labels=MEASUREMENTS, setup_labels=LABELS,
    )
