"""Backup, verify and restore of the demo community on embedded ``surrealkv://`` files.

Builds the demo (migrations with the full lookup data, then ``idance demo``) in a temporary
data file, then times ``write_backup`` (and the write pause inside it, during which the
connection serves nothing else), ``verify`` (a restore into ``mem://`` and the comparison) and
a restore into a second, empty data file. Prints rows, bytes and seconds; a JSON line last.

    python bench/backup.py [--dir /var/lib/idance]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from idance_web.backup import restore, verify, write_backup  # noqa: E402
from idance_web.config import Config  # noqa: E402
from idance_web.db import Database  # noqa: E402
from idance_web.demo import load_demo  # noqa: E402
from idance_web.migrate import Runner  # noqa: E402
from idance_web.services.lookup import load_lookup  # noqa: E402


def timed(function, *args, **kwargs):
    started = time.perf_counter()
    result = function(*args, **kwargs)
    return result, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dir", default=os.path.join(os.path.dirname(__file__), "..", "instance"))
    args = parser.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=args.dir, prefix="idance-backup-bench-") as tmp:
        config = Config(db_url=f"surrealkv://{tmp}/source.db", media_root=f"{tmp}/media")
        source = Database(config)
        Runner(source, lookup=load_lookup).run(log=lambda m: None)
        load_demo(source, config)
        path = f"{tmp}/demo.backup"
        manifest, backup_s = timed(write_backup, source, path)
        source.close()
        rows = sum(t["rows"] for t in manifest["tables"].values())
        _, verify_s = timed(verify, path, config)
        target = Database(config.with_overrides(db_url=f"surrealkv://{tmp}/target.db",
                                                media_root=f"{tmp}/media2"))
        _, restore_s = timed(restore, target, path)
        target.close()
        figures = {"rows": rows, "tables": len(manifest["tables"]),
                   "bytes": os.path.getsize(path), "backup_s": round(backup_s, 2),
                   "write_pause_s": manifest["write_pause_seconds"],
                   "verify_s": round(verify_s, 2), "restore_s": round(restore_s, 2)}
    print(f"{rows} rows in {figures['tables']} tables, {figures['bytes'] / 1e6:.1f} MB: "
          f"backup {backup_s:.1f} s (writes paused {figures['write_pause_s']:.1f} s), "
          f"verify {verify_s:.1f} s, restore into a data file {restore_s:.1f} s "
          f"({rows / restore_s:.0f} rows/s)")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
