"""The WeChatAuth port over wechatpy: code-to-session and phone numbers."""
from __future__ import annotations

from wechatpy import WeChatClient

from alliance.errors import AllianceError, UpstreamError
from alliance.ports import PhoneNumber, WeChatSession
from wechat_handlers.api import WECHAT_ORIGIN, call_wechat


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


LOGIN_ERRORS = {40029: WechatCodeInvalid, 40163: WechatCodeUsed, 40226: WechatUserBlocked}


class WechatMiniAppAuth:
    """Mini-program identity through WeChat's API (or the sandbox speaking it)."""

    def __init__(self, client: WeChatClient, appid: str):
        self._client = client
        self._appid = appid

    def _call(self, what: str, fn):
        return call_wechat(what, fn, LOGIN_ERRORS)

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
