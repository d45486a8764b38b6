"""Who sees a vlog, decided by the database: on its page, in every list, in the site block and
for its files — as a visitor, a member who does not follow her, a follower and the owner."""

from __future__ import annotations

import re

import pytest

from tests.fixtures.auth import csrf_token, member_id
from tests.fixtures.sites import Editor
from tests.fixtures.vlogs import fetch, post_images, posted_key, vlog_keys


def follow(client, username):
    token = csrf_token(client, f"/u/{username}")
    assert client.post(f"/u/{username}/follow", data={"csrf_token": token}).status_code == 303


@pytest.fixture
def posted(ann, ben, cat):
    """Ann's three vlogs, one per audience; Ben follows her, Cat does not."""
    keys = {v: posted_key(post_images(ann, title=f"For {v}", visibility=v, styles=["salsa"]))
            for v in ("public", "followers", "private")}
    follow(ben, "ann")
    return keys


def _files(client, key):
    html = client.get(f"/vlogs/{key}").get_data(as_text=True)
    return re.findall(rf'src="(/vlogs/{key}/media/[^"]+)"', html)


def test_each_audience_sees_exactly_what_the_vlog_allows(posted, ann, ben, cat, visitor):
    sees = {"owner": ann, "follower": ben, "other member": cat, "visitor": visitor}
    allowed = {"owner": {"public", "followers", "private"}, "follower": {"public", "followers"},
               "other member": {"public"}, "visitor": {"public"}}
    files = {v: _files(ann, k) for v, k in posted.items()}
    assert all(files.values())
    for who, client in sees.items():
        for visibility, key in posted.items():
            expected = visibility in allowed[who]
            page = client.get(f"/vlogs/{key}")
            assert (page.status_code == 200) == expected, (who, visibility, page.status_code)
            if not expected:
                assert page.status_code == 404
            for url in files[visibility]:
                served = fetch(client, url)
                assert (served.status_code == 200) == expected, (who, visibility, url)
                if expected and visibility != "public":
                    assert served.headers["Cache-Control"].startswith("private")
        explore = vlog_keys(client.get("/vlogs/explore").get_data(as_text=True))
        assert explore == [posted["public"]], who
        by_style = vlog_keys(client.get("/vlogs/explore?style=salsa").get_data(as_text=True))
        assert by_style == [posted["public"]], who
    feed = vlog_keys(ben.get("/vlogs").get_data(as_text=True))
    assert sorted(feed) == sorted([posted["public"], posted["followers"]])
    assert vlog_keys(cat.get("/vlogs").get_data(as_text=True)) == []
    assert sorted(vlog_keys(ann.get("/vlogs").get_data(as_text=True))) == sorted(posted.values())


def test_her_feed_follows_publications_follows_and_unfollows(posted, ann, ben):
    key = posted["followers"]
    assert ben.get(f"/vlogs/{key}").status_code == 200
    newer = posted_key(post_images(ann, title="Newer", visibility="followers"))
    hidden = posted_key(post_images(ann, title="Mine only", visibility="private"))
    feed = vlog_keys(ben.get("/vlogs").get_data(as_text=True))
    assert feed[0] == newer and hidden not in feed and len(feed) == 3
    token = csrf_token(ben, "/u/ann")
    ben.post("/u/ann/follow", data={"csrf_token": token, "follow": "0"})
    assert ben.get(f"/vlogs/{key}").status_code == 404
    assert vlog_keys(ben.get("/vlogs").get_data(as_text=True)) == []
    assert vlog_keys(ann.get("/vlogs").get_data(as_text=True))[:2] == [hidden, newer]


def test_a_file_of_another_vlog_is_not_served_through_this_one(posted, ann, visitor):
    private_file = _files(ann, posted["private"])[0].rsplit("/media/", 1)[1]
    url = f"/vlogs/{posted['public']}/media/{private_file}"
    assert visitor.get(url).status_code == 404
    assert visitor.get(f"/media/{private_file}").status_code == 404


def test_the_site_block_lists_public_vlogs_only_with_working_links(posted, ann, visitor):
    site = Editor(ann)
    site.post("/create")
    site.add("vlogs", count="6")
    site.publish()
    html = visitor.get("/@ann").get_data(as_text=True)
    links = re.findall(r'href="/vlogs/([0-9a-f]+)"', html)
    assert links == [posted["public"]]
    assert visitor.get(f"/vlogs/{links[0]}").status_code == 200
    image = re.search(rf'src="(/vlogs/{links[0]}/media/[^"]+)"', html).group(1)
    assert fetch(visitor, image).status_code == 200


def test_a_video_being_processed_shows_to_her_alone_until_the_worker_publishes_it(ann, ben, db):
    from idance_web.services import vlogs

    follow(ben, "ann")
    ann_key = member_id(db, "ann").id
    fields = vlogs.check(db, ann_key, vlogs.VlogInput(title="Phone clip"))
    key = vlogs.create_vlog(db, ann_key, fields, key=vlogs.new_key(), kind="video",
                            status="processing")
    html = ann.get(f"/vlogs/{key}").get_data(as_text=True)
    assert 'data-status="processing"' in html
    assert "processing the video" in ann.get("/vlogs").get_data(as_text=True)
    assert ben.get(f"/vlogs/{key}").status_code == 404
    assert key not in vlog_keys(ben.get("/vlogs").get_data(as_text=True))
    video = {"key": "vlog/vid/ab/cd.mp4", "content_type": "video/mp4", "width": 640,
             "height": 360, "duration": 3.0}
    with db.worker() as s:  # what the transcode job writes; its event publishes the vlog
        s.query("CREATE vlog_processed SET vlog = type::thing('vlog', $k), video = $v",
                {"k": key, "v": video})
    html = ben.get(f"/vlogs/{key}").get_data(as_text=True)
    assert '<video controls preload="metadata"' in html and "vlog/vid/ab/cd.mp4" in html
    assert key in vlog_keys(ben.get("/vlogs").get_data(as_text=True))
    with db.worker() as s:  # the worker has no right on the vlog itself
        s.query("UPDATE type::thing('vlog', $k) SET title = 'Taken over'", {"k": key})
    assert "Taken over" not in ben.get(f"/vlogs/{key}").get_data(as_text=True)
