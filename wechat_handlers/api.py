"""wechatpy clients pointed at WeChat or at the sandbox, sharing one access token.

wechatpy hard-codes ``https://api.weixin.qq.com`` in several places (LIBRARIES.md), so the
only redirect that covers every call is a requests adapter that rewrites that prefix to
``WECHAT_API_BASE``. The same adapter gives every call a timeout (wechatpy's token fetch has
none). The access token lives in shared storage so that all processes use one.
"""
from __future__ import annotations

import threading
import time
import logging
from typing import Callable, TypeVar

import requests
from wechatpy import WeChatClient
from wechatpy.exceptions import WeChatClientException
from wechatpy.session import SessionStorage

from alliance.errors import AllianceError, RateLimited, UpstreamError, UpstreamUnavailable
from alliance.infra import kv
from config.settings import Settings
from wechat_handlers.transport import KeptConnectionAdapter, KeptConnectionSession

log = logging.getLogger("alliance.wechat")
T = TypeVar("T")

WECHAT_ORIGIN = "https://api.weixin.qq.com/"
STABLE_TOKEN_URL = WECHAT_ORIGIN + "cgi-bin/stable_token"
# A stored token is dropped this long before WeChat's expiry, so nobody sends a dying one.
TOKEN_EXPIRY_SAFETY_S = 60
# How long a process keeps using the token it read from the storage before reading it again:
# within the safety margin above, so a kept token is never sent after WeChat's expiry.
TOKEN_MEMO_S = 30


class RedirectingAdapter(KeptConnectionAdapter):
    """Sends requests for ``prefix`` to ``base`` instead, with a default timeout."""

    def __init__(self, prefix: str, base: str, timeout: float):
        super().__init__(timeout)
        self._prefix, self._base = prefix, base

    def send(self, request, **kwargs):
        if request.url.startswith(self._prefix) and self._base != self._prefix:
            request.url = self._base + request.url[len(self._prefix):]
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


class SharedTokenClient(WeChatClient):
    """A WeChatClient whose access token lives only in the shared storage.

    wechatpy alone keeps a token's expiry in process memory and refetches on that clock,
    through ``cgi-bin/token``, whose every call replaces the token the other processes hold.
    Here the storage's TTL is the only expiry, and tokens come from ``cgi-bin/stable_token``
    in normal mode, which answers every caller with the same token while it is valid. The
    scheduler refreshes the stored token ahead of expiry (``refresh_if_expiring``), so server
    processes only read it; one of them fetches only when the storage is empty (no scheduler
    running), and then one thread per process. A process keeps the token it read for
    ``TOKEN_MEMO_S`` (every notification sent read the storage: a query per message); a
    token that WeChat calls invalid meanwhile is fetched again by wechatpy's retry, which
    replaces the kept one.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._fetch_lock = threading.Lock()
        self._kept: tuple[str, float] | None = None  # (token, monotonic time to read again)

    def _keep(self, token: str | None) -> str | None:
        self._kept = (token, time.monotonic() + TOKEN_MEMO_S) if token else None
        return token

    @property
    def access_token_expiry_key(self) -> str:
        return f"{self.appid}_access_token_expires_at"

    @property
    def access_token(self) -> str:
        kept = self._kept
        if kept is not None and time.monotonic() < kept[1]:
            return kept[0]
        token = self.session.get(self.access_token_key)
        if token:
            return self._keep(token)
        with self._fetch_lock:
            token = self.session.get(self.access_token_key)
            if not token:
                self.fetch_access_token()
                token = self.session.get(self.access_token_key)
            return self._keep(token)

    def fetch_access_token(self, force_refresh: bool = False) -> dict:
        """Get the app's stable access token and store it with its remaining lifetime."""
        response = self._http.post(STABLE_TOKEN_URL, json={
            "grant_type": "client_credential", "appid": self.appid, "secret": self.secret,
            "force_refresh": force_refresh})
        try:
            response.raise_for_status()
            result = response.json()
        except (requests.RequestException, ValueError) as exc:
            raise WeChatClientException(None, f"stable_token: {type(exc).__name__}",
                                        client=self, response=response) from None
        if result.get("errcode") or not result.get("access_token"):
            raise WeChatClientException(result.get("errcode"), result.get("errmsg"),
                                        client=self, response=response)
        ttl = max(1, int(result.get("expires_in", 7200)) - TOKEN_EXPIRY_SAFETY_S)
        self.session.set(self.access_token_key, result["access_token"], ttl)
        self.session.set(self.access_token_expiry_key, int(time.time()) + ttl, ttl)
        self._keep(result["access_token"])
        return result

    def token_ttl(self) -> int:
        """Seconds the stored token has left (0 when there is none)."""
        expiry = self.session.get(self.access_token_expiry_key)
        if not expiry or not self.session.get(self.access_token_key):
            return 0
        return max(0, int(expiry) - int(time.time()))

    def refresh_if_expiring(self, margin_s: int) -> bool:
        """Fetch the token again when the stored one has ``margin_s`` or less left."""
        if self.token_ttl() > margin_s:
            return False
        self.fetch_access_token()
        return True


def make_client(appid: str, secret: str, api_base: str, timeout: float,
                session: SessionStorage) -> SharedTokenClient:
    """A client whose every call goes to ``api_base`` with ``timeout``."""
    client = SharedTokenClient(appid, secret, session=session, timeout=timeout)
    http = KeptConnectionSession()
    http.mount(WECHAT_ORIGIN, RedirectingAdapter(WECHAT_ORIGIN, api_base, timeout))
    http.mount("http://", RedirectingAdapter("http://", "http://", timeout))
    client._http = http
    return client


def make_wechat_clients(settings: Settings) -> dict[str, SharedTokenClient]:
    """The mini-program's and the official account's clients, over one shared token storage
    (Redis when ``REDIS_URL`` is set, else the database): servers and scheduler alike."""
    storage = make_session_storage(settings.redis_url)
    return {
        "miniapp": make_client(settings.wechat_miniapp_appid, settings.wechat_miniapp_secret,
                               settings.wechat_api_base, settings.upstream_timeout_s, storage),
        "official_account": make_client(settings.wechat_oa_appid, settings.wechat_oa_secret,
                                        settings.wechat_api_base, settings.upstream_timeout_s,
                                        storage),
    }


class TokenRefreshFailed(RuntimeError):
    """Some apps' tokens could not be refreshed (the others were)."""


def refresh_tokens(clients: dict[str, SharedTokenClient], margin_s: int) -> int:
    """Refresh every client's stored token that has ``margin_s`` or less left; how many were.

    Every app is tried; a failure of one is raised only after the others were refreshed.
    """
    refreshed, failures = 0, []
    for name, client in clients.items():
        try:
            refreshed += client.refresh_if_expiring(margin_s)
        except (WeChatClientException, requests.RequestException) as exc:
            failures.append(f"{name} ({type(exc).__name__}: {exc})")
    if failures:
        raise TokenRefreshFailed(f"refreshed {refreshed}; failed: " + "; ".join(failures))
    return refreshed
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
