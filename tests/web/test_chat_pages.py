"""The chat pages and their endpoints, through the real app and engine."""

from __future__ import annotations

import re

import pytest

from tests.fixtures.app import build_app, make_config
from tests.fixtures.auth import AuthActions, csrf_token
from tests.fixtures.chats import adult, group_with, match


@pytest.fixture
def members(app, db):
    """Ana, Ben and Cat, adults signed in on clients of their own; Ana and Ben matched."""
    return sign_in(app, db, ("ana", "ben", "cat"))


def sign_in(app, db, names):
    clients = {}
    for name in names:
        actions = AuthActions(app.test_client())
        actions.signup(name)
        adult(db, name)
        clients[name] = actions.client
    if "ben" in clients:
        clients["key"] = match(db, "ana", "ben")
    return clients


def post_form(client, path, chat_path, **data):
    return client.post(path, data={"csrf_token": csrf_token(client, chat_path), **data})


def post_json(client, key, body, idem, token=None):
    token = token or csrf_token(client, f"/chat/{key}")
    return client.post(f"/chat/{key}/messages", json={"body": body, "idempotency_key": idem},
                       headers={"X-CSRFToken": token, "Accept": "application/json"})


def badge(html: str) -> str:
    return re.search(r'<span class="badge" data-badge="chat"( hidden)?>(\d+)</span>',
                     html).group(0)


def test_form_posts_without_javascript_and_redirects(members):
    ana, key = members["ana"], members["key"]
    page = ana.get(f"/chat/{key}").get_data(as_text=True)
    idem = re.search(r'name="idempotency_key" type="hidden" value="([^"]+)"', page).group(1)
    data = {"body": "Hello *Ben*", "idempotency_key": idem}
    first = post_form(ana, f"/chat/{key}/messages", f"/chat/{key}", **data)
    assert first.status_code == 303 and first.headers["Location"].endswith(f"/chat/{key}#latest")
    again = post_form(ana, f"/chat/{key}/messages", f"/chat/{key}", **data)  # a double submit
    assert again.status_code == 303
    html = members["ben"].get(f"/chat/{key}").get_data(as_text=True)
    assert html.count("<em>Ben</em>") == 1
    assert 'data-badge="chat">1</span>' in badge(html)


def test_json_posting_answers_201_with_the_message_and_once_per_key(members):
    ana, key = members["ana"], members["key"]
    made = post_json(ana, key, "Hi from the script", "script-key-0001")
    assert made.status_code == 201
    payload = made.get_json()
    assert set(payload) == {"id", "chat", "author", "author_name", "html", "created_at",
                            "edited", "deleted"}
    assert payload["html"] == "<p>Hi from the script</p>" and payload["chat"].startswith("chat:[")
    retried = post_json(ana, key, "Hi from the script", "script-key-0001")
    assert retried.status_code == 200 and retried.get_json()["id"] == payload["id"]
    assert members["ben"].get(f"/chat/{key}").get_data(as_text=True).count(
        "Hi from the script") == 1


@pytest.mark.parametrize("body, idem, named", [
    ("", "script-key-0002", "Write a message first."),
    ("  \n ", "script-key-0002", "Write a message first."),
    ("x" * 4001, "script-key-0002", "at most 4,000 characters"),
    ("fine", "bad key", "message key is malformed"),
    ("fine", "", "message key is malformed"),
])
def test_bad_messages_get_a_clear_400(members, body, idem, named):
    answer = post_json(members["ana"], members["key"], body, idem)
    assert answer.status_code == 400 and named in answer.get_json()["error"]


def test_a_long_form_message_is_shown_again_with_its_reason(members):
    ana, key = members["ana"], members["key"]
    text = "word " * 900
    answer = post_form(ana, f"/chat/{key}/messages", f"/chat/{key}", body=text,
                       idempotency_key="form-key-0001")
    html = answer.get_data(as_text=True)
    assert answer.status_code == 400 and "at most 4,000 characters" in html
    assert "word word word" in html and 'value="form-key-0001"' in html


def test_json_without_csrf_or_object_is_refused(members):
    ana, key = members["ana"], members["key"]
    no_token = ana.post(f"/chat/{key}/messages", json={"body": "x", "idempotency_key": "k" * 10})
    assert no_token.status_code == 400
    token = csrf_token(ana, f"/chat/{key}")
    for payload in (["x"], "x", {"body": 5, "idempotency_key": "k" * 10}):
        answer = ana.post(f"/chat/{key}/messages", json=payload, headers={"X-CSRFToken": token})
        assert answer.status_code == 400 and answer.get_json()["error"]


def test_a_third_member_gets_nothing(members):
    ana, cat, key = members["ana"], members["cat"], members["key"]
    made = post_json(ana, key, "Only for Ben", "private-key-01").get_json()
    mkey = made["id"].split(":", 1)[1]
    token = csrf_token(cat, "/chat")
    assert cat.get(f"/chat/{key}/messages/{mkey}/edit").status_code == 404
    for action, data in (("edit", {"body": "Changed"}), ("delete", {})):
        answer = cat.post(f"/chat/{key}/messages/{mkey}/{action}",
                          data={"csrf_token": token, **data})
        assert answer.status_code == 404
    assert "Only for Ben" in members["ben"].get(f"/chat/{key}").get_data(as_text=True)
    assert cat.get(f"/chat/{key}").status_code == 404
    assert "Only for Ben" not in cat.get("/chat").get_data(as_text=True)
    assert 'data-badge="chat" hidden>0' in badge(cat.get("/chat").get_data(as_text=True))
    assert post_json(cat, key, "Let me in", "intruder-key-1", token).status_code == 404
    form = cat.post(f"/chat/{key}/messages", data={"csrf_token": token, "body": "x",
                                                   "idempotency_key": "intruder-key-2"})
    assert form.status_code == 404
    for action in ("read", "mute", "leave"):
        assert cat.post(f"/chat/{key}/{action}", data={"csrf_token": token}).status_code in (
            302, 303, 404)
    assert "Let me in" not in members["ben"].get(f"/chat/{key}").get_data(as_text=True)
    for bad in ("x.y.z", "a.a", "..", "chat:1;DELETE message", "⟨x⟩"):
        assert cat.get(f"/chat/{bad}").status_code == 404


def test_messages_per_minute_are_limited_and_the_text_kept(db):
    app = build_app(make_config(chat_messages_per_minute=3))
    try:
        clients = sign_in(app, app.extensions["idance.db"], ("ana", "ben"))
        ana, key = clients["ana"], clients["key"]
        statuses = [post_json(ana, key, f"m{i}", f"burst-key-{i:03d}").status_code
                    for i in range(3)]
        assert statuses == [201, 201, 201]
        limited = post_json(ana, key, "m3", "burst-key-003")
        assert limited.status_code == 429 and "too fast" in limited.get_json()["error"]
        assert int(limited.headers["Retry-After"]) > 0
        form = post_form(ana, f"/chat/{key}/messages", f"/chat/{key}",
                         body="Please keep this text", idempotency_key="burst-key-004")
        html = form.get_data(as_text=True)
        assert form.status_code == 429 and "Please keep this text" in html
        assert "sending messages too fast" in html
    finally:
        app.extensions["idance.db"].close()


def test_reading_muting_and_the_badge(members):
    ana, ben, key = members["ana"], members["ben"], members["key"]
    for i in range(2):
        post_json(ana, key, f"Unread {i}", f"unread-key-{i:03d}")
    listing = ben.get("/chat").get_data(as_text=True)
    assert 'aria-label="2 unread"' in listing and 'data-badge="chat">2' in badge(listing)
    read = ben.post(f"/chat/{key}/read", data={"csrf_token": csrf_token(ben, "/chat")},
                    headers={"Accept": "application/json"})
    assert read.get_json()["badge"] == 0
    post_json(ana, key, "Again", "unread-key-009")
    post_form(ben, f"/chat/{key}/mute", f"/chat/{key}", muted="1")
    listing = ben.get("/chat").get_data(as_text=True)
    assert "muted" in listing and 'data-badge="chat" hidden>0' in badge(listing)
    assert 'aria-label="1 unread"' in listing
    page = ana.get(f"/chat/{key}").get_data(as_text=True)
    assert 'class="seen">Seen</span>' in page


def test_edit_and_delete_through_the_forms(members):
    ana, ben, key = members["ana"], members["ben"], members["key"]
    made = post_json(ana, key, "Typo hre", "edit-key-0001").get_json()
    mkey = made["id"].split(":", 1)[1]
    form = ana.get(f"/chat/{key}/messages/{mkey}/edit")
    assert form.status_code == 200 and "Typo hre" in form.get_data(as_text=True)
    assert ben.get(f"/chat/{key}/messages/{mkey}/edit").status_code == 404
    post_form(ana, f"/chat/{key}/messages/{mkey}/edit", f"/chat/{key}", body="Typo here")
    html = ben.get(f"/chat/{key}").get_data(as_text=True)
    assert "Typo here" in html and 'class="edited">edited' in html
    refused = post_form(ben, f"/chat/{key}/messages/{mkey}/delete", f"/chat/{key}")
    assert refused.status_code == 403
    post_form(ana, f"/chat/{key}/messages/{mkey}/delete", f"/chat/{key}")
    html = ben.get(f"/chat/{key}").get_data(as_text=True)
    assert "Typo here" not in html and "Message deleted" in html


def test_unmatched_chat_says_why_and_offers_no_form(members):
    ana, key = members["ana"], members["key"]
    post_form(ana, f"/matches/{key}/unmatch", "/matches")
    html = members["ben"].get(f"/chat/{key}").get_data(as_text=True)
    assert "no longer matched" in html and 'id="chat-form"' not in html
    refused = post_json(members["ben"], key, "Hello?", "after-key-0001")
    assert refused.status_code == 403 and "no longer matched" in refused.get_json()["error"]


def test_matches_link_to_the_chat_and_a_group_opens_its_chat(app, db, members):
    ana, ben, key = members["ana"], members["ben"], members["key"]
    assert f'href="/chat/{key}"' in ana.get("/matches").get_data(as_text=True)
    group_with(db, "ana", ["ben"], slug="crew-one")
    assert 'href="/g/crew-one/chat"' in ben.get("/groups/crew-one").get_data(as_text=True)
    waiting = ben.get("/g/crew-one/chat")
    assert waiting.status_code == 302 and waiting.headers["Location"].endswith("/groups/crew-one")
    assert post_form(ben, "/g/crew-one/chat", "/chat").status_code == 403
    assert "Open the group chat" in ana.get("/g/crew-one/chat").get_data(as_text=True)
    opened = post_form(ana, "/g/crew-one/chat", "/chat")
    assert opened.status_code == 303
    group_path = opened.headers["Location"]
    assert ben.get("/g/crew-one/chat").headers["Location"].endswith(group_path)
    post_form(ben, group_path + "/messages", group_path, body="Hi crew",
              idempotency_key="group-key-0001")
    assert "Hi crew" in ana.get(group_path).get_data(as_text=True)
    left = post_form(ben, group_path + "/leave", group_path)
    assert left.status_code == 303
    assert "You left this chat." in ben.get(group_path).get_data(as_text=True)
    assert members["cat"].get(group_path).status_code == 404


def test_read_receipts_setting_is_for_vip(members, db):
    ben = members["ben"]
    off = post_form(ben, "/chat/settings", "/chat", read_receipts="0")
    assert off.status_code == 303
    assert "for VIP members" in ben.get("/chat").get_data(as_text=True)


def test_visitors_are_sent_to_sign_in(client):
    for path in ("/chat", "/chat/a.b"):
        assert client.get(path).status_code == 302


def test_injection_renders_as_text(members):
    ana, key = members["ana"], members["key"]
    post_json(ana, key, "</script><img src=x onerror=alert(1)>", "inject-key-001")
    html = members["ben"].get(f"/chat/{key}").get_data(as_text=True)
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html


def test_block_and_report_from_the_chat(members):
    ana, ben, key = members["ana"], members["ben"], members["key"]
    post_json(ana, key, "Are you there?", "block-key-0001")
    page = ben.get(f"/chat/{key}").get_data(as_text=True)
    assert "Report Ana" in page and "Block Ana" in page
    reported = ben.post("/u/ana/report", data={
        "report-csrf_token": csrf_token(ben, f"/chat/{key}"), "report-reason": "spam",
        "report-note": "From the chat", "next": f"/chat/{key}"})
    assert reported.status_code == 303 and reported.headers["Location"].endswith(f"/chat/{key}")
    blocked = post_form(ben, "/u/ana/block", f"/chat/{key}", next="/chat")
    assert blocked.headers["Location"].endswith("/chat")
    assert "You blocked Ana" in ben.get(f"/chat/{key}").get_data(as_text=True)
    assert ana.get(f"/chat/{key}").status_code == 404
    assert "Ben" not in re.sub(r"<header.*?</header>", "", ana.get("/chat").get_data(
        as_text=True), flags=re.S)
