"""Benchmark: what each test pays before its first assertion, the old way and the suite's way.

Run from the project root: ``python bench/test_setup.py [rounds]`` (default 30).

Per round, in a shuffled order, on a fresh app each time:

- ``migrate``: ``create_app`` and the real migration runner on an empty ``mem://`` database
  (what every test did before);
- ``copy``: ``create_app`` and a copy of the per-process migrated template
  (``tests/fixtures/template.py``, what the ``app`` fixture does now);
- ``pages (own)`` / ``pages (shared)``: the first render of four pages by a fresh app whose
  Jinja environment compiles its templates itself, or loads them from the compiled templates
  the test process shares.

Prints median and p99 of the wall time and of the process CPU time (which a busy machine
disturbs less: the engine runs in this process, so its threads count too), and the ratio of the
new to the old median, both measured in the same run.
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from idance_web import create_app  # noqa: E402
from tests.fixtures.app import COMPILED_TEMPLATES, make_config  # noqa: E402
from tests.fixtures.template import migrate, run_migrations, template_for  # noqa: E402

PAGES = ("/signup", "/login", "/", "/groups")


def setup_with(prepare):
    def run():
        app = create_app(make_config())
        prepare(app.extensions["idance.db"])
        return app
    return run


def pages_with(shared: bool):
    def run():
        app = create_app(make_config())
        if shared:
            app.jinja_env.bytecode_cache = COMPILED_TEMPLATES
        migrate(app.extensions["idance.db"])
        client = app.test_client()
        start_wall, start_cpu = time.perf_counter(), time.process_time()
        for path in PAGES:
            assert client.get(path).status_code == 200, path
        return app, time.perf_counter() - start_wall, time.process_time() - start_cpu
    return run


def p99(values):
    return sorted(values)[min(len(values) - 1, round(0.99 * (len(values) - 1)))]


def main(rounds: int) -> None:
    template_for(make_config())  # built (and checked) once, as in a test process
    pages_with(True)()  # the shared cache holds the pages' templates
    cases = {"migrate": setup_with(run_migrations), "copy": setup_with(migrate),
             "pages (own)": pages_with(False), "pages (shared)": pages_with(True)}
    wall = {name: [] for name in cases}
    cpu = {name: [] for name in cases}
    for _ in range(rounds):
        for name in random.sample(list(cases), len(cases)):
            start_wall, start_cpu = time.perf_counter(), time.process_time()
            result = cases[name]()
            end_wall, end_cpu = time.perf_counter(), time.process_time()
            if isinstance(result, tuple):  # the page cases time their renders only
                app, w, c = result
            else:
                app, w, c = result, end_wall - start_wall, end_cpu - start_cpu
            app.extensions["idance.db"].close()
            wall[name].append(w * 1000)
            cpu[name].append(c * 1000)
    print(f"{rounds} rounds; milliseconds")
    print(f"{'case':16} {'wall median':>12} {'wall p99':>9} {'CPU median':>11} {'CPU p99':>8}")
    for name in cases:
        print(f"{name:16} {statistics.median(wall[name]):12.1f} {p99(wall[name]):9.1f} "
              f"{statistics.median(cpu[name]):11.1f} {p99(cpu[name]):8.1f}")
    median = statistics.median
    for new, old in (("copy", "migrate"), ("pages (shared)", "pages (own)")):
        print(f"{new} / {old}: wall {median(wall[new]) / median(wall[old]):.2f}, "
              f"CPU {median(cpu[new]) / median(cpu[old]):.2f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 30)
