"""Prometheus metrics of the server (multi-process aware when PROMETHEUS_MULTIPROC_DIR is set)."""
from __future__ import annotations

import functools
import os

from prometheus_client import (CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram,
                               generate_latest)

REQUESTS = Counter("alliance_http_requests_total", "HTTP requests served",
                   ["method", "handler", "status"])
LATENCY = Histogram("alliance_http_request_duration_seconds", "HTTP request latency",
                    ["handler"], buckets=(.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10))


# Each request's series, looked up once: ``labels()`` checks and locks on every call, and
# it runs on the event loop for every request. Series are never removed.
_counter = functools.cache(REQUESTS.labels)
_timer = functools.cache(LATENCY.labels)


def observe(method: str, handler: str, status: int, seconds: float) -> None:
    _counter(method, handler, str(status)).inc()
    _timer(handler).observe(seconds)


def render() -> tuple[bytes, str]:
    """The exposition text of every process's metrics."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    from prometheus_client import REGISTRY

    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
