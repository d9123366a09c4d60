"""wechatpy clients pointed at WeChat or at the sandbox, sharing one access token.

wechatpy hard-codes ``https://api.weixin.qq.com`` in several places (LIBRARIES.md), so the
only redirect that covers every call is a requests adapter that rewrites that prefix to
``WECHAT_API_BASE``. The same adapter gives every call a timeout (wechatpy's token fetch has
none). The access token lives in shared storage so that all processes use one.
"""
from __future__ import annotations

import logging
from typing import Callable, TypeVar

import requests
from requests.adapters import HTTPAdapter
from wechatpy import WeChatClient
from wechatpy.exceptions import WeChatClientException
from wechatpy.session import SessionStorage

from alliance.errors import AllianceError, RateLimited, UpstreamError, UpstreamUnavailable
from alliance.infra import kv

log = logging.getLogger("alliance.wechat")
T = TypeVar("T")

WECHAT_ORIGIN = "https://api.weixin.qq.com/"


class RedirectingAdapter(HTTPAdapter):
    """Sends requests for ``prefix`` to ``base`` instead, with a default timeout."""

    def __init__(self, prefix: str, base: str, timeout: float):
        super().__init__(pool_connections=4, pool_maxsize=32, max_retries=0)
        self._prefix, self._base, self._timeout = prefix, base, timeout

    def send(self, request, **kwargs):
        if request.url.startswith(self._prefix) and self._base != self._prefix:
            request.url = self._base + request.url[len(self._prefix):]
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self._timeout
        return super().send(request, **kwargs)


class DatabaseSessionStorage(SessionStorage):
    """wechatpy's token storage in the shared key-value table, honouring the TTL."""

    def get(self, key, default=None):
        value = kv.get(f"wechatpy:{key}")
        return default if value is None else value

    def set(self, key, value, ttl=None):
        kv.put(f"wechatpy:{key}", str(value), int(ttl) if ttl else None)

    def delete(self, key):
        kv.delete(f"wechatpy:{key}")


def make_session_storage(redis_url: str | None) -> SessionStorage:
    if redis_url:
        import redis
        from wechatpy.session.redisstorage import RedisStorage

        return RedisStorage(redis.Redis.from_url(redis_url, socket_timeout=2),
                            prefix="alliance:wechatpy")
    return DatabaseSessionStorage()


def make_client(appid: str, secret: str, api_base: str, timeout: float,
                session: SessionStorage) -> WeChatClient:
    """A WeChatClient whose every call goes to ``api_base`` with ``timeout``."""
    client = WeChatClient(appid, secret, session=session, timeout=timeout)
    http = requests.Session()
    http.mount(WECHAT_ORIGIN, RedirectingAdapter(WECHAT_ORIGIN, api_base, timeout))
    http.mount("http://", RedirectingAdapter("http://", "http://", timeout))
    client._http = http
    return client


def call_wechat(what: str, fn: Callable[[], T],
                errors: dict[int, type[AllianceError]] | None = None) -> T:
    """Run a wechatpy call; retry once on "system busy" (-1); errcodes become AllianceErrors.

    ``errors`` maps the API's own errcodes to errors; quota codes (45009, 45011) are
    RATE_LIMITED, -1 and no answer UPSTREAM_UNAVAILABLE, anything else UPSTREAM_ERROR.
    """
    for attempt in range(2):
        try:
            return fn()
        except WeChatClientException as exc:
            if exc.errcode == -1 and attempt == 0:
                continue  # WeChat asks for one retry
            errcode = exc.errcode
            details = {"wechat_errcode": errcode, "api": what}
            if errors and errcode in errors:
                raise errors[errcode](details=details) from None
            if errcode in (45011, 45009):
                raise RateLimited(60, message="微信接口调用太频繁，请稍后再试",
                                  details=details) from None
            if errcode in (-1, None):
                raise UpstreamUnavailable(details=details) from None
            log.warning("wechat %s failed: errcode=%s errmsg=%s", what, errcode, exc.errmsg)
            raise UpstreamError(details=details) from None
        except requests.RequestException as exc:
            log.warning("wechat %s unreachable: %s", what, type(exc).__name__)
            raise UpstreamUnavailable(details={"api": what}) from None
    raise AssertionError("unreachable")
