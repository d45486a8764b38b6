"""Push: her devices, and the background job that sends a notification to them.

A browser subscribes through its service worker and gives its subscription (an https
endpoint and two keys) to ``POST /api/devices``; it is kept in ``device``, one row per member
and endpoint. The ``notification_push`` event (migration ``0020``) queues a ``push`` job for a
new notification when she has a device, wants the kind pushed and has not muted the chat; the
job reads the notification as the worker and hands it to a ``PushSender`` per device.

``PushSender`` is the interface: ``WebPushSender`` speaks Web Push (RFC 8030, VAPID RFC 8292,
``aes128gcm`` RFC 8291) through ``pywebpush``; a native mobile sender would be another
implementation chosen by the device's ``kind``. Without VAPID keys push is off.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import re
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

from surrealdb import RecordID

from ..config import Config
from ..db import Database
from ..errors import Invalid, NotFound
from ..jobs import handler
from ..record_ids import key_of
from . import notifications

log = logging.getLogger("idance.push")

B64URL = re.compile(r"^[A-Za-z0-9_-]+={0,2}$")
MAX_ENDPOINT = 2048
MAX_DEVICES = 20
TTL_S = 24 * 3600  # a push the device does not take within a day is dropped

_DEVICES = """SELECT id, label, created_at, last_seen_at, endpoint FROM device
    WHERE owner = $me ORDER BY created_at DESC LIMIT 50"""
_REGISTER = """LET $found = (SELECT VALUE id FROM device WHERE endpoint = $endpoint
        AND owner = $me LIMIT 1)[0];
    LET $count = count(SELECT id FROM device WHERE owner = $me LIMIT $max);
    IF $found != NONE {
        UPDATE $found SET keys = $keys, label = $label, last_seen_at = time::now() RETURN NONE;
    } ELSE IF $count < $max {
        CREATE device SET owner = $me, kind = 'web_push', endpoint = $endpoint, keys = $keys,
            label = $label, last_seen_at = time::now() RETURN NONE;
    };
    RETURN (SELECT VALUE id FROM device WHERE endpoint = $endpoint AND owner = $me LIMIT 1)[0]"""
_REMOVE = "DELETE $id RETURN BEFORE"
_JOB = """LET $n = SELECT id, kind, text, recipient, subject, created_at,
        actor.display_name AS actor_name, actor.username AS actor_username,
        subject.name AS subject_name, subject.slug AS subject_slug,
        subject.title AS subject_title, subject.target AS subject_target FROM ONLY $id;
    RETURN $n;
    SELECT id, kind, endpoint, keys FROM device WHERE owner = $n.recipient;
    RETURN (SELECT VALUE push FROM ONLY type::thing('notification_pref', [$n.recipient, $n.kind]));
    RETURN (SELECT VALUE muted FROM ONLY type::thing('chat_state', [$n.subject, $n.recipient]))"""
_GONE = "DELETE $id RETURN NONE"
_SEEN = "UPDATE $id SET last_seen_at = time::now() RETURN NONE"


# -- her devices -----------------------------------------------------------------------------

def validate_subscription(data) -> dict:
    """The subscription a browser sent, checked: ``{"endpoint", "keys": {"p256dh", "auth"}}``.

    Raises ``Invalid`` naming the part that is wrong.
    """
    if not isinstance(data, dict):
        raise Invalid({"subscription": "Send the browser's push subscription as a JSON object."})
    endpoint, keys = data.get("endpoint"), data.get("keys")
    parts = urlsplit(endpoint) if isinstance(endpoint, str) else None
    if (parts is None or parts.scheme != "https" or not parts.hostname
            or len(endpoint) > MAX_ENDPOINT or parts.username or parts.password):
        raise Invalid({"endpoint": "The push endpoint must be an https:// address."})
    if not isinstance(keys, dict):
        raise Invalid({"keys": "The subscription has no keys."})
    p256dh, auth = keys.get("p256dh"), keys.get("auth")
    if not _b64url_bytes(p256dh, 65) or _b64url_bytes(p256dh, 65)[0] != 4:
        raise Invalid({"keys.p256dh": "p256dh must be a base64url P-256 public key."})
    if not _b64url_bytes(auth, 16):
        raise Invalid({"keys.auth": "auth must be 16 bytes in base64url."})
    return {"endpoint": endpoint, "keys": {"p256dh": p256dh.rstrip("="), "auth": auth.rstrip("=")}}


def _b64url_bytes(value, length: int) -> bytes | None:
    if not isinstance(value, str) or not B64URL.match(value) or len(value) > 200:
        return None
    try:
        raw = base64.urlsafe_b64decode(value.rstrip("=") + "=" * (-len(value.rstrip("=")) % 4))
    except ValueError:
        return None
    return raw if len(raw) == length else None


def device_label(user_agent: str) -> str:
    """A short name for a browser from its User-Agent ("Firefox on Android")."""
    ua = user_agent or ""
    browser = next((name for token, name in (("Edg/", "Edge"), ("Firefox/", "Firefox"),
                                             ("Chrome/", "Chrome"), ("Safari/", "Safari"))
                    if token in ua), "A browser")
    system = next((name for token, name in (("Android", "Android"), ("iPhone", "iPhone"),
                                            ("iPad", "iPad"), ("Windows", "Windows"),
                                            ("Mac OS", "macOS"), ("Linux", "Linux"))
                   if token in ua), "")
    return f"{browser} on {system}" if system else browser


def register_device(db: Database, member_key: str, subscription: dict, label: str) -> str:
    """Store (or refresh) this browser's subscription for her; return the device's key.

    ``subscription`` is what ``validate_subscription`` returned. A member may keep
    ``MAX_DEVICES`` devices; one more raises ``Invalid``.
    """
    with db.member(member_key) as s:
        rid = s.value(_REGISTER, {"me": RecordID("user", member_key), "max": MAX_DEVICES,
                                  "endpoint": subscription["endpoint"],
                                  "keys": subscription["keys"], "label": label[:120]})
    if rid is None:
        raise Invalid({"subscription": f"You have {MAX_DEVICES} devices already: remove one."})
    return key_of(rid)


def list_devices(db: Database, member_key: str) -> list[dict]:
    """Her devices, newest first: ``key``, ``label``, ``created_at``, ``last_seen_at``, and
    the push service's host (``service``)."""
    with db.member(member_key) as s:
        rows = s.rows(_DEVICES, {"me": RecordID("user", member_key)})
    return [{"key": key_of(r["id"]), "label": r.get("label") or "A browser",
             "created_at": r["created_at"], "last_seen_at": r.get("last_seen_at"),
             "service": urlsplit(r["endpoint"]).hostname} for r in rows]


def remove_device(db: Database, member_key: str, device_key: str) -> None:
    """Remove one of her devices; another member's or an unknown one raises ``NotFound``."""
    if not notifications.KEY_RE.match(device_key or ""):
        raise NotFound("no such device")
    with db.member(member_key) as s:
        removed = s.rows(_REMOVE, {"id": RecordID("device", device_key)})
    if not removed:
        raise NotFound("no such device")


# -- senders ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class PushMessage:
    """What a device shows: a title, a line of text, the page a tap opens, and a tag (a newer
    push with the same tag replaces the older one on the device)."""

    title: str
    body: str
    url: str
    tag: str

    def payload(self) -> str:
        return json.dumps({"title": self.title, "body": self.body, "url": self.url,
                           "tag": self.tag}, ensure_ascii=False)


SENT, GONE, FAILED = "sent", "gone", "failed"


class PushSender(Protocol):
    """Delivers a message to one device of its kind; answers SENT, GONE (the subscription no
    longer exists: forget the device) or FAILED (try again later)."""

    kind: str

    def send(self, device: dict, message: PushMessage) -> str: ...


class WebPushSender:
    """Web Push with VAPID through ``pywebpush``."""

    kind = "web_push"

    def __init__(self, private_key: str, subject: str, session=None, timeout: float = 10):
        self.private_key, self.subject = private_key, subject
        self.session, self.timeout = session, timeout

    def send(self, device: dict, message: PushMessage) -> str:
        from pywebpush import WebPushException, webpush

        # The Topic header lets the push service replace an undelivered push of the same tag.
        topic = base64.urlsafe_b64encode(hashlib.sha256(message.tag.encode()).digest()[:24])
        try:
            webpush({"endpoint": device["endpoint"], "keys": device["keys"]},
                    data=message.payload(), vapid_private_key=self.private_key,
                    vapid_claims={"sub": self.subject}, ttl=TTL_S, timeout=self.timeout,
                    headers={"Topic": topic.decode().rstrip("="), "Urgency": "normal"},
                    requests_session=self.session)
        except WebPushException as exc:
            status = exc.response.status_code if exc.response is not None else None
            if status in (404, 410):
                return GONE
            log.warning("push to %s failed: %s", urlsplit(device["endpoint"]).hostname, status)
            return FAILED
        except OSError as exc:  # requests' connection errors are OSErrors
            log.warning("push to %s failed: %s", urlsplit(device["endpoint"]).hostname, exc)
            return FAILED
        return SENT


def push_enabled(config: Config) -> bool:
    """Whether VAPID keys are configured (push is off without them)."""
    return bool(config.vapid_public_key and config.vapid_private_key)


def senders_from_config(config: Config, session=None) -> dict[str, PushSender]:
    """Device kind → its sender; empty when push is not configured."""
    if not push_enabled(config):
        return {}
    return {"web_push": WebPushSender(config.vapid_private_key, config.vapid_subject,
                                      session=session or config.extra.get("push_session"))}


def generate_vapid_keys() -> tuple[str, str]:
    """A new VAPID key pair as (public, private): the public key as browsers take it
    (an uncompressed P-256 point), the private key as its 32-byte scalar, both base64url."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    public = key.public_key().public_bytes(serialization.Encoding.X962,
                                           serialization.PublicFormat.UncompressedPoint)
    private = key.private_numbers().private_value.to_bytes(32, "big")

    def b64(raw: bytes) -> str:
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    return b64(public), b64(private)


# -- the job ---------------------------------------------------------------------------------

def push_notification(db: Database, notification, senders: dict[str, PushSender]) -> dict:
    """Send one notification to each of its recipient's devices, unless she turned the
    kind's push off or muted the chat meanwhile; forget devices reported gone.

    Returns how many devices got it, were gone, or failed. Raises ``RuntimeError`` when a
    delivery failed, so the job is retried (a device that got it may get it again; the
    service worker shows it in place of the first, by its tag).
    """
    counts = {SENT: 0, GONE: 0, FAILED: 0}
    with db.worker() as s:
        _, row, devices, wanted, muted = s.query(_JOB, {"id": notification})
    if not row or not senders or wanted is False or muted is True:
        return counts
    shown = notifications.describe(row)
    message = PushMessage(title="iDance", body=shown["text"], url=shown["url"],
                          tag=f"{row['kind']}:{row.get('subject') or row['id']}")
    for device in devices:
        sender = senders.get(device["kind"])
        if sender is None:
            continue
        outcome = sender.send(device, message)
        counts[outcome] += 1
        with db.worker() as s:
            s.query(_GONE if outcome == GONE else _SEEN, {"id": device["id"]})
    if counts[FAILED]:
        raise RuntimeError(f"push failed for {counts[FAILED]} device(s)")
    return counts


@handler("push")
def push_job(db: Database, payload: dict) -> None:
    """The ``push`` job: one notification to her devices."""
    push_notification(db, payload["notification"], senders_from_config(db.config))
