"""What the media pipeline refuses, each with the status it answers with."""

from __future__ import annotations

from .errors import NotFound, Refused


class MediaError(Refused):
    """A refused upload or a storage failure: ``reason`` for the member, ``status`` for HTTP."""


class UploadTooLarge(MediaError):
    status = 413


class UnsupportedImage(MediaError):
    """Not a JPEG, PNG, WebP or GIF, or damaged (422)."""


class ImageTooLarge(MediaError):
    """Too many pixels (422)."""


class ImagesBusy(MediaError):
    """No decoding thread was free in time (503)."""

    status = 503


class InvalidAlt(MediaError):
    """Missing or overlong alt text (422)."""


class MediaNotFound(MediaError, NotFound):
    status = 404


class StorageError(MediaError):
    status = 503


class VideoRefused(MediaError):
    """A refused video or caption file (``video.py``): ``reason`` for the member, ``status``
    400 (malformed), 413 (too big or too long) or 415 (not a video)."""

    status = 400
