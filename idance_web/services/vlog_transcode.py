"""The ``transcode_vlog`` job: a video browsers cannot play (a phone's MOV, HEVC) becomes an
H.264 MP4 with a poster, and the vlog is published.

The worker has no right on vlogs: it writes its result into ``vlog_processed``, whose event
publishes the vlog (or marks it ``failed``). The new files are counted against the author's
quota for the vlog, and the uploaded original is removed with its count.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from surrealdb import RecordID

from .. import video
from ..db import Database, key_of
from ..jobs import enqueue, handler
from ..media import MediaError, file_key, process_image
from ..storage import save_image, storage_from_config

TRANSCODE_VLOG = "transcode_vlog"
VIDEO_PREFIX = "vlog/vid"

_RESULT = """BEGIN TRANSACTION;
    FOR $row IN $uploads {
        CREATE upload SET owner = $author, key = $row.key, bytes = $row.bytes, subject = $vlog
            RETURN NONE;
    };
    IF $error = NONE { DELETE upload WHERE subject = $vlog AND key = $source RETURN NONE; };
    UPSERT type::thing('vlog_processed', record::id($vlog)) SET vlog = $vlog, video = $video,
        poster = $poster, error = $error RETURN NONE;
    COMMIT TRANSACTION;"""
_STILL_COUNTED = "SELECT id FROM upload WHERE key = $key LIMIT 1"


def queue_transcode(db: Database, vlog: RecordID, source: str, author_key: str) -> None:
    """Queue the transcode of the vlog's uploaded original ``source``."""
    with db.worker() as s:
        enqueue(s, TRANSCODE_VLOG, {"vlog": str(vlog.id), "source": source,
                                    "author": author_key}, subject=vlog)


@handler(TRANSCODE_VLOG)
def transcode_vlog(db: Database, payload: dict) -> str:
    """Transcode, store, count and publish; returns ``ready`` or ``failed`` (a file the
    decoder refuses fails the vlog, not the job: retrying would refuse it again)."""
    config = db.config
    storage = storage_from_config(config)
    vlog = RecordID("vlog", key_of(payload["vlog"]))
    source = payload["source"]
    uploads, record, poster, error = [], None, None, None
    with tempfile.TemporaryDirectory(prefix="transcode-") as tmp:
        original, out = Path(tmp) / "original", Path(tmp) / "out.mp4"
        stream, _type = storage.open(source)
        with stream, open(original, "wb") as copy:
            shutil.copyfileobj(stream, copy, 1 << 20)
        try:
            video.transcode_h264(original, out)
            info = video.probe(out, max_seconds=config.max_video_seconds)
            frame = video.poster_frame(out)
        except MediaError as exc:
            error = exc.reason
        else:
            key = file_key(out, "mp4", VIDEO_PREFIX)
            storage.put_file(key, out, "video/mp4")
            record = {"key": key, "content_type": "video/mp4", "width": info.width,
                      "height": info.height, "duration": round(info.duration, 2)}
            uploads.append({"key": key, "bytes": out.stat().st_size})
            processed = process_image(frame, max_bytes=64 << 20, alt="Poster frame of the video")
            poster = save_image(storage, processed, prefix="vlog/")
            uploads += [{"key": v.key, "bytes": v.size} for v in processed.variants.values()]
    with db.worker() as s:
        s.query(_RESULT, {"uploads": uploads, "author": RecordID("user", payload["author"]),
                          "vlog": vlog, "source": source, "video": record, "poster": poster,
                          "error": error})
        orphan = not s.rows(_STILL_COUNTED, {"key": source})
    if orphan and error is None:
        storage.delete(source)
    return "failed" if error else "ready"
