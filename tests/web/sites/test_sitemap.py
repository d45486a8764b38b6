"""The sitemap: an index of numbered pages, walked by an indexed key, kept for an hour."""

from __future__ import annotations

import re

import pytest

from idance_web.services import sitemap
from tests.fixtures.auth import AuthActions
from tests.fixtures.sites import Editor


def publish_site(app, username: str) -> Editor:
    actions = AuthActions(app.test_client())
    actions.signup(username)
    editor = Editor(actions.client)
    assert editor.post("/create").status_code == 302
    editor.add("text", body=f"Hi from {username}")
    assert editor.publish().status_code == 302
    return editor


def listed(visitor, path: str) -> list[str]:
    body = visitor.get(path).get_data(as_text=True)
    return re.findall(r"<loc>http://localhost/@([a-z0-9_-]+)</loc>", body)


def fresh(app) -> None:
    app.extensions["idance.sitemap"].clear()


@pytest.fixture
def two_per_page(monkeypatch):
    monkeypatch.setattr(sitemap, "SITES_PER_PAGE", 2)


def test_the_index_lists_pages_that_hold_every_published_site_once(app, two_per_page):
    editors = {name: publish_site(app, name) for name in ("ana", "bea", "cleo", "dora", "eve")}
    visitor = app.test_client()
    index = visitor.get("/sitemap.xml")
    assert index.mimetype == "application/xml"
    pages = re.findall(r"<loc>http://localhost(/sitemap-\d+\.xml)</loc>", index.get_data(
        as_text=True))
    assert pages == ["/sitemap-1.xml", "/sitemap-2.xml", "/sitemap-3.xml"]
    found = [name for page in pages for name in listed(visitor, page)]
    assert sorted(found) == sorted(editors) and [len(listed(visitor, p)) for p in pages] == [
        2, 2, 1]
    assert visitor.get("/sitemap-4.xml").status_code == 404
    assert visitor.get("/sitemap-0.xml").status_code == 404

    # Unpublishing leaves the sitemap once its hour is over (here: forgotten by hand).
    editors["cleo"].post("/unpublish")
    fresh(app)
    assert "cleo" not in [n for p in pages for n in listed(visitor, p)]
    assert visitor.get("/sitemap-3.xml").status_code == 404  # four sites fill two pages


def test_a_page_asked_for_first_walks_there_by_keys(app, two_per_page):
    for name in ("ana", "bea", "cleo", "dora", "eve"):
        publish_site(app, name)
    visitor = app.test_client()
    last = listed(visitor, "/sitemap-3.xml")  # no page read before it
    fresh(app)
    in_order = [n for p in (1, 2, 3) for n in listed(visitor, f"/sitemap-{p}.xml")]
    assert len(last) == 1 and in_order[-1:] == last and len(set(in_order)) == 5


def test_the_sitemap_is_served_from_its_cache(app, db):
    publish_site(app, "ana")
    visitor = app.test_client()
    assert listed(visitor, "/sitemap-1.xml") == ["ana"]
    before = db.query_count
    assert visitor.get("/sitemap.xml").status_code == 200
    assert listed(visitor, "/sitemap-1.xml") == ["ana"]
    assert db.query_count - before <= 1  # the index once; the page not again
    before = db.query_count
    visitor.get("/sitemap.xml")
    listed(visitor, "/sitemap-1.xml")
    assert db.query_count == before


def test_an_empty_community_has_one_empty_page(app):
    visitor = app.test_client()
    assert "/sitemap-1.xml" in visitor.get("/sitemap.xml").get_data(as_text=True)
    page = visitor.get("/sitemap-1.xml")
    assert page.status_code == 200 and "<url>" not in page.get_data(as_text=True)
