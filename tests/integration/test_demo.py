"""``idance demo``: a living community, loaded once."""

from __future__ import annotations

import re

from idance_web.demo import DEMO_PASSWORD, load_demo


def counts(db):
    with db.system() as s:
        return s.query(
            "RETURN count(SELECT id FROM user); RETURN count(SELECT id FROM profile);"
            "RETURN count(SELECT id FROM user_dance_style);"
            "RETURN array::len(array::distinct(SELECT VALUE city FROM profile));"
        )


def test_demo_loads_a_community_across_real_cities(app, db):
    summary = load_demo(db, app.config["IDANCE"])
    users, profiles, styles, cities = counts(db)
    assert users >= 60 and profiles == users
    assert styles >= users
    assert cities >= 6
    assert DEMO_PASSWORD in summary


def test_demo_is_idempotent(app, db):
    load_demo(db, app.config["IDANCE"])
    first = counts(db)
    again = load_demo(db, app.config["IDANCE"])
    assert "Demo members already loaded." in again and "Demo sites already loaded." in again
    assert counts(db) == first


def test_demo_members_sign_in_with_the_documented_password(app, db):
    load_demo(db, app.config["IDANCE"])
    with db.system() as s:
        email = s.value("SELECT VALUE email FROM ONLY user:demo_000")
    assert db.record_signin("member", {"email": email, "password": DEMO_PASSWORD}) == "user:demo_000"


def test_demo_members_are_adults_who_follow_like_and_match(app, db):
    from idance_web.services import social

    load_demo(db, app.config["IDANCE"])
    with db.system() as s:
        assert s.value("RETURN count(SELECT id FROM profile WHERE adult = false)") == 0
        assert s.value("RETURN count(SELECT id FROM follow)") > 64
    matched = social.matches(db, "demo_000")
    assert len(matched) == 2 and all(m["chat"] for m in matched)
    waiting = social.liked_me(db, "demo_000")
    assert [w["super"] for w in waiting] == [True]
    assert "already loaded" in load_demo(db, app.config["IDANCE"]).split("Sign in")[0]


def test_demo_vlogs_have_pictures_likes_comments_and_a_group_vlog(app, db):
    load_demo(db, app.config["IDANCE"])
    with db.system() as s:
        rows = s.value("SELECT VALUE [record::tb(owner), like_count, comment_count, "
                       "array::len(images)] FROM vlog")
        tags = s.value("SELECT VALUE status FROM vlog_tag")
        counted = s.value("RETURN count(SELECT id FROM upload WHERE subject != NONE)")
    assert len(rows) >= 6 and "group" in {r[0] for r in rows}
    assert all(r[1] >= 4 and r[2] == 3 for r in rows)
    with db.system() as s:
        videos = s.value("SELECT VALUE video.key FROM vlog WHERE kind = 'video'")
    assert len(videos) == 2 and all(app.extensions["idance.storage"].exists(k) for k in videos)
    assert tags == ["approved"] and counted > 0
    storage = app.extensions["idance.storage"]
    with db.system() as s:
        key = s.value("RETURN (SELECT VALUE images[0].variants.thumb.key FROM ONLY vlog:demo_v01)")
    assert key.startswith("vlog/") and storage.exists(key)


def test_demo_matches_talk_and_a_group_chats(app, db):
    from idance_web.services import chat

    load_demo(db, app.config["IDANCE"])
    chats = chat.list_chats(db, "demo_000")
    kinds = sorted(c["kind"] for c in chats)
    assert kinds == ["direct", "direct", "group"]
    assert all(c["has_messages"] for c in chats)
    assert chat.unread_total(db, "demo_000") > 0
    group = next(c for c in chats if c["kind"] == "group")
    assert len(chat.thread(db, "demo_000", group["key"])["members"]) > 2
    again = load_demo(db, app.config["IDANCE"])
    assert "Demo chats already loaded." in again
    assert chat.unread_total(db, "demo_000") == sum(c["unread"] for c in chats)


def test_the_documented_account_has_notifications_of_every_kind(app, db):
    from idance_web.services import notifications

    load_demo(db, app.config["IDANCE"])
    items, _ = notifications.list_notifications(db, "demo_000", limit=60)
    kinds = {i.kind for i in items}
    assert kinds == set(notifications.KINDS)
    assert 0 < notifications.unread_count(db, "demo_000") < sum(len(i.keys) for i in items)
    likes = next(i for i in items if i.kind == "vlog_like")
    assert re.search(r" and [1-9][0-9]* others liked “[^”]+”\.$", likes.text), likes.text
    assert any(i.url == "/g/tango-del-puerto/manage" for i in items)  # a request she answers
    again = load_demo(db, app.config["IDANCE"])
    assert "Demo notifications already loaded." in again
    assert len(notifications.list_notifications(db, "demo_000", limit=60)[0]) == len(items)


def test_the_documented_account_finds_her_home_waiting(app, db):
    from idance_web.services.home import member_home

    load_demo(db, app.config["IDANCE"])
    home = member_home(db, "demo_000")
    assert home.matches and home.unread_chats and home.chat_unread > 0
    assert home.notifications_unread > 0 and any(i.unread for i in home.notifications)
    assert home.feed and all(v["username"] != "ana-dubois" for v in home.feed)
    assert home.nearby and home.site["state"] == "published"

    def follows():
        with db.system() as s:
            return s.value("RETURN count(SELECT id FROM follow WHERE in = user:demo_000)")

    before = follows()
    load_demo(db, app.config["IDANCE"])
    assert follows() == before
    assert len(member_home(db, "demo_000").feed) == len(home.feed)
