"""Per-process caches of read-mostly views, kept fresh across processes by a shared feed.

Public pages that every consumer reads and few people change (a merchant's detail) are
computed once per process and kept for up to ``ttl_s`` seconds, or less when the value says
when it stops being true (a shop opening at 09:00). A write that changes one calls
``forget(key)`` inside its transaction: once it commits, the writing process drops the value
at once, and the row it wrote to ``CacheInvalidation`` tells every other process, which
reads the feed about once a second (``InvalidationFeed``, started by the server). When the
feed cannot be read, values still end with their lifetime. Other per-process structures built
from the same rows (the nearby search's index of shops) ``subscribe`` to a cache's name and
follow its forgets alike.

A value computed from a snapshot that a write overtook is not stored: take a ``ticket``
before reading, ``put`` with it after. Values are shared between requests: callers never
mutate what ``get`` returns.
"""
from __future__ import annotations

import datetime as dt
import logging
import threading
import time
import weakref
from typing import Any, Callable, Hashable

from alliance.db import after_commit, connection, transaction, utcnow
from alliance.infra.models import CacheInvalidation

log = logging.getLogger("alliance.cache")

# name -> what follows the forgets of that name (its cache, then any subscribers): objects
# with ``discard(key)``, ``clear()`` and ``key_type`` (the key from the feed's text).
_SHARED: dict[str, list] = {}


_CACHES: "weakref.WeakSet[LocalCache]" = weakref.WeakSet()  # every cache: ``clear_all``


def clear_all() -> None:
    """Empty every cache of this process (``init_db`` binding another database: what was
    read from the previous one means nothing there)."""
    for cache in list(_CACHES):
        cache.clear()


def subscribe(name: str, listener) -> None:
    """Have ``listener.discard(key)`` / ``listener.clear()`` follow every forget of ``name``:
    in this process once the write commits, in the others through the feed."""
    _SHARED.setdefault(name, []).append(listener)


def _listeners(name: str | None, cache: "LocalCache") -> list:
    return [cache] if name is None else _SHARED.get(name, [])


class LocalCache:
    def __init__(self, ttl_s: float, max_entries: int = 4096, *, name: str | None = None,
                 key_type: Callable[[str], Hashable] = str):
        """``name`` shares the cache's ``forget`` with other processes (None: this one only)."""
        if name is not None and any(isinstance(l, LocalCache) for l in _SHARED.get(name, ())):
            raise ValueError(f"a cache named {name!r} exists already")
        self.name, self.key_type = name, key_type
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        # key -> (expiry on time.monotonic(), value, what was derived from it: ``derived``)
        self._entries: dict[Hashable, tuple[float, Any, dict]] = {}
        self._discards = 0  # bumped by every discard: a ticket older than it is void
        self._lock = threading.Lock()
        _CACHES.add(self)
        if name is not None:
            subscribe(name, self)

    def get(self, key: Hashable) -> Any | None:
        """The value stored for ``key`` while it lives, else None."""
        entry = self._entries.get(key)
        if entry is None or entry[0] <= time.monotonic():
            return None
        return entry[1]

    def derived(self, key: Hashable, value: Any, derive: Callable[[Any], Any]) -> Any:
        """``derive(value)``, computed once while ``value`` is what ``key`` holds (e.g. its
        JSON text); computed afresh when it is not."""
        entry = self._entries.get(key)
        if entry is None or entry[1] is not value:
            return derive(value)
        memo = entry[2]
        if derive not in memo:
            memo[derive] = derive(value)
        return memo[derive]

    def ticket(self) -> int:
        """Take before reading what ``put`` will store."""
        return self._discards

    def put(self, key: Hashable, value: Any, ticket: int,
            true_until: dt.datetime | None = None) -> None:
        """Store ``value`` for ``ttl_s`` (or until ``true_until``, naive UTC, if sooner),
        unless caching is off or a discard happened since ``ticket``."""
        lifetime = self.ttl_s
        if true_until is not None:
            lifetime = min(lifetime, (true_until - utcnow()).total_seconds())
        if lifetime <= 0:
            return
        with self._lock:
            if ticket != self._discards:
                return
            self._entries.pop(key, None)
            while len(self._entries) >= self.max_entries:  # the oldest stored goes first
                del self._entries[next(iter(self._entries))]
            self._entries[key] = (time.monotonic() + lifetime, value, {})

    def forget(self, key: Hashable | None = None) -> None:
        """``key`` (None: everything) changes in the current transaction: drop it here once
        that commits, and in every other process through the feed."""
        if self.name is not None:
            CacheInvalidation.create(cache=self.name, key=None if key is None else str(key))
        after_commit(lambda: _apply(_listeners(self.name, self), key), quick=True)

    def discard(self, key: Hashable) -> None:
        with self._lock:
            self._discards += 1
            self._entries.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._discards += 1
            self._entries.clear()

    def configure(self, ttl_s: float) -> None:
        """Change the lifetime (0 turns caching off); forgets what is stored."""
        self.ttl_s = ttl_s
        self.clear()


def _apply(listeners: list, key: Hashable | None, text: bool = False) -> None:
    """A forget of ``key`` (None: everything; ``text``: as the feed stores it) to each."""
    for listener in listeners:
        if key is None:
            listener.clear()
        else:
            listener.discard(listener.key_type(key) if text else key)


class InvalidationFeed:
    """Applies the ``forget`` of every process to this process's caches.

    Ids are handed out before commit, so a row may appear behind one already read; each poll
    therefore reads every row of the last ``OVERLAP`` and skips those it has applied.
    """

    OVERLAP = dt.timedelta(seconds=30)

    def __init__(self):
        self._since: dt.datetime | None = None
        self._applied: dict[int, dt.datetime] = {}  # row id -> its time, while in the overlap
        self._lock = threading.Lock()

    def poll(self) -> int:
        """Apply the rows not applied yet; how many. (The first poll only starts the feed:
        a new process has nothing cached.)"""
        with self._lock:
            now = utcnow()
            if self._since is None:
                self._since = now
                return 0
            horizon = self._since - self.OVERLAP
            rows = (CacheInvalidation.select().where(CacheInvalidation.created_at >= horizon)
                    .order_by(CacheInvalidation.id).tuples())
            applied = 0
            for row_id, name, key, created_at in rows:
                listeners = _SHARED.get(name)
                if row_id in self._applied or not listeners:
                    continue
                self._applied[row_id] = created_at
                _apply(listeners, key, text=True)
                applied += 1
            self._since = now
            self._applied = {i: t for i, t in self._applied.items() if t >= horizon}
            return applied

    def poll_quietly(self) -> None:
        """``poll`` for a timer: a failure is logged, values then end with their lifetime."""
        try:
            with connection():
                self.poll()
        except Exception:  # noqa: BLE001 - the next tick tries again
            log.warning("cache invalidation feed unreadable", exc_info=True)


def purge_invalidations(older_than: dt.timedelta = dt.timedelta(hours=1)) -> int:
    """Delete feed rows every process has read long ago; the count deleted."""
    with transaction():
        return (CacheInvalidation.delete()
                .where(CacheInvalidation.created_at < utcnow() - older_than).execute())
