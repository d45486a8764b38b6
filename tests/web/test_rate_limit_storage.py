"""Rate-limit counters in the configured storage: process memory by default, or a real Redis
server (Debian's ``redis-server``) that several processes and restarts share."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time

import pytest

from idance_web.config import ConfigError, from_env
from tests.fixtures.app import build_app, make_config
from tests.fixtures.auth import csrf_token

REDIS = shutil.which("redis-server")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def redis_url(tmp_path):
    if REDIS is None:
        pytest.skip("redis-server is not installed (Debian: apt-get install redis-server); "
                    ".ci/run installs it")
    import redis

    port = _free_port()
    proc = subprocess.Popen([REDIS, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no", "--dir", str(tmp_path)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)
    deadline = time.monotonic() + 10
    while True:
        try:
            client.ping()
            break
        except redis.ConnectionError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                pytest.fail("redis-server did not start")
            time.sleep(0.05)
    yield url
    client.close()
    proc.terminate()
    proc.wait(timeout=10)


def _failed_logins(app, count: int) -> list[int]:
    client = app.test_client()
    token = csrf_token(client, "/login")
    return [client.post("/login", data={"email": "nobody@example.com", "password": "wrong",
                                        "csrf_token": token}).status_code
            for _ in range(count)]


def _app(**changes):
    return build_app(make_config(**changes))


def test_storage_comes_from_the_environment_and_must_be_a_uri():
    assert from_env({}).rate_limit_storage == "memory://"
    url = "redis://127.0.0.1:6379/0"
    assert from_env({"IDANCE_RATE_LIMIT_STORAGE": url}).rate_limit_storage == url
    with pytest.raises(ConfigError, match="IDANCE_RATE_LIMIT_STORAGE"):
        make_config(rate_limit_storage="127.0.0.1:6379").validate()


def test_memory_storage_forgets_with_the_process():
    first = _app()
    assert _failed_logins(first, 21)[-1] == 429
    first.extensions["idance.db"].close()
    again = _app()  # another process, or the same after a restart
    assert _failed_logins(again, 1) == [400]
    again.extensions["idance.db"].close()


def test_redis_storage_is_shared_by_processes_and_survives_a_restart(redis_url):
    import redis

    first = _app(rate_limit_storage=redis_url)
    assert _failed_logins(first, 20) == [400] * 20
    first.extensions["idance.db"].close()
    keys = redis.Redis.from_url(redis_url).keys("*")
    assert keys and all(b"/idance-" in k for k in keys)  # the environment's prefix
    second = _app(rate_limit_storage=redis_url)  # a second process, or after a restart
    assert _failed_logins(second, 1) == [429]
    second.extensions["idance.db"].close()


def test_when_redis_stops_answering_requests_are_still_served(redis_url):
    import redis

    app = _app(rate_limit_storage=redis_url)
    assert _failed_logins(app, 1) == [400]
    redis.Redis.from_url(redis_url).shutdown(nosave=True)
    # Counted in process memory meanwhile: the sign-in form still answers, limits still hold.
    assert _failed_logins(app, 21) == [400] * 20 + [429]
    app.extensions["idance.db"].close()
