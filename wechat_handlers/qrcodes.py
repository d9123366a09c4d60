"""QrCodeProvider and OaProfiles over wechatpy: mini-program codes, parametric QR codes of
the official account, and its followers' user information."""
from __future__ import annotations

from wechatpy import WeChatClient

from alliance.errors import UpstreamError
from alliance.ports import OaQrCode, OaUserInfo
from wechat_handlers.api import WECHAT_ORIGIN, call_wechat

# The follower's unionid is fetched while WeChat waits five seconds for our reply.
USER_INFO_TIMEOUT_S = 2.0


class WechatQrCodes:
    """QR codes made by WeChat: the mini-program's client for codes, the OA's for tickets."""

    def __init__(self, miniapp: WeChatClient, oa: WeChatClient):
        self._miniapp = miniapp
        self._oa = oa

    def miniprogram_code(self, scene: str, page: str | None = None) -> bytes:
        response = call_wechat("getwxacodeunlimit",
                               lambda: self._miniapp.wxa.get_wxa_code_unlimited(scene, page=page))
        # Success is the image itself; failures are JSON, which wechatpy has raised already.
        content_type = response.headers.get("Content-Type", "")
        if not content_type.startswith("image/") or not response.content:
            raise UpstreamError(details={"api": "getwxacodeunlimit",
                                         "content_type": content_type[:64]})
        return response.content

    def oa_qrcode(self, scene: str, expire_seconds: int | None = None) -> OaQrCode:
        body: dict = {"action_name": "QR_LIMIT_STR_SCENE",
                      "action_info": {"scene": {"scene_str": scene}}}
        if expire_seconds is not None:
            body.update(action_name="QR_STR_SCENE", expire_seconds=expire_seconds)
        result = call_wechat("qrcode/create", lambda: self._oa.qrcode.create(body))
        if not result.get("ticket") or not result.get("url"):
            raise UpstreamError(details={"api": "qrcode/create", "reason": "no ticket"})
        return OaQrCode(ticket=result["ticket"], url=result["url"],
                        expire_seconds=result.get("expire_seconds"))


class WechatOaProfiles:
    """Followers' user information from the official account's ``cgi-bin/user/info``."""

    def __init__(self, oa: WeChatClient):
        self._oa = oa

    def user_info(self, openid: str) -> OaUserInfo:
        result = call_wechat("user/info", lambda: self._oa.get(
            WECHAT_ORIGIN + "cgi-bin/user/info", params={"openid": openid, "lang": "zh_CN"},
            timeout=USER_INFO_TIMEOUT_S))
        return OaUserInfo(openid=result.get("openid") or openid,
                          unionid=result.get("unionid") or None,
                          subscribed=bool(result.get("subscribe")))
