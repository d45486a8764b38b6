"""The caches' common part: entries dropped by the records they show, through an index."""

from __future__ import annotations

from dataclasses import dataclass

from idance_web.page_cache import DependentCache


@dataclass(frozen=True)
class Entry:
    value: str
    depends_on: frozenset[str]


def keep(cache: DependentCache, key: str, *records: str) -> None:
    cache.store((key,), Entry(key, frozenset(records)))


def test_a_drop_removes_exactly_the_entries_showing_a_changed_record():
    cache = DependentCache(max_entries=10)
    keep(cache, "ana-page", "user:ana", "site:a")
    keep(cache, "ben-page", "user:ben")
    keep(cache, "directory", "group:*", "user:ana")
    assert cache.drop({"user:ana"}) == 2
    assert cache.get(("ben-page",)).value == "ben-page" and len(cache) == 1
    assert cache.drop({"site:a", "user:ana"}) == 0


def test_an_entry_stored_again_or_pushed_out_no_longer_answers_to_its_old_records():
    cache = DependentCache(max_entries=2)
    keep(cache, "page", "user:ana")
    keep(cache, "page", "user:ben")  # the same key, now showing someone else
    assert cache.drop({"user:ana"}) == 0 and len(cache) == 1
    keep(cache, "second", "user:cy")
    keep(cache, "third", "user:cy")  # "page" was the least recently used: out
    assert cache.get(("page",)) is None and cache.drop({"user:ben"}) == 0
    assert cache.drop({"user:cy"}) == 2 and len(cache) == 0
    keep(cache, "after", "user:dee")
    cache.clear()
    assert cache.drop({"user:dee"}) == 0
