"""A vlog's video and captions, from the request to storage (the view side of ``video.py``).

The upload is copied to a temporary file a chunk at a time and checked by its content
(``video.probe``). A video browsers play (H.264 MP4, VP8/VP9/AV1 WebM) is remuxed at once
without metadata and with its index first, its poster frame becomes an image through the
media pipeline, and the vlog is published; any other (a phone's MOV, HEVC) is stored as it
came and the ``transcode_vlog`` job makes the MP4 and publishes the vlog. Every stored file is
counted against her quota for the vlog (``upload.subject``), so deleting the vlog gives the
bytes back.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from flask import current_app
from flask_login import current_user

from . import video
from .media import CONTENT_TYPES, MediaError, file_key, process_image
from .services import quota
from .uploads import QuotaExceeded, has_file, store_vlog_images

VIDEO_PREFIX = "vlog/vid"
SOURCE_PREFIX = "vlog/src"
CAPTION_PREFIX = "vlog/cap"


@dataclass
class PendingVideo:
    """A checked upload waiting for the rest of the form: temporary files to store or drop."""

    path: Path
    info: video.VideoInfo
    captions: str | None = None
    temporary: list[Path] = field(default_factory=list)

    def discard(self) -> None:
        for path in [self.path, *self.temporary]:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)


def _work_dir() -> str:
    root = Path(current_app.config["IDANCE"].media_root) / "incoming"
    root.mkdir(parents=True, exist_ok=True)
    return str(root)


def read_captions(upload) -> str | None:
    """The checked text of an uploaded WebVTT file (None when none was sent); VideoRefused."""
    if not has_file(upload):
        return None
    return video.check_webvtt(upload.stream.read(video.MAX_CAPTION_BYTES + 1))


def receive_video(upload) -> PendingVideo:
    """Save and probe an uploaded video; ``video.VideoRefused`` names what is wrong (and no
    file is left)."""
    config = current_app.config["IDANCE"]
    path = video.save_upload(upload.stream, _work_dir(), config.max_video_bytes)
    try:
        info = video.probe(path, max_seconds=config.max_video_seconds)
    except BaseException:
        os.unlink(path)
        raise
    return PendingVideo(path, info)


def _count(stored: list[tuple[str, int]], subject) -> None:
    config, db = current_app.config["IDANCE"], current_app.extensions["idance.db"]
    if not quota.record_uploads(db, current_user.key, stored, config.media_quota_bytes,
                                subject=subject):
        raise QuotaExceeded(config.media_quota_bytes)


def _caption_record(text: str, subject) -> tuple[dict, list[tuple[str, int, Path]]]:
    fd, name = tempfile.mkstemp(dir=_work_dir(), suffix=".vtt")
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)
    key = file_key(name, "vtt", CAPTION_PREFIX)
    return {"key": key, "lang": "en", "label": "Captions"}, [(key, os.path.getsize(name),
                                                                Path(name))]


def store_video(pending: PendingVideo, subject) -> dict:
    """Store a checked video for the vlog ``subject``; the fields ``create_vlog`` takes
    (``video``, ``poster``, ``captions``, ``status``). MediaError (a quota passed, storage
    away) leaves nothing counted but what was stored."""
    storage = current_app.extensions["idance.storage"]
    files: list[tuple[str, int, Path]] = []
    result: dict = {"captions": None}
    try:
        if pending.info.playable:
            ext = "webm" if pending.info.container == "webm" else "mp4"
            out = Path(tempfile.mkstemp(dir=_work_dir(), suffix="." + ext)[1])
            pending.temporary.append(out)
            video.remux(pending.path, out, pending.info)
            key = file_key(out, ext, VIDEO_PREFIX)
            files.append((key, out.stat().st_size, out))
            poster = process_image(video.poster_frame(out), max_bytes=64 << 20,
                                   alt="Poster frame of the video")
            result.update(video=_video_record(key, ext, pending.info), status="ready")
        else:
            ext = pending.info.container if pending.info.container in CONTENT_TYPES else "mp4"
            key = file_key(pending.path, ext, SOURCE_PREFIX)
            files.append((key, pending.path.stat().st_size, pending.path))
            poster = None
            result.update(video=None, source=key, status="processing")
        if pending.captions:
            result["captions"], caption_files = _caption_record(pending.captions, subject)
            pending.temporary += [p for _k, _s, p in caption_files]
            files += caption_files
        _count([(k, size) for k, size, _p in files], subject)
        for key, _size, path in files:
            storage.put_file(key, path, CONTENT_TYPES.get(key.rsplit(".", 1)[1],
                                                          "application/octet-stream"))
        result["poster"] = store_vlog_images([poster], subject)[0] if poster else None
        return result
    finally:
        pending.discard()


def store_captions(text: str, subject) -> dict:
    """Store a checked caption file for the vlog ``subject`` (counted); its record."""
    record, files = _caption_record(text, subject)
    try:
        _count([(k, size) for k, size, _p in files], subject)
        for key, _size, path in files:
            current_app.extensions["idance.storage"].put_file(key, path, CONTENT_TYPES["vtt"])
    finally:
        for _k, _s, path in files:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
    return record


def _video_record(key: str, ext: str, info: video.VideoInfo) -> dict:
    return {"key": key, "content_type": CONTENT_TYPES[ext], "width": info.width,
            "height": info.height, "duration": round(info.duration, 2)}


def refused(exc: MediaError) -> tuple[str, int]:
    """A refusal's reason and status, for the form."""
    return exc.reason, exc.status
