"""wechatpy clients pointed at WeChat or at the sandbox, sharing one access token.

wechatpy hard-codes ``https://api.weixin.qq.com`` in several places (LIBRARIES.md), so the
only redirect that covers every call is a requests adapter that rewrites that prefix to
``WECHAT_API_BASE``. The same adapter gives every call a timeout (wechatpy's token fetch has
none). The access token lives in shared storage so that all processes use one.
"""
from __future__ import annotations

import requests
from requests.adapters import HTTPAdapter
from wechatpy import WeChatClient
from wechatpy.session import SessionStorage

from alliance.infra import kv

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
