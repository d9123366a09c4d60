"""Aliyun SMS imitated at ``/_sandbox/sms/``: ``SendSms`` of dysmsapi 2017-05-25.

It checks what Aliyun checks, with Aliyun's codes and HTTP statuses: the common parameters
(``Missing*``), the access key (``InvalidAccessKeyId.NotFound``, 404), the timestamp (15
minutes, ``InvalidTimeStamp.Expired``), the signature (``SignatureDoesNotMatch``), a nonce
used twice (``SignatureNonceUsed``); then the message: numbers
(``isv.MOBILE_NUMBER_ILLEGAL``), signature name (``isv.SMS_SIGNATURE_ILLEGAL``), template
(``isv.SMS_TEMPLATE_ILLEGAL``) and its parameters (``isv.INVALID_JSON_PARAM``,
``isv.TEMPLATE_MISSING_PARAMETERS``). Accepted messages are readable at
``GET /_sandbox/sms/messages?phone=``; ``POST /_sandbox/sms/_control/faults
{"code": "isv.BUSINESS_LIMIT_CONTROL", "count": 1}`` makes the next sends fail with a code.
"""
from __future__ import annotations

import datetime as dt
import hmac
import json
import re
import secrets
import uuid

from peewee import IntegrityError

from alliance.clock import to_local_iso
from alliance.db import transaction, utcnow
from integrations.sms_aliyun import ACTION, API_VERSION, TIMESTAMP_FORMAT, sign
from sandbox.base import SandboxHandler
from sandbox.models import SandboxSmsFault, SandboxSmsMessage, SandboxSmsNonce

TIMESTAMP_TOLERANCE = dt.timedelta(minutes=15)
COMMON = ("AccessKeyId", "Action", "SignatureMethod", "SignatureNonce", "SignatureVersion",
          "Timestamp", "Version", "Signature")
_NUMBER = re.compile(r"^(?:\+?86|0086)?1\d{10}$")
_VARIABLE = re.compile(r"\$\{(\w+)\}")
MESSAGES = {
    "OK": "OK",
    "isv.BUSINESS_LIMIT_CONTROL": "触发号码天级流控Permits:10",
    "isv.DAY_LIMIT_CONTROL": "触发日发送限额",
    "isv.MOBILE_NUMBER_ILLEGAL": "非法手机号",
    "isv.MOBILE_COUNT_OVER_LIMIT": "手机号码数量超过限制",
    "isv.SMS_SIGNATURE_ILLEGAL": "该账号下找不到对应签名",
    "isv.SMS_TEMPLATE_ILLEGAL": "该账号下找不到对应模板",
    "isv.INVALID_JSON_PARAM": "JSON参数不合法，只接受字符串值",
    "isv.TEMPLATE_MISSING_PARAMETERS": "模板变量缺少对应参数值",
    "isv.AMOUNT_NOT_ENOUGH": "账户余额不足",
    "isp.SYSTEM_ERROR": "系统出现错误，请重新调用",
}


def _answer(status: int, code: str, message: str | None = None, **extra) -> tuple[int, dict]:
    body = {"RequestId": str(uuid.uuid4()).upper(), "Code": code,
            "Message": message or MESSAGES.get(code, code), **extra}
    return status, body


def take_fault() -> str | None:
    """The error code of a pending injected fault (consumed), or None."""
    with transaction():
        fault = (SandboxSmsFault.select().where(SandboxSmsFault.remaining > 0)
                 .order_by(SandboxSmsFault.id).first())
        if fault is None:
            return None
        taken = (SandboxSmsFault.update(remaining=SandboxSmsFault.remaining - 1)
                 .where(SandboxSmsFault.id == fault.id, SandboxSmsFault.remaining > 0)
                 .execute())
        return fault.code if taken else None


class SmsSandbox:
    """The behaviour behind the handlers, for one account (key, signature, template)."""

    def __init__(self, settings):
        self.keys = {settings.aliyun_sms_access_key_id: settings.aliyun_sms_access_key_secret}
        self.sign_names = {settings.aliyun_sms_sign_name}
        self.templates = {settings.aliyun_sms_template_code:
                          "您的验证码为：${code}，5分钟内有效，请勿泄露于他人！"}

    def _authenticate(self, method: str, params: dict[str, str]) -> tuple[int, dict] | None:
        for name in COMMON:
            if not params.get(name):
                return _answer(400, f"Missing{name}", f"{name} is mandatory for this action.")
        if params["Action"] != ACTION:
            return _answer(404, "InvalidApi.NotFound", "Specified api is not found.")
        if params["Version"] != API_VERSION:
            return _answer(400, "InvalidVersion", "Specified parameter Version is not valid.")
        if params["SignatureMethod"] != "HMAC-SHA1" or params["SignatureVersion"] != "1.0":
            return _answer(400, "InvalidSignatureMethod",
                           "Specified signature method is not valid.")
        secret = self.keys.get(params["AccessKeyId"])
        if secret is None:
            return _answer(404, "InvalidAccessKeyId.NotFound", "Specified access key is not found.")
        try:
            stamp = dt.datetime.strptime(params["Timestamp"], TIMESTAMP_FORMAT)
        except ValueError:
            return _answer(400, "InvalidTimeStamp.Format",
                           "Specified time stamp or date value is not well formatted.")
        if abs(stamp - utcnow()) > TIMESTAMP_TOLERANCE:
            return _answer(400, "InvalidTimeStamp.Expired",
                           "Specified time stamp or date value is expired.")
        if not hmac.compare_digest(sign(method, params, secret), params["Signature"]):
            return _answer(400, "SignatureDoesNotMatch",
                           "Specified signature is not matched with our calculation.")
        try:
            with transaction():
                SandboxSmsNonce.create(nonce=params["SignatureNonce"][:64])
        except IntegrityError:
            return _answer(400, "SignatureNonceUsed", "Specified signature nonce was used already.")
        return None

    def send_sms(self, method: str, params: dict[str, str]) -> tuple[int, dict]:
        """Aliyun's answer (HTTP status, JSON body) to a SendSms request."""
        refused = self._authenticate(method, params)
        if refused is not None:
            return refused
        for name in ("PhoneNumbers", "SignName", "TemplateCode"):
            if not params.get(name):
                return _answer(400, f"Missing{name}", f"{name} is mandatory for this action.")
        fault = take_fault()
        if fault is not None:
            return _answer(200, fault)
        phones = [p.strip() for p in params["PhoneNumbers"].split(",")]
        if len(phones) > 1000:
            return _answer(200, "isv.MOBILE_COUNT_OVER_LIMIT")
        if not all(_NUMBER.match(p) for p in phones):
            return _answer(200, "isv.MOBILE_NUMBER_ILLEGAL")
        if params["SignName"] not in self.sign_names:
            return _answer(200, "isv.SMS_SIGNATURE_ILLEGAL")
        template = self.templates.get(params["TemplateCode"])
        if template is None:
            return _answer(200, "isv.SMS_TEMPLATE_ILLEGAL")
        try:
            values = json.loads(params.get("TemplateParam") or "{}")
        except ValueError:
            return _answer(200, "isv.INVALID_JSON_PARAM")
        if not isinstance(values, dict) or not all(isinstance(v, str) for v in values.values()):
            return _answer(200, "isv.INVALID_JSON_PARAM")
        if any(name not in values for name in _VARIABLE.findall(template)):
            return _answer(200, "isv.TEMPLATE_MISSING_PARAMETERS")
        content = f"【{params['SignName']}】" + _VARIABLE.sub(lambda m: values[m.group(1)], template)
        biz_id = f"{secrets.randbelow(10 ** 18):018d}^0"
        with transaction():
            for phone in phones:
                SandboxSmsMessage.create(phone=phone[-11:], sign_name=params["SignName"],
                                         template_code=params["TemplateCode"],
                                         template_param=params.get("TemplateParam") or "{}",
                                         content=content, biz_id=biz_id)
        return _answer(200, "OK", BizId=biz_id)

    @staticmethod
    def messages(phone: str | None, limit: int = 50) -> list[dict]:
        query = SandboxSmsMessage.select().order_by(SandboxSmsMessage.id.desc()).limit(limit)
        if phone:
            query = query.where(SandboxSmsMessage.phone == phone)
        return [{"phone": m.phone, "content": m.content, "sign_name": m.sign_name,
                 "template_code": m.template_code,
                 "template_param": json.loads(m.template_param), "biz_id": m.biz_id,
                 "sent_at": to_local_iso(m.created_at)} for m in query]

    @staticmethod
    def add_fault(code: str, count: int) -> None:
        with transaction():
            SandboxSmsFault.create(code=code, remaining=count)


class _Handler(SandboxHandler):
    @property
    def sandbox(self) -> SmsSandbox:
        return self.ctx.extras["sms_sandbox"]


class SendSmsHandler(_Handler):
    async def _send(self):
        params = {name: self.get_argument(name, strip=False) for name in self.request.arguments}
        status, body = await self.run_sync(self.sandbox.send_sms, self.request.method, params)
        self.write_json(body, status)

    get = post = _send


class MessagesHandler(_Handler):
    async def get(self):
        items = await self.run_sync(self.sandbox.messages, self.query("phone"))
        self.write_json({"items": items})


class FaultControl(_Handler):
    async def post(self):
        body = self.json_body()
        code = str(body.get("code") or "").strip()
        try:
            count = max(1, int(body.get("count", 1)))
        except (TypeError, ValueError):
            count = 0
        if not code or not count:
            self.write_json({"Code": "MissingParameter", "Message": "code is required"}, 400)
            return
        await self.run_sync(self.sandbox.add_fault, code, count)
        self.write_json({"code": code, "count": count}, 201)


def routes(prefix: str = "/_sandbox/sms") -> list:
    return [
        (rf"{prefix}/?", SendSmsHandler),
        (rf"{prefix}/messages", MessagesHandler),
        (rf"{prefix}/_control/faults", FaultControl),
    ]
