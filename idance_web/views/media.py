"""``/media/<key>``: stored image variants, served with their exact type and a long cache;
and ``send_stored``, which serves a stored file (a video, its captions) for routes that check
who may see it first."""

from __future__ import annotations

import os

from flask import Blueprint, Response, current_app, g, redirect, request
from werkzeug.exceptions import HTTPException
from werkzeug.wsgi import wrap_file

from ..media_errors import MediaNotFound
from ..storage import guess_served_content_type

bp = Blueprint("media", __name__)
SIGNED_URL_SECONDS = 600  # long enough to start and seek a video; a new visit gets a new one
SANDBOX = "default-src 'none'; sandbox"
VIDEO_PREFIX = "vid/"  # the keys ``media.file_key`` makes for videos and captions
VLOG_PREFIX = "vlog/"  # a vlog's files (pictures, poster, video, captions)


@bp.get("/media/<path:key>")
def show(key: str):
    """One stored variant; keys are content addresses, so the file never changes.

    A key that names no file is ``MediaNotFound`` (the 404 page); storage that does not
    answer is ``StorageError`` (503). Videos, captions and every file of a vlog are never
    served here: vlogs may not be public, and their routes check first (``send_stored``)."""
    if key.startswith((VIDEO_PREFIX, VLOG_PREFIX)):
        raise MediaNotFound("No such file.")
    stream, content_type = current_app.extensions["idance.storage"].open(key)
    g.public_page = True
    with stream:
        body = stream.read()
    return Response(body, mimetype=content_type, headers={
        "Cache-Control": "public, max-age=31536000, immutable",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": SANDBOX,
    })


def send_stored(key: str, *, private: bool, max_age: int) -> Response:
    """The stored file ``key``, for a route that has checked the reader may see it.

    From a bucket: a redirect to a signed URL valid for SIGNED_URL_SECONDS (the redirect
    itself cached no longer than half of that). From local storage: the file streamed, with
    ``Range`` support (206 and ``Content-Range``, 416 for a range past the end), an ETag from
    the content address (304 on ``If-None-Match``) and ``Cache-Control: private`` when
    ``private``. MediaNotFound (404) for a key that is not stored."""
    guess_served_content_type(key)  # a string that is no key of ours never reaches storage
    storage = current_app.extensions["idance.storage"]
    scope = "private" if private else "public"
    g.public_page = not private  # a shared cache may keep it: no cookie on it
    signed = storage.signed_url(key, SIGNED_URL_SECONDS)
    if signed is not None:
        response = redirect(signed, 302)
        ttl = min(int(max_age), SIGNED_URL_SECONDS // 2)
        response.headers["Cache-Control"] = f"{scope}, max-age={ttl}"
        return response
    stream, content_type = storage.open(key)
    try:
        size = os.fstat(stream.fileno()).st_size
        response = Response(wrap_file(request.environ, stream), mimetype=content_type,
                            direct_passthrough=True)
        response.content_length = size
        response.set_etag(key.rsplit(".", 1)[0].replace("/", "-"))
        response.headers.update({
            "Cache-Control": f"{scope}, max-age={int(max_age)}",
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": SANDBOX,
        })
        return response.make_conditional(request.environ, accept_ranges=True,
                                         complete_length=size)
    except (HTTPException, OSError):  # 416 (a range past the end), or the file went away
        stream.close()
        raise
