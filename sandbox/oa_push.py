"""WeChat pushing to the official account's callback URL, imitated.

``sign_callback`` makes a callback exactly as WeChat sends it (plaintext signature, or safe
mode: encrypted body and ``msg_signature``); ``read_reply`` opens the answer. The control
``POST /_sandbox/wechat/_control/oa-push`` sends one to this server's ``/wechat/oa``:

    {"name": "alice", "event": "subscribe", "scene": "r.ABCD2345"}   follow by scanning
    {"name": "alice", "event": "SCAN", "scene": "r.ABCD2345"}        scan while following
    {"name": "alice", "event": "CLICK", "key": "MENU_HELP"}          menu click
    {"name": "alice", "event": "unsubscribe"}
    {"name": "alice", "text": "优惠"}                                 a text message
"""
from __future__ import annotations

import hashlib
import secrets
import time
from urllib.parse import urlencode

import xmltodict
from tornado.httpclient import AsyncHTTPClient
from wechatpy.crypto import WeChatCrypto

from config.settings import Settings
from sandbox.base import SandboxHandler

EVENTS = {"subscribe": "subscribe", "unsubscribe": "unsubscribe", "scan": "SCAN",
          "click": "CLICK"}
OA_ACCOUNT = "gh_sandbox0a11"


def _cdata(value: str) -> str:
    return "<![CDATA[" + value.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def message_xml(openid: str, create_time: int, *, event: str | None = None,
                event_key: str | None = None, text: str | None = None,
                msg_id: int | None = None) -> str:
    """The XML of an inbound message or event, as WeChat writes it."""
    parts = [f"<ToUserName>{_cdata(OA_ACCOUNT)}</ToUserName>",
             f"<FromUserName>{_cdata(openid)}</FromUserName>",
             f"<CreateTime>{create_time}</CreateTime>"]
    if event is not None:
        parts += ["<MsgType><![CDATA[event]]></MsgType>", f"<Event>{_cdata(event)}</Event>"]
        if event_key is not None:
            parts.append(f"<EventKey>{_cdata(event_key)}</EventKey>")
    else:
        parts += ["<MsgType><![CDATA[text]]></MsgType>", f"<Content>{_cdata(text or '')}</Content>",
                  f"<MsgId>{msg_id or secrets.randbits(62)}</MsgId>"]
    return "<xml>" + "".join(parts) + "</xml>"


def sign_callback(settings: Settings, xml: str, timestamp: int | None = None,
                  nonce: str | None = None, openid: str = "") -> tuple[dict, str]:
    """The query parameters and body WeChat sends for ``xml`` (safe mode with an AES key)."""
    timestamp_s = str(timestamp if timestamp is not None else int(time.time()))
    nonce = nonce or str(secrets.randbelow(10 ** 10))
    token = settings.wechat_oa_token
    signature = hashlib.sha1("".join(sorted([token, timestamp_s, nonce])).encode()).hexdigest()
    params = {"signature": signature, "timestamp": timestamp_s, "nonce": nonce, "openid": openid}
    if not settings.wechat_oa_aes_key:
        return params, xml
    crypto = WeChatCrypto(token, settings.wechat_oa_aes_key, settings.wechat_oa_appid)
    envelope = xmltodict.parse(crypto.encrypt_message(xml, nonce, timestamp_s))["xml"]
    params.update(encrypt_type="aes", msg_signature=envelope["MsgSignature"])
    body = (f"<xml><ToUserName>{_cdata(OA_ACCOUNT)}</ToUserName>"
            f"<Encrypt>{_cdata(envelope['Encrypt'])}</Encrypt></xml>")
    return params, body


def read_reply(settings: Settings, body: str) -> dict:
    """The reply's fields (decrypted in safe mode); {} for ``success`` or an empty body."""
    if not body.strip() or body.strip() == "success":
        return {}
    fields = xmltodict.parse(body)["xml"]
    if "Encrypt" in fields:
        crypto = WeChatCrypto(settings.wechat_oa_token, settings.wechat_oa_aes_key,
                              settings.wechat_oa_appid)
        plain = crypto.decrypt_message(body, fields["MsgSignature"], fields["TimeStamp"],
                                       fields["Nonce"])
        fields = xmltodict.parse(plain)["xml"]
    return dict(fields)


class OaPushControl(SandboxHandler):
    async def post(self):
        body = self.json_body()
        name = str(body.get("name") or "").strip()[:48] or "guest"
        event = EVENTS.get(str(body.get("event") or "").lower())
        if event is None and not isinstance(body.get("text"), str):
            self.write_json({"errcode": 40097, "errmsg": "event or text is required"}, 400)
            return
        oa = self.ctx.extras["wechat_oa_sandbox"]
        follower = await self.run_sync(oa.register_oa_user, name, event != "unsubscribe")
        key = None
        if event == "subscribe" and body.get("scene"):
            key = f"qrscene_{body['scene']}"
        elif event == "SCAN":
            key = str(body.get("scene") or "")
        elif event == "CLICK":
            key = str(body.get("key") or "")
        settings = self.ctx.settings
        xml = message_xml(follower["openid"], int(time.time()), event=event, event_key=key,
                          text=body.get("text"))
        params, payload = sign_callback(settings, xml, openid=follower["openid"])
        response = await AsyncHTTPClient().fetch(
            f"{settings.local_origin}/wechat/oa?{urlencode(params)}", method="POST",
            body=payload, headers={"Content-Type": "text/xml"}, raise_error=False,
            request_timeout=5)
        text = (response.body or b"").decode("utf-8", "replace")
        reply = read_reply(settings, text) if response.code == 200 else {}
        self.write_json({"status": response.code, "openid": follower["openid"],
                         "reply": reply.get("Content"), "raw": text[:2000]})


def routes(prefix: str = "/_sandbox/wechat") -> list:
    return [(rf"{prefix}/_control/oa-push", OaPushControl)]
