"""Benchmark: the vlog lists as a member reads them, against a single indexed read.

Run from the project root: ``python bench/vlogs.py [--follows N] [--per-owner M] [--rounds R]``.

It builds an in-memory database (migrations, small lookup data), one reader who follows
``N`` dancers, each with ``M`` public vlogs (inserted in batches as the system), plus as many
vlogs of dancers she does not follow, and measures, as the reader, the first and a later page
of her feed (``vlog_lists.feed``), explore (``vlog_lists.explore``), explore of one style, and
as the baseline one indexed read of a single vlog card. Prints median and p99 per list and
its ratio to the baseline's median.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from surrealdb import RecordID  # noqa: E402

from idance_web.config import Config  # noqa: E402
from idance_web.db import Database  # noqa: E402
from idance_web.migrate import Runner  # noqa: E402
from idance_web.services import vlog_lists  # noqa: E402
from tests.lookup_fixture import load_small_lookup  # noqa: E402


def build(db: Database, follows: int, per_owner: int) -> None:
    with db.system() as s:
        users = [{"id": RecordID("user", f"d{n:05d}"), "email": f"d{n}@example.com",
                  "username": f"d{n:05d}", "display_name": f"Dancer {n}"}
                 for n in range(follows * 2 + 1)]
        s.query("INSERT INTO user $rows RETURN NONE", {"rows": users})
        s.query("INSERT INTO profile $rows RETURN NONE",
                {"rows": [{"owner": u["id"]} for u in users]})
        reader = users[0]["id"]
        s.query("FOR $o IN $others { RELATE $me->follow->$o RETURN NONE; }",
                {"me": reader, "others": [u["id"] for u in users[1:follows + 1]]})
        styles = ["salsa", "bachata", "argentine_tango"]
        for start in range(1, len(users), 50):
            rows = [{"owner": u["id"], "author": u["id"], "kind": "images",
                     "title": f"Vlog {i} of {u['username']}", "visibility": "public",
                     "styles": [RecordID("dance_style", styles[i % 3])], "status": "ready",
                     "published_at": None}
                    for u in users[start:start + 50] for i in range(per_owner)]
            s.query("""FOR $r IN $rows {
                    CREATE vlog CONTENT $r RETURN NONE; };
                UPDATE vlog SET published_at = time::now() WHERE published_at = NONE
                    RETURN NONE""", {"rows": rows})


def timed(call, rounds: int) -> list[float]:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1000)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--follows", type=int, default=200)
    parser.add_argument("--per-owner", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()
    config = Config(env="test", db_url="mem://", auto_migrate=False, follow_changes=False)
    db = Database(config)
    Runner(db, lookup=lambda s, log: load_small_lookup(s)).run()
    started = time.perf_counter()
    build(db, args.follows, args.per_owner)
    total = (args.follows * 2) * args.per_owner
    print(f"{total} vlogs of {args.follows * 2} dancers; she follows {args.follows} "
          f"(built in {time.perf_counter() - started:.1f} s)")
    reader = "d00000"
    later = vlog_lists.feed(db, reader).after
    explore_later = vlog_lists.explore(db, reader).after
    some = RecordID("vlog", vlog_lists.explore(db, reader).cards[0]["key"])

    def one_card():
        with db.member(reader) as s:
            s.rows(f"SELECT {vlog_lists.CARD} FROM $v", {"v": some})

    cases = {
        "one card (baseline)": one_card,
        "feed, first page": lambda: vlog_lists.feed(db, reader),
        "feed, a later page": lambda: vlog_lists.feed(db, reader, later),
        "explore, first page": lambda: vlog_lists.explore(db, reader),
        "explore, a later page": lambda: vlog_lists.explore(db, reader, "", explore_later),
        "explore, one style": lambda: vlog_lists.explore(db, reader, "salsa"),
    }
    results = {name: timed(call, args.rounds) for name, call in cases.items()}
    base = statistics.median(results["one card (baseline)"])
    print(f"{'list':24} {'median ms':>10} {'p99 ms':>8} {'× baseline':>11}")
    for name, times in results.items():
        times.sort()
        median, p99 = statistics.median(times), times[int(len(times) * 0.99) - 1]
        print(f"{name:24} {median:10.2f} {p99:8.2f} {median / base:11.1f}")
    db.close()


if __name__ == "__main__":
    main()
