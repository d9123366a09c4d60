"""Fixed-window rate limits shared by every server process.

Counters live in Redis when it is configured (``RedisCounter`` in server/ratelimit.py) and in
the database otherwise; both answer the same question: how many hits in this window so far.
"""
from __future__ import annotations

import time

from alliance.db import is_mysql, transaction
from alliance.errors import RateLimited
from alliance.infra.models import RateCounter


def db_hit(bucket: str, window_s: int, now: float | None = None) -> tuple[int, int]:
    """Count one hit in ``bucket``'s current window: (hits so far, seconds to window end)."""
    now = time.time() if now is None else now
    window = int(now // window_s)
    with transaction():
        query = RateCounter.insert(bucket=bucket, window=window, hits=1,
                                   expires_at=(window + 1) * window_s)
        if is_mysql():
            query = query.on_conflict(update={RateCounter.hits: RateCounter.hits + 1})
        else:
            query = query.on_conflict(conflict_target=[RateCounter.bucket, RateCounter.window],
                                      update={RateCounter.hits: RateCounter.hits + 1})
        query.execute()
        hits = (RateCounter.select(RateCounter.hits)
                .where(RateCounter.bucket == bucket, RateCounter.window == window).scalar())
    return hits, int((window + 1) * window_s - now) + 1


def enforce(hits: int, limit: int, retry_after: int, what: str) -> None:
    """Raise RATE_LIMITED once ``hits`` passes ``limit``."""
    if hits > limit:
        raise RateLimited(retry_after, details={"limit": limit, "scope": what})


def purge_expired(now: float | None = None) -> int:
    """Drop the counters of windows that have ended; the count dropped."""
    now = time.time() if now is None else now
    with transaction():
        return RateCounter.delete().where(RateCounter.expires_at < now).execute()
