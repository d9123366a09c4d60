"""``/wechat/oa``: the official account's callback URL.

GET answers WeChat's ``echostr`` check. POST takes messages and events, in plaintext mode
(``signature`` over token, timestamp and nonce) or safe mode (``encrypt_type=aes``:
``msg_signature`` over the ciphertext too, AES-CBC with the EncodingAESKey; the reply is
encrypted back; with an EncodingAESKey set, a plaintext message is refused). A bad
signature, or a timestamp more than five minutes off, is 403; a message whose fields are not
what WeChat sends (nested or repeated tags, a time that is not a number) is 400.
The reply is a passive text reply, or ``success`` to acknowledge; it leaves within WeChat's
five seconds even when the work takes longer (the work still completes, and WeChat's retry
then gets the stored reply).
"""
from __future__ import annotations

import asyncio
import struct
import time
from xml.parsers.expat import ExpatError

from wechatpy import parse_message
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidAppIdException, InvalidSignatureException
from wechatpy.replies import TextReply
from wechatpy.utils import check_signature

from alliance.checks import ascii_digits
from alliance.errors import AllianceError, ValidationFailed
from alliance.officialaccount.services import Inbound, OaConfig, handle_inbound
from config.settings import Settings
from server.base import BaseHandler

MAX_SKEW_S = 300
REPLY_BUDGET_S = 4.0
MAX_BODY_BYTES = 64 * 1024


class OaSignatureInvalid(AllianceError):
    code = "OA_SIGNATURE_INVALID"
    http_status = 403
    message = "签名校验失败"


def crypto_for(settings: Settings) -> WeChatCrypto | None:
    """The safe-mode codec of the official account (None without an EncodingAESKey)."""
    if not settings.wechat_oa_aes_key:
        return None
    return WeChatCrypto(settings.wechat_oa_token, settings.wechat_oa_aes_key,
                        settings.wechat_oa_appid)


def decrypt(crypto: WeChatCrypto, body: str, msg_signature: str, timestamp: str,
            nonce: str) -> str:
    """The plaintext XML of a safe-mode callback; OA_SIGNATURE_INVALID when it is not ours."""
    try:
        return crypto.decrypt_message(body, msg_signature, timestamp, nonce)
    except (InvalidSignatureException, InvalidAppIdException):
        raise OaSignatureInvalid() from None
    except _MALFORMED:  # a ciphertext too short for its length prefix included
        raise ValidationFailed("消息格式不正确", details={"field": "body"}) from None


# What wechatpy and xmltodict raise for XML that is not a message as WeChat writes one: a
# number that is not one, a tag nested or repeated where text belongs (a dict or a list).
_MALFORMED = (ExpatError, KeyError, TypeError, ValueError, AttributeError, IndexError,
              struct.error)


def to_inbound(message) -> Inbound:
    """The domain's view of a message parsed by wechatpy; ValueError when a field it reads
    is not what WeChat sends (text, a number)."""
    event = getattr(message, "event", None) if message.type == "event" else None
    key = None
    if event in ("subscribe_scan", "scan"):
        key = message.scene_id
        event = "subscribe" if event == "subscribe_scan" else event
    elif event == "click":
        key = message.key
    content = getattr(message, "content", None) if message.type == "text" else None
    for value in (message.source, key, content):
        if value is not None and not isinstance(value, str):
            raise ValueError(f"text expected, not {type(value).__name__}")
    return Inbound(openid=message.source or "", create_time=message.time or 0,
                   msg_type=message.type, event=event, event_key=key or None,
                   msg_id=message.id or None, content=content)


class OfficialAccountHandler(BaseHandler):
    max_body_bytes = MAX_BODY_BYTES

    def _check_plain_signature(self) -> None:
        try:
            check_signature(self.ctx.settings.wechat_oa_token, self.query("signature", ""),
                            self.query("timestamp", ""), self.query("nonce", ""))
        except InvalidSignatureException:
            raise OaSignatureInvalid() from None

    def _check_fresh(self) -> None:
        timestamp = self.query("timestamp", "")
        if not ascii_digits(timestamp, 12) or abs(time.time() - int(timestamp)) > MAX_SKEW_S:
            raise OaSignatureInvalid("请求已过期", details={"max_skew_s": MAX_SKEW_S})

    def _text(self, body: str, content_type: str = "text/plain; charset=utf-8") -> None:
        self.set_header("Content-Type", content_type)
        self.finish(body)

    async def get(self):
        self._check_plain_signature()
        self._text(self.query("echostr", "") or "")

    async def post(self):
        settings = self.ctx.settings
        timestamp, nonce = self.query("timestamp", ""), self.query("nonce", "")
        crypto = crypto_for(settings)
        safe_mode = self.query("encrypt_type") == "aes"
        body = self.request.body.decode("utf-8", "replace")
        if safe_mode:
            if crypto is None:
                raise OaSignatureInvalid(details={"reason": "safe mode is not configured"})
            xml = decrypt(crypto, body, self.query("msg_signature", ""), timestamp, nonce)
        elif crypto is not None:
            # In safe mode WeChat encrypts every message: the plain signature, which does not
            # cover the body, must not let a replayed query bring a body of its own.
            raise OaSignatureInvalid(details={"reason": "safe mode expects encrypted messages"})
        else:
            self._check_plain_signature()
            xml = body
        self._check_fresh()
        try:
            message = parse_message(xml)
            inbound = to_inbound(message) if message is not None else None
        except _MALFORMED:
            raise ValidationFailed("消息格式不正确", details={"field": "body"}) from None
        if message is None:
            raise ValidationFailed("消息为空", details={"field": "body"})
        config = OaConfig(appid=settings.wechat_oa_appid,
                          referral_window_days=settings.referral_window_days)
        try:
            reply = await asyncio.wait_for(
                self.run_sync(handle_inbound, inbound, self.ctx.oa_profiles, config),
                REPLY_BUDGET_S)
        except asyncio.TimeoutError:
            reply = None
        if not reply:
            self._text("success")
            return
        rendered = TextReply(message=message, content=reply).render()
        if safe_mode:
            rendered = crypto.encrypt_message(rendered, nonce, str(int(time.time())))
        self._text(rendered, "application/xml; charset=utf-8")


def routes() -> list:
    return [(r"/wechat/oa", OfficialAccountHandler)]


def _openapi() -> dict:
    query = [{"name": name, "in": "query", "required": False, "schema": {"type": "string"}}
             for name in ("signature", "timestamp", "nonce", "echostr", "openid",
                          "encrypt_type", "msg_signature")]
    error = {"schema": {"$ref": "#/components/schemas/Error"}}
    text = {"schema": {"type": "string"}}
    forbidden = {"description": "bad signature or stale timestamp (OA_SIGNATURE_INVALID)",
                 "content": {"application/json": error}}
    return {"/wechat/oa": {
        "get": {"summary": "WeChat's callback URL check: answers echostr verbatim",
                "tags": ["wechat"], "parameters": query,
                "responses": {"200": {"description": "the echostr",
                                      "content": {"text/plain": text}},
                              "403": forbidden}},
        "post": {"summary": "Messages and events of the official account",
                 "description": "Plaintext or safe mode (encrypt_type=aes). Handles subscribe "
                                "(qrscene_ scenes attribute the follower), SCAN, unsubscribe, "
                                "CLICK and text keywords (operators' auto-replies). Each "
                                "message takes effect once; WeChat's retries get the same "
                                "reply.",
                 "tags": ["wechat"], "parameters": query,
                 "requestBody": {"required": True, "content": {"application/xml": text}},
                 "responses": {"200": {"description": "a passive reply (XML, encrypted in safe "
                                                      "mode) or `success`",
                                       "content": {"application/xml": text,
                                                   "text/plain": text}},
                               "400": {"$ref": "#/components/responses/Error"},
                               "403": forbidden}},
    }}


OPENAPI = _openapi()
