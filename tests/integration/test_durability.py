"""Every write the app acknowledged survives ``kill -9``: the real app (``idance run``) on a
``surrealkv://`` file in a subprocess takes a burst of sign-ups and profile saves over HTTP
from several clients, is killed without warning mid-burst, starts again on the same file,
and every acknowledged write is there."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest
import requests

from idance_web.config import Config
from idance_web.db import Database

pytestmark = pytest.mark.slow  # `idance run` loads the full lookup data on a fresh file
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CLIENTS = 4
ACKNOWLEDGED_BEFORE_KILL = 60


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(tmp_path, port: int) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=ROOT, IDANCE_ENV="development",
               IDANCE_DB_URL=f"surrealkv://{tmp_path}/data.db",
               IDANCE_MEDIA_ROOT=str(tmp_path / "media"), IDANCE_RATE_LIMITS="false",
               IDANCE_FOLLOW_CHANGES="false")
    env.pop("SURREAL_SYNC_DATA", None)  # the app's own setting decides (IDANCE_DB_SYNC)
    with open(tmp_path / f"run-{port}.log", "w") as log:  # the child keeps its own copy
        process = subprocess.Popen(
            [sys.executable, "-c", "from idance_web.cli import main; main()", "run",
             "--port", str(port)], cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2).ok:
                return process
        except requests.ConnectionError:
            pass
        if process.poll() is not None:
            break
        time.sleep(0.2)
    process.kill()
    raise AssertionError((tmp_path / f"run-{port}.log").read_text()[-3000:])


def _token(session: requests.Session, url: str) -> str:
    html = session.get(url, timeout=30).text
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)


class Burst:
    """Clients that sign up, then save their profile again and again; each write that got
    its redirect is recorded as acknowledged."""

    def __init__(self, base: str):
        self.base, self.stop = base, threading.Event()
        self.members: set[str] = set()
        self.saves: dict[str, int] = {}
        self.lock = threading.Lock()

    @property
    def acknowledged(self) -> int:
        with self.lock:
            return len(self.members) + sum(self.saves.values())

    def client(self, number: int) -> None:
        try:
            for round_ in range(1000):
                if self.stop.is_set():
                    return
                self._member(number, round_)
        except (requests.ConnectionError, requests.Timeout, AttributeError):
            return  # the server died

    def _member(self, number: int, round_: int) -> None:
        name = f"dancer{number}x{round_}"
        web = requests.Session()
        response = web.post(f"{self.base}/signup", timeout=30, allow_redirects=False, data={
            "email": f"{name}@example.com", "username": name, "display_name": name.title(),
            "password": "correct horse battery", "csrf_token": _token(web, f"{self.base}/signup")})
        assert response.status_code == 302, response.text[:500]
        with self.lock:
            self.members.add(name)
        for save in range(1, 6):
            response = web.post(f"{self.base}/me/profile", timeout=30, allow_redirects=False,
                                data={"display_name": name.title(), "bio": f"save {save}",
                                      "csrf_token": _token(web, f"{self.base}/me/profile")})
            assert response.status_code == 302, response.text[:500]
            with self.lock:
                self.saves[name] = save


def test_no_acknowledged_write_is_lost_to_kill_9(tmp_path):
    port = _port()
    server = _start(tmp_path, port)
    burst = Burst(f"http://127.0.0.1:{port}")
    threads = [threading.Thread(target=burst.client, args=(n,)) for n in range(CLIENTS)]
    try:
        for thread in threads:
            thread.start()
        deadline = time.time() + 180
        while burst.acknowledged < ACKNOWLEDGED_BEFORE_KILL and time.time() < deadline:
            time.sleep(0.05)
        os.kill(server.pid, signal.SIGKILL)  # mid-burst, without warning
        server.wait()
    finally:
        burst.stop.set()
        for thread in threads:
            thread.join()
        if server.poll() is None:
            server.kill()
    with burst.lock:
        members, saves = set(burst.members), dict(burst.saves)
    assert len(members) + sum(saves.values()) >= ACKNOWLEDGED_BEFORE_KILL

    again = _start(tmp_path, _port())  # the app starts again on the file it was killed on
    again.send_signal(signal.SIGINT)
    again.wait(timeout=60)
    db = Database(Config(db_url=f"surrealkv://{tmp_path}/data.db"))
    try:
        with db.system() as s:
            stored = {row["username"]: row["bio"] for row in s.rows(
                "SELECT username, (SELECT VALUE bio FROM profile WHERE owner = $parent.id)[0] "
                "AS bio FROM user WHERE string::starts_with(username, 'dancer')")}
    finally:
        db.close()
    print(f"{len(members)} sign-ups and {sum(saves.values())} profile saves acknowledged, "
          f"{len(stored)} members stored")
    lost = sorted(members - set(stored))
    assert lost == [], f"acknowledged sign-ups lost: {lost}"
    older = {n: (stored[n], k) for n, k in saves.items()
             if int((stored[n] or "save 0").split()[-1]) < k}
    assert older == {}, f"acknowledged profile saves lost (stored, acknowledged): {older}"
