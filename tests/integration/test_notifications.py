"""Notifications on the real engine: the events that make them, her list grouped, read state,
the unread count and her preferences."""

from __future__ import annotations

import base64
import datetime as dt

import pytest
from surrealdb import RecordID

from idance_web.errors import Invalid, NotFound
from idance_web.services import group_members, notifications as nt
from idance_web.services.groups import create_group


def follow(db, follower: str, followed: str) -> None:
    with db.member(follower) as s:
        s.query("RELATE $a->follow->$b RETURN NONE",
                {"a": RecordID("user", follower), "b": RecordID("user", followed)})


def notify(db, recipient: str, kind: str, actor: str | None = None, subject=None,
           text: str | None = None) -> None:
    """A notification written as the system, as the database's events write them."""
    with db.system() as s:
        s.query("CREATE notification SET recipient = type::thing('user', $r), kind = $kind, "
                "actor = IF $a THEN type::thing('user', $a) END, subject = $subject, "
                "text = $text RETURN NONE",
                {"r": recipient, "kind": kind, "a": actor, "subject": subject, "text": text})


@pytest.fixture
def people(make_user):
    for name in ("ana", "bruno", "chloe", "dario", "eva"):
        make_user(name, display_name=name.title())


def test_alike_notifications_are_grouped_newest_first_each_with_its_link(db, people):
    vlog = RecordID("vlog", "v1")
    for who in ("bruno", "chloe", "dario"):
        notify(db, "ana", "vlog_like", who, vlog)
    follow(db, "bruno", "ana")
    follow(db, "eva", "ana")
    notify(db, "ana", "message", "chloe", RecordID("chat", [RecordID("user", "ana"),
                                                           RecordID("user", "chloe")]))
    notify(db, "ana", "message", "chloe", RecordID("chat", [RecordID("user", "ana"),
                                                           RecordID("user", "chloe")]))
    notify(db, "ana", "match", "dario", RecordID("match", "x"))
    items, cursor = nt.list_notifications(db, "ana")
    assert cursor is None
    assert [(i.text, i.url) for i in items] == [
        ("You matched with Dario.", "/matches"),
        ("Chloe sent you 2 messages.", "/chat/ana.chloe"),
        ("Eva and 1 other followed you.", "/u/eva"),
        ("Dario and 2 others liked your vlog.", "/vlogs/v1"),
    ]
    assert [len(i.keys) for i in items] == [1, 2, 2, 3] and all(i.unread for i in items)
    assert nt.unread_count(db, "ana") == 8
    assert nt.unread_count(db, "bruno") == 0


def test_a_group_closes_after_its_window(db, people):
    old = [{"id": RecordID("notification", "old"), "kind": "vlog_like",
            "subject": RecordID("vlog", "v"), "actor_name": "Bruno",
            "created_at": dt.datetime(2026, 1, 1, tzinfo=dt.UTC)}]
    new = [{"id": RecordID("notification", "new"), "kind": "vlog_like",
            "subject": RecordID("vlog", "v"), "actor_name": "Chloe",
            "created_at": dt.datetime(2026, 1, 3, tzinfo=dt.UTC)}]
    items = nt.group_rows(new + old)
    assert [i.text for i in items] == ["Chloe liked your vlog.", "Bruno liked your vlog."]
    assert [i.text for i in nt.group_rows(new + [{**old[0], "created_at": new[0]["created_at"]
                                                  - nt.GROUP_WINDOW}])] == [
        "Chloe and 1 other liked your vlog."]


def test_pages_follow_each_other_without_gaps(db, people):
    for _ in range(7):
        notify(db, "ana", "system", text="Hello")
    first, cursor = nt.list_notifications(db, "ana", limit=3)
    second, cursor2 = nt.list_notifications(db, "ana", after=cursor, limit=3)
    third, end = nt.list_notifications(db, "ana", after=cursor2, limit=3)
    keys = [k for page in (first, second, third) for i in page for k in i.keys]
    assert len(keys) == 7 == len(set(keys)) and end is None
    with pytest.raises(Invalid):
        nt.list_notifications(db, "ana", after="x' OR true")


def test_read_one_all_and_nobody_else_s(db, people):
    for who in ("bruno", "chloe"):
        follow(db, who, "ana")
    notify(db, "ana", "match", "dario", RecordID("match", "m"))
    notify(db, "bruno", "match", "dario", RecordID("match", "m2"))
    items, _ = nt.list_notifications(db, "ana")
    theirs, _ = nt.list_notifications(db, "bruno")
    nt.mark_read(db, "ana", theirs[0].keys)  # not hers: nothing changes
    assert nt.unread_count(db, "bruno") == 1
    nt.mark_read(db, "ana", items[1].keys)  # the two follows, as one item
    assert nt.unread_count(db, "ana") == 1
    assert [i.unread for i in nt.list_notifications(db, "ana")[0]] == [True, False]
    nt.mark_all_read(db, "ana")
    assert nt.unread_count(db, "ana") == 0 and nt.unread_count(db, "bruno") == 1
    with pytest.raises(Invalid):
        nt.mark_read(db, "ana", ["notification:x; DELETE notification"])
    with pytest.raises(NotFound):
        nt.get_notification(db, "ana", theirs[0].key)


def test_kinds_turned_off_in_the_app_leave_the_list_and_the_badge(db, people):
    follow(db, "bruno", "ana")
    notify(db, "ana", "match", "dario", RecordID("match", "m"))
    assert nt.preferences(db, "ana")["follow"] == {"in_app": True, "push": True}
    nt.save_preferences(db, "ana", {"follow": {"in_app": False, "push": True}})
    assert nt.preferences(db, "ana")["follow"] == {"in_app": False, "push": True}
    assert nt.unread_count(db, "ana") == 1
    assert [i.kind for i in nt.list_notifications(db, "ana")[0]] == ["match"]
    with pytest.raises(Invalid):
        nt.save_preferences(db, "ana", {"nonsense": {"in_app": True, "push": True}})
    # Her preferences are hers: another member cannot read or write them.
    with db.member("bruno") as s:
        assert s.rows("SELECT * FROM notification_pref") == []
        s.query("UPSERT notification_pref:[user:ana, 'match'] SET member = user:ana, "
                "kind = 'match', in_app = false RETURN NONE")
    assert nt.preferences(db, "ana")["match"]["in_app"] is True


def test_group_requests_and_role_changes_notify(db, people):
    create_group(db, "ana", {"kind": "studio", "slug": "salsa-lab", "name": "Salsa Lab",
                             "join_mode": "request", "visibility": "public"})
    assert group_members.join(db, "bruno", "salsa-lab") == "requested"
    ana = nt.list_notifications(db, "ana")[0]
    assert [(i.text, i.url) for i in ana] == [("Bruno asked to join Salsa Lab.",
                                               "/g/salsa-lab/manage")]
    group_members.change(db, "ana", "salsa-lab", "bruno", "approve")
    group_members.change(db, "ana", "salsa-lab", "bruno", "promote")
    bruno = nt.list_notifications(db, "bruno")[0]
    assert [(i.text, i.url) for i in bruno] == [
        ("Ana made you an admin of Salsa Lab.", "/groups/salsa-lab"),
        ("Ana accepted you as a member of Salsa Lab.", "/groups/salsa-lab")]
    # Her own moves (leaving) tell nobody.
    with db.member("bruno") as s:
        s.query("UPDATE group_member SET role = 'member' WHERE user = user:bruno RETURN NONE")
    assert len(nt.list_notifications(db, "bruno")[0]) == 2


def test_describe_gives_plain_text_and_a_link_for_a_bare_row():
    row = {"id": RecordID("notification", "n1"), "kind": "comment",
           "subject": RecordID("vlog", "v9"), "created_at": dt.datetime.now(dt.UTC)}
    assert nt.describe(row) == {"text": "Someone commented on your vlog.", "url": "/vlogs/v9"}
    reply = {**row, "kind": "reply", "subject": RecordID("comments", "c1"),
             "subject_target": RecordID("vlog", "v3"), "actor_name": "<b>Eva</b>"}
    assert nt.describe(reply) == {"text": "<b>Eva</b> replied to your comment.",
                                  "url": "/vlogs/v3"}


def test_the_live_stream_gets_a_new_notification_as_its_recipient_reads_it(db, people):
    from idance_web.realtime import Change

    follow(db, "bruno", "ana")
    with db.system() as s:
        row = s.one("SELECT * FROM notification WHERE recipient = user:ana LIMIT 1")
    change = Change("notification", str(row["id"]), "update", row)
    ((member, kind, payload),) = nt.fanout(change, db)
    assert (member, kind) == ("ana", "notification")
    assert payload["text"] == "Bruno followed you." and payload["url"] == "/u/bruno"
    assert payload["id"] == str(row["id"]) and payload["created_at"].startswith("20")
    # A stream that reconnects later replays the feed: an older change is sent all the same.
    import datetime as dt
    older = Change("notification", str(row["id"]), "update",
                   {**row, "created_at": row["created_at"] - dt.timedelta(hours=2)})
    assert [kind for _, kind, _ in nt.fanout(older, db)] == ["notification"]
    nt.save_preferences(db, "ana", {"follow": {"in_app": False, "push": True}})
    assert nt.fanout(change, db) == []
    read = Change("notification", str(row["id"]), "update", {**row, "read_at": row["created_at"]})
    assert nt.fanout(read, db) == []


def test_deleting_her_account_forgets_devices_choices_and_notifications(db, people):
    from idance_web.services import push

    follow(db, "bruno", "ana")
    nt.save_preferences(db, "ana", {"follow": {"in_app": False, "push": False}})
    key = b"\x04" + bytes(64)
    push.register_device(db, "ana", push.validate_subscription({
        "endpoint": "https://push.example.net/x", "keys": {
            "p256dh": base64.urlsafe_b64encode(key).decode().rstrip("="),
            "auth": base64.urlsafe_b64encode(bytes(16)).decode().rstrip("=")}}), "Firefox")
    with db.member("ana") as s:
        s.query("UPDATE user:ana SET deleted_at = time::now() RETURN NONE")
    with db.system() as s:
        left = s.query("RETURN count(SELECT id FROM device WHERE owner = user:ana);"
                       "RETURN count(SELECT id FROM notification_pref WHERE member = user:ana);"
                       "RETURN count(SELECT id FROM notification WHERE recipient = user:ana)")
    assert left == [0, 0, 0]
