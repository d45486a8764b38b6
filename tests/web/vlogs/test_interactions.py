"""Likes, comments, partner tags, reports and deletion, on the real engine."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from surrealdb import RecordID

from idance_web.errors import Conflict, Invalid, NotAllowed, NotFound
from idance_web.services import vlog_comments, vlog_lists, vlogs
from tests.fixtures.auth import csrf_token, member_id
from tests.fixtures.vlogs import post_images, posted_key, token, vlog_keys


@pytest.fixture
def key(ann):
    return posted_key(post_images(ann, title="Bachata basics", styles=["bachata"]))


def _vlog(db, key):
    with db.system() as s:
        return s.one("SELECT like_count, comment_count FROM ONLY type::thing('vlog', $k)",
                     {"k": key})


def _notes(db, username, kind):
    with db.system() as s:
        return s.value("SELECT VALUE actor FROM notification WHERE recipient = $u AND kind = $k",
                       {"u": member_id(db, username), "k": kind})


def test_likes_are_idempotent_exact_and_notify_the_owner(key, ann, ben, cat, db):
    for client, like in ((ben, "1"), (ben, "1"), (cat, "1"), (cat, "0"), (cat, "0")):
        response = client.post(f"/vlogs/{key}/like",
                               data={"csrf_token": token(client, key), "like": like})
        assert response.status_code == 303
    assert _vlog(db, key)["like_count"] == 1
    html = ben.get(f"/vlogs/{key}").get_data(as_text=True)
    assert "1 like" in html and "Unlike" in html
    assert _notes(db, "ann", "vlog_like") == [member_id(db, "ben"), member_id(db, "cat")]


def test_the_database_keeps_one_like_per_member_and_vlog(key, ben, db):
    ben_key = member_id(db, "ben").id
    vlog = RecordID("vlog", key)
    with db.member(ben_key) as s:
        s.query("RELATE $me->vlog_like->$v", {"me": RecordID("user", ben_key), "v": vlog})
        with pytest.raises(Conflict):
            s.query("RELATE $me->vlog_like->$v", {"me": RecordID("user", ben_key), "v": vlog})
        for _ in range(2):
            s.query("DELETE vlog_like WHERE in = $me AND out = $v",
                    {"me": RecordID("user", ben_key), "v": vlog})
    assert _vlog(db, key)["like_count"] == 0
    with db.system() as s:  # a count never goes below zero, whatever removes a like
        s.query("RELATE $me->vlog_like->$v", {"me": RecordID("user", ben_key), "v": vlog})
        s.query("UPDATE $v SET like_count = 0", {"v": vlog})
        s.query("DELETE vlog_like WHERE out = $v", {"v": vlog})
    assert _vlog(db, key)["like_count"] == 0


def _comment(client, key, body, parent=""):
    return client.post(f"/vlogs/{key}/comments", data={
        "csrf_token": token(client, key), "body": body, "parent": parent})


def _comment_keys(html):
    return re.findall(r'id="c-([a-z0-9]+)"', html)


def test_comments_replies_edits_hiding_and_counts(key, ann, ben, cat, db):
    assert _comment(ben, key, "Great **footwork**").status_code == 303
    first = _comment_keys(ben.get(f"/vlogs/{key}").get_data(as_text=True))[0]
    assert _comment(ann, key, "Thank you!", parent=first).status_code == 303
    assert _comment(cat, key, "Me too").status_code == 303
    assert _vlog(db, key)["comment_count"] == 3
    html = cat.get(f"/vlogs/{key}").get_data(as_text=True)
    assert "<strong>footwork</strong>" in html and "Thank you!" in html
    reply = [k for k in _comment_keys(html) if k != first][0]
    # One level of replies only.
    _comment(cat, key, "Nested", parent=reply)
    assert "Nested" not in cat.get(f"/vlogs/{key}").get_data(as_text=True)
    assert _notes(db, "ben", "reply") == [member_id(db, "ann")]
    # Her own comment, within 15 minutes, shows as edited; others' cannot be edited.
    ben.post(f"/vlogs/{key}/comments/{first}/edit",
             data={"csrf_token": token(ben, key), "body": "Great footwork, really"})
    cat.post(f"/vlogs/{key}/comments/{first}/edit",
             data={"csrf_token": token(cat, key), "body": "vandalised"})
    html = ann.get(f"/vlogs/{key}").get_data(as_text=True)
    assert "Great footwork, really" in html and "<em>edited</em>" in html
    assert "vandalised" not in html
    # The owner hides a comment: gone for others, counted no more; she may show it again.
    cats = [k for k in _comment_keys(html) if k not in (first, reply)][0]
    ann.post(f"/vlogs/{key}/comments/{cats}/hide", data={"csrf_token": token(ann, key),
                                                         "hidden": "1"})
    assert "Me too" not in ben.get(f"/vlogs/{key}").get_data(as_text=True)
    assert _vlog(db, key)["comment_count"] == 2
    # Ben cannot hide on Ann's vlog; he deletes his own comment.
    with pytest.raises(NotAllowed):
        vlog_comments.set_hidden(db, member_id(db, "ben").id, reply, True)
    ben.post(f"/vlogs/{key}/comments/{first}/delete", data={"csrf_token": token(ben, key)})
    assert _vlog(db, key)["comment_count"] == 1


def test_an_edit_after_fifteen_minutes_is_refused(key, ben, db):
    ben_key = member_id(db, "ben").id
    made = vlog_comments.add_comment(db, ben_key, key, "First")
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=16)
    with pytest.raises(Invalid) as refused:
        vlog_comments.edit_comment(db, ben_key, made, "Changed", now=later)
    assert "15 minutes" in refused.value.fields["body"]


def test_blocked_members_cannot_comment_on_each_others_vlogs(key, ann, ben, db):
    token_ = csrf_token(ann, "/u/ben")
    ann.post("/u/ben/block", data={"csrf_token": token_})
    with pytest.raises((NotAllowed, NotFound)):
        vlog_comments.add_comment(db, member_id(db, "ben").id, key, "Hello?")
    with db.system() as s:
        assert s.value("SELECT VALUE id FROM comments") == []


def test_a_partner_tag_notifies_her_and_shows_once_she_accepts(ann, ben, cat, db):
    key = posted_key(post_images(ann, title="Our routine", partner="ben"))
    assert _notes(db, "ben", "tag") == [member_id(db, "ann")]
    assert "Ben Cruz" not in cat.get(f"/vlogs/{key}").get_data(as_text=True)
    html = ben.get(f"/vlogs/{key}").get_data(as_text=True)
    assert "Accept the credit" in html
    assert vlog_keys(ben.get("/vlogs").get_data(as_text=True)) == []  # not a follower
    ben.post(f"/vlogs/{key}/partner", data={"csrf_token": token(ben, key), "answer": "approved"})
    assert "Ben Cruz" in cat.get(f"/vlogs/{key}").get_data(as_text=True)
    with pytest.raises(NotFound):  # nobody answers for her
        vlogs.answer_tag(db, member_id(db, "cat").id, key, "declined")


def test_reports_of_a_vlog_and_a_comment_are_stored(key, ben, db):
    _comment(ben, key, "Nice")
    reporter = csrf_token(ben, f"/vlogs/{key}")
    for extra in ({}, {"comment": _comment_keys(ben.get(f"/vlogs/{key}").get_data(
            as_text=True))[0]}):
        response = ben.post(f"/vlogs/{key}/report", data={
            "report-csrf_token": reporter, "report-reason": "spam", **extra}, follow_redirects=True)
        assert "received your report" in response.get_data(as_text=True)
    with db.system() as s:
        targets = s.value("SELECT VALUE record::tb(target) FROM report")
    assert sorted(targets) == ["comments", "vlog"]


def test_deleting_a_vlog_hides_it_everywhere_and_its_files_go_later(key, ann, ben, visitor, db,
                                                                    app):
    from idance_web.jobs import Worker

    ben.post(f"/vlogs/{key}/like", data={"csrf_token": token(ben, key), "like": "1"})
    files = re.findall(rf'src="/vlogs/{key}/media/([^"]+)"',
                       ann.get(f"/vlogs/{key}").get_data(as_text=True))
    storage = app.extensions["idance.storage"]
    assert files and all(storage.exists(f) for f in files)
    ann_key = member_id(db, "ann").id
    before = _usage(db, ann_key)
    assert ann.post(f"/vlogs/{key}/delete", data={"csrf_token": token(ann, key)}).status_code == 303
    for client in (ann, ben, visitor):
        assert client.get(f"/vlogs/{key}").status_code == 404
        assert client.get(f"/vlogs/{key}/media/{files[0]}").status_code == 404
        assert key not in vlog_keys(client.get("/vlogs/explore").get_data(as_text=True))
    assert vlog_lists.feed(db, ann_key).cards == []
    with db.system() as s:  # the clean-up waits for its grace period, then runs
        assert s.value("SELECT VALUE run_after > time::now() + 23h FROM job "
                       "WHERE kind = 'purge_media'") == [True]
        s.query("UPDATE job SET run_after = time::now() WHERE kind = 'purge_media'")
    Worker(db).run_due()
    assert not any(storage.exists(f) for f in files)
    assert _usage(db, ann_key) < before and _usage(db, ann_key) == 0


def _usage(db, user_key):
    from idance_web.services.quota import usage

    return usage(db, user_key)
