"""Notifications as the payment providers send them: POSTed to the notify URL from the event
loop (never blocking it, so that this same server can answer), repeated or delayed on
request, retried on a shortened schedule until the provider's success reply arrives."""
from __future__ import annotations

import asyncio
import logging
from dataclasses import asdict, dataclass
from typing import Awaitable, Callable

from tornado.httpclient import AsyncHTTPClient
from tornado.ioloop import IOLoop

log = logging.getLogger("alliance.sandbox.delivery")

# WeChat Pay retries after 15s/15s/30s/3m/..., Alipay after 4m/10m/10m/1h/...: shortened.
RETRY_DELAYS_S = (0.5, 1.0, 2.0, 4.0)

Accepted = Callable[[int, bytes], bool]


@dataclass(frozen=True)
class Notification:
    url: str
    body: bytes
    headers: dict[str, str]
    accepted: Accepted  # (status, reply body) -> did the merchant take it?


@dataclass(frozen=True)
class Delivery:
    attempts: int
    status: int | None
    accepted: bool


async def deliver(notification: Notification, delay_s: float = 0.0,
                  retry_delays: tuple[float, ...] = RETRY_DELAYS_S) -> Delivery:
    """POST until accepted or out of retries; the last attempt's outcome."""
    if delay_s:
        await asyncio.sleep(delay_s)
    client = AsyncHTTPClient()
    status: int | None = None
    attempts = 0
    for pause in (0.0, *retry_delays):
        if pause:
            await asyncio.sleep(pause)
        attempts += 1
        try:
            response = await client.fetch(notification.url, method="POST",
                                          body=notification.body, headers=notification.headers,
                                          raise_error=False, request_timeout=10)
        except Exception as exc:  # unreachable merchant: the provider just tries again
            log.info("notification to %s failed: %s", notification.url, type(exc).__name__)
            status = None
            continue
        status = response.code
        if notification.accepted(status, response.body or b""):
            return Delivery(attempts, status, True)
    log.warning("notification to %s given up after %d attempts", notification.url, attempts)
    return Delivery(attempts, status, False)


async def send(notifications: list[Notification], *, delay_s: float = 0.0,
               wait: bool = False) -> list[dict] | None:
    """Deliver each notification (copies concurrently). With ``wait``, the outcomes;
    otherwise the deliveries continue in the background and None is returned."""
    work: Awaitable = asyncio.gather(*(deliver(n, delay_s) for n in notifications))
    if not wait:
        IOLoop.current().add_future(asyncio.ensure_future(work), _log_failure)
        return None
    return [asdict(d) for d in await work]


def _log_failure(future) -> None:
    if future.exception() is not None:
        log.error("background delivery failed", exc_info=future.exception())
