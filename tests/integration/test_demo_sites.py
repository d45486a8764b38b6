"""Demo sites: every demo member has a published site; drafts stay private; loaded once."""

from __future__ import annotations

import pytest
from markupsafe import escape

from idance_web.blocks import REGISTRY, validate
from idance_web.demo import load_demo
from idance_web.demo.members import MEMBER_COUNT
from idance_web.demo.sites import DRAFT_ONLY_TITLE, HIDDEN_TITLE, load_demo_sites
from tests.fixtures.app import make_config


@pytest.fixture
def config(tmp_path):
    return make_config(media_root=str(tmp_path / "media"))


@pytest.fixture
def loaded(app, db):
    summary = load_demo(db, app.config["IDANCE"])  # members, then their sites
    assert f"Published {MEMBER_COUNT} demo sites" in summary
    return summary


def counts(db):
    with db.system() as s:
        return s.query(
            "RETURN count(SELECT id FROM site);"
            "RETURN count(SELECT id FROM content_block);"
            "RETURN math::sum(SELECT VALUE version FROM site);"
            "RETURN count(SELECT id FROM site WHERE published_version != NONE);"
        )


def test_every_demo_member_has_a_published_site(db, loaded):
    with db.system() as s:
        owners = s.value("SELECT VALUE record::id(owner) FROM site WHERE published_version != NONE"
                         " AND record::tb(owner) = 'user'")
    assert sorted(owners) == [f"demo_{i:03d}" for i in range(MEMBER_COUNT)]
    with db.visitor() as s:
        member_sites = "FROM site WHERE record::tb(owner) = 'user'"
        themes = s.value("SELECT VALUE published.theme " + member_sites)
        fonts = s.value("SELECT VALUE published.font " + member_sites)
        pages = s.value("SELECT VALUE array::len(published.pages) " + member_sites)
    assert len(themes) == MEMBER_COUNT
    assert len(set(themes)) >= 4 and len(set(fonts)) >= 3
    assert any(n > 1 for n in pages)


def test_every_block_type_is_published_somewhere_and_valid(db, loaded, app):
    with db.visitor() as s:
        rows = s.value("SELECT kind, data FROM content_block WHERE stage = 'published'")
    kinds = {r["kind"] for r in rows}
    assert kinds == set(REGISTRY)  # `members` from the demo groups, the rest on dancers' sites
    for row in rows:
        owner_table = "group" if row["kind"] == "members" else "user"
        assert validate(row["kind"], dict(row["data"]), owner_table) == row["data"]
    # The images the blocks name are really stored.
    storage = app.extensions["idance.storage"]
    images = [r["data"]["image"] for r in rows if r["kind"] == "image"]
    assert images and all(storage.exists(v["key"]) for i in images
                          for v in i["variants"].values())


def test_draft_only_edits_stay_invisible_to_visitors(db, loaded, app):
    with db.system() as s:
        drafted = s.value("SELECT VALUE site FROM content_block WHERE stage = 'draft'"
                          " AND data.title = $t", {"t": DRAFT_ONLY_TITLE})
        hidden = s.value("SELECT VALUE site FROM content_block WHERE stage = 'published'"
                         " AND hidden = true AND data.title = $t", {"t": HIDDEN_TITLE})
        retheme = s.value("SELECT VALUE id FROM site WHERE draft.theme != published.theme")
        names = s.value("SELECT VALUE owner.username FROM site WHERE id IN $ids",
                        {"ids": drafted + hidden + retheme})
    assert drafted and hidden and retheme
    with db.visitor() as s:
        seen = s.value("SELECT VALUE data.title FROM content_block")
        drafts = s.value("SELECT VALUE draft FROM site")
    assert DRAFT_ONLY_TITLE not in seen and HIDDEN_TITLE not in seen
    assert all(d is None for d in drafts)
    visitor = app.test_client()
    for name in names:
        html = visitor.get(f"/@{name}").get_data(as_text=True)
        assert DRAFT_ONLY_TITLE not in html and HIDDEN_TITLE not in html


def test_a_second_run_changes_nothing(db, loaded, app):
    before = counts(db)
    assert load_demo_sites(db, app.extensions["idance.storage"]) == "Demo sites already loaded."
    assert counts(db) == before


def test_a_demo_site_renders_with_its_hero(db, loaded, app):
    with db.system() as s:
        row = s.one("SELECT owner.username AS name, id FROM site WHERE owner = user:demo_000")
        hero = s.value("SELECT VALUE data.title FROM content_block WHERE site = $site"
                       " AND stage = 'published' AND page = 'home' AND kind = 'hero'",
                       {"site": row["id"]})[0]
    response = app.test_client().get(f"/@{row['name']}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert f"<h1>{escape(hero)}</h1>" in html
    assert "/media/" in html  # its cover image
