"""Unit tests for the in-process cache of resolved /q/<code> links."""

from __future__ import annotations

from marktplatz.adapters.codecache import TTL_SECONDS, InMemoryCodeCache

LINK = ("/stadt/sommer", True)


class Ticks:
    """A monotonic clock that moves only when told."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_link_is_kept_for_the_time_to_live() -> None:
    # given a link put into the cache
    ticks = Ticks()
    cache = InMemoryCodeCache(monotonic=ticks)
    cache.put("abcdefgh", LINK, cache.version())

    # when it is read just before and at the end of its time to live
    ticks.now += TTL_SECONDS - 0.01
    fresh = cache.get("abcdefgh")
    ticks.now += 0.01
    expired = cache.get("abcdefgh")

    # then
    assert (fresh, expired) == (LINK, None)


def test_a_forgotten_link_is_gone() -> None:
    # given
    cache = InMemoryCodeCache()
    cache.put("abcdefgh", LINK, cache.version())
    cache.put("hgfedcba", ("/andere", False), cache.version())

    # when
    cache.forget("abcdefgh")

    # then only that code is gone
    assert (cache.get("abcdefgh"), cache.get("hgfedcba")) == (None, ("/andere", False))


def test_a_lookup_that_raced_with_a_change_is_not_kept() -> None:
    # given a lookup that began before a change of its code was committed
    cache = InMemoryCodeCache()
    version = cache.version()
    cache.forget("abcdefgh")

    # when the lookup puts what it read (possibly the old target)
    cache.put("abcdefgh", LINK, version)

    # then it is not kept; a lookup begun after the change is
    assert cache.get("abcdefgh") is None
    cache.put("abcdefgh", ("/stadt/winter", True), cache.version())
    assert cache.get("abcdefgh") == ("/stadt/winter", True)


def test_the_cache_holds_at_most_its_size() -> None:
    # given a cache for two links, holding two
    cache = InMemoryCodeCache(max_entries=2)
    cache.put("aaaaaaaa", ("/a", True), cache.version())
    cache.put("bbbbbbbb", ("/b", True), cache.version())

    # when a third arrives
    cache.put("cccccccc", ("/c", True), cache.version())

    # then the one held longest goes
    assert [cache.get(c) for c in ("aaaaaaaa", "bbbbbbbb", "cccccccc")] == [
        None,
        ("/b", True),
        ("/c", True),
    ]
