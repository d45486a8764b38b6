"""The notification pages, her preferences in settings, ``/api/devices`` and the service worker."""

from __future__ import annotations

import base64
import os
import re

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from idance_web.services import push
from tests.fixtures.app import build_app, make_config
from tests.fixtures.auth import AuthActions, csrf_token, member_id
from tests.fixtures.sites import Editor


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def subscription(endpoint="https://push.example.net/send/abc") -> dict:
    key = ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    return {"endpoint": endpoint, "keys": {"p256dh": b64(key), "auth": b64(os.urandom(16))}}


def signed_in(app, username: str) -> AuthActions:
    member = AuthActions(app.test_client())
    member.signup(username, display_name=username.title())
    return member


def badge(html: str) -> str:
    found = re.search(r'<span class="badge" data-badge="notifications"( hidden)?>(\d+)</span>',
                      html)
    assert found, "no notifications badge in the navigation"
    return "hidden" if found.group(1) else found.group(2)


def follow(client, username: str) -> None:
    client.post(f"/u/{username}/follow", data={"csrf_token": csrf_token(client, "/me/settings")})


@pytest.fixture
def ana(app):
    return signed_in(app, "ana").client


def test_the_list_groups_links_and_marks_read_without_scripts(app, ana):
    assert badge(ana.get("/me").get_data(as_text=True)) == "hidden"
    for name in ("bruno", "chloe", "dario"):
        follow(signed_in(app, name).client, "ana")
    html = ana.get("/me").get_data(as_text=True)
    assert badge(html) == "3"
    page = ana.get("/notifications").get_data(as_text=True)
    assert "Dario and 2 others followed you." in page and 'href="/u/dario"' in page
    token = csrf_token(ana, "/notifications")
    keys = re.search(r'data-keys="([^"]+)"', page).group(1).split()
    assert len(keys) == 3
    # One item read: all three of its notifications.
    answer = ana.post("/notifications/read", data={"csrf_token": token, "ids": keys[:1],
                                                   "next": "//evil.example/"})
    assert answer.status_code == 303 and answer.headers["Location"] == "/notifications"
    assert badge(ana.get("/me").get_data(as_text=True)) == "2"
    assert ana.post("/notifications/read-all", data={"csrf_token": token}).status_code == 303
    assert badge(ana.get("/notifications").get_data(as_text=True)) == "hidden"
    assert ana.post("/notifications/read-all", data={}).status_code == 400  # no CSRF token


def test_another_member_cannot_mark_hers(app, ana):
    follow(signed_in(app, "bruno").client, "ana")
    keys = re.search(r'data-keys="([^"]+)"', ana.get("/notifications").get_data(
        as_text=True)).group(1).split()
    eve = signed_in(app, "eve").client
    eve.post("/notifications/read", data={"csrf_token": csrf_token(eve, "/notifications"),
                                          "ids": keys})
    assert eve.get(f"/notifications/{keys[0]}").status_code == 404
    assert badge(ana.get("/me").get_data(as_text=True)) == "1"
    bad = eve.post("/notifications/read", data={"csrf_token": csrf_token(eve, "/notifications"),
                                                "ids": ["x' OR 1"]})
    assert bad.status_code == 303


def test_preferences_hide_a_kind_from_the_list_and_the_badge(app, ana):
    page = ana.get("/me/settings").get_data(as_text=True)
    assert 'id="notifications-h"' in page and "Likes on your vlogs" in page
    assert "no VAPID keys are configured" in page
    follow(signed_in(app, "bruno").client, "ana")
    kinds = ["match", "message", "vlog_like"]
    saved = ana.post("/me/settings/notifications", data={
        "nt-csrf_token": csrf_token(ana, "/me/settings"), "nt-in_app": kinds,
        "nt-push": ["match"]})
    assert saved.status_code == 303
    assert badge(ana.get("/me").get_data(as_text=True)) == "hidden"
    assert "followed you" not in ana.get("/notifications").get_data(as_text=True)
    page = ana.get("/me/settings").get_data(as_text=True)
    assert re.search(r'value="follow"(?![^>]*checked)', page)
    assert re.search(r'id="nt-in_app-0"[^>]*checked|checked[^>]*id="nt-in_app-0"', page)
    refused = ana.post("/me/settings/notifications", data={
        "nt-csrf_token": csrf_token(ana, "/me/settings"), "nt-in_app": ["nonsense"]})
    assert refused.status_code == 400 and "not a valid choice" in refused.get_data(as_text=True)


def test_a_contact_message_shows_in_full(app, ana):
    site = Editor(ana)
    site.post("/create")
    site.add("contact", title="Write to me")
    site.publish()
    message = "Do you teach beginners?\n<script>alert(1)</script>"
    app.test_client().post("/@ana/contact", data={"name": "Vi", "email": "vi@example.com",
                                                  "message": message})
    page = ana.get("/notifications").get_data(as_text=True)
    assert "Vi &lt;vi@example.com&gt; wrote via your site." in page
    key = re.search(r'href="/notifications/([a-z0-9]+)"', page).group(1)
    shown = ana.get(f"/notifications/{key}").get_data(as_text=True)
    assert "Do you teach beginners?\n&lt;script&gt;alert(1)&lt;/script&gt;" in shown


def test_the_service_worker_is_served_for_the_whole_site(app):
    answer = app.test_client().get("/sw.js")
    assert answer.status_code == 200 and answer.mimetype in ("text/javascript",
                                                             "application/javascript")
    assert answer.headers["Service-Worker-Allowed"] == "/"
    assert 'addEventListener("push"' in answer.get_data(as_text=True)


def test_without_keys_devices_are_refused(app, ana):
    answer = ana.post("/api/devices", json=subscription(),
                      headers={"X-CSRFToken": csrf_token(ana, "/me/settings")})
    assert answer.status_code == 409 and "not configured" in answer.get_json()["error"]


@pytest.fixture
def push_app():
    public, private = push.generate_vapid_keys()
    app = build_app(make_config(vapid_public_key=public, vapid_private_key=private,
                                vapid_subject="mailto:ops@idance.test"))
    yield app
    app.extensions["idance.db"].close()


def test_devices_are_registered_listed_and_removed_by_their_owner_only(push_app):
    ana, eve = signed_in(push_app, "ana").client, signed_in(push_app, "eve").client
    token = csrf_token(ana, "/me/settings")
    settings = ana.get("/me/settings").get_data(as_text=True)
    assert 'id="push-switch"' in settings and push_app.config["IDANCE"].vapid_public_key in settings
    assert ana.post("/api/devices", json=subscription()).status_code == 400  # no CSRF token
    firefox = {"X-CSRFToken": token,
               "User-Agent": "Mozilla/5.0 (Android 14) Gecko/20100101 Firefox/130.0"}
    made = ana.post("/api/devices", json=subscription(), headers=firefox)
    assert made.status_code == 201
    key = made.get_json()["id"]
    again = ana.post("/api/devices", json=subscription(), headers=firefox)
    assert again.status_code == 201 and again.get_json()["id"] == key  # same endpoint: one row
    for bad, field in ((subscription("http://push.example.net/x"), "endpoint"),
                       ({"endpoint": "https://push.example.net/x",
                         "keys": {"p256dh": "short", "auth": "x"}}, "keys.p256dh"),
                       ({**subscription(), "keys": {**subscription()["keys"], "auth": "a+b/"}},
                        "keys.auth"),
                       (["not", "an", "object"], "subscription")):
        refused = ana.post("/api/devices", json=bad, headers={"X-CSRFToken": token})
        assert refused.status_code == 400 and field in refused.get_json()["fields"], bad
    page = ana.get("/me/settings").get_data(as_text=True)
    assert "Firefox on Android" in page and "push.example.net" in page
    assert eve.delete(f"/api/devices/{key}",
                      headers={"X-CSRFToken": csrf_token(eve, "/me/settings")}).status_code == 404
    assert "push.example.net" not in eve.get("/me/settings").get_data(as_text=True)
    assert ana.delete(f"/api/devices/{key}").status_code == 400  # no CSRF token
    assert ana.delete(f"/api/devices/{key}", headers={"X-CSRFToken": token}).status_code == 204
    db = push_app.extensions["idance.db"]
    me = str(member_id(db, "ana").id)
    assert push.list_devices(db, me) == []
    # The page's own form removes one too.
    ana.post("/api/devices", json=subscription(), headers={"X-CSRFToken": token})
    (device,) = push.list_devices(db, me)
    gone = ana.post(f"/me/settings/devices/{device['key']}/remove", data={"csrf_token": token})
    assert gone.status_code == 303
    assert push.list_devices(db, me) == []


def test_visitors_are_sent_to_sign_in(app):
    client = app.test_client()
    for path in ("/notifications", "/notifications/abc"):
        assert client.get(path).status_code == 302


def test_vapid_keys_prints_a_pair_the_configuration_takes(config):
    from idance_web import create_app
    from idance_web.config import ConfigError

    result = create_app(config).test_cli_runner().invoke(args=["vapid-keys"])
    assert result.exit_code == 0, result.output
    found = dict(line.split("=", 1) for line in result.output.splitlines()
                 if line.startswith("IDANCE_VAPID_") and "SUBJECT" not in line)
    public, private = found["IDANCE_VAPID_PUBLIC_KEY"], found["IDANCE_VAPID_PRIVATE_KEY"]
    assert len(base64.urlsafe_b64decode(public + "=")) == 65
    configured = make_config(vapid_public_key=public, vapid_private_key=private,
                             vapid_subject="mailto:ops@idance.test").validate()
    assert push.push_enabled(configured) and "web_push" in push.senders_from_config(configured)
    for half in ({"vapid_public_key": public}, {"vapid_public_key": public,
                                                "vapid_private_key": private}):
        with pytest.raises(ConfigError):
            make_config(**half).validate()  # one key alone, or keys without a subject
