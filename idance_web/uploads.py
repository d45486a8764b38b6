"""Turning an uploaded file into stored image variants (the view side of media.py)."""

from __future__ import annotations

from flask import current_app
from werkzeug.datastructures import FileStorage

from .media import process_image, save_image


def has_file(upload: FileStorage | None) -> bool:
    return bool(upload and upload.filename)


def store_image(upload: FileStorage, alt: str) -> dict:
    """Check, re-encode and store an uploaded image; returns the record to keep.

    Raises ``media.MediaError`` (with a message to show and an HTTP status) when refused;
    nothing is stored then.
    """
    config = current_app.config["IDANCE"]
    processed = process_image(upload.stream, max_bytes=config.max_image_bytes, alt=alt)
    return save_image(current_app.extensions["idance.storage"], processed)
