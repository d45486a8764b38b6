"""Empty states of the pages between dancers (discovery, matches, chat, notifications,
blocks): a newcomer reads what to do next and finds the link to it; once there is something
to list, the empty state is gone."""

from __future__ import annotations

import datetime as dt

import pytest
from surrealdb import RecordID

from idance_web.services import chat_actions, discovery, social
from tests.fixtures.auth import PASSWORD, AuthActions
from tests.fixtures.chats import match
from tests.fixtures.empty import empty_state, empty_states, has_empty_state, page

BERLIN, PARIS = 2950159, 2988507
ADULT = dt.datetime(1991, 6, 1, tzinfo=dt.UTC)


@pytest.fixture
def dancer(app, db, make_user):
    """An adult member with a city (or none) and a tier, signed in on a client of her own."""

    def make(username, city=BERLIN, tier="free"):
        make_user(username)
        with db.system() as s:
            s.query("""UPDATE profile SET birth_date = $born, public_age = 34, city = $city,
                           location = $city.vector, looking_for = ['dance_partner']
                       WHERE owner = type::thing('user', $u);
                       UPDATE type::thing('user', $u) SET tier = $tier;
                       RELATE (type::thing('user', $u))->user_dance_style->dance_style:salsa
                           SET level = 'advanced', role = 'lead';""",
                    {"u": username, "born": ADULT, "tier": tier,
                     "city": RecordID("city", city) if city else None})
        client = app.test_client()
        AuthActions(client).login(f"{username}@example.com", PASSWORD)
        return client

    return make


def test_matches_and_chat_lead_to_discovery_until_a_match_and_a_message(dancer, db):
    ana = dancer("ana")
    dancer("ben")
    state = empty_state(page(ana, "/matches"), "No matches yet.")
    assert state.links[0] == "/discover" and "/discover/liked-you" in state.links
    state = empty_state(page(ana, "/chat"), "No conversations yet.")
    assert state.links == ["/matches", "/discover"]

    key = match(db, "ana", "ben")
    assert empty_states(page(ana, "/matches")) == []
    assert empty_states(page(ana, "/chat")) == []
    thread = page(ana, f"/chat/{key}")
    state = empty_state(thread, "No messages yet: say hello.")
    assert state.id == "no-messages" and state.links == ["#body"]  # the message box below
    assert "Ben liked each other" in state.text and 'id="body"' in thread

    chat_actions.send(db, "ben", key, "Hello Ana!", "first-hello-1")
    assert empty_states(page(ana, f"/chat/{key}")) == []


def test_nobody_nearby_offers_a_wider_radius_fewer_filters_travel_and_styles(dancer):
    ana = dancer("ana")
    state = empty_state(page(ana, "/discover"), "No dancers match here yet.")
    assert state.links == ["/discover?radius_km=100", "/me/settings#plan-h", "/me/profile",
                           "/discover/groups"]
    # A filter she set can be dropped; the radius she chose stays.
    filtered = page(ana, "/discover?radius_km=100&style=salsa&role=follow")
    state = empty_state(filtered, "No dancers match here yet.")
    assert "/discover?radius_km=100" in state.links  # clear the filters, not wider: her top
    assert not any("radius_km=200" in link for link in state.links)
    vip = dancer("vic", city=PARIS, tier="vip")  # alone in her city
    state = empty_state(page(vip, "/discover"), "No dancers match here yet.")
    assert state.links[:2] == ["/discover?radius_km=100", "#travel_query"]
    assert 'id="travel_query"' in page(vip, "/discover")

    dancer("ben")
    html = page(ana, "/discover")
    assert 'data-username="ben"' in html and not has_empty_state(html, "No dancers match")


def test_without_a_city_discovery_asks_for_one(dancer):
    nocity = dancer("nina", city=None)
    state = empty_state(page(nocity, "/discover"), "Set your city")
    assert state.links == ["/me/profile"]


def test_similar_liked_and_passed_tabs_say_what_fills_them(dancer, db):
    ana = dancer("ana", tier="pro")
    dancer("ben")
    dancer("cat")
    state = empty_state(page(ana, "/discover/similar"), "No similar dancers yet.")
    assert state.links == ["/me/profile", "/discover"]
    assert empty_state(page(ana, "/discover/liked-you"), "No likes waiting").links[0] == \
        "/discover"
    assert empty_state(page(ana, "/discover/passed"), "not passed on anyone").links == [
        "/discover"]

    with db.system() as s:  # the worker's neighbour list, as refresh_similar leaves it
        s.query("""CREATE profile_embedding:ana SET owner = user:ana,
                       profile = (SELECT VALUE id FROM profile WHERE owner = user:ana)[0],
                       vector = array::repeat(0.125, 64), model = 'test', source = 'test',
                       similar = [user:ben]""")
    discovery.swipe(db, "ben", "ana", "like", 50)
    discovery.swipe(db, "ana", "cat", "pass", 50)
    for path, name in (("/discover/similar", "ben"), ("/discover/liked-you", "ben"),
                       ("/discover/passed", "cat")):
        html = page(ana, path)
        assert f"@{name}" in html or f'data-username="{name}"' in html, path
        assert empty_states(html) == [], path


def test_notifications_and_the_blocked_list_explain_themselves(dancer, db):
    ana = dancer("ana")
    dancer("ben")
    state = empty_state(page(ana, "/notifications"), "No notifications yet.")
    assert state.links == ["/discover", "/me/profile", "/vlogs/new"]
    state = empty_state(page(ana, "/me/blocked"), "You have not blocked anyone.")
    assert state.links == ["/me"]

    social.set_following(db, "ben", "ana", True)  # a follow notifies her
    html = page(ana, "/notifications")
    assert "Ben" in html and empty_states(html) == []
    social.block(db, "ana", "ben")
    html = page(ana, "/me/blocked")
    assert "@ben" in html and empty_states(html) == []
