"""Profile embeddings: a profile as text, and that text as a normalized vector.

The model is a static (model2vec) model distilled from all-MiniLM-L6-v2 by
``bench/distill_model.py`` and kept in ``idance_web/models/dancer-static``: encoding is a
tokenizer plus a table lookup and a mean, so it loads offline, in a fraction of a second, with
no PyTorch. It runs in the worker (the ``embed_profile`` job), never in a request.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Iterable, Sequence

MODEL_DIR = Path(__file__).resolve().parent / "models" / "dancer-static"
# all-MiniLM-L6-v2 reads at most 256 word pieces; the static model reads the same, so a long
# bio weighs the same in both (the structured part comes first and is always read).
MAX_TOKENS = 256
ROLE_WORDS = {"lead": "leads", "follow": "follows", "both": "leads and follows"}

_model = None
_model_lock = threading.Lock()


def model():
    """The static model, loaded once per process."""
    global _model
    if _model is None:
        with _model_lock:
            if _model is None:
                from model2vec import StaticModel

                if not (MODEL_DIR / "model.safetensors").is_file():
                    raise RuntimeError(f"embedding model missing: {MODEL_DIR} "
                                       "(made by bench/distill_model.py)")
                _model = StaticModel.from_pretrained(MODEL_DIR, normalize=True,
                                                     max_length=MAX_TOKENS)
    return _model


def dimension() -> int:
    """The length of every vector this module returns."""
    return int(model().dim)


def _labels(codes: Iterable[str]) -> list[str]:
    from .services.profiles import LOOKING_FOR

    return [LOOKING_FOR.get(c, c.replace("_", " ")).lower() for c in codes]


def profile_text(profile: dict) -> str:
    """The text a profile is embedded from: styles with level and role, what she looks for,
    interests, then the bio.

    ``profile`` has ``bio`` (str), ``styles`` (dicts with ``name``, ``level``, ``role``),
    ``interests`` (names) and ``looking_for`` (codes); missing parts are left out.
    """
    parts = []
    styles = profile.get("styles") or []
    if styles:
        danced = [f"{s['name']} ({s['level']}, {ROLE_WORDS.get(s['role'], s['role'])})"
                  for s in styles]
        parts.append("Dances " + ", ".join(danced) + ".")
    looking = _labels(profile.get("looking_for") or [])
    if looking:
        parts.append("Looking for " + ", ".join(looking) + ".")
    interests = profile.get("interests") or []
    if interests:
        parts.append("Interests: " + ", ".join(interests) + ".")
    bio = " ".join((profile.get("bio") or "").split())
    if bio:
        parts.append(bio)
    return " ".join(parts)


def embed_texts(texts: Sequence[str]):
    """Unit vectors (a float32 numpy array, one row per text); an empty text gives zeros."""
    import numpy as np

    vectors = np.asarray(model().encode(list(texts), use_multiprocessing=False), dtype=np.float32)
    # The table is float16: normalize again at full precision.
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.divide(vectors, norms, out=np.zeros_like(vectors), where=norms > 0)


def embed_profile(profile: dict) -> list[float] | None:
    """The profile's unit vector as a list of floats, or None when it has nothing to embed."""
    text = profile_text(profile)
    if not text:
        return None
    vector = embed_texts([text])[0]
    if not vector.any():
        return None
    return [round(float(x), 6) for x in vector]
