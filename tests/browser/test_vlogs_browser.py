"""One dancer posts vlogs from a phone-sized screen, a second follows her, finds them in her
feed, watches, likes and comments; the owner gets the notifications."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import sign_up
from idance_web.video import make_demo_video
from tests.fixtures.vlogs import picture

pytestmark = pytest.mark.browser


def _new_context(browser):
    page = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
    page.set_default_timeout(15_000)
    return page


def _post_pictures(page, url, tmp_path):
    page.goto(url + "/vlogs/new")
    path = tmp_path / "spin.png"
    path.write_bytes(picture((30, 140, 200), (640, 480)))
    page.set_input_files("#images-0-file", str(path))
    page.fill("#images-0-alt", "Ann mid-spin in the studio")
    page.fill("#title", "Spin practice")
    page.fill("#body", "Working on **spots**.")
    page.get_by_role("button", name="Post", exact=True).click()
    page.wait_for_url(re.compile(r"/vlogs/[0-9a-f]{20}$"))
    assert "Spin practice" in page.locator("h1").inner_text()
    return page.url.rsplit("/", 1)[1]


def _post_video(page, url, tmp_path):
    path = tmp_path / "routine.mp4"
    make_demo_video(path, seconds=6, size=(320, 180), text="Routine")
    page.goto(url + "/vlogs/new")
    page.set_input_files("#video", str(path))
    page.fill("#title", "Routine run-through")
    page.get_by_role("button", name="Post", exact=True).click()
    page.wait_for_url(re.compile(r"/vlogs/[0-9a-f]{20}$"))
    return page.url.rsplit("/", 1)[1]


def _play_and_seek(page) -> None:
    video = page.locator("video")
    video.evaluate("v => { v.muted = true; return v.play(); }")
    page.wait_for_function("() => document.querySelector('video').currentTime > 0.2")
    duration = video.evaluate("v => v.duration")
    assert 5 < duration < 7
    video.evaluate("v => { v.currentTime = v.duration / 2; }")
    page.wait_for_function("""() => { const v = document.querySelector('video');
        return !v.seeking && v.currentTime >= v.duration / 2 - 0.1 && v.readyState >= 2; }""")


def test_a_follower_sees_likes_and_comments_her_vlogs(browser, live_app, live_server, tmp_path):
    db = live_app.extensions["idance.db"]
    url = live_server.url
    ann, ben = _new_context(browser), _new_context(browser)
    sign_up(ann, url, "ann", "Ann Lee")
    sign_up(ben, url, "ben", "Ben Cruz")
    video_key = _post_video(ann, url, tmp_path)
    image_key = _post_pictures(ann, url, tmp_path)
    shown = ann.locator(".vlog-images img").first
    assert shown.get_attribute("alt") == "Ann mid-spin in the studio"
    assert shown.evaluate("img => img.complete && img.naturalWidth > 0")

    ben.goto(url + "/u/ann")
    ben.get_by_role("button", name="Follow").click()
    ben.goto(url + "/vlogs")
    cards = ben.locator("#vlog-list .vlog-card")
    assert [cards.nth(i).get_attribute("data-vlog") for i in range(cards.count())] == [
        image_key, video_key]
    cards.nth(1).locator("a").first.click()
    ben.wait_for_url(url + f"/vlogs/{video_key}")
    _play_and_seek(ben)
    ben.goto(url + "/vlogs")
    cards.first.locator("a").first.click()
    ben.wait_for_url(url + f"/vlogs/{image_key}")
    ben.get_by_role("button", name="Like").click()
    ben.wait_for_url(url + f"/vlogs/{image_key}#likes")
    assert "1 like" in ben.locator("[data-like-count]").inner_text()
    ben.fill("#body", "Lovely *spots*!")
    ben.get_by_role("button", name="Comment").click()
    assert ben.locator(".comment-body em").inner_text() == "spots"

    with db.system() as s:
        rows = s.value("""SELECT kind, created_at FROM notification
            WHERE recipient = (SELECT VALUE id FROM user WHERE username = 'ann')[0]
            ORDER BY created_at""")
    assert [r["kind"] for r in rows] == ["follow", "vlog_like", "comment"]
    # She reads them on her notifications page, each leading to the vlog.
    ann.goto(url + "/notifications")
    items = ann.locator("#notification-list .notification")
    assert [items.nth(i).get_attribute("data-kind") for i in range(items.count())] == [
        "comment", "vlog_like", "follow"]
    assert "Ben Cruz commented on" in items.first.inner_text()
    items.first.locator("a").first.click()
    ann.wait_for_url(re.compile(rf"/vlogs/{image_key}"))
    for page in (ann, ben):
        page.context.close()
