"""Benchmark: a chat's history page and unread counts, in a long chat against a short one.

Run from the project root: ``python bench/chat_history.py [--messages N] [--rounds R]``.

Builds an in-memory database (migrations, small lookup data), three adult members, two
matches: Ana and Ben's chat gets N messages (default 10,000), Ana and Cat's 50 (the baseline).
Ben and Cat have read all but the 10 newest. Then, as Ben and as Cat in turn, R rounds
(default 200) of: the newest history page (``chat.thread``), a page from a cursor in the
middle of the history, the chat list (``list_chats``) and the badge (``unread_total``).
Prints the median and p99 of each in milliseconds, and the long chat's median over the short
one's: a ratio near 1 means the cost does not grow with the history.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from surrealdb import RecordID  # noqa: E402

from idance_web.config import Config  # noqa: E402
from idance_web.db import Database  # noqa: E402
from idance_web.services import chat  # noqa: E402
from tests.fixtures.template import run_migrations  # noqa: E402

UNREAD = 10


def _setup(db: Database, long_count: int) -> dict:
    born = dt.datetime(1990, 1, 1, tzinfo=dt.UTC)
    with db.system() as s:
        for name in ("ana", "ben", "cat"):
            s.query("""CREATE type::thing('user', $u) SET email = $u + '@example.com',
                           username = $u, display_name = $u;
                       CREATE profile SET owner = type::thing('user', $u), birth_date = $b;""",
                    {"u": name, "b": born})
        for other in ("ben", "cat"):
            s.query("""RELATE user:ana->swipe->(type::thing('user', $o)) SET direction = 'like';
                       RELATE (type::thing('user', $o))->swipe->user:ana SET direction = 'like';""",
                    {"o": other})
    chats = {}
    for other, count in (("ben", long_count), ("cat", 50)):
        chat_id = RecordID("chat", [RecordID("user", "ana"), RecordID("user", other)])
        with db.system() as s:
            for start in range(0, count, 500):
                rows = [{"chat": chat_id, "author": RecordID("user", "ana" if i % 3 else other),
                         "body": f"Message {i}: see you at the social on Friday?"}
                        for i in range(start, min(count, start + 500))]
                s.query("INSERT INTO message $rows RETURN NONE", {"rows": rows})
            s.query("""LET $at = (SELECT created_at, history_key FROM message
                           WHERE history_key > <string> $c + '|' AND history_key < <string> $c + '|~'
                           ORDER BY history_key LIMIT 1 START $n)[0].created_at;
                       UPDATE type::thing('chat_state', [$c, type::thing('user', $o)])
                           SET read_at = $at;""", {"c": chat_id, "o": other, "n": UNREAD})
        chats[other] = chat.chat_key(chat_id)
    return chats


def _timed(fn, rounds: int) -> list[float]:
    fn()
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()
    db = Database(Config(env="test", db_url="mem://", auto_migrate=False, follow_changes=False,
                         secret_key="bench-secret-key-0123456789abcdef0123456789",
                         db_jwt_key="bench-db-jwt-key-0123456789abcdef0123456789"))
    run_migrations(db)
    began = time.perf_counter()
    chats = _setup(db, args.messages)
    print(f"setup: {args.messages} + 50 messages in {time.perf_counter() - began:.1f} s")
    results = {}
    for who, key in chats.items():
        middle = chat.thread(db, who, key, limit=args.messages // 2 if who == "ben" else 25)
        cursor = middle["older"]
        cases = {
            "history, newest page": lambda: chat.thread(db, who, key),
            "history, page from the middle": lambda: chat.thread(db, who, key, before=cursor),
            "chat list": lambda: chat.list_chats(db, who),
            "badge (unread_total)": lambda: chat.unread_total(db, who),
        }
        print(f"{who}: {chat.unread_total(db, who)} unread of the {UNREAD} newest messages "
              "(the others' only)")
        results[who] = {name: _timed(fn, args.rounds) for name, fn in cases.items()}
    print(f"{'':32} {'long p50':>9} {'long p99':>9} {'short p50':>9} {'short p99':>9} "
          f"{'ratio':>6}")
    for name in results["ben"]:
        long_, short = results["ben"][name], results["cat"][name]
        p = [statistics.median(long_), statistics.quantiles(long_, n=100)[98],
             statistics.median(short), statistics.quantiles(short, n=100)[98]]
        print(f"{name:32} {p[0]:9.2f} {p[1]:9.2f} {p[2]:9.2f} {p[3]:9.2f} {p[0] / p[2]:6.2f}")
    db.close()


if __name__ == "__main__":
    main()
