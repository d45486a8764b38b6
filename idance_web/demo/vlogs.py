"""The demo vlogs: picture vlogs of demo dancers and of a group, and short videos, with likes,
comments, a reply and an accepted partner credit. Pictures are drawn with Pillow and videos
encoded by PyAV (no downloads), both through the upload pipelines; every file is counted
against its author's quota like an uploaded one."""

from __future__ import annotations

import tempfile
from pathlib import Path

from surrealdb import RecordID

from ..db import Database
from .sites import demo_images

# (key, owner, author, title, styles, level, visibility, pictures, partner)
DEMO_VLOGS = [
    ("demo_v01", "user:demo_000", "demo_000", "Sunday social, first song", ["salsa"], "advanced",
     "public", 3, "demo_002"),
    ("demo_v02", "user:demo_001", "demo_001", "Shines drill: week 4", ["salsa", "bachata"],
     "intermediate", "public", 2, None),
    ("demo_v03", "group:demo_sol_salsa_studio", "demo_001", "Friday social at the studio",
     ["salsa"], None, "public", 4, None),
    ("demo_v04", "user:demo_002", "demo_002", "Bachata sensual basics", ["bachata"], "beginner",
     "public", 1, None),
    ("demo_v05", "user:demo_003", "demo_003", "Cypher at the park", ["hip_hop", "breaking"],
     "advanced", "public", 2, None),
    ("demo_v06", "user:demo_004", "demo_004", "Milonga night", ["argentine_tango"],
     "professional", "followers", 2, None),
    ("demo_v07", "user:demo_005", "demo_005", "Practice notes for my followers", ["salsa"],
     "improver", "followers", 1, None),
    ("demo_v08", "user:demo_006", "demo_006", "Rehearsal, new piece", ["contemporary"],
     "professional", "public", 3, None),
]
COMMENTS = ["Beautiful **timing**!", "That turn pattern is lovely.", "See you at the next one",
            "The styling in the second picture 🔥"]
REPLY = "Thank you! Come along next week."
# (key, author, title, styles, caption drawn on the frames)
DEMO_VIDEOS = [
    ("demo_v09", "demo_000", "Footwork drill in slow motion", ["salsa"], "Footwork"),
    ("demo_v10", "demo_003", "Top rock warm-up", ["breaking"], "Top rock"),
]


def _demo_video(storage, text: str, folder: str) -> tuple[dict, dict, dict[str, int]]:
    """A few seconds of generated video through the video pipeline: its record, its poster's
    and the stored files' sizes."""
    from ..media import file_key, process_image
    from ..storage import prefix_keys, save_image
    from ..video import make_demo_video, poster_frame, probe, remux

    raw, out = Path(folder) / "raw.mp4", Path(folder) / "out.mp4"
    make_demo_video(raw, seconds=4, size=(640, 360), text=text)
    info = probe(raw, max_seconds=60)
    remux(raw, out, info)
    key = file_key(out, "mp4", "vlog/vid")
    storage.put_file(key, out, "video/mp4")
    poster = prefix_keys(process_image(poster_frame(out), max_bytes=64 << 20,
                                       alt=f"{text}: a still"), "vlog/")
    record = {"key": key, "content_type": "video/mp4", "width": info.width,
              "height": info.height, "duration": round(info.duration, 2)}
    sizes = {key: out.stat().st_size, **{v.key: v.size for v in poster.variants.values()}}
    return record, save_image(storage, poster), sizes


def _load_videos(db: Database, storage) -> int:
    made = 0
    with tempfile.TemporaryDirectory(prefix="demo-video-") as folder:
        for n, (key, author, title, styles, text) in enumerate(DEMO_VIDEOS):
            record, poster, sizes = _demo_video(storage, text, folder)
            vlog = RecordID("vlog", key)
            with db.system() as s:
                s.query(
                    """CREATE $vlog SET owner = $author, author = $author, kind = 'video',
                           title = $title, styles = $styles, visibility = 'public',
                           video = $video, poster = $poster, status = 'ready',
                           published_at = time::now() - <duration> $age RETURN NONE;
                       FOR $row IN $uploads {
                           CREATE upload SET owner = $author, key = $row.key,
                               bytes = $row.bytes, subject = $vlog RETURN NONE;
                       };""",
                    {"vlog": vlog, "author": _author_id(author), "title": title,
                     "styles": [RecordID("dance_style", st) for st in styles], "video": record,
                     "poster": poster, "age": f"{n * 5 + 2}h",
                     "uploads": [{"key": k, "bytes": b} for k, b in sizes.items()]})
                _interact(s, vlog, author, n)
            made += 1
    return made


def _author_id(key: str) -> RecordID:
    return RecordID("user", key)


def _record(text: str) -> RecordID:
    table, key = text.split(":", 1)
    return RecordID(table, key)


def load_demo_vlogs(db: Database, storage) -> str:
    """The demo vlogs, their likes and comments; idempotent (runs as the system)."""
    with db.system() as s:
        if s.value("RETURN record::exists(vlog:demo_v01)"):
            return "Demo vlogs already loaded."
        if not s.value("RETURN record::exists(user:demo_006)"):
            return "Demo vlogs skipped (no demo members)."
    pictures = demo_images(storage, prefix="vlog/")
    made = 0
    for n, (key, owner, author, title, styles, level, visibility, count, partner) \
            in enumerate(DEMO_VLOGS):
        owner_id = _record(owner)
        images = [pictures[(n + i) % len(pictures)] for i in range(count)]
        vlog = RecordID("vlog", key)
        counted = {v["key"]: v["size"] for image in images for v in image["variants"].values()}
        with db.system() as s:
            if not s.value("RETURN record::exists($o)", {"o": owner_id}):
                continue
            s.query(
                """CREATE $vlog SET owner = $owner, author = $author, kind = 'images',
                       title = $title, body = $body, styles = $styles, level = $level,
                       visibility = $visibility, images = $images, status = 'ready',
                       music = $music, published_at = time::now() - <duration> $age RETURN NONE;
                   FOR $row IN $uploads {
                       CREATE upload SET owner = $author, key = $row.key, bytes = $row.bytes,
                           subject = $vlog RETURN NONE;
                   };
                   IF $partner != NONE {
                       RELATE $vlog->vlog_tag->$partner SET status = 'approved' RETURN NONE;
                   };""",
                {"vlog": vlog, "owner": owner_id, "author": _author_id(author), "title": title,
                 "body": f"{title}. Filmed with friends; *more soon*.",
                 "styles": [RecordID("dance_style", st) for st in styles], "level": level,
                 "visibility": visibility, "images": images, "music": "Live band" if n % 2 else None,
                 "age": f"{(len(DEMO_VLOGS) - n) * 26}h",
                 "uploads": [{"key": k, "bytes": b} for k, b in counted.items()],
                 "partner": _author_id(partner) if partner else None})
            _interact(s, vlog, author, n)
        made += 1
    made += _load_videos(db, storage)
    return f"{made} demo vlogs with likes and comments."


def _interact(s, vlog: RecordID, author: str, n: int) -> None:
    """Likes by the next few demo members, two comments and the author's reply."""
    fans = [_author_id(f"demo_{(int(author[-3:]) + i) % 60:03d}") for i in range(1, 5 + n % 3)]
    s.query(
        """FOR $fan IN $fans { RELATE $fan->vlog_like->$vlog RETURN NONE; };
           LET $first = (CREATE ONLY comments SET target = $vlog, author = $fans[0],
               body = $c1 RETURN VALUE id);
           CREATE comments SET target = $vlog, author = $fans[1], body = $c2 RETURN NONE;
           CREATE comments SET target = $vlog, author = $author, body = $reply,
               parent = $first RETURN NONE;""",
        {"fans": fans, "vlog": vlog, "author": _author_id(author), "reply": REPLY,
         "c1": COMMENTS[n % len(COMMENTS)], "c2": COMMENTS[(n + 1) % len(COMMENTS)]})
