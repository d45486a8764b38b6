"""Benchmark: what members and visitors get as the community grows (64, 1,000 and N members).

Run from the project root: ``python bench/scale.py [--members N] [--runs R]``.

It builds three communities — 64, 1,000 and N members — each in its own temporary
``surrealkv://`` database, with batched ``INSERT … RETURN NONE`` statements (about 500 rows each)
as the system identity: members with profiles, styles and a published two-page site of four
blocks (the published stage only: no page measured here reads drafts), one group per 50
members with its roster and site, follows. Then it measures in-process (Flask's test client,
the server time of one request), taking the sizes in turn request by request so that whatever
else the machine does weighs on every size alike, the p50 of:

- ``landing``: ``/`` with its one-minute overview recomputed (its cache emptied first);
- ``sitemap``: ``/sitemap.xml`` recomputed, and ``sitemap_page``: its first page recomputed
  (both from an emptied cache);
- ``page_miss``: a public dancer site with the render cache emptied (a different member
  each time);
- ``groups``: the group directory ``/groups`` (signed in: her groups too);
- ``me``: her ``/me`` page;

and the idle cost of the change follower: the p50 of one poll with nothing new, as a share of
its cycle (the share of time an idle app holds the database for it). The last line is one JSON
object: ``{"members": [64, 1000, N], "p50_ms": {page: [ms, ms, ms]}, "hub_idle_share": …}``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import re
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from surrealdb import RecordID  # noqa: E402

from idance_web import create_app  # noqa: E402
from idance_web.blocks import validate  # noqa: E402
from idance_web.config import Config  # noqa: E402
from idance_web.migrate import Runner  # noqa: E402
from tests.lookup_fixture import load_small_lookup  # noqa: E402

PASSWORD = "bench-password-2026"
BATCH = 500
SIZES = (64, 1000)
STYLES = ["salsa", "bachata", "kizomba", "lindy_hop", "west_coast_swing", "argentine_tango",
          "hip_hop", "house", "contemporary", "ballet", "flamenco", "tap"]
LEVELS = ["beginner", "improver", "intermediate", "advanced", "professional"]
GROUP_EVERY = 50  # one group per 50 members; every member joins one
PAGES = [{"slug": "home", "title": "Home"}, {"slug": "classes", "title": "Classes"}]
SETTINGS = {"pages": PAGES, "theme": "ocean", "font": "classic",
            "seo": {"title": "", "description": ""}}


def bench_config(tmp: Path) -> Config:
    return Config(env="development", db_url=f"surrealkv://{tmp / 'idance.db'}",
                  media_root=str(tmp / "media"), auto_migrate=False, rate_limits=False,
                  follow_changes=False)


def block_rows() -> list[tuple[str, str, dict]]:
    """The blocks every bench site has: (page, kind, validated data)."""
    return [
        ("home", "hero", validate("hero", {"title": "Dance with me",
                                           "subtitle": "Classes and socials every week"})),
        ("home", "text", validate("text", {"title": "About", "body":
                                           "I teach **salsa** and bachata.\n\n- technique\n"
                                           "- musicality\n- a practice hour"})),
        ("home", "styles", validate("styles", {"title": "What I dance"})),
        ("classes", "schedule", validate("schedule", {"title": "Weekly classes", "items": [
            {"title": "Beginners", "style": "Salsa", "level": "beginner", "weekday": "monday",
             "time": "19:00", "place": "Studio 1"},
            {"title": "Improvers", "style": "Bachata", "level": "improver",
             "weekday": "thursday", "time": "20:00", "place": "Studio 2"}]})),
    ]


class Community:
    """Grows one community in batches, as the system identity."""

    def __init__(self, db):
        self.db = db
        self.members = 0
        self.groups = 0
        self.rng = random.Random(2026)
        self.blocks = block_rows()
        with db.system() as s:
            self.hash = s.value("RETURN crypto::argon2::generate($p)", {"p": PASSWORD})
            self.cities = s.rows("SELECT id, vector FROM city")

    def _insert(self, s, table: str, rows: list[dict], relation: bool = False) -> None:
        sql = f"INSERT {'RELATION ' if relation else ''}INTO {table} $rows RETURN NONE"
        for i in range(0, len(rows), BATCH):
            s.query(sql, {"rows": rows[i:i + BATCH]})

    def grow(self, total: int) -> float:
        """Add members (and their groups) until there are ``total``; the seconds it took."""
        start = time.perf_counter()
        while self.members < total:
            upto = min(total, self.members + BATCH)
            self._add(range(self.members, upto))
            self.members = upto
        return time.perf_counter() - start

    def _add(self, numbers: range) -> None:
        rng = self.rng
        users, profiles, styles, sites, blocks, groups, roster, follows = ([] for _ in range(8))
        for i in numbers:
            me = RecordID("user", f"m{i:06d}")
            city = self.cities[i % len(self.cities)]
            users.append({"id": me, "email": f"dancer-{i}@bench.example",
                          "username": f"dancer-{i}", "display_name": f"Dancer {i}",
                          "password": self.hash, "has_password": True})
            profiles.append({"id": RecordID("profile", f"m{i:06d}"), "owner": me,
                             "bio": "I dance every week.", "city": city["id"],
                             "location": city["vector"], "discoverable": i % 10 != 0,
                             "looking_for": ["practice_partner"]})
            for style in rng.sample(STYLES, 2):
                styles.append({"in": me, "out": RecordID("dance_style", style),
                               "level": rng.choice(LEVELS), "role": "both"})
            site = RecordID("site", f"m{i:06d}")
            sites.append(self._site(site, me))
            blocks += self._blocks(site)
            if i % GROUP_EVERY == 0:
                g = RecordID("group", f"g{i // GROUP_EVERY:05d}")
                groups.append({"id": g, "slug": f"crew-{i // GROUP_EVERY}",
                               "name": f"Crew {i // GROUP_EVERY}", "kind": "crew",
                               "created_by": me, "city": city["id"],
                               "location": city["vector"],
                               "styles": [RecordID("dance_style", rng.choice(STYLES))],
                               "join_mode": "open", "visibility": "public"})
                gsite = RecordID("site", f"g{i // GROUP_EVERY:05d}")
                sites.append(self._site(gsite, g))
                blocks += self._blocks(gsite)
            else:
                g = RecordID("group", f"g{i // GROUP_EVERY:05d}")
                roster.append({"group": g, "user": me, "role": "member"})
            if i > 0:
                follows.append({"in": me, "out": RecordID("user", f"m{rng.randrange(i):06d}")})
                follows.append({"in": me, "out": RecordID("group", f"g{i // GROUP_EVERY:05d}")})
        with self.db.system() as s:
            self._insert(s, "user", users)
            self._insert(s, "profile", profiles)
            self._insert(s, "user_dance_style", styles, relation=True)
            self._insert(s, "group", groups)  # the group_owner event adds the owner's row
            self._insert(s, "group_member", roster)
            self._insert(s, "site", sites)
            self._insert(s, "content_block", blocks)
            self._insert(s, "follow", follows, relation=True)
        self.groups += len(groups)

    @staticmethod
    def _site(site: RecordID, owner: RecordID) -> dict:
        return {"id": site, "owner": owner, "draft": SETTINGS, "published": SETTINGS,
                "version": 1, "published_version": 1,
                "published_at": dt.datetime.now(dt.UTC)}

    def _blocks(self, site: RecordID) -> list[dict]:
        rows = []
        positions: dict[str, int] = {}
        for page, kind, data in self.blocks:
            positions[page] = positions.get(page, 0) + 1
            rows.append({"site": site, "stage": "published", "page": page, "kind": kind,
                         "data": data, "position": positions[page]})
        return rows


# -- measuring --------------------------------------------------------------------------------

PAGES = ("landing", "sitemap", "sitemap_page", "page_miss", "groups", "me")


def sign_in(app, username: str):
    client = app.test_client()
    html = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
    response = client.post("/login", data={"email": f"{username}@bench.example",
                                           "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302, response.status_code
    return client


def ok(response, path: str):
    assert response.status_code == 200, (path, response.status_code)
    return response


def clear_overview(app) -> None:
    """Forget the landing page's cached overview, so the next ``/`` recomputes it."""
    from idance_web.services import community

    clear = getattr(community, "clear_overview", None)
    if clear is not None:
        clear(app.extensions["idance.db"])
    else:
        community._cache.clear()


def clear_sitemap(app) -> None:
    cache = app.extensions.get("idance.sitemap")
    if cache is not None:
        cache.clear()


class Site:
    """One community's app and the requests measured on it."""

    def __init__(self, size: int, tmp: Path):
        self.size = size
        self.app = create_app(bench_config(tmp / f"community-{size}"))
        self.db = self.app.extensions["idance.db"]
        Runner(self.db, lookup=lambda s, log: load_small_lookup(s)).run(log=lambda m: None)
        self.community = Community(self.db)
        self.samples: dict[str, list[tuple[float, float]]] = {p: [] for p in PAGES}
        self.queries: dict[str, int] = {p: 0 for p in PAGES}

    def build(self) -> float:
        return self.community.grow(self.size)

    def prepare(self) -> None:
        """Sign a member in, find the first sitemap page, warm every page up once."""
        app = self.app
        self.visitor = app.test_client()
        self.member = sign_in(app, "dancer-1")
        self.rng = random.Random(7)
        body = ok(self.visitor.get("/sitemap.xml"), "/sitemap.xml").get_data(as_text=True)
        found = re.search(r"<loc>[^<]*?(/sitemap-\d+\.xml)</loc>", body)
        self.first_page = found.group(1) if found else None
        for page in PAGES:
            self.request(page)

    def request(self, page: str) -> None:
        app, visitor = self.app, self.visitor
        if page == "landing":
            clear_overview(app)
            ok(visitor.get("/"), "/")
        elif page == "sitemap":
            clear_sitemap(app)
            ok(visitor.get("/sitemap.xml"), "/sitemap.xml")
        elif page == "sitemap_page" and self.first_page:
            clear_sitemap(app)
            ok(visitor.get(self.first_page), self.first_page)
        elif page == "page_miss":
            app.extensions["idance.public_cache"].pages.clear()
            path = f"/@dancer-{self.rng.randrange(self.community.members)}"
            assert b"Dance with me" in ok(visitor.get(path), path).data, path
        elif page == "groups":
            ok(self.member.get("/groups"), "/groups")
        elif page == "me":
            ok(self.member.get("/me"), "/me")

    def measure(self, page: str) -> None:
        before = self.db.query_count
        wall, cpu = time.perf_counter(), time.process_time()
        self.request(page)
        self.samples[page].append((time.perf_counter() - wall, time.process_time() - cpu))
        self.queries[page] += self.db.query_count - before

    def p50(self, page: str, which: int = 0) -> float | None:
        if page == "sitemap_page" and not self.first_page:
            return None
        return round(statistics.median(s[which] for s in self.samples[page]) * 1000, 2)

    def hub_idle(self, runs: int) -> tuple[float, float]:
        """(p50 ms of one idle cycle, the interval in seconds) of whatever follows the feed.

        A real-time hub, when the app has one, reports its own idle cycle; until then the
        public cache's follower is measured: one ``poll_once()`` with nothing new, then it
        sleeps ``interval``.
        """
        hub = self.app.extensions.get("idance.hub")
        if hub is not None and hasattr(hub, "idle_cycle"):
            return hub.idle_cycle(runs)
        follower = self.app.extensions["idance.public_cache"].follower
        follower.poll_once()  # catch up with everything the build wrote
        samples = []
        for _ in range(runs):
            start = time.perf_counter()
            follower.poll_once()
            samples.append(time.perf_counter() - start)
        return statistics.median(samples) * 1000, follower.interval

    def close(self) -> None:
        self.db.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=21, help="requests per figure")
    args = parser.parse_args()
    sizes = sorted({*(s for s in SIZES if s < args.members), args.members})
    tmp = Path(tempfile.mkdtemp(prefix="idance-scale-"))
    sites: list[Site] = []
    began = time.perf_counter()
    try:
        for size in sizes:
            site = Site(size, tmp)
            sites.append(site)
            seconds = site.build()
            print(f"{size:>7} members, {site.community.groups} groups built in {seconds:.1f} s "
                  f"({size / seconds:.0f} members/s)", flush=True)
        for site in sites:
            site.prepare()
        # Round-robin over sizes and pages: whatever else the machine does slows every size
        # alike, so the ratios hold even when the absolute figures wander.
        for _ in range(args.runs):
            for page in PAGES:
                for site in sites:
                    site.measure(page)
        idle = {site.size: site.hub_idle(args.runs) for site in sites}
    finally:
        for site in sites:
            site.close()
        shutil.rmtree(tmp, ignore_errors=True)

    print(f"\np50 server time in ms (wall / CPU of this process), {args.runs} requests each:")
    print(f"{'page':<14}" + "".join(f"{s:>20,}" for s in sizes) + "   queries")
    for page in PAGES:
        cells = "".join(
            f"{'-':>20}" if site.p50(page) is None
            else f"{site.p50(page):>11.2f} /{site.p50(page, 1):>7.2f}" for site in sites)
        print(f"{page:<14}{cells}   {sites[-1].queries[page] / args.runs:g}")
    share = {size: ms / 1000 / (interval + ms / 1000) for size, (ms, interval) in idle.items()}
    print("hub idle share" + "".join(f"{share[s]:>20.1%}" for s in sizes)
          + "   (one idle poll's p50: " + ", ".join(f"{idle[s][0]:.0f} ms" for s in sizes) + ")")
    if 1000 in sizes and args.members > 1000:
        base, top = sites[sizes.index(1000)], sites[-1]
        print(f"p50 at {args.members:,} / p50 at 1,000: " + ", ".join(
            f"{p} {top.p50(p) / base.p50(p):.2f}x" for p in PAGES if base.p50(p)))
    print(f"total {time.perf_counter() - began:.0f} s")
    summary = {"members": sizes,
               "p50_ms": {p: [site.p50(p) for site in sites] for p in PAGES},
               "hub_idle_share": round(share[sizes[-1]], 4)}
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
