"""Lists of vlogs: pages continue after the last key shown; related vlogs come from the
worker's embeddings and shared styles."""

from __future__ import annotations

from idance_web.jobs import Worker
from idance_web.services import vlog_lists
from tests.fixtures.auth import member_id
from tests.fixtures.vlogs import post_images, posted_key, vlog_keys


def test_explore_pages_follow_each_other_without_gaps_or_repeats(ann, visitor, monkeypatch):
    keys = [posted_key(post_images(ann, title=f"Vlog {n}", styles=["salsa"])) for n in range(5)]
    monkeypatch.setattr(vlog_lists, "PAGE", 2)
    seen, after = [], ""
    for _ in range(4):
        html = visitor.get(f"/vlogs/explore?style=salsa&after={after}").get_data(as_text=True)
        seen += vlog_keys(html)
        if 'rel="next"' not in html:
            break
        after = html.split('after=', 1)[1].split('"', 1)[0].split("&", 1)[0]
    assert seen == list(reversed(keys))


def test_related_vlogs_come_from_embeddings_and_styles(ann, ben, db):
    tango = posted_key(post_images(ann, title="Tango ochos and giros", styles=["argentine_tango"],
                                   body="Close embrace milonga practice"))
    posted_key(post_images(ann, title="Breaking power moves", styles=["breaking"],
                           body="Windmills and flares at the cypher"))
    other_tango = posted_key(post_images(ben, title="Milonga night: ochos in close embrace",
                                         styles=["argentine_tango"]))
    worker = Worker(db)
    worker.run_due()
    with db.system() as s:
        s.query("UPDATE job SET run_after = time::now() WHERE kind = 'refresh_related'")
    outcomes = worker.run_due()
    assert any(o.kind == "refresh_related" and o.state == "done" for o in outcomes)
    with db.system() as s:
        assert s.value("RETURN count(SELECT id FROM vlog_embedding)") == 3
    related = vlog_lists.related(db, member_id(db, "ben").id, tango, ["argentine_tango"])
    assert related[0]["key"] == other_tango
    assert tango not in [r["key"] for r in related]
