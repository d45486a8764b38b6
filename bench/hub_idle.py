"""Benchmark: what the real-time hub costs an idle app, and how fast an in-process write reaches it.

Run from the project root: ``python bench/hub_idle.py [--seconds S] [--writes N]``.

It builds the demo community (migrations with the small lookup data, then ``load_demo``: 64
members with published sites, 6 groups) in a temporary ``surrealkv://`` database, starts the
app's hub as the serving process would, leaves the app idle for ``--seconds`` and reports the
share of wall time the hub's thread spent polling, with the poll's median and p99. As a
baseline in the same run it times the follower the hub replaced: a hub sign-in and eight
``SHOW CHANGES FOR TABLE … LIMIT 1000000000`` per poll, cursors kept as it kept them.

Then, for ``--writes`` in-process writes (a demo member's bio, which her cached pages show),
it times what a state-changing request adds before its response: ``hub.sync()``, from the end
of the write to her page dropped from the render cache.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from surrealdb import RecordID  # noqa: E402

from idance_web import create_app  # noqa: E402
from idance_web.config import Config  # noqa: E402
from idance_web.migrate import Runner  # noqa: E402
from idance_web.page_cache import FOLLOWED  # noqa: E402
from idance_web.demo import load_demo  # noqa: E402
from tests.lookup_fixture import load_small_lookup  # noqa: E402

PAGE = "/@ana-dubois"
MEMBER = "demo_000"


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))]


def old_follower_polls(db, polls: int) -> list[float]:
    """The replaced follower's poll: a hub sign-in (argon2) and eight per-table statements."""
    since: dict[str, int] = {}
    times = []
    for _ in range(polls):
        db._hub_token = None  # it signed in with the password on every poll
        with db.system():  # and found the connection at rest, as it always did
            pass
        start = time.perf_counter()
        with db.hub() as s:
            tables = list(FOLLOWED)
            results = s.query("".join(
                f"SHOW CHANGES FOR TABLE {t} SINCE {since.get(t, 0)} LIMIT 1000000000;"
                for t in tables))
        for table, rows in zip(tables, results):
            for row in rows or []:
                since[table] = (row["versionstamp"] >> 16) + 1
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="idle time (default 60)")
    parser.add_argument("--writes", type=int, default=100, help="in-process writes to time")
    parser.add_argument("--baseline-polls", type=int, default=20)
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="idance-bench-hub-"))
    config = Config(env="development", db_url=f"surrealkv://{tmp / 'idance.db'}",
                    media_root=str(tmp / "media"), auto_migrate=False, rate_limits=False)
    app = create_app(config)
    db, hub = app.extensions["idance.db"], app.extensions["idance.hub"]
    cache = app.extensions["idance.public_cache"]
    try:
        began = time.perf_counter()
        Runner(db, lookup=lambda s, log: load_small_lookup(s)).run(log=lambda m: None)
        load_demo(db, config)
        print(f"demo community built in {time.perf_counter() - began:.1f} s")

        baseline = old_follower_polls(db, args.baseline_polls)

        began = time.perf_counter()
        hub.start()
        started_ms = (time.perf_counter() - began) * 1000
        time.sleep(args.seconds)
        idle = hub.stats()

        client = app.test_client()
        bio = "UPDATE profile SET bio = $bio WHERE owner = $me"
        latencies, queries = [], []
        for i in range(args.writes):
            assert client.get(PAGE).status_code == 200
            assert any(k[1] == PAGE[2:] for k in cache.pages._entries), "page not cached"
            with db.member(MEMBER) as s:
                s.query(bio, {"bio": f"Bio number {i}", "me": RecordID("user", MEMBER)})
            before = db.query_count
            start = time.perf_counter()
            hub.sync()
            latencies.append(time.perf_counter() - start)
            queries.append(db.query_count - before)
            assert not any(k[1] == PAGE[2:] for k in cache.pages._entries), "page not dropped"
        hub.stop()
    finally:
        hub.stop()
        db.close()
        shutil.rmtree(tmp, ignore_errors=True)

    print(f"\nhub start (cursor placed at the present): {started_ms:.1f} ms")
    print(f"idle {args.seconds:g} s: {idle['polls']} polls, "
          f"{idle['busy_share'] * 100:.3f} % of wall time inside polls "
          f"({idle['cpu_share'] * 100:.3f} % in CPU time), "
          f"poll p50 {idle['poll_p50_ms']:.2f} ms, p99 {idle['poll_p99_ms']:.2f} ms")
    b50, b99 = statistics.median(baseline) * 1000, pct(baseline, 99) * 1000
    print(f"baseline, the replaced follower's poll (every 0.5 s): p50 {b50:.2f} ms, "
          f"p99 {b99:.2f} ms = {b50 / 500 * 100:.1f} % of wall time; "
          f"the hub's poll is {b50 / idle['poll_p50_ms']:.0f}x cheaper")
    print(f"in-process write to dropped page (hub.sync) over {len(latencies)} writes: "
          f"p50 {statistics.median(latencies) * 1000:.2f} ms, "
          f"p99 {pct(latencies, 99) * 1000:.2f} ms, {statistics.median(queries):g} query")


if __name__ == "__main__":
    main()
