"""Request bodies larger than the app's default cap (``MAX_CONTENT_LENGTH``, an image's size),
for the views that take them: a video upload.

``limit_body`` marks a view; ``apply_body_limit`` runs before every other ``before_request``
hook, because CSRF protection and the control-character check read the form, and so the body,
before the view runs: the view's own cap must be in place by then.
"""

from __future__ import annotations

import functools
from typing import Callable

from flask import current_app, request

from .media_errors import UploadTooLarge

ATTRIBUTE = "idance_max_body"


def _limit_of(view) -> int | None:
    limit = getattr(view, ATTRIBUTE, None)
    return limit() if callable(limit) else limit


def _apply(limit: int) -> None:
    """Refuse (413) a declared length past ``limit`` before a byte is read; cap the rest."""
    if request.content_length is not None and request.content_length > limit:
        raise UploadTooLarge(f"The upload is too large: the limit is "
                             f"{limit / 1_000_000:.0f} MB.")
    # A body without Content-Length (chunked) is cut off with 413 once it passes the cap.
    request.max_content_length = limit


def limit_body(max_bytes: int | Callable[[], int]):
    """A view decorator: this view takes bodies up to ``max_bytes`` (an int, or a function
    called per request, such as one reading ``IDANCE_MAX_VIDEO_BYTES`` plus room for the
    form's other fields). A larger ``Content-Length`` is refused with 413 (``UploadTooLarge``)
    before the body is read."""

    def decorate(view):
        @functools.wraps(view)
        def limited(*args, **kwargs):
            _apply(_limit_of(limited))  # also where the app's hook is not installed
            return view(*args, **kwargs)

        setattr(limited, ATTRIBUTE, max_bytes)
        return limited

    return decorate


def apply_body_limit() -> None:
    """The ``before_request`` hook: the cap of the view about to run, if it has one."""
    view = current_app.view_functions.get(request.endpoint) if request.endpoint else None
    limit = _limit_of(view) if view is not None else None
    if limit is not None:
        _apply(limit)


def init_app(app) -> None:
    """Run ``apply_body_limit`` first among the app's ``before_request`` hooks."""
    app.before_request_funcs.setdefault(None, []).insert(0, apply_body_limit)
