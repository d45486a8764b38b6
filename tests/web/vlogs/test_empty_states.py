"""Empty vlog lists say what to do next: her feed (following nobody, or nothing posted yet),
explore with a style nobody posted, and the vlogs on her profile and on another dancer's."""

from __future__ import annotations

from idance_web.services import social
from tests.fixtures.auth import member_id
from tests.fixtures.empty import empty_state, empty_states, has_empty_state, page
from tests.fixtures.vlogs import post_images, posted_key, vlog_keys


def test_her_feed_says_why_it_is_empty_until_a_vlog_arrives(ann, ben, db):
    state = empty_state(page(ann, "/vlogs"), "you follow nobody yet")
    assert state.links == ["/vlogs/explore", "/vlogs/new", "/groups"]

    social.set_following(db, member_id(db, "ann").id, "ben", True)
    state = empty_state(page(ann, "/vlogs"), "Nothing new in your feed yet.")
    assert state.links == ["/vlogs/new", "/vlogs/explore"]

    key = posted_key(post_images(ben, title="Ben's first shines"))
    html = page(ann, "/vlogs")
    assert vlog_keys(html) == [key] and empty_states(html) == []


def test_explore_of_a_style_nobody_posted_offers_every_style(ann, visitor):
    posted_key(post_images(ann, title="Bachata footwork", styles=["bachata"]))
    state = empty_state(page(ann, "/vlogs/explore?style=salsa"), "No public vlogs of Salsa yet.")
    assert state.links == ["/vlogs/explore", "/vlogs/new"]
    state = empty_state(page(visitor, "/vlogs/explore?style=salsa"), "of Salsa yet.")
    assert state.links == ["/vlogs/explore"]  # nothing to post for a visitor

    key = posted_key(post_images(ann, title="Salsa shines", styles=["salsa"]))
    html = page(visitor, "/vlogs/explore?style=salsa")
    assert vlog_keys(html) == [key] and empty_states(html) == []


def test_profiles_show_her_vlogs_or_how_to_post_the_first(ann, ben):
    state = empty_state(page(ann, "/me"), "You have not posted a vlog yet.")
    assert state.links == ["/vlogs/new"]
    assert empty_state(page(ann, "/u/ann"), "You have not posted a vlog yet.").links == [
        "/vlogs/new"]
    # Another dancer's profile says so plainly: nothing for the reader to do about it.
    assert empty_state(page(ben, "/u/ann"), "Ann Lee has not posted a vlog yet.").links == []

    key = posted_key(post_images(ann, title="Practice night"))
    private = posted_key(post_images(ann, title="Only mine", visibility="private"))
    assert vlog_keys(page(ann, "/me")) == [private, key]  # newest first, hers all
    html = page(ben, "/u/ann")
    assert vlog_keys(html) == [key]  # her private vlog stays hers
    assert not has_empty_state(html, "has not posted")
