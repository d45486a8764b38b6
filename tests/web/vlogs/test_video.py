"""Video vlogs: a playable video is published at once with a poster and captions; a phone's
MOV is processed by the worker first; bad files are refused with the form kept."""

from __future__ import annotations

import io
import re

import pytest

from idance_web.jobs import Worker
from idance_web.video import make_demo_video
from tests.fixtures.auth import csrf_token
from tests.fixtures.vlogs import fetch, posted_key

CAPTIONS = b"WEBVTT\n\n00:00:00.000 --> 00:00:01.500\nFirst turn\n"


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    folder = tmp_path_factory.mktemp("clips")
    made = {}
    for name, fmt, extra in (("mp4", "mp4", {}), ("mov", "mov", {"codec": "libx265"})):
        path = folder / f"clip.{name}"
        make_demo_video(path, seconds=2, size=(320, 180), fmt=fmt,
                        metadata={"location": "+52.5200+013.4050/"}, **extra)
        made[name] = path.read_bytes()
    return made


def post_video(client, data: bytes, name="clip.mp4", captions=None, **fields):
    form = {"csrf_token": csrf_token(client, "/vlogs/new"), "title": "Turn sequence",
            "visibility": "public", "video": (io.BytesIO(data), name), **fields}
    if captions is not None:
        form["captions"] = (io.BytesIO(captions), "captions.vtt")
    return client.post("/vlogs/new", data=form, content_type="multipart/form-data")


def test_a_playable_video_is_published_with_poster_captions_and_ranges(ann, ben, clips):
    key = posted_key(post_video(ann, clips["mp4"], captions=CAPTIONS))
    html = ben.get(f"/vlogs/{key}").get_data(as_text=True)
    assert '<video controls preload="metadata"' in html and "poster=" in html
    source = re.search(r'<source src="([^"]+)" type="video/mp4"', html).group(1)
    track = re.search(r'<track kind="captions" src="([^"]+)"', html).group(1)
    whole = fetch(ben, source)
    assert whole.status_code == 200 and whole.mimetype == "video/mp4"
    assert b"52.5200" not in whole.data  # the GPS tag did not survive the remux
    assert whole.data.index(b"moov") < whole.data.index(b"mdat")  # index first
    middle = len(whole.data) // 2
    part = fetch(ben, source, headers={"Range": f"bytes={middle}-{middle + 99}"})
    assert part.status_code == 206 and part.data == whole.data[middle:middle + 100]
    assert fetch(ben, track).data.startswith(b"WEBVTT")
    poster = re.search(r'poster="([^"]+)"', html).group(1)
    assert fetch(ben, poster).mimetype == "image/webp"


def test_a_phone_video_is_processed_then_published(ann, ben, clips, db):
    key = posted_key(post_video(ann, clips["mov"], name="IMG_0001.MOV"))
    assert "Processing the video" in ann.get(f"/vlogs/{key}").get_data(as_text=True)
    assert ben.get(f"/vlogs/{key}").status_code == 404
    outcomes = [o for o in Worker(db).run_due() if o.kind == "transcode_vlog"]
    assert [o.state for o in outcomes] == ["done"]
    html = ben.get(f"/vlogs/{key}").get_data(as_text=True)
    source = re.search(r'<source src="([^"]+)" type="video/mp4"', html).group(1)
    assert fetch(ben, source).data[4:8] == b"ftyp"
    with db.system() as s:
        keys = s.value("SELECT VALUE key FROM upload WHERE subject = type::thing('vlog', $k)",
                       {"k": key})
    assert not any(k.startswith("vlog/src/") for k in keys)  # the original is gone


@pytest.mark.parametrize("data, name, message", [
    (b"<html><body>not a video</body></html>", "clip.mp4", "is not a video"),
    (None, "clip.mp4", "damaged or incomplete"),
])
def test_bad_videos_are_refused_and_her_text_kept(ann, clips, data, name, message):
    data = clips["mp4"][: len(clips["mp4"]) // 2] if data is None else data
    response = post_video(ann, data, name=name, title="Keep me")
    html = response.get_data(as_text=True)
    assert response.status_code in (400, 415) and message in html
    assert 'value="Keep me"' in html


def test_a_malformed_caption_file_is_refused(ann, clips):
    response = post_video(ann, clips["mp4"], captions=b"WEBVTT\n\n00:00:05.000 --> 00:00:01.000\nx\n",
                          title="Captioned")
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and "not valid WebVTT" in html
    assert 'value="Captioned"' in html


def test_she_adds_and_removes_captions_when_editing(ann, ben, clips):
    key = posted_key(post_video(ann, clips["mp4"]))
    form = {"csrf_token": csrf_token(ann, f"/vlogs/{key}/edit"), "title": "Turn sequence",
            "visibility": "public"}
    bad = ann.post(f"/vlogs/{key}/edit", data={**form, "captions": (io.BytesIO(b"nope"),
                                                                     "c.vtt")},
                   content_type="multipart/form-data")
    assert bad.status_code == 400 and "not valid WebVTT" in bad.get_data(as_text=True)
    ann.post(f"/vlogs/{key}/edit", data={**form, "captions": (io.BytesIO(CAPTIONS), "c.vtt")},
             content_type="multipart/form-data")
    track = re.search(r'<track kind="captions" src="([^"]+)"',
                      ben.get(f"/vlogs/{key}").get_data(as_text=True)).group(1)
    assert b"First turn" in fetch(ben, track).data
    ann.post(f"/vlogs/{key}/edit", data={**form, "remove_captions": "y"})
    assert "<track" not in ben.get(f"/vlogs/{key}").get_data(as_text=True)
