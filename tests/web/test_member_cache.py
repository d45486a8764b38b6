"""A member's own pages, session check and badge counts kept in memory (``member_cache.py``)
while the hub follows the feed: each member sees only her own, with her session's CSRF token,
and what changes shows at once."""

from __future__ import annotations

import re

import pytest

from idance_web.services import chat_actions
from tests.fixtures.auth import PASSWORD, AuthActions, csrf_token
from tests.fixtures.chats import matched_pair
from tests.fixtures.live import signed_in

TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


@pytest.fixture
def hub(app):
    hub = app.extensions["idance.hub"]
    hub.start()
    yield hub
    hub.stop()


@pytest.fixture
def cache(app):
    return app.extensions["idance.member_cache"]


def page(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return response.get_data(as_text=True)


def profile_form(client, **changes) -> dict:
    data = {"display_name": "Ana", "bio": "", "city_query": "", "discoverable": "on",
            "csrf_token": csrf_token(client, "/me/profile"), **changes}
    return data


def badge(html: str, name: str) -> int:
    return int(re.search(rf'data-badge="{name}"(?: hidden)?>(\d+)<', html).group(1))


def test_kept_pages_are_each_members_own(app, make_user, hub, cache):
    for name, bio in (("ana", "Ana teaches tango."), ("ben", "Ben leads salsa.")):
        make_user(name, display_name=name.title() + " Private")
        client = signed_in(app, name)
        form = profile_form(client, display_name=f"{name.title()} Private", bio=bio,
                            **{"styles-0-style": "bachata" if name == "ana" else "salsa",
                               "styles-0-level": "advanced", "styles-0-role": "lead"})
        assert client.post("/me/profile", data=form).status_code == 302
    ana, ben = signed_in(app, "ana"), signed_in(app, "ben")
    db = app.extensions["idance.db"]
    for _ in range(3):  # interleaved, after the first round every page is a kept one
        for client, mine, theirs in ((ana, "ana", "ben"), (ben, "ben", "ana")):
            for path in ("/me", "/me/profile"):
                html = page(client, path)
                assert f"{mine}@example.com" in html or path == "/me/profile"
                assert mine.title() + " teaches" in html or mine.title() + " leads" in html
                assert theirs.title() + " Private" not in html
                assert f"{theirs}@example.com" not in html
    before = db.query_count
    for client in (ana, ben):
        page(client, "/me")
        page(client, "/me/profile")
    if db.embedded:
        assert db.query_count == before  # sessions, counts and page parts were all kept
        assert len(cache.fragments) == 4
    else:  # on a server (IDANCE_TEST_DB=server) nothing is kept: other processes write too
        assert db.query_count > before and not cache.fragments


def test_a_kept_page_carries_each_sessions_own_csrf_token(app, make_user, hub):
    make_user("ana")
    phone, laptop = signed_in(app, "ana"), signed_in(app, "ana")
    first = TOKEN.findall(page(phone, "/me/profile"))
    second = TOKEN.findall(page(laptop, "/me/profile"))  # the part phone's request kept
    assert len(set(first)) == 1 and len(set(second)) == 1 and first[0] != second[0]
    # The laptop's page holds the laptop's token: the phone's is refused there.
    data = {"display_name": "Ana", "discoverable": "on", "csrf_token": first[0]}
    assert laptop.post("/me/profile", data=data).status_code == 400
    data["csrf_token"] = second[0]
    assert laptop.post("/me/profile", data=data).status_code == 302


def test_what_changes_shows_at_once(app, make_user, hub):
    make_user("ana")
    client = signed_in(app, "ana")
    form = profile_form(client, bio="First words.", **{
        "styles-0-style": "bachata", "styles-0-level": "advanced", "styles-0-role": "lead"})
    assert client.post("/me/profile", data=form).status_code == 302
    assert "First words." in page(client, "/me") and "Bachata" in page(client, "/me")
    assert "First words." in page(client, "/me/profile")
    # A save drops what showed the old values before it answers; no styles left included.
    assert client.post("/me/profile", data=profile_form(
        client, display_name="Ana Renamed", bio="Second words.")).status_code == 302
    html = page(client, "/me")
    assert "Second words." in html and "First words." not in html and "Bachata" not in html
    assert "Ana Renamed" in html  # the navigation's name: her session check was dropped too
    assert "Second words." in page(client, "/me/profile")
    # A write outside a request reaches the page once the hub has read it.
    db = app.extensions["idance.db"]
    with db.system() as s:
        s.query("UPDATE profile SET bio = 'Written by a job.' WHERE owner = user:ana")
    hub.sync()
    assert "Written by a job." in page(client, "/me")


def test_a_revoked_session_is_refused_at_once(app, make_user, hub):
    make_user("ana")
    phone, laptop = signed_in(app, "ana"), signed_in(app, "ana")
    page(phone, "/me")  # its session check kept
    data = {"pw-current_password": PASSWORD, "pw-new_password": "another long secret 42",
            "csrf_token": csrf_token(laptop, "/me/settings")}
    assert laptop.post("/me/settings/password", data=data).status_code == 302
    assert phone.get("/me").status_code == 302  # signed out: sent to sign in
    assert laptop.get("/me").status_code == 200
    # A signed-out cookie, replayed, is signed out too.
    cookie = laptop.get_cookie("session").value
    AuthActions(laptop).logout()
    replay = app.test_client()
    replay.set_cookie("session", cookie)
    assert replay.get("/me").status_code == 302


def test_badges_follow_messages_and_reading(app, make_user, hub):
    key = matched_pair(app.extensions["idance.db"], make_user)
    ana = signed_in(app, "ana")
    html = page(ana, "/me")
    assert badge(html, "chat") == 0
    notified = badge(html, "notifications")  # the match
    chat_actions.send(app.extensions["idance.db"], "ben", key, "Tango tonight?", "first-message")
    hub.sync()
    html = page(ana, "/me")
    assert badge(html, "chat") == 1 and badge(html, "notifications") == notified + 1
    chat_actions.mark_read(app.extensions["idance.db"], "ana", key)
    hub.sync()
    assert badge(page(ana, "/me"), "chat") == 0


def test_nothing_is_kept_without_the_hub(app, make_user, cache):
    make_user("ana")
    client = signed_in(app, "ana")
    assert "Quiet start." not in page(client, "/me")
    with app.extensions["idance.db"].system() as s:
        s.query("UPDATE profile SET bio = 'Quiet start.' WHERE owner = user:ana")
    assert "Quiet start." in page(client, "/me")  # no hub, no sync: read each time
    assert len(cache.fragments) == 0 and len(cache.small) == 0


def test_her_pages_reuse_the_connections_identity(app, make_user):
    """Her session check writes nothing (its last use is written in a block of its own, at
    most every 10 minutes), so the page's queries run on the connection as it was signed in."""
    make_user("ana")
    client = signed_in(app, "ana")
    page(client, "/me/profile")  # the lookup lists read once, as the visitor
    db = app.extensions["idance.db"]
    before, queries = db.authentications, db.query_count
    page(client, "/me")
    page(client, "/me/profile")
    assert db.query_count > queries  # nothing kept (no hub): every part was read again
    assert db.authentications == before


def test_nothing_kept_is_trusted_while_the_feed_cannot_be_read(app, make_user, hub, monkeypatch):
    """A poll that fails leaves changes undelivered: pages read again until one succeeds."""
    make_user("ana")
    client = signed_in(app, "ana")
    assert "Read again." not in page(client, "/me")  # kept now

    def unreadable(*args, **kwargs):
        raise RuntimeError("the feed cannot be read")

    monkeypatch.setattr(hub, "_read", unreadable)
    hub.sync()  # fails (logged): the hub is not healthy
    with app.extensions["idance.db"].system() as s:
        s.query("UPDATE profile SET bio = 'Read again.' WHERE owner = user:ana")
    assert not hub.healthy and "Read again." in page(client, "/me")
    monkeypatch.undo()
    hub.sync()
    assert hub.healthy and "Read again." in page(client, "/me")


def test_her_vlogs_on_the_kept_profile_follow_posting_and_deleting(app, make_user, hub, cache):
    from tests.fixtures.vlogs import post_images, posted_key, token, vlog_keys
    make_user("ana")
    client = signed_in(app, "ana")
    assert vlog_keys(page(client, "/me")) == []
    assert vlog_keys(page(client, "/me")) == []  # now a kept part
    key = posted_key(post_images(client, title="Practice night"))
    assert vlog_keys(page(client, "/me")) == [key]
    assert client.post(f"/vlogs/{key}/delete",
                       data={"csrf_token": token(client, key)}).status_code in (302, 303)
    assert vlog_keys(page(client, "/me")) == []
