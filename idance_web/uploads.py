"""Turning an uploaded file into stored image variants (the view side of media.py)."""

from __future__ import annotations

import logging

from flask import current_app
from flask_login import current_user
from werkzeug.datastructures import FileStorage

from .errors import Invalid
from .media_errors import StorageError
from .forms.core import stored_image
from .media import MAX_ALT_CHARS, MediaError, ProcessedImage, process_image
from .storage import prefix_keys, save_image
from .services import quota

log = logging.getLogger(__name__)
VLOG_PREFIX = "vlog/"  # a vlog's files, served only through its checked route


def has_file(upload: FileStorage | None) -> bool:
    return bool(upload and upload.filename)


class QuotaExceeded(MediaError):
    def __init__(self, quota: int) -> None:
        size = f"{quota / 1_048_576:.1f}".removesuffix(".0")
        super().__init__(f"You have used your {size} MB of storage. Remove some pictures "
                         "before adding more.", 413)


def store_image(upload: FileStorage, alt: str) -> dict:
    """Check, re-encode and store an uploaded image; returns the record to keep.

    Raises ``media.MediaError`` (with a reason to show and an HTTP status) when refused;
    nothing is stored then.
    """
    processed = _process(upload, alt)
    _store_counted([processed])
    return processed.record()


def _store_counted(images: list[ProcessedImage]) -> list[str]:
    """Store images within the signed-in member's quota; return the keys newly written.

    The files are written first and counted after, in one step that refuses to pass the
    quota: storage that refuses a write (a full disk, an unwritable folder) leaves nothing
    counted, and a refused count removes the files this call wrote."""
    storage, config = _storage(), current_app.config["IDANCE"]
    # Variants of a small image can be the same bytes (no upscaling): one file, counted once.
    new = list({v.key: v for image in images for v in image.variants.values()
                if not storage.exists(v.key)}.values())
    written: list[str] = []
    try:
        for image in images:
            save_image(storage, image)  # each image whole or not at all
            keys = {v.key for v in image.variants.values()}
            written += [v.key for v in new if v.key in keys and v.key not in written]
    except StorageError:
        _remove(storage, written)
        log.error("media storage refused a write: free disk space or make IDANCE_MEDIA_ROOT "
                  "writable; uploads answer 503 until it can")
        raise
    db = current_app.extensions["idance.db"]
    try:
        fits = quota.record_uploads(db, current_user.key, [(v.key, v.size) for v in new],
                                    config.media_quota_bytes)
    except BaseException:
        _remove(storage, written)
        raise
    if not fits:
        _remove(storage, written)
        raise QuotaExceeded(config.media_quota_bytes)
    return [v.key for v in new]


def store_vlog_images(images: list[ProcessedImage], subject) -> list[dict]:
    """Store a vlog's pictures under ``vlog/`` keys (never served by ``/media/``), counted
    against her quota for ``subject`` even where the same bytes are stored already: the
    clean-up job removes a file only when nothing counts it. Raises ``QuotaExceeded``."""
    storage, config = _storage(), current_app.config["IDANCE"]
    for image in images:
        prefix_keys(image, VLOG_PREFIX)
    variants = list({v.key: v for image in images for v in image.variants.values()}.values())
    db = current_app.extensions["idance.db"]
    if not quota.record_uploads(db, current_user.key, [(v.key, v.size) for v in variants],
                                config.media_quota_bytes, subject=subject):
        raise QuotaExceeded(config.media_quota_bytes)
    return [save_image(storage, image) for image in images]


def process_upload(upload: FileStorage, alt: str) -> ProcessedImage:
    """Check and re-encode one uploaded image (``media.MediaError`` when refused)."""
    return _process(upload, alt)


def _storage():
    return current_app.extensions["idance.storage"]


def _process(upload: FileStorage, alt: str) -> ProcessedImage:
    return process_image(upload.stream, max_bytes=current_app.config["IDANCE"].max_image_bytes,
                         alt=alt, decoders=current_app.extensions["idance.image_decoders"])


class FormImages:
    """The image fields of one submitted form (``<name>_file``, ``<name>_alt``, ``<name>_remove``).

    ``read`` checks and re-encodes an upload but keeps it in memory; ``store`` writes the
    uploads once the rest of the form is valid, so a refused form leaves no files behind.
    """

    def __init__(self) -> None:
        self._pending: list[tuple[str, ProcessedImage]] = []  # (field name, upload)
        self._stored: list[str] = []  # keys this form wrote (not those already there)

    def read(self, field) -> dict | None:
        """What an image field (``forms.core.image_field``) holds now: None (removed), the
        stored image (with the new alt text, if any) or the record of a new upload, not
        stored yet. Raises ``media.MediaError`` for a refused file."""
        old, upload, alt = stored_image(field), field.file.data, field.alt.data or ""
        if field.remove.data:
            return None
        if has_file(upload):
            processed = _process(upload, alt)
            record = processed.record()
            self._pending.append((field.name, processed))
            return record
        if old and alt and alt != old.get("alt"):
            return {**old, "alt": alt[:MAX_ALT_CHARS]}
        return old

    def store(self) -> None:
        """Store the uploads read; ``Invalid`` (field name → reason) if one was refused, and
        nothing is kept then."""
        for name, processed in self._pending:
            try:
                # Same bytes, same key: a file already there may be another record's, not ours.
                self._stored += _store_counted([processed])
            except MediaError as exc:
                self.discard()
                raise Invalid({name: exc.reason}) from exc

    def discard(self) -> None:
        """Remove what ``store`` wrote: the form was refused after all (a taken address)."""
        _remove(_storage(), self._stored)
        self._stored.clear()


def _remove(storage, keys: list[str]) -> None:
    """Delete files a refused upload or form wrote."""
    for key in keys:
        try:
            storage.delete(key)
        except Exception:  # the refusal matters more; a leftover is only wasted space
            log.exception("could not remove %s of a refused upload", key)
