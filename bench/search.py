"""Search by name: a full-text index (BM25, edge n-grams) against prefix ranges on a B-tree.

Loads N generated members (display name and username) into a fresh in-memory engine, then
measures for each design what it costs to build and to answer:

- (a) ``DEFINE ANALYZER`` (blank/class/punct tokens, lowercase, ascii, edgengram 1–20) and two
  ``SEARCH … BM25`` indexes, on ``display_name`` and ``username``, defined over the loaded rows;
  queries ``WHERE display_name @1@ $q ORDER BY search::score(1) DESC LIMIT 20`` and the same on
  ``username``.
- (b) one ``name_key`` row per folded word of a name (and the username), ``word|user``, with a
  unique B-tree index; queries read ``key >= $q AND key < $q + '\\uffff' LIMIT 20``.

Also the cost of a write with each index in place (1,000 more members). Queries: 2-letter and
3–5-letter prefixes and whole names, 200 of each kind, as median and p99.

    python bench/search.py [--count 100000]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from surrealdb import Surreal  # noqa: E402

from idance_web.text import fold  # noqa: E402

SYLLABLES = ("ka ri na lo ma se ta mi no ra el an to lu sa vi de mo ha ju ke ni ya bo "
             "ze fa gu li ro da be co ti ne su pa yo ge ar in os us").split()
ACCENTED = {"a": "á", "e": "é", "o": "ö", "u": "ü", "i": "í"}
ANALYZER = ("DEFINE ANALYZER name_words TOKENIZERS blank, class, punct "
            "FILTERS lowercase, ascii, edgengram(1, 20)")
FULLTEXT = [
    ANALYZER,
    "DEFINE INDEX m_name ON m FIELDS display_name SEARCH ANALYZER name_words BM25",
    "DEFINE INDEX m_username ON m FIELDS username SEARCH ANALYZER name_words BM25",
]
FT_QUERY = ("SELECT id, display_name, search::score(1) AS score FROM m WHERE display_name @1@ $q "
            "ORDER BY score DESC LIMIT 20;"
            "SELECT id, username, search::score(0) AS score FROM m WHERE username @0@ $q "
            "ORDER BY score DESC LIMIT 20")
BT_QUERY = "SELECT key, member FROM name_key WHERE key >= $a AND key < $b LIMIT 20"


def make_name(rng: random.Random) -> str:
    def word(lo, hi):
        w = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(lo, hi)))
        if rng.random() < 0.1:
            i = rng.randrange(len(w))
            w = w[:i] + ACCENTED.get(w[i], w[i]) + w[i + 1:]
        return w.capitalize()

    return f"{word(1, 3)} {word(2, 4)}"


def members(count: int, seed: int = 7, start: int = 0) -> list[dict]:
    rng = random.Random(seed + start)
    out = []
    for i in range(start, start + count):
        name = make_name(rng)
        out.append({"id": f"u{i}", "display_name": name,
                    "username": fold(name).replace(" ", "_")[:24] + str(i)})
    return out


def name_keys(rows: list[dict]) -> list[dict]:
    keys = []
    for r in rows:
        words = set(fold(r["display_name"]).split()) | {r["username"]}
        keys += [{"key": f"{w}|{r['id']}", "member": r["id"]} for w in words]
    return keys


def run(db: Surreal, sql: str, variables: dict | None = None):
    res = db.query_raw(sql, variables or {})
    if "error" in res:
        raise RuntimeError(res["error"])
    for r in res["result"]:
        if r["status"] != "OK":
            raise RuntimeError(r["result"])
    return [r["result"] for r in res["result"]]


def insert(db: Surreal, table: str, rows: list[dict], batch: int = 2000) -> float:
    start = time.perf_counter()
    for i in range(0, len(rows), batch):
        run(db, f"INSERT INTO {table} $rows RETURN NONE", {"rows": rows[i:i + batch]})
    return time.perf_counter() - start


def queries(rows: list[dict], rng: random.Random) -> dict[str, list[str]]:
    words = [fold(r["display_name"]).split()[rng.randrange(2)] for r in rng.choices(rows, k=600)]
    return {
        "2 letters": [w[:2] for w in words[:200]],
        "3-5 letters": [w[:rng.randint(3, 5)] for w in words[200:400]],
        "whole name": [fold(r["display_name"]) for r in rng.choices(rows, k=200)],
    }


def timed(fn, items) -> tuple[float, float, float]:
    times, found = [], []
    for item in items:
        start = time.perf_counter()
        found.append(fn(item))
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.99) - 1], statistics.mean(found)


def fresh() -> Surreal:
    db = Surreal("mem://")
    db.use("bench", "search")
    run(db, "DEFINE TABLE m SCHEMAFULL; DEFINE FIELD display_name ON m TYPE string;"
            "DEFINE FIELD username ON m TYPE string;"
            "DEFINE TABLE name_key SCHEMAFULL; DEFINE FIELD key ON name_key TYPE string;"
            "DEFINE FIELD member ON name_key TYPE string")
    return db


def bench_fulltext(rows: list[dict], more: list[dict], asked: dict) -> None:
    db = fresh()
    print(f"(a) full-text, {len(rows):,} members; load without indexes: "
          f"{insert(db, 'm', rows):.1f} s")
    start = time.perf_counter()
    for statement in FULLTEXT:
        run(db, statement)
    print(f"    two BM25 indexes built in {time.perf_counter() - start:.1f} s")
    print(f"    {len(more):,} more members with the indexes: "
          f"{insert(db, 'm', more, 100) * 1000 / len(more):.2f} ms each")

    def full_text(q):
        a, b = run(db, FT_QUERY, {"q": q})
        return len({str(r["id"]) for r in a + b})

    for kind, items in asked.items():
        p50, p99, n = timed(full_text, items)
        print(f"    {kind:12} p50 {p50:7.2f} ms  p99 {p99:7.2f} ms  results {n:.1f}")


def bench_btree(rows: list[dict], more: list[dict], asked: dict) -> None:
    db = fresh()
    keys = name_keys(rows)
    load = insert(db, "name_key", keys)
    start = time.perf_counter()
    run(db, "DEFINE INDEX name_key_key ON name_key FIELDS key UNIQUE")
    built = time.perf_counter() - start
    print(f"(b) B-tree, {len(rows):,} members: {len(keys):,} word rows loaded in {load:.1f} s, "
          f"index built in {built:.1f} s")
    extra = name_keys(more)
    print(f"    {len(more):,} more members with the index: "
          f"{insert(db, 'name_key', extra, 100) * 1000 / len(more):.2f} ms each")

    def prefix(q):
        w = q.split()[0]  # a range answers one word: the first
        return len(run(db, BT_QUERY, {"a": w, "b": w + "\uffff"})[0])

    for kind, items in asked.items():
        p50, p99, n = timed(prefix, items)
        print(f"    {kind:12} p50 {p50:7.2f} ms  p99 {p99:7.2f} ms  results {n:.1f}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=100_000, help="members for (b)")
    parser.add_argument("--fulltext-count", type=int, default=5_000,
                        help="members for (a), whose build grows too slow for 100,000")
    args = parser.parse_args()
    for design, count in ((bench_fulltext, args.fulltext_count), (bench_btree, args.count)):
        rows = members(count)
        more = members(1000, start=count)
        design(rows, more, queries(rows, random.Random(3)))


if __name__ == "__main__":
    main()
