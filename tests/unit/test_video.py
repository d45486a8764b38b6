"""The video pipeline on real files encoded with PyAV: probe, remux, transcode, poster, captions."""

from __future__ import annotations

import io
import os
from fractions import Fraction

import av
import pytest
from PIL import Image

from idance_web import video
from idance_web.media import process_image
from idance_web.video import (
    VideoInfo, VideoRefused, check_webvtt, make_demo_video, poster_frame, probe, remux,
    save_upload, transcode_h264,
)
from idance_web.video_demo import _tone

# What a phone writes about where and with what a video was made: none of it may be served.
TAGS = {"location": "+48.8584+002.2945/", "com.apple.quicktime.location.ISO6709":
        "+48.8584+002.2945/", "make": "Apple", "model": "iPhone 15 Pro",
        "com.apple.quicktime.model": "iPhone 15 Pro", "creation_time": "2024-05-01T10:00:00Z"}
TELLTALES = (b"48.8584", b"iPhone", b"Apple", b"2024-05-01")
KINDS = {  # name → (make_demo_video arguments, what probe must find)
    "mp4": (dict(fmt="mp4"), ("mp4", "h264", "aac", True)),
    "webm": (dict(fmt="webm"), ("webm", "vp9", "opus", True)),
    "vp8": (dict(fmt="webm", codec="libvpx", audio=False), ("webm", "vp8", None, True)),
    "mov": (dict(fmt="mov"), ("mov", "h264", "aac", False)),
    "hevc": (dict(fmt="mov", codec="libx265"), ("mov", "hevc", "aac", False)),
    "hevc_mp4": (dict(fmt="mp4", codec="libx265", audio=False), ("mp4", "hevc", None, False)),
}


@pytest.fixture(scope="module")
def videos(tmp_path_factory) -> dict:
    folder = tmp_path_factory.mktemp("videos")
    paths = {}
    for name, (arguments, _) in KINDS.items():
        ext = arguments["fmt"]
        paths[name] = folder / f"{name}.{ext}"
        make_demo_video(paths[name], seconds=3, size=(320, 180), metadata=TAGS, **arguments)
    return paths


def tags_of(path) -> dict:
    with av.open(str(path)) as container:
        found = dict(container.metadata)
        for stream in container.streams:
            found.update(stream.metadata)
    return found


def top_boxes(path) -> list[bytes]:
    data, kinds, offset = path.read_bytes(), [], 0
    while offset < len(data):
        kinds.append(data[offset + 4:offset + 8])
        offset += int.from_bytes(data[offset:offset + 4], "big")
    return kinds


def refusal(path, **kwargs) -> VideoRefused:
    with pytest.raises(VideoRefused) as caught:
        probe(path, max_seconds=kwargs.get("max_seconds", 600))
    return caught.value


@pytest.mark.parametrize("name", KINDS)
def test_probe_reads_each_kind_by_its_content(videos, name, tmp_path):
    renamed = tmp_path / "clip.txt"  # the name says nothing: the content decides
    renamed.write_bytes(videos[name].read_bytes())
    info = probe(renamed, max_seconds=600)
    assert (info.container, info.video_codec, info.audio_codec, info.playable) == KINDS[name][1]
    assert (info.width, info.height, info.rotation) == (320, 180, 0)
    assert 2.9 < info.duration < 3.2


def test_probe_refuses_what_is_not_a_video(videos, tmp_path):
    page = tmp_path / "dance.mp4"
    page.write_bytes(b"<!DOCTYPE html><html><body>not a video</body></html>")
    assert (refusal(page).status, "web page" in refusal(page).reason) == (415, True)
    noise = tmp_path / "noise.mp4"
    noise.write_bytes(os.urandom(4096))
    assert refusal(noise).status == 415 and "MP4, WebM or MOV" in refusal(noise).reason
    sound = tmp_path / "sound.mp4"
    with av.open(str(sound), "w") as out:
        stream = out.add_stream("aac", rate=48000)
        for frame in _tone(stream, 1):
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    assert refusal(sound).status == 415 and "only sound" in refusal(sound).reason
    mkv = tmp_path / "clip.webm"
    with av.open(str(mkv), "w", format="matroska") as out:
        stream = out.add_stream("libvpx", rate=25)
        stream.width, stream.height, stream.pix_fmt = 64, 64, "yuv420p"
        out.mux(stream.encode(av.VideoFrame(64, 64, "yuv420p")))
        out.mux(stream.encode(None))
    assert refusal(mkv).status == 415 and "Matroska" in refusal(mkv).reason


@pytest.mark.parametrize("name", ["mp4", "webm", "faststart"])
@pytest.mark.parametrize("kept", [0.3, 0.9, 0.995])
def test_probe_refuses_a_truncated_file(videos, tmp_path, name, kept):
    source = videos["webm" if name == "webm" else "mp4"]
    if name == "faststart":  # the index first: the cut falls in the media data
        source, info = tmp_path / "fast.mp4", probe(videos["mp4"], max_seconds=600)
        remux(videos["mp4"], source, info)
    data = source.read_bytes()
    cut = tmp_path / f"cut{source.suffix}"
    cut.write_bytes(data[:int(len(data) * kept)])
    caught = refusal(cut)
    assert caught.status == 400 and "incomplete" in caught.reason


def test_probe_refuses_an_undecodable_video(videos, tmp_path):
    data = bytearray(videos["mp4"].read_bytes())
    at = data.find(b"mdat")
    size = int.from_bytes(data[at - 4:at], "big")
    data[at + 4:at - 4 + size] = bytes(size - 8)  # every packet zeroed, the structure intact
    zeroed = tmp_path / "zeroed.mp4"
    zeroed.write_bytes(data)
    caught = refusal(zeroed)
    assert caught.status == 400 and "cannot be decoded" in caught.reason


def test_a_browser_recording_without_sizes_or_duration_gets_its_duration(tmp_path):
    recording = tmp_path / "recorded.webm"  # as MediaRecorder writes: open-ended, no duration
    with av.open(str(recording), "w", format="webm", options={"live": "1"}) as out:
        stream = out.add_stream("libvpx", rate=25, options={"deadline": "realtime"})
        stream.width, stream.height, stream.pix_fmt = 160, 90, "yuv420p"
        for n in range(50):
            frame = av.VideoFrame(160, 90, "yuv420p")
            frame.pts, frame.time_base = n, Fraction(1, 25)
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    with av.open(str(recording)) as container:
        assert container.duration is None
    info = probe(recording, max_seconds=60)
    assert (info.container, info.video_codec, info.duration) == ("webm", "vp8", 2.0)
    assert refusal(recording, max_seconds=1.5).status == 413  # the packets tell its length


def test_probe_refuses_a_long_video(videos):
    caught = refusal(videos["mp4"], max_seconds=2)
    assert caught.status == 413 and "too long" in caught.reason
    assert probe(videos["mp4"], max_seconds=4).duration > 2


class Upload(io.BytesIO):
    """An upload stream that remembers the largest read asked of it."""

    largest = 0

    def read(self, size=-1):
        self.largest = max(self.largest, size if size >= 0 else 1 << 62)
        return super().read(size)


def test_save_upload_copies_in_chunks_and_refuses_past_the_cap(tmp_path):
    data = os.urandom(3 * video.CHUNK_BYTES + 17)
    stream = Upload(data)
    path = save_upload(stream, tmp_path, max_bytes=len(data))
    assert path.read_bytes() == data and path.parent == tmp_path
    assert stream.largest == video.CHUNK_BYTES  # never the whole upload at once
    path.unlink()
    with pytest.raises(VideoRefused) as caught:
        save_upload(Upload(data), tmp_path, max_bytes=len(data) - 1)
    assert caught.value.status == 413 and "too large" in caught.value.reason
    with pytest.raises(VideoRefused):
        save_upload(io.BytesIO(b""), tmp_path, max_bytes=10)
    assert list(tmp_path.iterdir()) == []  # a refused upload leaves no file


@pytest.mark.parametrize("name", ["mp4", "webm", "mov"])
def test_remux_copies_the_streams_without_metadata(videos, tmp_path, name):
    assert {"location", "model", "make"} <= {key.lower() for key in tags_of(videos[name])}
    info = probe(videos[name], max_seconds=600)
    ext = "webm" if name == "webm" else "mp4"
    out = tmp_path / f"clean.{ext}"
    remux(videos[name], out, info)
    data = out.read_bytes()
    assert [t for t in TELLTALES if t in data] == []
    assert not {"location", "model", "make", "creation_time"} & {k.lower() for k in tags_of(out)}
    clean = probe(out, max_seconds=600)
    assert (clean.video_codec, clean.audio_codec) == (info.video_codec, info.audio_codec)
    assert (clean.container, clean.playable) == (ext, True)  # a MOV's H.264 plays as MP4
    assert abs(clean.duration - info.duration) < 0.1
    if ext == "mp4":
        boxes = top_boxes(out)
        assert boxes.index(b"moov") < boxes.index(b"mdat")  # the index first: faststart
    with av.open(str(videos[name])) as a, av.open(str(out)) as b:  # the same packets
        assert [bytes(p) for p in a.demux(a.streams.video[0]) if p.size] == \
            [bytes(p) for p in b.demux(b.streams.video[0]) if p.size]


@pytest.mark.parametrize("name", ["hevc", "hevc_mp4"])
def test_transcode_makes_h264_mp4(videos, tmp_path, name):
    out = tmp_path / "h264.mp4"
    transcode_h264(videos[name], out, max_side=160)
    info = probe(out, max_seconds=600)
    audio = "aac" if KINDS[name][1][2] else None
    assert info == VideoInfo("mp4", "h264", audio, 160, 90, info.duration, True, 0)
    assert abs(info.duration - 3) < 0.15
    boxes = top_boxes(out)
    assert boxes.index(b"moov") < boxes.index(b"mdat")
    assert [t for t in TELLTALES if t in out.read_bytes()] == []


def test_rotation_survives_remux_transcode_and_poster(tmp_path):
    phone = tmp_path / "portrait.mov"
    make_demo_video(phone, seconds=1, size=(320, 180), fmt="mov", rotation=90)
    info = probe(phone, max_seconds=60)
    assert info.rotation == 90
    remuxed, transcoded = tmp_path / "r.mp4", tmp_path / "t.mp4"
    remux(phone, remuxed, info)
    transcode_h264(phone, transcoded)
    for made in (remuxed, transcoded):
        assert probe(made, max_seconds=60).rotation == 90
    assert Image.open(io.BytesIO(poster_frame(remuxed))).size == (180, 320)  # upright


def test_poster_is_a_frame_a_second_in_that_the_image_pipeline_takes(videos, tmp_path):
    poster = poster_frame(videos["mp4"])
    image = Image.open(io.BytesIO(poster)).convert("L")
    assert image.size == (320, 180)
    # The demo's progress bar (white, along the bottom) is a third of the way at 1 s of 3.
    row = [image.getpixel((x, 178)) for x in (16, 80, 160, 300)]
    assert row[0] > 200 and row[1] > 200 and row[2] < 150 and row[3] < 150
    processed = process_image(poster, max_bytes=10_000_000, alt="Poster")
    assert processed.width == 320 and "medium" in processed.variants
    short = tmp_path / "short.webm"
    make_demo_video(short, seconds=0.4, size=(160, 90), fmt="webm")
    first = Image.open(io.BytesIO(poster_frame(short))).convert("L")
    assert first.getpixel((150, 88)) < 150  # the first frame: the bar has not started


VTT = ("WEBVTT - captions\n\nNOTE a comment\nspanning lines\n\n1\n00:00:01.000 --> 00:00:04.000 "
       "align:start\nStep, <i>turn</i>\n\n00:04.500 --> 01:00:05.250\nAnd dip\n")


def test_check_webvtt_accepts_a_valid_file():
    assert check_webvtt(VTT.encode()) == VTT
    crlf = ("\ufeff" + VTT.replace("\n", "\r\n")).encode()
    assert check_webvtt(crlf) == VTT


@pytest.mark.parametrize("data,status,problem", [
    (b"1\n00:00:01.000 --> 00:00:02.000\nHi\n", 400, "first line must be WEBVTT"),
    (b"WEBVTTX\n\n00:00:01.000 --> 00:00:02.000\nHi\n", 400, "first line must be WEBVTT"),
    (b"WEBVTT\n\n00:00:01,000 --> 00:00:02,000\nHi\n", 400, "line 3 has a malformed cue"),
    (b"WEBVTT\n\n00:00:05.000 --> 00:00:02.000\nHi\n", 400, "ends before it starts"),
    (b"WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nHi\n00:00:03.000 --> 00:00:04.000\n", 400,
     "without a blank line"),
    (b"WEBVTT\n\nid\njust text\n", 400, "line 4 should be a cue timing"),
    (b"WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n\xff\xfe\n", 400, "UTF-8"),
    (b"WEBVTT\n\nNOTE nothing else\n", 400, "no captions"),
    (b"WEBVTT\n\n" + b"00:00:01.000 --> 00:00:02.000\nla la la\n\n" * 20_000, 413, "too large"),
])
def test_check_webvtt_names_the_problem(data, status, problem):
    with pytest.raises(VideoRefused) as caught:
        check_webvtt(data)
    assert caught.value.status == status and problem in caught.value.reason


def test_the_video_caps_are_settings():
    from idance_web.config import Config, ConfigError, from_env

    assert (Config().max_video_bytes, Config().max_video_seconds) == (200 * 1024 * 1024, 600)
    config = from_env({"IDANCE_MAX_VIDEO_BYTES": "1000", "IDANCE_MAX_VIDEO_SECONDS": "30"})
    assert (config.max_video_bytes, config.max_video_seconds) == (1000, 30)
    with pytest.raises(ConfigError, match="IDANCE_MAX_VIDEO_SECONDS"):
        Config(max_video_seconds=0).validate()
