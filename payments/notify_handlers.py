"""The providers' notification URLs (CONTRACT.md): verify through the channel's gateway,
hand the verified notice to the domain, and reply exactly as that provider requires."""
from __future__ import annotations

import logging
from typing import Callable

from alliance.payments import notices
from alliance.payments.channels import ALIPAY, WECHATPAY, WECHATPAY_V2
from alliance.payments.errors import NotificationRejected
from payments import NOTIFY_PATHS
from payments.arrivals import NoticeArrivals
from payments.common import well_formed
from server.base import BaseHandler

log = logging.getLogger("alliance.payments.notify")

# (ok, failure status) -> (status, content type, body)
Reply = Callable[[bool, int], tuple[int, str | None, bytes]]

V2_SUCCESS = (b"<xml><return_code><![CDATA[SUCCESS]]></return_code>"
              b"<return_msg><![CDATA[OK]]></return_msg></xml>")
V2_FAIL = ("<xml><return_code><![CDATA[FAIL]]></return_code>"
           "<return_msg><![CDATA[失败]]></return_msg></xml>").encode()
V3_FAIL = '{"code":"FAIL","message":"失败"}'.encode()
XML, TEXT = "text/xml; charset=utf-8", "text/plain; charset=utf-8"


def wechatpay_reply(ok: bool, status: int) -> tuple[int, str | None, bytes]:
    """v3: 204 when handled; otherwise 4xx/5xx with {"code":"FAIL","message":"失败"}."""
    return (204, None, b"") if ok else (status, "application/json; charset=utf-8", V3_FAIL)


def wechatpay_v2_reply(ok: bool, status: int) -> tuple[int, str | None, bytes]:
    """v2: exactly the SUCCESS/OK XML when handled; the FAIL XML otherwise."""
    return (200, XML, V2_SUCCESS) if ok else (status, XML, V2_FAIL)


def alipay_reply(ok: bool, status: int) -> tuple[int, str | None, bytes]:
    """Alipay: exactly ``success`` when handled; anything else makes it retry."""
    return (200, TEXT, b"success") if ok else (status, TEXT, b"fail")


class NotifyHandler(BaseHandler):
    """Verifies on the event loop (CPU only: a signature, a decryption), then hands the
    notice to the domain once per process (``NoticeArrivals``): on the loop itself when
    SQLite's writers' turn is free, else on a worker (``run_write``)."""

    def initialize(self, channel: str, reply: Reply, arrivals: NoticeArrivals) -> None:
        self.channel, self.reply, self.arrivals = channel, reply, arrivals

    async def post(self):
        gateway = self.ctx.extras["payment_gateways"].get(self.channel)
        if gateway is None:  # e.g. v2 without WECHATPAY_API_KEY
            self._answer(False, 404)
            return
        try:
            try:
                notice = _verified(gateway, self.request.headers, self.request.body)
            except NotificationRejected as exc:
                log.warning("%s notification rejected: %s", self.channel, exc.reason)
                await self.run_sync(notices.record_rejection, gateway.channel, exc.reason)
                self._answer(False, exc.http_status)
                return
            outcome = await self.arrivals.accept(
                notice, lambda: self.run_write(notices.accept_notice, notice))
        except Exception:  # the provider retries; the notice stays received
            log.exception("%s notification not applied", self.channel)
            self._answer(False, 500)
            return
        self.log_fields = {"notification": outcome.record_id,
                           "outcome": "duplicate" if outcome.duplicate else outcome.status}
        self._answer(True, 200)

    def write_error(self, status_code: int, **kwargs) -> None:
        # What fails before post() (a body over the limit, a form Tornado cannot parse) is
        # answered in the provider's format too, never the API's JSON envelope.
        self.ensure_request_id()
        self._answer(False, status_code)

    def _answer(self, ok: bool, failure_status: int) -> None:
        status, content_type, body = self.reply(ok, failure_status)
        self.set_status(status)
        if content_type:
            self.set_header("Content-Type", content_type)
        else:
            self.clear_header("Content-Type")
        self.finish(body or None)


# What the providers' parsers (json, xmltodict, wechatpy, the time and number conversions)
# raise for a body or field that is not what their documents say: deep nesting, a number
# that is not one, a date beyond the calendar, a list where text belongs.
_MALFORMED = (ValueError, TypeError, KeyError, AttributeError, IndexError, OverflowError,
              RecursionError)


def _verified(gateway, headers, body: bytes):
    """The gateway's verified notice, checked well formed; NotificationRejected otherwise."""
    try:
        return well_formed(gateway.parse_notification(headers, body))
    except _MALFORMED as exc:
        log.warning("%s notification malformed: %s", gateway.channel, type(exc).__name__)
        raise NotificationRejected("MALFORMED") from None


def routes() -> list:
    arrivals = NoticeArrivals()  # this application's: every channel's notifications
    return [(NOTIFY_PATHS[channel], NotifyHandler,
             {"channel": channel, "reply": reply, "arrivals": arrivals})
            for channel, reply in ((WECHATPAY, wechatpay_reply),
                                   (WECHATPAY_V2, wechatpay_v2_reply),
                                   (ALIPAY, alipay_reply))]


def _operation(summary: str, content_type: str, ok: dict, failure: dict, description: str,
               failures: tuple[int, ...] = (400, 401, 413, 500)) -> dict:
    return {"post": {
        "summary": summary, "tags": ["payments"], "description": description,
        "requestBody": {"required": True,
                        "content": {content_type: {"schema": {"type": "string"}}}},
        "responses": {**ok, **{str(status): failure for status in failures}}}}


def _openapi() -> dict:
    v3_fail = {"description": "not handled: WeChat Pay retries",
               "content": {"application/json": {"schema": {
                   "type": "object", "properties": {"code": {"type": "string", "enum": ["FAIL"]},
                                                    "message": {"type": "string"}}}}}}
    xml = lambda text: {"content": {"text/xml": {"schema": {"type": "string"},  # noqa: E731
                                                 "example": text}}}
    text = lambda word: {"content": {"text/plain": {"schema": {"type": "string"},  # noqa: E731
                                                    "example": word}}}
    checks = ("Rejected (never applied, recorded as rejected): bad signature, stale timestamp, "
              "undecryptable resource, another merchant or app, fields that are not what the "
              "provider documents (an amount that is not whole fen, a missing id). Repeats are "
              "recorded once and applied once. Every failure, a body over the size limit (413) "
              "included, is answered in the provider's own format.")
    return {
        NOTIFY_PATHS[WECHATPAY]: _operation(
            "WeChat Pay API v3 payment and refund notifications", "application/json",
            {"204": {"description": "handled"}}, v3_fail,
            "Headers Wechatpay-Timestamp/-Nonce/-Signature/-Serial/-Signature-Type; the "
            "signature is verified with WeChat Pay's public key (WECHATPAY_PUBLIC_KEY_ID), the "
            "timestamp must be within 5 minutes, the AES-256-GCM resource is decrypted with the "
            "APIv3 key, mchid and appid must be ours. " + checks),
        NOTIFY_PATHS[WECHATPAY_V2]: _operation(
            "WeChat Pay API v2 payment and refund notifications (XML)", "text/xml",
            {"200": {"description": "handled", **xml(V2_SUCCESS.decode())}},
            {"description": "not handled", **xml(V2_FAIL.decode())},
            "Payment results signed with the API key (MD5 or HMAC-SHA256); refund results "
            "with an AES-256-ECB req_info. 404 when WECHATPAY_API_KEY is not set. " + checks,
            failures=(400, 401, 404, 413, 500)),
        NOTIFY_PATHS[ALIPAY]: _operation(
            "Alipay asynchronous notifications (form, RSA2)", "application/x-www-form-urlencoded",
            {"200": {"description": "handled", **text("success")}},
            {"description": "not handled: Alipay retries", **text("fail")},
            "RSA2 over the sorted parameters without sign and sign_type, with the Alipay "
            "public key; app_id and seller_id must be ours. " + checks),
    }


OPENAPI = _openapi()
