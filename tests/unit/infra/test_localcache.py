"""LocalCache: lifetime, bounds, discards that void reads in flight, derived values."""
from alliance.db import connection, transaction
from alliance.infra import localcache
from alliance.infra.localcache import InvalidationFeed, LocalCache
from alliance.infra.models import CacheInvalidation
from tests.support import use_fresh_database


def frozen_clock(monkeypatch, start: float = 100.0) -> list[float]:
    now = [start]
    monkeypatch.setattr(localcache.time, "monotonic", lambda: now[0])
    return now


def test_values_live_for_the_lifetime_only(monkeypatch):
    now = frozen_clock(monkeypatch)
    cache = LocalCache(ttl_s=5)
    cache.put("a", 1, cache.ticket())
    now[0] += 4.99
    assert cache.get("a") == 1
    now[0] += 0.01
    assert cache.get("a") is None


def test_zero_lifetime_stores_nothing():
    cache = LocalCache(ttl_s=0)
    cache.put("a", 1, cache.ticket())
    assert cache.get("a") is None


def test_the_oldest_stored_make_room_for_new_ones():
    cache = LocalCache(ttl_s=60, max_entries=2)
    for key in "abc":
        cache.put(key, key.upper(), cache.ticket())
    assert [cache.get(k) for k in "abc"] == [None, "B", "C"]


def test_a_discard_voids_every_ticket_taken_before_it():
    cache = LocalCache(ttl_s=60)
    ticket = cache.ticket()
    cache.discard("other")
    cache.put("a", 1, ticket)
    assert cache.get("a") is None
    cache.put("a", 2, cache.ticket())
    assert cache.get("a") == 2
    cache.discard("a")
    assert cache.get("a") is None


def test_derived_values_are_computed_once_per_stored_value():
    cache = LocalCache(ttl_s=60)
    calls = []

    def encode(value):
        calls.append(value)
        return str(value)

    first = {"n": 1}
    cache.put("a", first, cache.ticket())
    assert cache.derived("a", first, encode) == cache.derived("a", first, encode) == "{'n': 1}"
    assert len(calls) == 1
    assert cache.derived("a", {"n": 1}, encode) == "{'n': 1}"  # not the stored object
    second = {"n": 2}
    cache.put("a", second, cache.ticket())
    assert cache.derived("a", second, encode) == "{'n': 2}"
    assert len(calls) == 3


def test_another_process_forgetting_a_merchant_clears_the_coupons_sold_out_memory(database):
    # The sold-out memory follows the merchant detail's forgets, which another process
    # announces through the feed.
    from alliance.coupons.claims import SOLD_OUT
    from alliance.merchants.queries import PUBLIC_DETAILS

    feed = InvalidationFeed()
    with connection():
        feed.poll()  # starts the feed
    SOLD_OUT.put(7, True, SOLD_OUT.ticket())
    assert SOLD_OUT.get(7)
    with transaction():  # as another process's write does
        CacheInvalidation.create(cache=PUBLIC_DETAILS.name, key="3")
    with connection():
        assert feed.poll() == 1
    assert SOLD_OUT.get(7) is None


def test_binding_another_database_empties_every_cache(database):
    cache = LocalCache(60)
    cache.put("k", "v", cache.ticket())
    use_fresh_database()
    assert cache.get("k") is None
