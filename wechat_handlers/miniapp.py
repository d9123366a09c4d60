"""The WeChatAuth port over wechatpy: code-to-session and phone numbers."""
from __future__ import annotations

import logging

import requests
from wechatpy import WeChatClient
from wechatpy.exceptions import WeChatClientException

from alliance.errors import AllianceError, RateLimited, UpstreamError, UpstreamUnavailable
from alliance.ports import PhoneNumber, WeChatSession
from wechat_handlers.api import WECHAT_ORIGIN

log = logging.getLogger("alliance.wechat")


class WechatCodeInvalid(AllianceError):
    code = "WECHAT_CODE_INVALID"
    http_status = 400
    message = "微信登录凭证无效或已过期，请重新登录"


class WechatCodeUsed(AllianceError):
    code = "WECHAT_CODE_USED"
    http_status = 400
    message = "微信登录凭证已被使用，请重新登录"


class WechatUserBlocked(AllianceError):
    code = "WECHAT_USER_BLOCKED"
    http_status = 403
    message = "该微信账号存在风险，暂时无法登录"


def _raise_for(exc: WeChatClientException, what: str):
    errcode = exc.errcode
    details = {"wechat_errcode": errcode, "api": what}
    if errcode == 40029:
        raise WechatCodeInvalid(details=details) from None
    if errcode == 40163:
        raise WechatCodeUsed(details=details) from None
    if errcode == 40226:
        raise WechatUserBlocked(details=details) from None
    if errcode in (45011, 45009):
        raise RateLimited(60, message="微信接口调用太频繁，请稍后再试", details=details) from None
    if errcode in (-1, None):
        raise UpstreamUnavailable(details=details) from None
    log.warning("wechat %s failed: errcode=%s errmsg=%s", what, errcode, exc.errmsg)
    raise UpstreamError(details=details) from None


class WechatMiniAppAuth:
    """Mini-program identity through WeChat's API (or the sandbox speaking it)."""

    def __init__(self, client: WeChatClient, appid: str):
        self._client = client
        self._appid = appid

    def _call(self, what: str, fn):
        for attempt in range(2):
            try:
                return fn()
            except WeChatClientException as exc:
                if exc.errcode == -1 and attempt == 0:
                    continue  # "system busy": WeChat asks for one retry
                _raise_for(exc, what)
            except requests.RequestException as exc:
                log.warning("wechat %s unreachable: %s", what, type(exc).__name__)
                raise UpstreamUnavailable(details={"api": what}) from None
        raise AssertionError("unreachable")

    def code_to_session(self, code: str) -> WeChatSession:
        result = self._call("jscode2session", lambda: self._client.wxa.code_to_session(code))
        if not result.get("openid"):
            raise UpstreamError(details={"api": "jscode2session", "reason": "no openid"})
        return WeChatSession(appid=self._appid, openid=result["openid"],
                             unionid=result.get("unionid") or None)

    def phone_number(self, code: str) -> PhoneNumber:
        result = self._call("getuserphonenumber", lambda: self._client.post(
            WECHAT_ORIGIN + "wxa/business/getuserphonenumber", data={"code": code}))
        info = result.get("phone_info") or {}
        phone = str(info.get("purePhoneNumber") or "")
        if not phone:
            raise UpstreamError(details={"api": "getuserphonenumber", "reason": "no phone"})
        return PhoneNumber(phone=phone, country_code=str(info.get("countryCode") or "86"))
