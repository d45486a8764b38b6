"""The worker's vlog jobs: embeddings and related lists, and the clean-up of deleted media.

- ``embed_vlog`` (queued by the ``vlog_embed`` event): the vlog's styles, title and
  description embedded with the discovery model, written to ``vlog_embedding``. The worker
  sees public vlogs only, so only they are embedded and related; any other loses its row.
- ``refresh_related`` (queued once, a minute after embeddings change): each embedded vlog's
  nearest others, exact, as in ``similar.refresh_similar``.
- ``purge_media`` (queued by the ``vlog_deleted`` event a day after the deletion, and by a
  removed picture): the ``upload`` rows counted for that subject are deleted, which gives
  their bytes back to her quota, and each file nothing counts any more is removed.
"""

from __future__ import annotations

import logging

from surrealdb import RecordID

from .. import embeddings
from ..db import Database, key_of
from ..jobs import enqueue, handler
from ..storage import storage_from_config
from .similar import model_version, nearest, source_hash

log = logging.getLogger(__name__)

EMBED_VLOG = "embed_vlog"
REFRESH_RELATED = "refresh_related"
PURGE_MEDIA = "purge_media"
RELATED_KEPT = 12
REFRESH_DELAY_S = 60

_SOURCE = """SELECT id, title, body, styles.*.name AS styles,
        (SELECT VALUE source FROM ONLY type::thing('vlog_embedding', record::id($vlog))) AS stored
    FROM ONLY $vlog WHERE world_key != NONE"""
_WRITE = """UPSERT type::thing('vlog_embedding', record::id($vlog)) SET vlog = $vlog,
    vector = $vector, model = $model, source = $source RETURN NONE"""
_FORGET = "DELETE type::thing('vlog_embedding', record::id($vlog)) RETURN NONE"
_VECTORS = "SELECT record::id(id) AS key, vector FROM vlog_embedding"
_WRITE_RELATED = """FOR $r IN $rows {
        UPDATE type::thing('vlog_embedding', $r.key)
            SET related = $r.related.map(|$k| type::thing('vlog', $k)) RETURN NONE;
    }"""
_UPLOADS = "SELECT id, key FROM upload WHERE subject = $subject"
_STILL_COUNTED = "SELECT id FROM upload WHERE key = $key LIMIT 1"


def vlog_text(row: dict) -> str:
    """What a vlog is embedded from: its styles, title and description."""
    parts = []
    if row.get("styles"):
        parts.append("Dance styles: " + ", ".join(row["styles"]) + ".")
    parts.append(" ".join((row.get("title") or "").split()))
    parts.append(" ".join((row.get("body") or "").split()))
    return " ".join(p for p in parts if p)


@handler(EMBED_VLOG)
def embed_vlog(db: Database, payload: dict) -> str:
    """Write (or remove) one vlog's embedding; returns written, unchanged or removed."""
    vlog = RecordID("vlog", key_of(payload["vlog"]))
    with db.worker() as s:
        row = s.one(_SOURCE, {"vlog": vlog})
    text = vlog_text(row) if row else ""
    vector = None
    if text:
        model = model_version()
        source = source_hash(text, model)
        if row.get("stored") == source:
            return "unchanged"
        found = embeddings.embed_texts([text])[0]  # outside the session
        vector = [round(float(x), 6) for x in found] if found.any() else None
    with db.worker() as s:
        if vector is None:
            s.query(_FORGET, {"vlog": vlog})
        else:
            s.query(_WRITE, {"vlog": vlog, "vector": vector, "model": model, "source": source})
        enqueue(s, REFRESH_RELATED, {}, subject="all", delay=REFRESH_DELAY_S)
    return "removed" if vector is None else "written"


@handler(REFRESH_RELATED)
def refresh_related(db: Database, payload: dict) -> int:
    """Recompute every embedded vlog's related list; returns how many."""
    import numpy as np

    with db.worker() as s:
        rows = s.rows(_VECTORS)
    if not rows:
        return 0
    keys = [r["key"] for r in rows]
    neighbours = nearest(np.asarray([r["vector"] for r in rows], dtype=np.float32),
                         RELATED_KEPT)
    for start in range(0, len(rows), 1000):
        batch = [{"key": keys[i], "related": [keys[j] for j in neighbours[i]]}
                 for i in range(start, min(start + 1000, len(rows)))]
        with db.worker() as s:
            s.query(_WRITE_RELATED, {"rows": batch})
    return len(rows)


@handler(PURGE_MEDIA)
def purge_media(db: Database, payload: dict) -> int:
    """Give back what was counted for ``payload['subject']`` and remove the files nothing
    counts any more; returns how many files were removed. Idempotent."""
    subject = payload["subject"]
    if isinstance(subject, str):
        table, _, key = subject.partition(":")
        subject = RecordID(table, key)
    with db.worker() as s:
        rows = s.rows(_UPLOADS, {"subject": subject})
        if rows:
            s.query("DELETE $ids RETURN NONE", {"ids": [r["id"] for r in rows]})
        orphans = [k for k in dict.fromkeys(r["key"] for r in rows)
                   if not s.rows(_STILL_COUNTED, {"key": k})]
    storage = storage_from_config(db.config)
    for key in orphans:
        storage.delete(key)
    return len(orphans)


def queue_purge(db: Database, subject: RecordID, delay: float = 0) -> None:
    """Queue ``purge_media`` for ``subject`` (a removed picture's own record, say)."""
    with db.worker() as s:
        enqueue(s, PURGE_MEDIA, {"subject": subject}, subject=subject, delay=delay)
