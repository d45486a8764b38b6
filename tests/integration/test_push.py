"""Web Push delivery, against a push service on 127.0.0.1 that checks the real request.

The service runs over TLS with a certificate made for the test (device endpoints must be
https://); it verifies the VAPID JWT with the public key (``aud`` = the endpoint's origin),
``Content-Encoding: aes128gcm`` and ``TTL``, and decrypts the body with the subscription's
private key, as a browser's push service and the browser would.
"""

from __future__ import annotations

import base64
import json
import os
import ssl
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import http_ece
import pytest
import requests
import trustme
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from surrealdb import RecordID

from idance_web.jobs import Worker
from idance_web.services import push
from tests.fixtures.app import build_app, make_config

SUBJECT = "mailto:ops@idance.test"


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Browser:
    """A browser's side of a subscription: its key pair and auth secret."""

    def __init__(self):
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.auth = os.urandom(16)

    def keys(self) -> dict:
        point = self.key.public_key().public_bytes(serialization.Encoding.X962,
                                                   serialization.PublicFormat.UncompressedPoint)
        return {"p256dh": b64(point), "auth": b64(self.auth)}


class PushService:
    """A push service on 127.0.0.1 over TLS that records each push it accepts, checked."""

    def __init__(self, vapid_public: str):
        self.vapid_public = vapid_public
        self.received: list[dict] = []
        self.problems: list[str] = []
        self.status: dict[str, int] = {}  # path → status to answer (201 by default)
        self.browsers: dict[str, Browser] = {}
        ca = trustme.CA()
        self.ca_file = os.path.join(tempfile.gettempdir(), f"push-ca-{os.getpid()}-{id(self)}.pem")
        ca.cert_pem.write_to_path(self.ca_file)
        cert = ca.issue_cert("127.0.0.1")
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        cert.configure_cert(context)
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                service.check(self.path, dict(self.headers), body)
                self.send_response(service.status.get(self.path, 201))
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.origin = f"https://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def subscription(self, name: str) -> dict:
        browser = self.browsers[f"/push/{name}"] = Browser()
        return {"endpoint": f"{self.origin}/push/{name}", "keys": browser.keys()}

    def session(self) -> requests.Session:
        session = requests.Session()
        session.verify = self.ca_file
        session.trust_env = False  # REQUESTS_CA_BUNDLE would override the verify above
        return session

    def check(self, path: str, headers: dict, body: bytes) -> None:
        headers = {k.lower(): v for k, v in headers.items()}
        try:
            scheme, _, params = headers["authorization"].partition(" ")
            assert scheme == "vapid", scheme
            fields = dict(p.strip().split("=", 1) for p in params.split(","))
            assert fields["k"] == self.vapid_public, "k is not the configured public key"
            claims = verify_jwt(fields["t"], fields["k"])
            assert claims["aud"] == self.origin, claims
            assert claims["sub"] == SUBJECT and claims["exp"] > time.time(), claims
            assert headers["content-encoding"] == "aes128gcm", headers["content-encoding"]
            assert int(headers["ttl"]) == push.TTL_S, headers["ttl"]
            assert headers.get("topic") and len(headers["topic"]) <= 32, headers.get("topic")
            browser = self.browsers[path]
            plain = http_ece.decrypt(body, private_key=browser.key, auth_secret=browser.auth,
                                     version="aes128gcm")
            self.received.append({"path": path, "payload": json.loads(plain)})
        except (AssertionError, KeyError, ValueError, InvalidSignature) as exc:
            self.problems.append(f"{path}: {exc!r}")

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        os.unlink(self.ca_file)


def verify_jwt(token: str, public_key: str) -> dict:
    """The claims of an ES256 JWT, after checking its signature with the raw P-256 key."""
    head, payload, signature = token.split(".")
    assert json.loads(unb64(head))["alg"] == "ES256"
    key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64(public_key))
    raw = unb64(signature)
    assert len(raw) == 64, "ES256 signatures are r || s"
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    key.verify(der, f"{head}.{payload}".encode(), ec.ECDSA(hashes.SHA256()))
    return json.loads(unb64(payload))


@pytest.fixture
def vapid():
    return push.generate_vapid_keys()


@pytest.fixture
def service(vapid):
    running = PushService(vapid[0])
    yield running
    running.close()


@pytest.fixture
def app(vapid, service):
    config = make_config(vapid_public_key=vapid[0], vapid_private_key=vapid[1],
                         vapid_subject=SUBJECT, extra={"push_session": service.session()})
    app = build_app(config)
    yield app
    app.extensions["idance.db"].close()


def register(db, user: str, subscription: dict) -> str:
    return push.register_device(db, user, push.validate_subscription(subscription), "Firefox")


def run_jobs(db) -> list:
    return Worker(db).run_due()


def follow(db, follower: str, followed: str) -> None:
    with db.member(follower) as s:
        s.query("RELATE $a->follow->$b RETURN NONE",
                {"a": RecordID("user", follower), "b": RecordID("user", followed)})


def devices_of(db, user: str) -> list[str]:
    return [d["key"] for d in push.list_devices(db, user)]


def test_the_vapid_pair_belongs_together(vapid):
    public, private = vapid
    point = unb64(public)
    assert len(point) == 65 and point[0] == 4 and len(unb64(private)) == 32
    key = ec.derive_private_key(int.from_bytes(unb64(private), "big"), ec.SECP256R1())
    assert key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint) == point


def test_a_new_notification_reaches_her_devices_encrypted_and_signed(app, db, make_user, service):
    make_user("ana", display_name="Ana")
    make_user("bruno", display_name="Bruno")
    register(db, "ana", service.subscription("phone"))
    register(db, "ana", service.subscription("laptop"))
    follow(db, "bruno", "ana")
    run_jobs(db)
    assert not service.problems, service.problems
    assert sorted(r["path"] for r in service.received) == ["/push/laptop", "/push/phone"]
    payload = service.received[0]["payload"]
    assert payload == {"title": "iDance", "body": "Bruno followed you.", "url": "/u/bruno",
                       "tag": "follow:user:bruno"}
    # Bruno's own notifications never reach Ana's devices.
    follow(db, "ana", "bruno")
    run_jobs(db)
    assert len(service.received) == 2


def test_gone_subscriptions_are_forgotten_and_failures_retried(app, db, make_user, service):
    make_user("ana")
    make_user("bruno")
    make_user("chloe")
    register(db, "ana", service.subscription("gone"))
    register(db, "ana", service.subscription("moved"))
    kept = register(db, "ana", service.subscription("kept"))
    service.status.update({"/push/gone": 410, "/push/moved": 404})
    follow(db, "bruno", "ana")
    run_jobs(db)
    assert devices_of(db, "ana") == [kept]
    service.status["/push/kept"] = 503
    follow(db, "chloe", "ana")
    outcome = run_jobs(db)
    assert devices_of(db, "ana") == [kept]  # a failure is not a goodbye
    with db.worker() as s:
        job = s.one("SELECT state, attempts, error FROM job WHERE kind = 'push' "
                    "AND state != 'done'")
    assert outcome and job["state"] == "queued" and "push failed" in job["error"]


def test_her_preferences_and_mutes_are_respected(app, db, make_user, service):
    make_user("ana")
    make_user("bruno")
    make_user("chloe")
    register(db, "ana", service.subscription("phone"))
    from idance_web.services import notifications

    notifications.save_preferences(db, "ana", {"follow": {"in_app": True, "push": False}})
    follow(db, "bruno", "ana")
    # A message notification of a chat she muted (mutes are the chat's read state).
    chat = RecordID("chat", [RecordID("user", "ana"), RecordID("user", "chloe")])
    other = RecordID("chat", [RecordID("user", "ana"), RecordID("user", "dora")])
    with db.system() as s:
        s.query("UPSERT type::thing('chat_state', [$chat, user:ana]) SET chat = $chat, "
                "member = user:ana, muted = true RETURN NONE;"
                "CREATE notification SET recipient = user:ana, kind = 'message', "
                "actor = user:chloe, subject = $chat RETURN NONE;"
                "CREATE notification SET recipient = user:ana, kind = 'message', "
                "actor = user:chloe, subject = $other RETURN NONE;",
                {"chat": chat, "other": other})
    run_jobs(db)
    assert not service.problems, service.problems
    assert [r["payload"]["url"] for r in service.received] == ["/chat/ana.dora"]
    # Push turned off after the job was queued: the sender checks again.
    register(db, "ana", service.subscription("laptop"))
    follow(db, "chloe", "ana")  # follow push is off: no job at all
    with db.system() as s:
        s.query("CREATE notification SET recipient = user:ana, kind = 'match', "
                "actor = user:chloe RETURN NONE")
    notifications.save_preferences(db, "ana", {"match": {"in_app": True, "push": False}})
    run_jobs(db)
    assert len(service.received) == 1


def test_without_keys_nothing_is_sent(service):
    app = build_app(make_config(extra={"push_session": service.session()}))
    try:
        adb = app.extensions["idance.db"]
        assert push.senders_from_config(adb.config) == {}
        make_user_in(adb, "ana")
        make_user_in(adb, "bruno")
        with adb.member("ana") as s:
            s.query("CREATE device SET owner = user:ana, kind = 'web_push', endpoint = $e, "
                    "keys = $k RETURN NONE", {"e": f"{service.origin}/push/x",
                                              "k": service.subscription("x")["keys"]})
        follow(adb, "bruno", "ana")
        assert run_jobs(adb)  # the job runs and does nothing
        assert service.received == []
    finally:
        app.extensions["idance.db"].close()


def make_user_in(db, name: str) -> None:
    with db.system() as s:
        s.query("CREATE type::thing('user', $n) SET email = $n + '@example.com', username = $n, "
                "display_name = $n RETURN NONE", {"n": name})
