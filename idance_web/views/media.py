"""``/media/<key>``: stored image variants, served with their exact type and a long cache."""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, g

from ..media import MediaError

bp = Blueprint("media", __name__)


@bp.get("/media/<path:key>")
def show(key: str):
    """One stored variant; keys are content addresses, so the file never changes."""
    storage = current_app.extensions["idance.storage"]
    try:
        stream, content_type = storage.open(key)
    except MediaError:
        abort(404)
    g.public_page = True
    with stream:
        body = stream.read()
    return Response(body, mimetype=content_type, headers={
        "Cache-Control": "public, max-age=31536000, immutable",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; sandbox",
    })
