"""``/media/<key>``: stored image variants, served with their exact type and a long cache."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, g

from ..media_errors import MediaNotFound

VLOG_PREFIX = "vlog/"

bp = Blueprint("media", __name__)


@bp.get("/media/<path:key>")
def show(key: str):
    """One stored variant; keys are content addresses, so the file never changes.

    A key that names no file is ``MediaNotFound`` (the 404 page); storage that does not
    answer is ``StorageError`` (503). Vlog files (``vlog/…``) are served only by the vlog's
    own route, which checks who may see the vlog."""
    if key.startswith(VLOG_PREFIX):
        raise MediaNotFound("No such file.")
    stream, content_type = current_app.extensions["idance.storage"].open(key)
    g.public_page = True
    with stream:
        body = stream.read()
    return Response(body, mimetype=content_type, headers={
        "Cache-Control": "public, max-age=31536000, immutable",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; sandbox",
    })
