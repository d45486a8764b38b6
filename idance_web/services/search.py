"""Search by name: dancers (display name and username), public groups, and dance styles.

Names are found through ``name_key`` (migration ``0022``): one row per folded word of a name,
kept by events, read as one prefix range of a B-tree index on the query's longest word
(chosen over a BM25 full-text index by measurement: docs/architecture.md, "Search"). The
database folds the query with the same function that folded the names, so both sides agree
(accents, other scripts, punctuation). Every query runs under the identity of who asked, so
the profile and site permissions decide who is found: a visitor finds dancers with a
published site; a member finds the profiles she may see (not those of a blocked pair) of
dancers who are discoverable or have a published site.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..db import Database
from ..text import fold
from .options import lookup_options

MIN_CHARS = 2  # for names; one letter would read a range of a whole alphabet's slice
MAX_CHARS = 100
CANDIDATES = 200  # keys read per kind, in key order, before the rest of the words filter
SHOWN = 20
# Offered when a search finds nothing: widely danced styles from the curated list.
SUGGESTED_STYLES = ("salsa", "bachata", "kizomba", "argentine_tango", "west_coast_swing",
                    "hip_hop", "contemporary")

_FIND = """LET $words = fn::name_words($q, '');
LET $w = array::sort($words.map(|$x| [0 - string::len($x), $x]))[0][1] ?? '';
LET $ua = IF $w = '' THEN '~' ELSE string::concat('u|', $w) END;
LET $ub = string::concat($ua, '\\u{ffff}');
LET $ga = IF $w = '' THEN '~' ELSE string::concat('g|', $w) END;
LET $gb = string::concat($ga, '\\u{ffff}');
LET $people = array::distinct(
    (SELECT VALUE target FROM name_key WHERE key >= $ua AND key < $ub LIMIT $limit));
LET $groups = array::distinct(
    (SELECT VALUE target FROM name_key WHERE key >= $ga AND key < $gb LIMIT $limit));
RETURN $words;
SELECT id, username, display_name, fn::name_words(display_name, username) AS words,
    (SELECT VALUE id FROM site WHERE owner = $parent.id LIMIT 1)[0] AS site,
    (SELECT VALUE discoverable FROM profile WHERE owner = $parent.id LIMIT 1)[0] AS listed
    FROM $people;
SELECT id, slug, name, kind, visibility, city.name AS city,
    fn::name_words(name, slug) AS words FROM $groups"""


@dataclass
class Results:
    """What a search found, and what it could not do with the query."""

    query: str
    dancers: list[dict] = field(default_factory=list)
    groups: list[dict] = field(default_factory=list)
    styles: list[dict] = field(default_factory=list)
    too_short: bool = False
    cut: bool = False  # the query was longer than MAX_CHARS and was cut

    @property
    def empty(self) -> bool:
        return not (self.dancers or self.groups or self.styles)


def clean_query(raw: str | None) -> tuple[str, bool]:
    """The query as searched (spaces collapsed, at most ``MAX_CHARS``) and whether it was cut."""
    text = " ".join((raw or "").split())
    return text[:MAX_CHARS].strip(), len(text) > MAX_CHARS


def _matches(words: list[str], candidate: list[str]) -> int:
    """0 unless every query word starts a word of the name; more for whole words."""
    score = 0
    for w in words:
        if w in candidate:
            score += 2
        elif any(c.startswith(w) for c in candidate):
            score += 1
        else:
            return 0
    return score


def _rank(words: list[str], rows: list[dict], handle: str, query: str) -> list[dict]:
    ranked = []
    for row in rows:
        score = _matches(words, row.get("words") or [])
        if not score:
            continue
        if row[handle] == query.lstrip("@").lower():
            score += 10  # her exact username, or the group's address
        if (row.get("words") or [""])[0].startswith(words[0]):
            score += 1  # the name starts as the query does
        ranked.append((-score, len(row.get("display_name") or row.get("name") or ""), row))
    ranked.sort(key=lambda item: item[:2])
    return [row for *_, row in ranked[:SHOWN]]


def _styles(db: Database, query: str) -> list[dict]:
    """Dance styles whose name (or one of its words) starts with the query, from the curated
    list read once per process."""
    wanted = fold(query)
    found = []
    for style in lookup_options(db)["styles"]:
        name = fold(style["name"])
        if name.startswith(wanted):
            found.append((0, style["name"], style))
        elif any(word.startswith(wanted) for word in name.replace("-", " ").split()):
            found.append((1, style["name"], style))
    return [style for *_, style in sorted(found, key=lambda item: item[:2])][:SHOWN]


def suggested_styles(db: Database) -> list[dict]:
    """The styles to suggest after a search that found nothing (those the lookup data has)."""
    known = {s["id"]: s for s in lookup_options(db)["styles"]}
    return [known[key] for key in SUGGESTED_STYLES if key in known]


def search(db: Database, raw_query: str | None, member_key: str | None) -> Results:
    """Dancers, groups and styles for ``raw_query``, as the member (or a visitor) sees them."""
    query, cut = clean_query(raw_query)
    results = Results(query=query, cut=cut)
    if not query:
        return results
    results.styles = _styles(db, query)
    if len(query) < MIN_CHARS:
        results.too_short = True
        return results
    session = db.member(member_key) if member_key else db.visitor()
    with session as s:
        *_, words, people, groups = s.query(_FIND, {"q": query, "limit": CANDIDATES})
    if not words:
        return results
    if member_key:
        people = [p for p in people if p.get("listed") is not None
                  and (p["listed"] or p.get("site") is not None)]
    else:
        people = [p for p in people if p.get("site") is not None]
    for p in people:
        p["has_site"] = p.get("site") is not None
    results.dancers = _rank(words, people, "username", query)
    results.groups = _rank(words, [g for g in groups if g.get("visibility") == "public"],
                           "slug", query)
    return results
