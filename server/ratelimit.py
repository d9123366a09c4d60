"""Rate limiting for the handlers: Redis counters when REDIS_URL is set, else the database."""
from __future__ import annotations

import time

from alliance.infra import ratelimit


class DatabaseRateLimiter:
    """Fixed windows counted in the database (shared by every process on it)."""

    def hit(self, bucket: str, limit: int, window_s: int) -> None:
        hits, retry_after = ratelimit.db_hit(bucket, window_s)
        ratelimit.enforce(hits, limit, retry_after, bucket.split(":", 1)[0])


class RedisRateLimiter:
    """Fixed windows counted in Redis (INCR, expiring with the window)."""

    def __init__(self, url: str):
        import redis

        self._redis = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)

    def hit(self, bucket: str, limit: int, window_s: int) -> None:
        now = time.time()
        window = int(now // window_s)
        name = f"alliance:rl:{bucket}:{window}"
        pipe = self._redis.pipeline()
        pipe.incr(name)
        pipe.expire(name, window_s + 1)
        hits, _ = pipe.execute()
        ratelimit.enforce(int(hits), limit, int((window + 1) * window_s - now) + 1,
                          bucket.split(":", 1)[0])


def make_rate_limiter(redis_url: str | None):
    return RedisRateLimiter(redis_url) if redis_url else DatabaseRateLimiter()
