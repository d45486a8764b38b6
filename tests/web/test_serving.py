"""``idance serve``: gunicorn settings that fit the database, a real start, and the refusal to
serve a database with pending migrations."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from idance_web import create_app
from idance_web.config import from_env
from idance_web.db import Database
from idance_web.serve import GUNICORN_CONF, ServeRefused, conf_defaults, plan, serve_env
from tests.fixtures.app import TEST_JWT_KEY, TEST_SECRET, make_config
from tests.fixtures.template import run_migrations

ROOT = Path(__file__).resolve().parents[2]
DEFAULTS = {"workers": 1, "threads": 24, "bind": "127.0.0.1:8000"}


def test_the_embedded_engine_refuses_several_workers_and_says_why():
    with pytest.raises(ServeRefused) as refused:
        plan("surrealkv://instance/idance.db", workers=2, defaults=DEFAULTS)
    message = refused.value.message
    assert "--workers 2" in message and "embedded engine" in message
    assert "one process" in message and "--threads" in message and "ws://" in message
    assert plan("mem://", workers=1, defaults=DEFAULTS).workers == 1


def test_the_embedded_engine_serves_one_worker_with_the_configured_threads():
    chosen = plan("surrealkv://instance/idance.db", defaults=DEFAULTS)
    assert (chosen.workers, chosen.threads, chosen.bind, chosen.embedded) == (
        1, 24, "127.0.0.1:8000", True)
    argv = chosen.argv()
    assert argv[1:3] == ["-m", "gunicorn"]
    assert argv[argv.index("-c") + 1] == str(GUNICORN_CONF)
    assert argv[argv.index("--workers") + 1] == "1"
    assert argv[argv.index("--threads") + 1] == "24"
    assert argv[argv.index("--bind") + 1] == "127.0.0.1:8000"
    assert argv[-1] == "idance_web:create_app()"


def test_overrides_map_to_gunicorn_arguments():
    chosen = plan("surrealkv://x.db", workers=1, threads=64, bind="0.0.0.0:9000",
                  defaults=DEFAULTS)
    argv = chosen.argv()
    assert argv[argv.index("--threads") + 1] == "64"
    assert argv[argv.index("--bind") + 1] == "0.0.0.0:9000"


@pytest.mark.parametrize("url", ["ws://db:8000/rpc", "wss://db.example/rpc",
                                 "http://db:8000", "https://db.example"])
def test_a_database_server_allows_several_workers_one_per_core_by_default(url):
    assert plan(url, defaults=DEFAULTS, cores=4).workers == 4
    chosen = plan(url, workers=3, defaults=DEFAULTS, cores=4)
    assert chosen.workers == 3 and not chosen.embedded
    assert "--workers" in chosen.argv() and "3" in chosen.argv()


def test_thread_defaults_come_from_gunicorn_conf():
    values = conf_defaults()
    namespace: dict = {}
    exec(compile(GUNICORN_CONF.read_text(), str(GUNICORN_CONF), "exec"), namespace)
    assert values["threads"] == namespace["threads"] and values["workers"] == 1
    assert plan("surrealkv://x.db").threads == namespace["threads"]


def test_the_command_refuses_and_its_help_explains_the_choice():
    app = create_app(make_config(db_url="surrealkv://instance/never-opened.db"))
    runner = app.test_cli_runner()
    result = runner.invoke(args=["serve", "--workers", "2"])
    assert result.exit_code != 0
    assert "refused with the embedded engine" in result.output
    help_text = runner.invoke(args=["serve", "--help"]).output
    for phrase in ("embedded engine", "one worker", "threads", "live stream", "ws://",
                   "IDANCE_RATE_LIMIT_STORAGE", "idance migrate"):
        assert phrase in " ".join(help_text.split()), phrase
    assert app.extensions["idance.db"]._conn is None  # the command never opened the file


def test_production_run_refuses_pending_migrations_and_applies_nothing(tmp_path):
    config = from_env({"IDANCE_ENV": "production", "IDANCE_SECRET_KEY": TEST_SECRET,
                       "IDANCE_DB_JWT_KEY": TEST_JWT_KEY,
                       "IDANCE_DB_URL": f"surrealkv://{tmp_path}/idance.db",
                       "IDANCE_PUBLIC_URL": "https://idance.example"})
    app = create_app(config)
    result = app.test_cli_runner().invoke(args=["run", "--port", "1"])
    assert result.exit_code != 0
    assert "pending" in result.output and "idance migrate" in result.output
    db = Database(config)  # a new connection: the command closed its own
    with db.system() as s:
        assert s.value("INFO FOR DB")["tables"].keys() <= {"migration"}
    db.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _production_env(tmp_path, db_url: str, port: int) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("IDANCE_")}
    return {**env, "IDANCE_ENV": "production", "IDANCE_SECRET_KEY": TEST_SECRET,
            "IDANCE_DB_JWT_KEY": TEST_JWT_KEY, "IDANCE_DB_URL": db_url,
            "IDANCE_PUBLIC_URL": "https://idance.example", "IDANCE_RATE_LIMITS": "false",
            "IDANCE_MEDIA_ROOT": str(tmp_path / "media"), "PYTHONPATH": str(ROOT)}


def _serve(env: dict, port: int, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", "from idance_web.cli import main; main()", "serve",
         "--bind", f"127.0.0.1:{port}", "--threads", "4", *extra],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True)


def _get(port: int, path: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def test_serve_starts_gunicorn_that_answers_healthz_runs_the_hub_and_stops(tmp_path):
    db_url = f"surrealkv://{tmp_path}/idance.db"
    config = make_config(db_url=db_url, env="production", public_url="https://idance.example")
    db = Database(config)
    run_migrations(db)
    db.close()
    port = _free_port()
    proc = _serve(_production_env(tmp_path, db_url, port), port)
    try:
        deadline, status = time.monotonic() + 60, None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                status, body = _get(port, "/healthz")
                break
            except OSError:
                time.sleep(0.2)
        assert status == 200, proc.poll()
        assert json.loads(body)["database"]["ok"] is True
        metrics_status, metrics = _get(port, "/metrics")
        assert metrics_status == 200
        assert "idance_hub_running 1.0" in metrics  # the serving hook started the hub
        assert 'idance_http_requests_total{endpoint="health.show",method="GET",status="200"}' \
            in metrics
        _get(port, "/")  # the first page starts the in-process job worker
        assert "idance_job_worker_running 1.0" in _get(port, "/metrics")[1]
        # gunicorn replaced the command's process, with the allocator held to two arenas.
        environ = Path(f"/proc/{proc.pid}/environ").read_bytes().split(b"\0")
        assert b"MALLOC_ARENA_MAX=2" in environ
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "1 worker(s) x 4 threads" in err
    lines = [json.loads(line) for line in err.splitlines() if line.startswith('{"time"')]
    health = [line for line in lines if line["path"] == "/healthz"]
    assert health and health[0]["status"] == 200 and health[0]["method"] == "GET"
    assert health[0]["duration_ms"] >= 0 and len(health[0]["request_id"]) >= 8


def test_the_allocator_setting_is_added_unless_the_operator_set_one():
    assert serve_env({"PATH": "/bin"}) == {"PATH": "/bin", "MALLOC_ARENA_MAX": "2"}
    assert serve_env({"MALLOC_ARENA_MAX": "8"})["MALLOC_ARENA_MAX"] == "8"


def test_serve_refuses_to_start_while_migrations_are_pending(tmp_path):
    db_url = f"surrealkv://{tmp_path}/empty.db"
    port = _free_port()
    proc = _serve(_production_env(tmp_path, db_url, port), port)
    try:
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 3  # gunicorn halts: the worker failed to boot, no respawn loop
    assert "pending" in err and "`idance migrate`" in err
    db = Database(make_config(db_url=db_url, env="production"))
    with db.system() as s:  # nothing was applied at start-up
        assert s.value("INFO FOR DB")["tables"].keys() <= {"migration"}
    db.close()
