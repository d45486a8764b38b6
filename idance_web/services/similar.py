"""Similar dancers: embeddings kept by the worker, and each member's nearest ones.

Database events queue ``embed_profile`` for a member whenever what her embedding reads
changes (bio, looking-for, styles, interests, discoverability, deletion; migration ``0015``).
The job runs as the worker: it reads her public profile (the worker cannot read private
fields), embeds it outside any database session, and writes her ``profile_embedding`` row;
a member who is deleted or not discoverable has none. Running it twice is harmless: an
unchanged text is not embedded again.

"Similar dancers" reads a list: ``profile_embedding.similar`` holds each member's
``NEIGHBOURS`` most similar members, nearest first, computed exactly (every vector against
every other, in numpy) by the ``refresh_similar`` job. Embedding jobs queue that job with a
delay, once: a burst of profile changes costs one refresh. Measured against an HNSW index on
the vectors in ``bench/discovery.py`` (docs/architecture.md): the list is exact and a single
record read, and no index slows the embedding writes.
"""

from __future__ import annotations

import hashlib

from surrealdb import RecordID

from .. import embeddings
from ..db import Database, key_of, record_id
from ..jobs import batch_handler, handler

EMBED_PROFILE = "embed_profile"
REFRESH_SIMILAR = "refresh_similar"
NEIGHBOURS = 50  # kept per member: room for the ones a page leaves out (blocked, swiped)
REFRESH_DELAY_S = 60
_BLOCK = 2048  # rows per matrix product: bounds memory at 2048 x members floats

_SOURCE = """SELECT id, owner, bio, looking_for,
        (SELECT out.name AS name, level, role FROM user_dance_style
         WHERE in = $user ORDER BY name) AS styles,
        (SELECT VALUE out.name FROM user_interest WHERE in = $user ORDER BY out.name) AS interests,
        (SELECT VALUE source FROM ONLY type::thing('profile_embedding', record::id($user)))
            AS stored
    FROM profile WHERE owner = $user AND discoverable = true LIMIT 1"""
_WRITE = """UPSERT type::thing('profile_embedding', record::id($user)) SET owner = $user,
    profile = $profile, vector = $vector, model = $model, source = $source RETURN NONE"""
_FORGET = "DELETE type::thing('profile_embedding', record::id($user)) RETURN NONE"
_WRITE_ALL = """INSERT INTO profile_embedding $rows ON DUPLICATE KEY UPDATE owner = $input.owner,
    profile = $input.profile, vector = $input.vector, model = $input.model,
    source = $input.source RETURN NONE"""
_FORGET_ALL = "DELETE $ids RETURN NONE"
_WRITE_SIMILAR = """FOR $r IN $rows {
        UPDATE type::thing('profile_embedding', $r.key)
            SET similar = $r.similar.map(|$k| type::thing('user', $k)) RETURN NONE;
    }"""


def model_version() -> str:
    """Names the model the vectors come from (a new model re-embeds every profile)."""
    config = embeddings.MODEL_DIR / "config.json"
    weights = embeddings.MODEL_DIR / "model.safetensors"
    digest = hashlib.sha256(config.read_bytes() + str(weights.stat().st_size).encode())
    return f"{embeddings.MODEL_DIR.name}-{digest.hexdigest()[:12]}"


def source_hash(text: str, model: str) -> str:
    return hashlib.sha256(f"{model}\n{text}".encode()).hexdigest()[:32]


def _changed(db: Database) -> None:
    from ..jobs import enqueue

    with db.worker() as s:
        enqueue(s, REFRESH_SIMILAR, {}, subject="all", delay=REFRESH_DELAY_S)


@handler(EMBED_PROFILE)
def embed_profile(db: Database, payload: dict) -> str:
    """Write (or remove) the member's embedding; returns what it did: written, unchanged or
    removed. A change queues ``refresh_similar``."""
    outcome = _embed_one(db, payload)
    if outcome != "unchanged":
        _changed(db)
    return outcome


def _embed_one(db: Database, payload: dict) -> str:
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



@batch_handler(EMBED_PROFILE)
def embed_profiles(db: Database, payloads: list[dict]) -> dict[str, int]:
    """``embed_profile`` for many members: one read, one encode call, one write."""
    users = list({key_of(p["user"]): record_id("user", key_of(p["user"])) for p in payloads}
                 .values())
    # One statement per member in one round trip (the same indexed read as the single job).
    sql = ";\n".join(_SOURCE.replace("$user", f"$u{i}") for i in range(len(users)))
    with db.worker() as s:
        results = s.query(sql, {f"u{i}": user for i, user in enumerate(users)})
    model = model_version()
    todo, forget, unchanged = [], [], 0
    for user, rows in zip(users, results):
        row = rows[0] if rows else None
        text = embeddings.profile_text(row) if row else ""
        if not text:
            forget.append(user)
            continue
        source = source_hash(text, model)
        if row.get("stored") == source:
            unchanged += 1
            continue
        todo.append((user, row, text, source))
    vectors = embeddings.embed_texts([text for _u, _r, text, _s in todo]) if todo else []
    rows = []
    for (user, row, _text, source), vector in zip(todo, vectors):
        if not vector.any():
            forget.append(user)
            continue
        rows.append({"id": RecordID("profile_embedding", key_of(user)), "owner": user,
                     "profile": row["id"], "vector": [round(float(x), 6) for x in vector],
                     "model": model, "source": source})
    with db.worker() as s:
        if rows:
            s.query(_WRITE_ALL, {"rows": rows})
        if forget:
            s.query(_FORGET_ALL, {"ids": [RecordID("profile_embedding", key_of(u))
                                          for u in forget]})
    if rows or forget:
        _changed(db)
    return {"written": len(rows), "removed": len(forget), "unchanged": unchanged}


def nearest(vectors, k: int):
    """Each row's ``k`` most similar other rows (indexes, most similar first); exact."""
    import numpy as np

    k = min(k, len(vectors) - 1)
    out = np.empty((len(vectors), max(k, 0)), dtype=np.int64)
    if k <= 0:
        return out
    for start in range(0, len(vectors), _BLOCK):
        sims = vectors[start:start + _BLOCK] @ vectors.T
        rows = np.arange(len(sims))
        sims[rows, start + rows] = -np.inf  # not herself
        top = np.argpartition(-sims, k - 1, axis=1)[:, :k]
        order = np.argsort(-np.take_along_axis(sims, top, axis=1), axis=1, kind="stable")
        out[start:start + _BLOCK] = np.take_along_axis(top, order, axis=1)
    return out


@handler(REFRESH_SIMILAR)
def refresh_similar(db: Database, payload: dict) -> int:
    """Recompute every member's ``similar`` list from all embeddings; returns how many."""
    import numpy as np

    # Keys travel as strings: the SDK encodes and decodes record ids in pure Python, ten
    # times slower than strings (measured); the database turns them back into ids.
    with db.worker() as s:
        rows = s.rows("SELECT record::id(id) AS key, vector FROM profile_embedding")
    if not rows:
        return 0
    keys = [r["key"] for r in rows]
    vectors = np.asarray([r["vector"] for r in rows], dtype=np.float32)
    neighbours = nearest(vectors, NEIGHBOURS)
    for start in range(0, len(rows), 1000):
        batch = [{"key": keys[i], "similar": [keys[j] for j in neighbours[i]]}
                 for i in range(start, min(start + 1000, len(rows)))]
        with db.worker() as s:
            s.query(_WRITE_SIMILAR, {"rows": batch})
    return len(rows)


def similar_query(user, limit: int = 20) -> tuple[str, dict]:
    """SurrealQL for her most similar members (user ids, most similar first)."""
    return ("SELECT VALUE array::slice(similar, 0, $limit) FROM ONLY "
            "type::thing('profile_embedding', record::id($user))",
            {"user": user, "limit": max(1, min(int(limit), NEIGHBOURS))})


def similar_dancers(session, user, limit: int = 20) -> list:
    """Her most similar members' user ids, read on ``session`` (the caller's identity)."""
    sql, vars = similar_query(user, limit)
    return session.value(sql, vars) or []
