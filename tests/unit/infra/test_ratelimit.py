import os

import pytest

from alliance.errors import RateLimited
from server.ratelimit import DatabaseRateLimiter, RedisRateLimiter


def _exhaust(limiter, bucket):
    for _ in range(3):
        limiter.hit(bucket, 3, 60)
    with pytest.raises(RateLimited) as caught:
        limiter.hit(bucket, 3, 60)
    assert 1 <= caught.value.retry_after <= 61


def test_database_limiter_refuses_beyond_the_limit(database):
    _exhaust(DatabaseRateLimiter(), "login:1.2.3.4")
    DatabaseRateLimiter().hit("login:5.6.7.8", 3, 60)  # other keys are untouched


@pytest.mark.skipif(not os.environ.get("TEST_REDIS_URL"), reason="TEST_REDIS_URL not set")
def test_redis_limiter_refuses_beyond_the_limit():
    import uuid

    _exhaust(RedisRateLimiter(os.environ["TEST_REDIS_URL"]), f"login:{uuid.uuid4().hex}")
