"""WeChat's QR code, user-info and message APIs, imitated.

``wxa/getwxacodeunlimit`` answers a real PNG QR code of the scene (40169 for a missing or
over-long scene, 40129 for characters WeChat refuses, 41030 for a ``page`` that cannot be
a released page: a leading "/" or a query string); ``cgi-bin/qrcode/create`` issues
tickets; ``cgi-bin/user/info`` knows the stand-in followers registered through
``_control/oa-users``; the subscribe and template message APIs keep what they accept in an
inbox (``_control/messages``), template messages de-duplicated by ``client_msg_id``. Every
call is counted (``_control/calls``); ``_control/faults`` injects errors here too (api names
``getwxacodeunlimit``, ``qrcode/create``, ``user/info``, ``subscribe/send``,
``template/send``; e.g. 43101 user refused, 40003 bad openid, 47003 bad data, -1 busy).
"""
from __future__ import annotations

import datetime as dt
import json
import re
import secrets

from peewee import IntegrityError

from alliance.db import joined_transaction, transaction, utcnow
from alliance.prepared import Arg, Prepared, PreparedInsert
from alliance.referrals.images import qr_png
from alliance.referrals.scenes import SCENE_RE
from sandbox.base import SandboxHandler

PAGE_RE = re.compile(r"^[A-Za-z0-9_\-]+(/[A-Za-z0-9_\-]+)*$")
from sandbox.models import SandboxApiCall, SandboxOaQrCode, SandboxOaUser, SandboxSentMessage
from sandbox.wechat import ERRMSG, WechatSandbox, error, stand_in_id, take_fault

ERRMSG.update({
    40003: "invalid openid", 40037: "invalid template_id", 40097: "invalid args",
    40129: "invalid scene", 40169: "invalid length for scene, or the data is not json string",
    43004: "require subscribe", 43101: "user refuse to accept the msg",
    45009: "reach max api daily quota limit", 47003: "argument invalid!",
})
QR_ACTIONS = ("QR_SCENE", "QR_STR_SCENE", "QR_LIMIT_SCENE", "QR_LIMIT_STR_SCENE")


_COUNTER = Prepared(lambda: SandboxApiCall.select(SandboxApiCall.api)
                    .where(SandboxApiCall.api == Arg(0)).limit(1).tuples())
_COUNT_CALL = Prepared(lambda: SandboxApiCall.update(count=SandboxApiCall.count + 1)
                       .where(SandboxApiCall.api == Arg(0)))
_NEW_MESSAGE = PreparedInsert(SandboxSentMessage)


def ensure_counter(api: str) -> None:
    """Create the call counter of ``api`` when it is missing, in a transaction of its own
    (call it outside transactions): created inside a call's transaction, two first calls
    deadlock on InnoDB's gap locks, and MariaDB rolls the whole transaction back."""
    if _COUNTER.first(api) is not None:
        return
    try:
        with transaction():
            SandboxApiCall.create(api=api, count=0)
    except IntegrityError:
        pass  # a concurrent first call created it


def count_call(api: str) -> None:
    """Count a call of ``api`` (in the caller's transaction, if any)."""
    ensure_counter(api)
    with joined_transaction():
        _COUNT_CALL.execute(api)


class WechatOaSandbox:
    """The behaviour behind the handlers, callable directly."""

    def __init__(self, core: WechatSandbox, oa_appid: str):
        self.core = core
        self.oa_appid = oa_appid

    def _enter(self, api: str, token: str | None) -> dict | None:
        """Count the call; the error to answer (bad token, injected fault), or None."""
        count_call(api)
        return self._refusal(api, token)

    def _refusal(self, api: str, token: str | None) -> dict | None:
        """The error to answer a call of ``api`` (bad token, injected fault), or None."""
        token_error = self.core.check_token(token)
        if token_error:
            return error(token_error)
        fault = take_fault(api)
        return error(fault) if fault is not None else None

    def wxacode(self, token: str | None, body: dict) -> bytes | dict:
        failure = self._enter("getwxacodeunlimit", token)
        if failure:
            return failure
        scene = body.get("scene")
        if not isinstance(scene, str) or not 1 <= len(scene) <= 32:
            return error(40169)
        if not SCENE_RE.match(scene):
            return error(40129)
        page = body.get("page")
        if page is not None and not (isinstance(page, str) and PAGE_RE.match(page)):
            return error(41030)  # a page of the released version: no "/" first, no query
        return qr_png(scene)

    def qrcode_create(self, token: str | None, body: dict) -> dict:
        failure = self._enter("qrcode/create", token)
        if failure:
            return failure
        action = body.get("action_name")
        scene = (body.get("action_info") or {}).get("scene") or {}
        value = scene.get("scene_str") if "STR" in str(action) else scene.get("scene_id")
        if action not in QR_ACTIONS or value in (None, "") or len(str(value)) > 64:
            return error(40097)
        permanent = action.startswith("QR_LIMIT")
        expire = None if permanent else min(int(body.get("expire_seconds") or 30), 2592000)
        ticket = "gQ" + secrets.token_urlsafe(48)
        url = f"http://weixin.qq.com/q/{secrets.token_urlsafe(18)}"
        with transaction():
            SandboxOaQrCode.create(ticket=ticket, scene=str(value), url=url,
                                   expires_at=None if permanent
                                   else utcnow() + dt.timedelta(seconds=expire))
        answer = {"ticket": ticket, "url": url}
        if expire is not None:
            answer["expire_seconds"] = expire
        return answer

    def user_info(self, token: str | None, openid: str | None) -> dict:
        failure = self._enter("user/info", token)
        if failure:
            return failure
        user = SandboxOaUser.get_or_none(SandboxOaUser.openid == (openid or ""))
        if user is None:
            return error(40003)
        if not user.subscribed:
            return {"subscribe": 0, "openid": user.openid, "unionid": user.unionid}
        return {"subscribe": 1, "openid": user.openid, "nickname": user.name, "sex": 0,
                "language": "zh_CN", "subscribe_time": int(utcnow().timestamp()),
                "unionid": user.unionid, "remark": "", "groupid": 0, "tagid_list": [],
                "subscribe_scene": "ADD_SCENE_QR_CODE", "qr_scene": 0, "qr_scene_str": ""}

    def send(self, kind: str, token: str | None, body: dict) -> dict:
        # One transaction for the count, the checks and the message: the stand-in answers
        # every payment's message, on the machine the server runs on.
        api = f"{kind}/send"
        ensure_counter(api)  # before the transaction, which counts the call
        try:
            with transaction():
                outcome = self._send(kind, api, token, body)
        except IntegrityError:
            # The same client_msg_id again, concurrently: WeChat sends one message and
            # answers as before.
            count_call(api)
            outcome = SandboxSentMessage.get(
                SandboxSentMessage.client_msg_id == body.get("client_msg_id"))
        if isinstance(outcome, dict):
            return outcome
        answer = {"errcode": 0, "errmsg": "ok"}
        if kind == "template":
            answer["msgid"] = 200000000 + outcome.id
        return answer

    def _send(self, kind: str, api: str, token: str | None,
              body: dict) -> dict | SandboxSentMessage:
        """The message accepted (or the one of the same client_msg_id), or the error; the
        call counted (its counter made by ``send`` before the transaction)."""
        _COUNT_CALL.execute(api)
        failure = self._refusal(api, token)
        if failure:
            return failure
        touser, template_id, data = body.get("touser"), body.get("template_id"), body.get("data")
        if not isinstance(touser, str) or not touser:
            return error(40003)
        if not isinstance(template_id, str) or not template_id:
            return error(40037)
        if not isinstance(data, dict) or not all(
                isinstance(v, dict) and isinstance(v.get("value"), str) for v in data.values()):
            return error(47003)
        if kind == "template":
            follower = SandboxOaUser.get_or_none(SandboxOaUser.openid == touser)
            if follower is None:
                return error(40003)
            if not follower.subscribed:
                return error(43004)
        client_msg_id = body.get("client_msg_id") if kind == "template" else None
        if client_msg_id:
            existing = SandboxSentMessage.get_or_none(
                SandboxSentMessage.client_msg_id == client_msg_id)
            if existing is not None:
                return existing
        return _NEW_MESSAGE.create(
            kind=kind, touser=touser, template_id=template_id, client_msg_id=client_msg_id,
            body=json.dumps(body, ensure_ascii=False))

    def register_oa_user(self, name: str, subscribed: bool = True) -> dict:
        openid = stand_in_id(self.oa_appid, name)
        unionid = stand_in_id("union", name)
        with transaction():
            (SandboxOaUser.insert(openid=openid, name=name, unionid=unionid, subscribed=subscribed)
             .on_conflict_replace().execute())
        return {"openid": openid, "unionid": unionid, "subscribed": subscribed}

    @staticmethod
    def calls() -> dict:
        return {row.api: row.count for row in SandboxApiCall.select()}

    @staticmethod
    def messages(touser: str | None) -> list[dict]:
        query = SandboxSentMessage.select().order_by(SandboxSentMessage.id)
        if touser:
            query = query.where(SandboxSentMessage.touser == touser)
        return [{"id": m.id, "kind": m.kind, "touser": m.touser, "template_id": m.template_id,
                 "client_msg_id": m.client_msg_id, "body": json.loads(m.body)} for m in query]


class _Handler(SandboxHandler):
    @property
    def sandbox(self) -> WechatOaSandbox:
        return self.ctx.extras["wechat_oa_sandbox"]


class WxaCodeHandler(_Handler):
    async def post(self):
        result = await self.run_sync(self.sandbox.wxacode, self.query("access_token"),
                                     self.json_body())
        if isinstance(result, dict):
            self.write_json(result)
            return
        self.set_header("Content-Type", "image/png")
        self.finish(result)


class QrcodeCreateHandler(_Handler):
    async def post(self):
        self.write_json(await self.run_sync(self.sandbox.qrcode_create,
                                            self.query("access_token"), self.json_body()))


class UserInfoHandler(_Handler):
    async def get(self):
        self.write_json(await self.run_sync(self.sandbox.user_info, self.query("access_token"),
                                            self.query("openid")))


class SendHandler(_Handler):
    async def post(self, kind: str):
        # Every payment's message arrives here: a short local write, on the loop on SQLite.
        self.write_json(await self.run_write(self.sandbox.send, kind, self.query("access_token"),
                                             self.json_body()))


class OaUserControl(_Handler):
    async def post(self):
        body = self.json_body()
        name = str(body.get("name") or "").strip()[:48] or "guest"
        self.write_json(await self.run_sync(self.sandbox.register_oa_user, name,
                                            bool(body.get("subscribed", True))), 201)


class CallsControl(_Handler):
    async def get(self):
        self.write_json(await self.run_sync(self.sandbox.calls))


class MessagesControl(_Handler):
    async def get(self):
        self.write_json({"items": await self.run_sync(self.sandbox.messages,
                                                      self.query("touser"))})


def routes(prefix: str = "/_sandbox/wechat") -> list:
    return [
        (rf"{prefix}/wxa/getwxacodeunlimit", WxaCodeHandler),
        (rf"{prefix}/cgi-bin/qrcode/create", QrcodeCreateHandler),
        (rf"{prefix}/cgi-bin/user/info", UserInfoHandler),
        (rf"{prefix}/cgi-bin/message/(subscribe|template)/send", SendHandler),
        (rf"{prefix}/_control/oa-users", OaUserControl),
        (rf"{prefix}/_control/calls", CallsControl),
        (rf"{prefix}/_control/messages", MessagesControl),
    ]
