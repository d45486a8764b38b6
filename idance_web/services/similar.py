"""Similar dancers: the ``embed_profile`` job that keeps ``profile_embedding`` current.

Database events queue ``embed_profile`` for a member whenever what her embedding reads
changes (bio, looking-for, styles, interests, discoverability, deletion; migration ``0015``).
The job runs as the worker: it reads her public profile (the worker cannot read private
fields), embeds it outside any database session, and writes her ``profile_embedding`` row;
a member who is deleted or not discoverable has none. Running it twice is harmless: an
unchanged text is not embedded again.
"""

from __future__ import annotations

import hashlib

from .. import embeddings
from ..db import Database, key_of, record_id
from ..jobs import handler

EMBED_PROFILE = "embed_profile"

_SOURCE = """SELECT id, bio, looking_for,
        (SELECT out.name AS name, level, role FROM user_dance_style
         WHERE in = $user ORDER BY name) AS styles,
        (SELECT VALUE out.name FROM user_interest WHERE in = $user ORDER BY out.name) AS interests,
        (SELECT VALUE source FROM ONLY type::thing('profile_embedding', record::id($user)))
            AS stored
    FROM profile WHERE owner = $user AND discoverable = true LIMIT 1"""
_WRITE = """UPSERT type::thing('profile_embedding', record::id($user)) SET owner = $user,
    profile = $profile, vector = $vector, model = $model, source = $source RETURN NONE"""
_FORGET = "DELETE type::thing('profile_embedding', record::id($user)) RETURN NONE"


def model_version() -> str:
    """Names the model the vectors come from (a new model re-embeds every profile)."""
    config = embeddings.MODEL_DIR / "config.json"
    weights = embeddings.MODEL_DIR / "model.safetensors"
    digest = hashlib.sha256(config.read_bytes() + str(weights.stat().st_size).encode())
    return f"{embeddings.MODEL_DIR.name}-{digest.hexdigest()[:12]}"


def source_hash(text: str, model: str) -> str:
    return hashlib.sha256(f"{model}\n{text}".encode()).hexdigest()[:32]


@handler(EMBED_PROFILE)
def embed_profile(db: Database, payload: dict) -> str:
    """Write (or remove) the member's embedding; returns what it did: written, unchanged or
    removed."""
    user = record_id("user", key_of(payload["user"]))
    with db.worker() as s:
        row = s.one(_SOURCE, {"user": user})
    text = embeddings.profile_text(row) if row else ""
    if not text:
        with db.worker() as s:
            s.query(_FORGET, {"user": user})
        return "removed"
    model = model_version()
    source = source_hash(text, model)
    if row.get("stored") == source:
        return "unchanged"
    vector = embeddings.embed_profile(row)  # outside the session: the lock is not held
    if vector is None:
        with db.worker() as s:
            s.query(_FORGET, {"user": user})
        return "removed"
    with db.worker() as s:
        s.query(_WRITE, {"user": user, "profile": row["id"], "vector": vector, "model": model,
                         "source": source})
    return "written"


def embedding_of(db: Database, user_key: str) -> list[float] | None:
    """Her stored vector, read as the worker (None until the job has run)."""
    with db.worker() as s:
        return s.value(
            "RETURN (SELECT VALUE vector FROM ONLY type::thing('profile_embedding', $key))",
            {"key": key_of(user_key)},
        )

