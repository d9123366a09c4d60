"""PaymentGateway over WeChat Pay API v3 (JSAPI for the mini-program), through wechatpayv3.

wechatpayv3 runs in WeChat Pay public-key mode (offline start, answers verified with the
public key under ``WECHATPAY_PUBLIC_KEY_ID``; notifications signed under a platform
certificate are verified with it: ``payments.wechatpay_certs``); its host is redirected to
``WECHATPAY_API_BASE`` through ``_core._gate_way``, the only hook it has. Notifications:
the library verifies the signature and decrypts the AES-256-GCM resource but checks
neither the timestamp nor whose notification it is; both are checked here.
"""
from __future__ import annotations

import json
import logging
import secrets
import threading
import time
from typing import Any, Callable, Mapping

import requests
from wechatpayv3 import WeChatPay, WeChatPayType
from wechatpayv3.utils import aes_decrypt, rsa_verify

from alliance.checks import ascii_digits
from alliance.payments.errors import (NotificationRejected, PaymentAlreadyPaid,
                                      PaymentProviderError, PaymentSignError,
                                      PaymentTradeClosed, PaymentTradeExists,
                                      PaymentTradeNotFound, PaymentUnavailable, RefundRejected)
from alliance.ports import (PaymentNotice, PrepayRequest, PrepayResult, RefundNotice,
                            RefundRequest, RefundResult, TradeQueryResult)
from payments.common import (format_rfc3339, load_private_key, load_public_key,
                             parse_rfc3339, retry_when_unavailable, spki_pem)
from payments.wechatpay_certs import PlatformCertificates

log = logging.getLogger("alliance.payments.wechatpay")

SIGNATURE_TYPE = "WECHATPAY2-SHA256-RSA2048"
PROBE_PREFIX = "WECHATPAY/SIGNTEST/"
PUBLIC_KEY_ID_PREFIX = "PUB_KEY_ID_"
MAX_CLOCK_SKEW_S = 300
# Notifications verified lately, by their exact headers and body: WeChat Pay sends copies of
# one notification, often at once, and a copy's checks after the timestamp's (the signature,
# the decryption, the fields) give what the first copy's gave.
VERIFIED_KEPT = 2048
TRADE_STATES = {"SUCCESS": "paid", "REFUND": "refunded", "NOTPAY": "unpaid",
                "USERPAYING": "unpaid", "CLOSED": "closed", "REVOKED": "closed",
                "PAYERROR": "closed"}
REFUND_STATUSES = {"SUCCESS": "succeeded", "CLOSED": "closed", "PROCESSING": "processing",
                   "ABNORMAL": "abnormal"}


def _provider_time(text: str | None):
    return parse_rfc3339(text) if text else None


class WechatPayV3Gateway:
    channel = "wechatpay"

    def __init__(self, *, mchid: str, appid: str, apiv3_key: str, cert_serial: str,
                 private_key_file: str, public_key_file: str, public_key_id: str,
                 api_base: str, notify_url: str, timeout: float,
                 clock: Callable[[], float] = time.time):
        self._mchid, self._appid, self._notify_url = mchid, appid, notify_url
        self._apiv3_key = apiv3_key
        self._public_key = load_public_key(public_key_file)
        self._public_key_id = public_key_id
        self._clock = clock
        self._verified: dict[tuple, PaymentNotice | RefundNotice] = {}
        self._verified_lock = threading.Lock()
        self._pay = WeChatPay(
            wechatpay_type=WeChatPayType.MINIPROG, mchid=mchid, appid=appid,
            private_key=None, cert_serial_no=cert_serial, apiv3_key=apiv3_key,
            notify_url=notify_url, timeout=timeout, public_key=spki_pem(self._public_key),
            public_key_id=public_key_id)
        # wechatpayv3 has no options for these: its host, and the loaded merchant key
        # (given as PEM it accepts only PKCS#8 and re-validates it, ~50 ms, every time).
        self._pay._core._gate_way = api_base.rstrip("/")
        self._pay._core._private_key = load_private_key(private_key_file)
        # Sealed with the APIv3 key, which authenticates them: the library skips the
        # answer's signature for this one call too.
        self.certificates = PlatformCertificates(
            lambda: self._pay._core.request("/v3/certificates", skip_verify=True),
            apiv3_key, clock)

    # -- trades -----------------------------------------------------------------------
    def prepay(self, request: PrepayRequest) -> PrepayResult:
        if not request.payer_openid:
            raise ValueError("WeChat Pay JSAPI needs the payer's openid")
        data = self._call("prepay", lambda: self._pay.pay(
            description=request.description[:127], out_trade_no=request.out_trade_no,
            amount={"total": request.amount_fen, "currency": "CNY"},
            payer={"openid": request.payer_openid},
            time_expire=format_rfc3339(request.time_expire) if request.time_expire else None))
        prepay_id = data["prepay_id"]
        return PrepayResult(self.channel, request.out_trade_no, request.amount_fen,
                            self.request_payment_params(prepay_id), prepay_id)

    def request_payment_params(self, prepay_id: str) -> dict[str, str]:
        """``wx.requestPayment``'s parameters; paySign covers appId, which is not passed."""
        timestamp, nonce = str(int(self._clock())), secrets.token_hex(16)
        package = f"prepay_id={prepay_id}"
        pay_sign = self._pay.sign([self._appid, timestamp, nonce, package])
        return {"timeStamp": timestamp, "nonceStr": nonce, "package": package,
                "signType": "RSA", "paySign": pay_sign}

    def query(self, out_trade_no: str) -> TradeQueryResult:
        try:
            data = self._call("query", lambda: self._pay.query(out_trade_no=out_trade_no))
        except PaymentTradeNotFound:
            return TradeQueryResult(self.channel, out_trade_no, "not_found", "ORDER_NOT_EXIST")
        state = data.get("trade_state", "")
        return TradeQueryResult(
            self.channel, out_trade_no, TRADE_STATES.get(state, "unpaid"), state,
            transaction_id=data.get("transaction_id"),
            amount_fen=(data.get("amount") or {}).get("total"),
            paid_at=_provider_time(data.get("success_time")),
            payer=(data.get("payer") or {}).get("openid"))

    def close(self, out_trade_no: str) -> None:
        self._call("close", lambda: self._pay.close(out_trade_no=out_trade_no))

    def refund(self, request: RefundRequest) -> RefundResult:
        data = self._call("refund", lambda: self._pay.refund(
            out_refund_no=request.out_refund_no, out_trade_no=request.out_trade_no,
            amount={"refund": request.refund_fen, "total": request.total_fen,
                    "currency": "CNY"},
            reason=request.reason[:80] or None, notify_url=self._notify_url))
        return self._refund_result(data)

    def query_refund(self, out_trade_no: str, out_refund_no: str) -> RefundResult:
        return self._refund_result(self._call(
            "query_refund", lambda: self._pay.query_refund(out_refund_no=out_refund_no)))

    def _refund_result(self, data: dict) -> RefundResult:
        status = data.get("status", "")
        return RefundResult(self.channel, data["out_trade_no"], data["out_refund_no"],
                            data.get("refund_id", ""), REFUND_STATUSES.get(status, "processing"),
                            (data.get("amount") or {}).get("refund", 0), status,
                            _provider_time(data.get("success_time")))

    def _call(self, what: str, fn: Callable[[], tuple[int, Any]]) -> dict:
        """The answer of a wechatpayv3 call as a dict; provider errors as domain errors."""
        return retry_when_unavailable(lambda: self._call_once(what, fn))

    def _call_once(self, what: str, fn: Callable[[], tuple[int, Any]]) -> dict:
        try:
            status, text = fn()
        except requests.RequestException as exc:
            log.warning("wechatpay %s unreachable: %s", what, type(exc).__name__)
            raise PaymentUnavailable(details={"channel": self.channel}) from None
        except Exception as exc:  # wechatpayv3 signals an unverifiable answer this way
            log.error("wechatpay %s answer refused: %s", what, exc)
            raise PaymentProviderError(details={"channel": self.channel,
                                                "reason": "answer not verified"}) from None
        try:
            data = json.loads(text) if text else {}
        except ValueError:  # an error page instead of WeChat Pay's JSON
            data = {}
        if 200 <= status < 300:
            return data
        raise _error_for(status, data, refund=what == "refund")

    # -- notifications ----------------------------------------------------------------
    def parse_notification(self, headers: Mapping[str, str],
                           body: bytes) -> PaymentNotice | RefundNotice:
        found = {k.lower(): v for k, v in headers.items()}
        signature = found.get("wechatpay-signature", "")
        timestamp = found.get("wechatpay-timestamp", "")
        nonce = found.get("wechatpay-nonce", "")
        serial = found.get("wechatpay-serial", "")
        if signature.startswith(PROBE_PREFIX):
            raise NotificationRejected("SIGNATURE_PROBE")
        if not (signature and timestamp and nonce) or \
                found.get("wechatpay-signature-type") != SIGNATURE_TYPE:
            raise NotificationRejected("BAD_SIGNATURE")
        # The WeChat Pay public key, or a platform certificate (a merchant being moved to
        # the public key gets both for a while).
        key = self._public_key if serial == self._public_key_id else (
            None if serial.startswith(PUBLIC_KEY_ID_PREFIX) else self.certificates.key(serial))
        if key is None:
            raise NotificationRejected("UNKNOWN_SERIAL", details={"serial": serial[:64]})
        if not ascii_digits(timestamp, 12) or abs(self._clock() - int(timestamp)) >= MAX_CLOCK_SKEW_S:
            raise NotificationRejected("STALE_TIMESTAMP")
        seen = (signature, timestamp, nonce, serial, bytes(body))
        notice = self._verified.get(seen)
        if notice is None:
            notice = self._verify_and_read(timestamp, nonce, signature, key, body)
            with self._verified_lock:
                if len(self._verified) >= VERIFIED_KEPT:
                    self._verified.pop(next(iter(self._verified)))
                self._verified[seen] = notice
        return notice

    def _verify_and_read(self, timestamp: str, nonce: str, signature: str, key,
                         body: bytes) -> PaymentNotice | RefundNotice:
        """The notice of a notification whose headers were checked; NotificationRejected
        when its signature, encryption or fields are not what WeChat Pay sends."""
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise NotificationRejected("MALFORMED") from None
        if not rsa_verify(timestamp, nonce, text, signature, key):
            raise NotificationRejected("BAD_SIGNATURE")
        try:
            event = json.loads(text)
            resource = event.get("resource")
            if resource and resource.get("algorithm") != "AEAD_AES_256_GCM":
                raise ValueError("unsupported algorithm")
            # The library's decryption (its callback() would verify the signature again).
            plaintext = aes_decrypt(
                nonce=resource["nonce"], ciphertext=resource["ciphertext"],
                associated_data=resource.get("associated_data") or "",
                apiv3_key=self._apiv3_key) if (
                event.get("resource_type") == "encrypt-resource" and resource
                and resource.get("nonce") and resource.get("ciphertext")) else None
        except (ValueError, KeyError, TypeError, AttributeError):
            raise NotificationRejected("MALFORMED") from None
        if plaintext is None:
            raise NotificationRejected("DECRYPT_FAILED")
        try:
            event["resource"] = json.loads(plaintext)
        except ValueError:
            raise NotificationRejected("MALFORMED") from None
        try:
            return self._notice(event)
        except (KeyError, TypeError, ValueError, AttributeError):
            raise NotificationRejected("MALFORMED") from None

    def _notice(self, event: dict) -> PaymentNotice | RefundNotice:
        resource, event_type = event["resource"], str(event.get("event_type", ""))
        if resource.get("mchid") != self._mchid:
            raise NotificationRejected("MCHID_MISMATCH")
        if event_type.startswith("TRANSACTION."):
            if resource.get("appid") != self._appid:
                raise NotificationRejected("APPID_MISMATCH")
            state = resource["trade_state"]
            return PaymentNotice(
                channel=self.channel, notification_id=event["id"],
                out_trade_no=resource["out_trade_no"],
                transaction_id=resource["transaction_id"],
                amount_fen=resource["amount"]["total"], paid=state == "SUCCESS",
                trade_state=state, paid_at=_provider_time(resource.get("success_time")),
                payer=(resource.get("payer") or {}).get("openid"), raw=resource)
        if event_type.startswith("REFUND."):
            amount = resource["amount"]
            return RefundNotice(
                channel=self.channel, notification_id=event["id"],
                out_trade_no=resource["out_trade_no"],
                transaction_id=resource.get("transaction_id", ""),
                out_refund_no=resource["out_refund_no"], refund_id=resource["refund_id"],
                status=REFUND_STATUSES.get(resource["refund_status"], "processing"),
                refund_fen=amount["refund"], total_fen=amount["total"],
                succeeded_at=_provider_time(resource.get("success_time")), raw=resource)
        raise NotificationRejected("UNSUPPORTED_EVENT", details={"event_type": event_type[:64]})


def _error_for(status: int, data: dict, refund: bool) -> Exception:
    """The domain error for a WeChat Pay v3 error answer (PROTOCOLS.md 3.7)."""
    code = str(data.get("code", ""))
    details = {"channel": "wechatpay", "http_status": status, "provider_code": code,
               "provider_message": str(data.get("message", ""))[:200]}
    if status == 401 or code == "SIGN_ERROR":
        return PaymentSignError(details=details)
    if code == "OUT_TRADE_NO_USED":
        return PaymentTradeExists(details=details)
    if status == 404 or code in ("ORDER_NOT_EXIST", "ORDERNOTEXIST", "RESOURCE_NOT_EXISTS"):
        return PaymentTradeNotFound(details=details)
    if code in ("ORDER_CLOSED", "ORDERCLOSED"):
        return PaymentTradeClosed(details=details)
    if code in ("ORDER_PAID", "ORDERPAID"):
        return PaymentAlreadyPaid(details=details)
    if status == 429 or status >= 500 or code in ("SYSTEM_ERROR", "FREQUENCY_LIMITED"):
        return PaymentUnavailable(details=details)
    if refund and 400 <= status < 500:
        return RefundRejected(details=details)
    return PaymentProviderError(details=details)
