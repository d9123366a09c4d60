"""The SmsSender port over Aliyun SMS (dysmsapi ``SendSms``, API version 2017-05-25).

Aliyun's RPC style: every parameter (the common ones and the action's) is sorted, each name
and value percent-encoded per RFC 3986, joined into the canonical query; the string to sign
is ``METHOD&%2F&`` + the encoded canonical query, signed with HMAC-SHA1 under
``AccessKeySecret + "&"``, base64. A fresh ``SignatureNonce`` and a UTC ``Timestamp`` make
each request unique. The answer is JSON with ``Code`` ``OK`` on success; refusals carry an
``isv.*``/``isp.*`` code (HTTP 200) and authentication failures an HTTP 4xx.
"""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import logging
import uuid
from urllib.parse import quote

import requests

from alliance.accounts.contacts import PhoneInvalid
from alliance.errors import RateLimited, UpstreamError, UpstreamUnavailable

log = logging.getLogger("alliance.sms")

API_VERSION = "2017-05-25"
ACTION = "SendSms"
REGION = "cn-hangzhou"
TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%SZ"

# Aliyun's flow control for one number (1 a minute, 5 an hour, 10 a day for codes).
_FLOW_CONTROL = {"isv.BUSINESS_LIMIT_CONTROL": 60, "isv.DAY_LIMIT_CONTROL": 3600}
_NUMBER_REFUSED = {"isv.MOBILE_NUMBER_ILLEGAL", "isv.MOBILE_COUNT_OVER_LIMIT"}
_BUSY = {"isp.SYSTEM_ERROR", "ServiceUnavailable", "InternalError"}


class SmsSendFailed(UpstreamError):
    code = "SMS_SEND_FAILED"
    message = "短信发送失败，请稍后再试"


def percent_encode(value: str) -> str:
    """RFC 3986: only A-Z a-z 0-9 - _ . ~ stay; a space is %20, never +."""
    return quote(value, safe="~")


def string_to_sign(method: str, params: dict[str, str]) -> str:
    canonical = "&".join(f"{percent_encode(k)}={percent_encode(v)}"
                         for k, v in sorted(params.items()) if k != "Signature")
    return f"{method}&{percent_encode('/')}&{percent_encode(canonical)}"


def sign(method: str, params: dict[str, str], access_key_secret: str) -> str:
    """The ``Signature`` of a request with ``params`` (a ``Signature`` among them is ignored)."""
    digest = hmac.new(f"{access_key_secret}&".encode(), string_to_sign(method, params).encode(),
                      hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


class AliyunSms:
    """Sends verification codes with one approved signature and template (``${code}``)."""

    def __init__(self, access_key_id: str, access_key_secret: str, sign_name: str,
                 template_code: str, endpoint: str, timeout: float,
                 session: requests.Session | None = None):
        self._key_id, self._secret = access_key_id, access_key_secret
        self._sign_name, self._template = sign_name, template_code
        self._endpoint, self._timeout = endpoint, timeout
        self._http = session or requests.Session()

    def signed_params(self, phone: str, template_param: dict) -> dict[str, str]:
        params = {
            "AccessKeyId": self._key_id, "Action": ACTION, "Format": "JSON",
            "RegionId": REGION, "SignatureMethod": "HMAC-SHA1",
            "SignatureNonce": uuid.uuid4().hex, "SignatureVersion": "1.0",
            "Timestamp": dt.datetime.now(dt.timezone.utc).strftime(TIMESTAMP_FORMAT),
            "Version": API_VERSION, "PhoneNumbers": phone, "SignName": self._sign_name,
            "TemplateCode": self._template,
            "TemplateParam": json.dumps(template_param, ensure_ascii=False,
                                        separators=(",", ":")),
        }
        params["Signature"] = sign("POST", params, self._secret)
        return params

    def send_code(self, phone: str, code: str) -> str:
        params = self.signed_params(phone, {"code": code})
        try:
            response = self._http.post(self._endpoint, data=params, timeout=self._timeout)
        except requests.RequestException as exc:
            log.warning("aliyun SendSms unreachable: %s", type(exc).__name__)
            raise UpstreamUnavailable("短信服务繁忙，请稍后再试", details={"api": ACTION}) from None
        try:
            body = response.json()
        except ValueError:
            body = {}
        provider_code = str(body.get("Code") or f"HTTP_{response.status_code}")
        if provider_code == "OK":
            return str(body.get("BizId") or "")
        details = {"api": ACTION, "provider_code": provider_code}
        if provider_code in _FLOW_CONTROL:
            raise RateLimited(_FLOW_CONTROL[provider_code], message="短信发送太频繁，请稍后再试",
                              details={**details, "scope": "provider"})
        if provider_code in _NUMBER_REFUSED:
            raise PhoneInvalid("该手机号无法接收短信", details={**details, "field": "phone"})
        if (provider_code in _BUSY or provider_code.startswith("Throttling")
                or response.status_code >= 500):
            raise UpstreamUnavailable("短信服务繁忙，请稍后再试", details=details)
        log.warning("aliyun SendSms refused: code=%s message=%s request_id=%s", provider_code,
                    body.get("Message"), body.get("RequestId"))
        raise SmsSendFailed(details=details)
