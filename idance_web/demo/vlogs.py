"""The demo vlogs: picture vlogs of demo dancers and of a group, with likes, comments, a reply
and an accepted partner credit. Pictures are drawn with Pillow and go through the upload
pipeline; every file is counted against its author's quota like an uploaded one."""

from __future__ import annotations

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
