"""Her home (``/`` signed in) on the real engine: every section, what each says when empty,
nothing of another member's, and never a shared copy of it (nor of the landing page for her)."""

from __future__ import annotations

import re

from surrealdb import RecordID

from idance_web.services import chat_actions, home
from idance_web.services.home import member_home
from tests.fixtures.auth import PASSWORD, AuthActions, csrf_token
from tests.fixtures.chats import match
from tests.fixtures.dancers import PARIS
from tests.fixtures.sites import Editor
from tests.fixtures.vlogs import post_images, posted_key

LANDING = "A home on the web for dancers"


def section(html: str, name: str) -> str:
    """The markup of one section of her home (``home-chats``, ``home-nearby`` …)."""
    found = re.search(rf'<section[^>]*id="{name}".*?</section>', html, re.S)
    assert found, f"no section {name}"
    return found.group(0)


def home_of(client) -> str:
    response = client.get("/")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def signed_in(app, make_user, username: str):
    make_user(username)
    client = app.test_client()
    AuthActions(client).login(f"{username}@example.com", PASSWORD)
    return client


def test_a_new_member_finds_every_section_and_what_to_do_next(app, make_user):
    html = home_of(signed_in(app, make_user, "nova"))
    assert "Hello, Nova" in html and LANDING not in html
    site = section(html, "home-site")
    assert "You have no site yet" in site and 'href="/me/site">Build my site' in site
    assert "No unread messages" in section(html, "home-chats")
    # Without a date of birth she is not an adult for discovery: she is told how to become one.
    assert "Add your date of birth" in section(html, "home-matches")
    assert 'href="/me/profile"' in section(html, "home-nearby")
    assert "Nothing yet" in section(html, "home-notifications")
    feed = section(html, "home-feed")
    assert "Your feed is quiet" in feed and 'href="/vlogs/explore"' in feed
    assert 'href="/vlogs/new"' in feed


def test_an_adult_without_matches_or_a_city_is_sent_to_discover_and_her_profile(dancer):
    ana = dancer("ana", city=None)
    html = home_of(ana)
    matches = section(html, "home-matches")
    assert "No matches yet" in matches and 'href="/discover"' in matches
    assert "Set your city" in section(html, "home-nearby")
    lone = dancer("lone", city=PARIS)  # nobody else in Paris
    assert "No new dancers within 50 km" in section(home_of(lone), "home-nearby")


def test_her_home_shows_what_waits_for_her(app, db, dancer):
    ana, ben = dancer("ana"), dancer("ben")
    dancer("cleo")
    dancer("dora")
    dancer("eve")
    dancer("paris", city=PARIS)
    key = match(db, "ana", "ben")
    chat_actions.send(db, "ben", key, "Shall we dance on Friday?", "home-test-1")
    with db.system() as s:
        s.query("""RELATE user:ana->swipe->user:dora SET direction = 'pass';
                   RELATE user:eve->block->user:ana;""")
    vlog = posted_key(post_images(ben, title="Ben's shines"))
    ana.post("/u/ben/follow", data={"csrf_token": csrf_token(ana, "/u/ben")})

    html = home_of(ana)
    chats = section(html, "home-chats")
    assert f'href="/chat/{key}">Ben</a>' in chats and "1 unread" in chats
    assert "Shall we dance on Friday?" in chats
    matches = section(html, "home-matches")
    assert 'href="/u/ben">Ben</a>' in matches and "Message" in matches
    notices = section(html, "home-notifications")
    assert "Ben sent you a message." in notices and "You matched with Ben." in notices
    assert "Unread: " in notices
    assert f'data-vlog="{vlog}"' in section(html, "home-feed")
    # Nearby: cleo, whom she has not answered; not ben (liked), dora (passed), eve (blocked
    # her), the dancer in Paris (too far), nor herself.
    nearby = re.findall(r'data-username="([^"]+)"', section(html, "home-nearby"))
    assert nearby == ["cleo"]
    # The navigation's badges show the counts the page read with its sections.
    assert re.search(r'data-badge="chat"[^>]*>1<', html)

    # A like from her home goes back there, and cleo leaves the list.
    liked = ana.post("/u/cleo/swipe", data={"csrf_token": csrf_token(ana, "/"),
                                           "direction": "like", "next": "/"})
    assert liked.headers["Location"] == "/"
    assert "No new dancers within 50 km" in section(home_of(ana), "home-nearby")


def test_nearby_skips_answered_dancers_before_it_cuts_the_candidates(db, dancer, monkeypatch):
    """Dancers she answered are left out by the nearby query itself: with one candidate read,
    the nearest she has not answered is found however many nearer ones she answered."""
    monkeypatch.setattr(home, "NEARBY_CANDIDATES", 1)
    for name in ("ana", "ben", "cleo", "dora"):  # one city: the same distance, in key order
        dancer(name)
    with db.system() as s:
        s.query("""RELATE user:ana->swipe->user:ben SET direction = 'like';
                   RELATE user:ana->swipe->user:cleo SET direction = 'pass';""")
    assert [c["username"] for c in member_home(db, "ana").nearby] == ["dora"]


def test_a_match_not_yet_talked_to_is_new_and_the_site_states_follow_her_editor(
        app, db, dancer):
    ana, _ = dancer("ana"), dancer("ben")
    key = match(db, "ana", "ben")
    html = home_of(ana)
    assert f'href="/chat/{key}" aria-label="Say hello to Ben">New: say hello' in html

    site = Editor(ana)
    site.post("/create")
    assert "Your site is not published" in section(home_of(ana), "home-site")
    site.add("text", body="About me")
    site.publish()
    live = section(home_of(ana), "home-site")
    assert 'Your site is live at <a href="/@ana">/@ana</a>' in live
    assert "changes not published" not in live
    site.add("text", body="More")
    assert "changes not published yet" in section(home_of(ana), "home-site")


def test_nothing_of_another_member_reaches_her_home(app, db, dancer):
    ana = dancer("ana")
    dancer("ben", city=PARIS)
    dancer("cleo", city=PARIS)
    key = match(db, "ben", "cleo")
    chat_actions.send(db, "cleo", key, "A secret for Ben", "home-test-2")
    with db.system() as s:
        s.query("CREATE notification SET recipient = user:ben, kind = 'system', "
                "text = 'Only for Ben'")
    ben_home = member_home(db, "ben")
    assert ben_home.unread_chats and ben_home.matches and ben_home.notifications

    html = home_of(ana)
    for private in ("A secret for Ben", "Only for Ben", key, "Cleo", "You matched with"):
        assert private not in html
    mine = member_home(db, "ana")
    assert not (mine.matches or mine.unread_chats or mine.notifications or mine.chat_unread
                or mine.notifications_unread)


def test_every_statement_of_her_home_runs_as_her_in_three_round_trips(app, db, dancer):
    ana = dancer("ana")
    dancer("ben")
    seen = []
    real = db._run

    def spy(sql, vars):
        seen.append(db.current_identity())
        return real(sql, vars)

    db._run = spy
    try:
        home_of(ana)
    finally:
        del db._run
    # Her session, the page's batch, the dancers near her (the badges come with the page).
    assert len(seen) == 3
    assert {(i.access, i.record) for i in seen} == {("member", "user:ana")}


def test_a_visitor_after_a_member_gets_the_landing_page_and_back(app, db, dancer):
    ana = dancer("ana")
    visitor = app.test_client()
    before = visitor.get("/")
    mine = ana.get("/")
    assert mine.headers["Cache-Control"] == "private, no-store"
    assert "Cookie" in mine.headers.get("Vary", "")
    assert "Hello, Ana" in mine.get_data(as_text=True)

    after = visitor.get("/")
    page = after.get_data(as_text=True)
    assert after.status_code == 200 and LANDING in page and "Hello, Ana" not in page
    assert "private" not in after.headers.get("Cache-Control", "")
    assert 'action="/search"' in page and 'name="q"' in page
    assert page.count("Hello") == before.get_data(as_text=True).count("Hello") == 0
    # Her home is never kept for anyone: the render cache of public pages holds nothing of it.
    cache = app.extensions["idance.public_cache"].pages
    assert not any(b"Hello, Ana" in e.body for e in cache._entries.values())
    # A public page cached for visitors meanwhile does not stand in for her home either.
    again = ana.get("/", headers={"If-None-Match": after.headers.get("ETag", "*")})
    assert again.status_code == 200 and "Hello, Ana" in again.get_data(as_text=True)
    assert again.headers["Cache-Control"] == "private, no-store"


def test_a_member_signed_out_gets_the_landing_page(app, db, dancer):
    ana = dancer("ana")
    assert "Hello, Ana" in home_of(ana)
    AuthActions(ana).logout()
    page = ana.get("/", follow_redirects=True).get_data(as_text=True)
    assert LANDING in page and "Hello, Ana" not in page


def test_the_home_reads_the_member_it_is_asked_for_only(db, make_user):
    for name in ("ana", "ben"):
        make_user(name)
    with db.system() as s:
        s.query("CREATE notification SET recipient = $ben, kind = 'system', text = 'For Ben'",
                {"ben": RecordID("user", "ben")})
    assert member_home(db, "ana").notifications == []
    assert [i.text for i in member_home(db, "ben").notifications] == ["For Ben"]
