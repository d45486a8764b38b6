"""The landing page's overview: counters kept by database events, newest-first sort keys."""

from __future__ import annotations

from idance_web.services.community import clear_overview, landing_overview


def overview(db) -> dict:
    clear_overview(db)
    return landing_overview(db)


def counters(db) -> dict:
    with db.visitor() as s:
        rows = s.rows("SELECT record::id(id) AS name, value FROM counter")
    return {r["name"]: r["value"] for r in rows}


def test_counts_follow_sign_ups_moves_and_deletions(db, make_user):
    assert (overview(db)["members"], overview(db)["cities"]) == (0, 0)
    for name in ("ana", "bea", "cleo"):
        make_user(name)
    with db.system() as s:
        s.query("""UPDATE profile SET city = city:2950159 WHERE owner = user:ana;
                   UPDATE profile SET city = city:2950159 WHERE owner = user:bea;
                   UPDATE profile SET city = city:2988507 WHERE owner = user:cleo;""")
    seen = overview(db)
    assert (seen["members"], seen["cities"]) == (3, 2)
    # She moves as herself: the event writes the counters, which no member may write.
    with db.member("cleo") as s:
        s.query("UPDATE profile SET city = city:2950159 WHERE owner = user:cleo")
        s.query("UPDATE counter:members SET value = 1000")  # refused silently
    assert (overview(db)["members"], overview(db)["cities"]) == (3, 1)
    with db.member("bea") as s:
        s.query("UPDATE user:bea SET deleted_at = time::now()")  # her account is erased
    seen = overview(db)
    assert (seen["members"], seen["cities"]) == (2, 1)
    assert [d["username"] for d in seen["dancers"]] == ["cleo", "ana"]


def test_recent_dancers_are_discoverable_ones_newest_first(db, make_user):
    for name in ("ana", "bea", "cleo", "dora"):
        make_user(name)
    with db.member("bea") as s:
        s.query("UPDATE profile SET discoverable = false WHERE owner = user:bea")
    assert [d["username"] for d in overview(db)["dancers"]] == ["dora", "cleo", "ana"]
    clear_overview(db)
    assert [d["username"] for d in landing_overview(db, limit=2)["dancers"]] == ["dora", "cleo"]


def test_published_sites_are_counted_once(db, make_user):
    make_user("ana")
    with db.member("ana") as s:
        s.query("CREATE site:ana SET owner = user:ana, draft = {}")
    assert counters(db).get("sites") == 0
    with db.member("ana") as s:
        s.query("UPDATE site:ana SET published = {pages: []}, published_version = 1")
        s.query("UPDATE site:ana SET published_version = 2")
    assert counters(db)["sites"] == 1
    with db.member("ana") as s:
        s.query("UPDATE site:ana SET published_version = NONE")
    assert counters(db)["sites"] == 0


def test_the_landing_page_shows_the_counts(app, client, make_user):
    make_user("ana")
    clear_overview(app.extensions["idance.db"])
    assert "1 dancers in 0 cities" in client.get("/").get_data(as_text=True)
