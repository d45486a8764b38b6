"""Every write the app acknowledged survives ``kill -9``: the real app (``idance run``) on a
``surrealkv://`` file in a subprocess takes a burst of sign-ups, profile saves, likes that make
matches (with their chats) and chat messages over HTTP from several clients, is killed without
warning mid-burst, starts again on the same file, and every acknowledged write is there."""

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
ACKNOWLEDGED_BEFORE_KILL = 90


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
    """Clients that each sign up two dancers, save their profiles, make them match (two likes:
    the match and its chat), and send messages back and forth; each write that got its answer
    (a redirect, or the match in the second like's reply) is recorded as acknowledged."""

    def __init__(self, base: str):
        self.base, self.stop = base, threading.Event()
        self.members: set[str] = set()
        self.saves: dict[str, int] = {}
        self.matches: set[tuple[str, str]] = set()
        self.messages: dict[tuple[str, str], set[str]] = {}  # (a, b) → bodies acknowledged
        self.errors: list[str] = []  # what went wrong while the server was up
        self.lock = threading.Lock()

    @property
    def acknowledged(self) -> int:
        with self.lock:
            return (len(self.members) + sum(self.saves.values()) + len(self.matches)
                    + sum(map(len, self.messages.values())))

    @property
    def any_message(self) -> bool:
        with self.lock:
            return any(self.messages.values())

    def client(self, number: int) -> None:
        try:
            for round_ in range(1000):
                if self.stop.is_set():
                    return
                self._pair(number, round_)
        except requests.RequestException:
            return  # the server died
        except Exception as exc:  # noqa: BLE001 - reported by the test, not lost with the thread
            with self.lock:
                self.errors.append(repr(exc))

    def _pair(self, number: int, round_: int) -> None:
        a, b = f"dancer{number}x{round_}a", f"dancer{number}x{round_}b"
        web = {name: self._member(name) for name in (a, b)}
        self._like(web[a], b)
        assert self._like(web[b], a), "the second like makes the match"
        with self.lock:
            self.matches.add((a, b))
            self.messages[(a, b)] = set()
        chat = re.search(r'href="/chat/([\w.-]+)', web[a].get(f"{self.base}/chat",
                                                            timeout=30).text).group(1)
        for n in range(1, 7):
            author = web[a] if n % 2 else web[b]
            body = f"message {n} from {a if n % 2 else b}"
            response = author.post(
                f"{self.base}/chat/{chat}/messages", timeout=30, allow_redirects=False,
                data={"body": body, "idempotency_key": f"{a}-{n}",
                      "csrf_token": _token(author, f"{self.base}/chat/{chat}")})
            assert response.status_code == 303, response.text[:500]
            with self.lock:
                self.messages[(a, b)].add(body)

    def _member(self, name: str) -> requests.Session:
        web = requests.Session()
        response = web.post(f"{self.base}/signup", timeout=30, allow_redirects=False, data={
            "email": f"{name}@example.com", "username": name, "display_name": name.title(),
            "password": "correct horse battery", "csrf_token": _token(web, f"{self.base}/signup")})
        assert response.status_code == 302, response.text[:500]
        with self.lock:
            self.members.add(name)
        for save in range(1, 4):
            response = web.post(f"{self.base}/me/profile", timeout=30, allow_redirects=False,
                                data={"display_name": name.title(), "bio": f"save {save}",
                                      "birth_date": "1992-03-04",
                                      "csrf_token": _token(web, f"{self.base}/me/profile")})
            assert response.status_code == 302, response.text[:500]
            with self.lock:
                self.saves[name] = save
        return web

    def _like(self, web: requests.Session, username: str) -> bool:
        response = web.post(f"{self.base}/u/{username}/swipe", timeout=30,
                            headers={"Accept": "application/json"},
                            data={"direction": "like",
                                  "csrf_token": _token(web, f"{self.base}/me/profile")})
        assert response.status_code == 200, response.text[:500]
        return response.json()["matched"]


def test_no_acknowledged_write_is_lost_to_kill_9(tmp_path):
    port = _port()
    server = _start(tmp_path, port)
    burst = Burst(f"http://127.0.0.1:{port}")
    threads = [threading.Thread(target=burst.client, args=(n,)) for n in range(CLIENTS)]
    try:
        for thread in threads:
            thread.start()
        deadline = time.time() + 180
        while (burst.acknowledged < ACKNOWLEDGED_BEFORE_KILL or not burst.any_message) \
                and time.time() < deadline and not burst.errors:
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
        matches = set(burst.matches)
        messages = {pair: set(bodies) for pair, bodies in burst.messages.items()}
    assert burst.errors == []
    assert burst.acknowledged >= ACKNOWLEDGED_BEFORE_KILL
    assert sum(map(len, messages.values())) > 0, "messages were acknowledged before the kill"

    again = _start(tmp_path, _port())  # the app starts again on the file it was killed on
    again.send_signal(signal.SIGINT)
    again.wait(timeout=60)
    db = Database(Config(db_url=f"surrealkv://{tmp_path}/data.db"))
    try:
        with db.system() as s:
            stored = {row["username"]: row["bio"] for row in s.rows(
                "SELECT username, (SELECT VALUE bio FROM profile WHERE owner = $parent.id)[0] "
                "AS bio FROM user WHERE string::starts_with(username, 'dancer')")}
            # Each match with its chat's messages, by the two dancers' usernames.
            chats = {tuple(sorted(row["users"])): set(row["bodies"]) for row in s.rows(
                "SELECT users.username AS users, (SELECT VALUE body FROM message "
                "WHERE chat = $parent.chat) AS bodies FROM match")}
    finally:
        db.close()
    print(f"{len(members)} sign-ups, {sum(saves.values())} profile saves, {len(matches)} "
          f"matches and {sum(map(len, messages.values()))} messages acknowledged; "
          f"{len(stored)} members and {len(chats)} matches stored")
    lost = sorted(members - set(stored))
    assert lost == [], f"acknowledged sign-ups lost: {lost}"
    assert sorted(matches - set(chats)) == [], "acknowledged matches (with their chat) lost"
    lost_messages = {pair: sorted(bodies - chats.get(pair, set()))
                     for pair, bodies in messages.items() if bodies - chats.get(pair, set())}
    assert lost_messages == {}, f"acknowledged messages lost: {lost_messages}"
    older = {n: (stored[n], k) for n, k in saves.items()
             if int((stored[n] or "save 0").split()[-1]) < k}
    assert older == {}, f"acknowledged profile saves lost (stored, acknowledged): {older}"
