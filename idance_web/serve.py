"""``idance serve``: gunicorn with settings that fit the database.

The embedded engine keeps its data in a file one process owns (two processes writing one
file break its unique indexes), so it is served by one gunicorn worker with threads; the
thread count comes from ``gunicorn.conf.py``, which sizes it for pages and open live streams.
A SurrealDB server (``ws://``, ``wss://``, ``http(s)://``) has no such owner: several workers
may serve it, one per core by default.
"""

from __future__ import annotations

import os
import runpy
import sys
from dataclasses import dataclass
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

PROJECT_ROOT = Path(__file__).resolve().parent.parent
GUNICORN_CONF = PROJECT_ROOT / "gunicorn.conf.py"
APP_SPEC = "idance_web:create_app()"  # a factory call: gunicorn needs no app.py in its cwd
SERVER_SCHEMES = ("ws://", "wss://", "http://", "https://")
DEFAULT_BIND = "127.0.0.1:8000"
# glibc gives threads arenas of their own (up to 8 per core), and the free memory scattered over
# them grows a long-running worker that writes: measured in docs/architecture.md, "Memory over
# a long run". An operator's own value is kept.
ALLOCATOR_ENV = {"MALLOC_ARENA_MAX": "2"}


class ServeRefused(click.ClickException):
    """Settings that cannot serve this database; the message says why and what to do."""


@dataclass(frozen=True)
class Plan:
    """How gunicorn will run: what the command prints and the arguments it passes."""

    workers: int
    threads: int
    bind: str
    embedded: bool

    def argv(self, conf: Path = GUNICORN_CONF) -> list[str]:
        return [sys.executable, "-m", "gunicorn", "-c", str(conf),
                "--workers", str(self.workers), "--threads", str(self.threads),
                "--bind", self.bind, *_no_control_socket(), APP_SPEC]

    def describe(self) -> str:
        kind = ("embedded engine: one process owns the data file" if self.embedded
                else "database server: workers share nothing but it")
        return (f"serving on {self.bind}: {self.workers} worker(s) x {self.threads} threads "
                f"({kind})")


def _no_control_socket() -> list[str]:
    """Gunicorn 27 listens on a control socket (one path per user, shared by every instance)
    whose commands can add workers at run time, which the embedded engine must not have."""
    from gunicorn.config import Config as GunicornConfig

    return ["--no-control-socket"] if "control_socket_disable" in GunicornConfig().settings else []


def serve_env(environ) -> dict:
    """The environment gunicorn starts with: ``environ`` with the allocator's settings,
    unless it sets them itself."""
    return {**ALLOCATOR_ENV, **environ}


def conf_defaults(conf: Path = GUNICORN_CONF) -> dict:
    """``workers``, ``threads`` and ``bind`` as ``gunicorn.conf.py`` sets them: the one place
    the thread count is sized (pages plus live streams)."""
    values = runpy.run_path(str(conf))
    bind = values.get("bind") or DEFAULT_BIND
    return {"workers": int(values.get("workers", 1)), "threads": int(values.get("threads", 1)),
            "bind": bind if isinstance(bind, str) else bind[0]}


def plan(db_url: str, workers: int | None = None, threads: int | None = None,
         bind: str | None = None, defaults: dict | None = None,
         cores: int | None = None) -> Plan:
    """The gunicorn settings for ``db_url`` with the operator's overrides; ``ServeRefused``
    for several workers on the embedded engine."""
    defaults = defaults if defaults is not None else conf_defaults()
    server = db_url.startswith(SERVER_SCHEMES)
    if not server and workers is not None and workers > 1:
        raise ServeRefused(
            f"--workers {workers} is refused with the embedded engine ({db_url}): its data file "
            "is owned by one process, and a second worker could not open it. Serve one "
            "worker with more --threads, or set IDANCE_DB_URL to a SurrealDB server "
            "(ws://…) to run several workers.")
    if workers is None:
        workers = max(1, cores or os.cpu_count() or 1) if server else 1
    return Plan(workers=workers, threads=threads or defaults["threads"],
                bind=bind or defaults["bind"], embedded=not server)


@click.command("serve")
@click.option("--workers", type=click.IntRange(min=1),
              help="Worker processes (embedded engine: 1 only; server: default one per core).")
@click.option("--threads", type=click.IntRange(min=1),
              help="Threads per worker (default: gunicorn.conf.py, sized for pages and live "
                   "streams).")
@click.option("--bind", metavar="HOST:PORT", help=f"Address to listen on (default {DEFAULT_BIND}).")
@with_appcontext
def serve_command(workers: int | None, threads: int | None, bind: str | None) -> None:
    """Serve the app in production with gunicorn.

    With the embedded engine (surrealkv://, the default) one process owns the data file, so
    one worker serves with threads: pages and each open live stream hold a thread, and
    gunicorn.conf.py sizes the count for both. --workers 2 is refused there. With a SurrealDB
    server (IDANCE_DB_URL=ws://… or wss://…) several workers may serve, one per core by
    default; rate limits then need shared storage (IDANCE_RATE_LIMIT_STORAGE=redis://…).

    Nothing is migrated here: the served process refuses to start while migrations are
    pending (run `idance migrate` first).
    """
    config = current_app.config["IDANCE"]
    chosen = plan(config.db_url, workers, threads, bind)
    click.echo(chosen.describe(), err=True)
    argv = chosen.argv()
    sys.stdout.flush()
    sys.stderr.flush()
    # gunicorn takes the process over: signals from a supervisor reach its arbiter directly.
    os.execve(argv[0], argv, serve_env(os.environ))
