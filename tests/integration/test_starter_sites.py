"""Starter layouts and the set-up's place, on the real engine with its permissions."""

from __future__ import annotations

import pytest
from surrealdb import RecordID

from idance_web import blocks
from idance_web.db import DatabaseError
from idance_web.errors import AppError, NotFound, Refused
from idance_web.services import onboarding, profiles, public_sites, sites, starter_sites

AVATAR = {"key": "a" * 64, "width": 300, "height": 300, "alt": "Ana mid-spin", "variants": {
    "large": {"key": "img/aa/a.webp", "width": 300, "height": 300,
              "content_type": "image/webp", "size": 10}}}
PROFILE = {"display_name": "Ana Dubois", "bio": "I teach **salsa**.", "city_name": "Berlin",
           "styles": [{"style": "bachata", "name": "Bachata", "level": "beginner",
                       "role": "both"},
                      {"style": "salsa", "name": "Salsa", "level": "advanced", "role": "lead"}],
           "avatar": AVATAR, "cover": None, "social_links": [{"platform": "instagram",
                                                             "handle": "ana"}]}


def kinds(layout) -> list[str]:
    return [kind for kind, _ in layout.blocks]


def test_three_layouts_of_the_registry_s_blocks_written_from_her_profile():
    portrait, essentials, stage = starter_sites.layouts(PROFILE, "ana")
    assert kinds(portrait) == ["hero", "text", "styles", "contact"]
    assert kinds(essentials) == ["hero", "styles", "contact"]
    assert kinds(stage) == ["hero", "image", "text", "styles", "vlogs", "links", "contact"]
    # Her strongest style first, whatever order the profile lists them in.
    assert portrait.hero == {"title": "Ana Dubois", "subtitle": "Salsa · Bachata in Berlin",
                             "image": AVATAR}
    assert "image" not in essentials.hero
    assert essentials.hero["cta_url"] == "/@ana#contact-h"
    assert dict(portrait.blocks)["text"]["body"] == "I teach **salsa**."
    assert dict(stage.blocks)["links"]["show_social"] is True
    assert portrait.labels == ["Hero banner", "Text", "Dance styles", "Contact form"]
    for layout in (portrait, essentials, stage):
        assert layout.theme in sites.THEMES and layout.font in sites.FONTS
        for kind, data in layout.blocks:  # each block is what the editor would have stored
            assert blocks.validate(kind, dict(data)) == data


def test_a_bare_profile_still_makes_every_layout():
    bare = {"display_name": "Bo", "styles": [], "bio": "", "avatar": None, "cover": None}
    portrait, _, stage = starter_sites.layouts(bare, "bo")
    assert portrait.hero == {"title": "Bo", "subtitle": "Dancer"}
    assert dict(portrait.blocks)["text"]["body"].startswith("I am a dancer.")
    assert "image" not in kinds(stage) and "links" not in kinds(stage)
    with_styles = {**bare, "city_name": "Paris", "styles": PROFILE["styles"]}
    assert dict(starter_sites.layouts(with_styles, "bo")[0].blocks)["text"]["body"].startswith(
        "I dance Salsa (advanced, lead) and Bachata (beginner, lead and follow) in Paris.")


def test_an_unknown_layout_is_not_found():
    with pytest.raises(NotFound):
        starter_sites.layout(PROFILE, "ana", "baroque")


@pytest.fixture
def ana(db, make_user):
    make_user("ana", display_name="Ana Dubois")
    return "ana"


def test_start_site_writes_the_draft_in_order_and_publishes(db, ana):
    assert starter_sites.site_content(db, ana) is None
    chosen = starter_sites.layout(profiles.own_profile(db, ana), ana, "portrait")
    starter_sites.start_site(db, ana, chosen, publish=False)
    site = sites.get_site(db, ana, RecordID("user", ana))
    written = sites.editor_blocks(db, ana, site["id"], "home")
    assert [(b["kind"], b["position"]) for b in written] == [
        ("hero", 1), ("text", 2), ("styles", 3), ("contact", 4)]
    assert site["draft"]["theme"] == "rose" and site["draft"]["font"] == "modern"
    assert site["draft"]["seo"]["title"] == "Ana Dubois: Dancer"
    assert starter_sites.site_content(db, ana) == {"published": False, "blocks": 4}
    assert public_sites.load_page(db, "user", ana) is None  # a draft: visitors see nothing

    sites.delete_block(db, ana, site["id"], written[-1]["key"])  # not empty: still refused
    with pytest.raises(Refused):
        starter_sites.start_site(db, ana, chosen, publish=True)


def test_publish_at_once_is_what_visitors_see(db, ana):
    chosen = starter_sites.layout(profiles.own_profile(db, ana), ana, "essentials")
    starter_sites.start_site(db, ana, chosen, publish=True)
    page = public_sites.load_page(db, "user", ana)
    assert [b["kind"] for b in page.blocks] == ["hero", "styles", "contact"]
    assert page.blocks[0]["data"]["title"] == "Ana Dubois"
    assert starter_sites.site_content(db, ana) == {"published": True, "blocks": 3}


def snapshot(db, key: str) -> list[dict]:
    with db.system() as s:
        return s.value("SELECT * FROM content_block WHERE site.owner = $me ORDER BY id",
                       {"me": RecordID("user", key)})


@pytest.mark.parametrize("content", ["draft block", "published"])
def test_a_site_with_content_is_refused_whole(db, ana, content):
    site = sites.create_site(db, ana, RecordID("user", ana))
    if content == "draft block":
        sites.add_block(db, ana, site["id"], "home", "text", {"body": "Mine"})
    else:
        sites.publish_site(db, ana, site["id"])
    before_blocks, before_site = snapshot(db, ana), sites.get_site(db, ana, RecordID("user", ana))
    chosen = starter_sites.layout(profiles.own_profile(db, ana), ana, "stage")
    with pytest.raises(Refused) as refused:
        starter_sites.start_site(db, ana, chosen, publish=True)
    assert refused.value.status == 409
    assert snapshot(db, ana) == before_blocks
    assert sites.get_site(db, ana, RecordID("user", ana)) == before_site


def test_another_member_cannot_write_into_her_site(db, ana, make_user):
    make_user("bob")
    site = sites.create_site(db, ana, RecordID("user", ana))
    try:  # a create the permissions refuse writes nothing (and may not raise)
        with db.member("bob") as s:
            s.query("INSERT INTO content_block $rows RETURN NONE", {"rows": [{
                "site": site["id"], "stage": "draft", "page": "home", "kind": "text",
                "data": {"body": "x"}, "position": 1}]})
    except (AppError, DatabaseError):
        pass
    assert snapshot(db, ana) == []


# -- her place in the set-up ----------------------------------------------------------------

def place(db, key):
    with db.system() as s:
        return s.value("RETURN $me.onboarding", {"me": RecordID("user", key)})


def test_her_place_only_moves_forward_and_ends(db, ana):
    assert place(db, ana) is None  # members from before the set-up have none
    onboarding.begin(db, ana)
    assert place(db, ana) == "city"
    assert onboarding.step_done(db, ana, "city") == "styles"
    assert onboarding.step_done(db, ana, "styles") == "picture"
    assert onboarding.step_done(db, ana, "city") == "styles"  # back to the first step
    assert place(db, ana) == "picture"
    assert onboarding.step_done(db, ana, "site") is None
    assert place(db, ana) is None
    onboarding.step_done(db, ana, "city")  # a finished set-up stays finished
    assert place(db, ana) is None
    onboarding.begin(db, ana)
    onboarding.finish(db, ana)
    assert place(db, ana) is None


def test_her_place_is_hers_alone(db, ana, make_user):
    make_user("bob")
    onboarding.begin(db, ana)
    for identity in (db.visitor(), db.worker(), db.member("bob")):
        with identity as s:
            rows = s.rows("SELECT * FROM $me", {"me": RecordID("user", ana)})
        assert all("onboarding" not in row for row in rows)
    try:
        with db.member("bob") as s:
            s.query("UPDATE $me SET onboarding = NONE", {"me": RecordID("user", ana)})
    except (AppError, DatabaseError):
        pass
    assert place(db, ana) == "city"
    with pytest.raises((AppError, DatabaseError)):
        with db.member(ana) as s:  # only the four steps are places
            s.query("UPDATE $me SET onboarding = 'admin'", {"me": RecordID("user", ana)})
