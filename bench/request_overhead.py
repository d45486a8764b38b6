"""Benchmark: what the request log and the metrics add to each request.

Run from the project root: ``python bench/request_overhead.py [--rounds R] [--requests N]``.

It serves a static file (``/static/css/app.css``: no view work and no query, so the hooks'
share is as large as it gets) through the app's WSGI interface, in-process, with the
request-id, JSON-log and metrics hooks as built and with those four hooks removed, alternating
the two in rounds so that whatever else the machine does hits both alike. The request log
writes to a null handler. Reported: the median and p99 per request and the difference of
the medians; the last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from idance_web import create_app, metrics, request_log  # noqa: E402
from idance_web.config import Config  # noqa: E402

PATH = "/static/css/app.css"


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))]


def build(observed: bool, tmp: str):
    # env "test": no in-process job worker (it would need a migrated database).
    app = create_app(Config(env="test", db_url="mem://", auto_migrate=False,
                            rate_limits=False, follow_changes=False, media_root=tmp))
    if not observed:
        ours = {request_log.__name__, metrics.__name__}
        for hooks in (app.before_request_funcs, app.after_request_funcs):
            hooks[None] = [f for f in hooks[None] if f.__module__ not in ours]
    return app


def timed(app, requests: int) -> list[float]:
    client = app.test_client()
    out = []
    for _ in range(requests):
        start = time.perf_counter()
        response = client.get(PATH)
        response.close()
        out.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    log = logging.getLogger("idance.request")
    tmp = tempfile.TemporaryDirectory(prefix="idance-bench-")  # media root, never written
    apps = {"with hooks": build(True, tmp.name), "without": build(False, tmp.name)}
    log.handlers = [logging.NullHandler()]  # after the factory added its stderr handler
    times: dict[str, list[float]] = {name: [] for name in apps}
    for name, app in apps.items():
        timed(app, 100)  # warm-up
    for _ in range(args.rounds):
        for name, app in apps.items():
            times[name] += timed(app, args.requests)
    for name, values in times.items():
        print(f"{name:10}  median {statistics.median(values):.3f} ms  "
              f"p99 {pct(values, 99):.3f} ms  ({len(values)} requests)")
    added = statistics.median(times["with hooks"]) - statistics.median(times["without"])
    ratio = statistics.median(times["with hooks"]) / statistics.median(times["without"])
    print(f"the hooks add {added * 1000:.0f} µs per request at the median ({ratio:.2f}x)")
    print(json.dumps({"median_with_ms": round(statistics.median(times["with hooks"]), 4),
                      "median_without_ms": round(statistics.median(times["without"]), 4),
                      "p99_with_ms": round(pct(times["with hooks"], 99), 4),
                      "p99_without_ms": round(pct(times["without"], 99), 4),
                      "added_us": round(added * 1000, 1), "ratio": round(ratio, 3)}))
    tmp.cleanup()


if __name__ == "__main__":
    main()
