"""PaymentGateway over Alipay OpenAPI (RSA2), through alipay-sdk-python.

The SDK signs requests and verifies answers over the raw ``<method>_response`` text; its
own HTTP code connects to port 80/443 whatever ``server_url`` says, so requests go out
through ``requests`` instead (``_GatewayClient``). Notifications: the SDK offers the sign
content and the RSA check; dropping ``sign``/``sign_type`` and checking ``app_id`` and
``seller_id`` is ours.
"""
from __future__ import annotations

import binascii
import datetime as dt
import json
import logging
import types
import uuid
from typing import Mapping
from urllib.parse import parse_qsl

import requests
import rsa
from alipay.aop.api import DefaultAlipayClient as _sdk_client
from alipay.aop.api.AlipayClientConfig import AlipayClientConfig
from alipay.aop.api.DefaultAlipayClient import DefaultAlipayClient
from alipay.aop.api.constant.CommonConstants import THREAD_LOCAL
from alipay.aop.api.exception.Exception import RequestException, ResponseException
from alipay.aop.api.request.AlipayTradeAppPayRequest import AlipayTradeAppPayRequest
from alipay.aop.api.request.AlipayTradeCloseRequest import AlipayTradeCloseRequest
from alipay.aop.api.request.AlipayTradeCreateRequest import AlipayTradeCreateRequest
from alipay.aop.api.request.AlipayTradeFastpayRefundQueryRequest import \
    AlipayTradeFastpayRefundQueryRequest
from alipay.aop.api.request.AlipayTradeQueryRequest import AlipayTradeQueryRequest
from alipay.aop.api.request.AlipayTradeRefundRequest import AlipayTradeRefundRequest
from alipay.aop.api.util.SignatureUtils import get_sign_content, verify_with_rsa
from alipay.aop.api.util.WebUtils import url_encode

from alliance.clock import SHANGHAI
from alliance.payments.errors import (NotificationRejected, PaymentAlreadyPaid,
                                      PaymentProviderError, PaymentSignError,
                                      PaymentTradeClosed, PaymentTradeExists,
                                      PaymentTradeNotFound, PaymentUnavailable, RefundRejected)
from alliance.ports import (PaymentNotice, PrepayRequest, PrepayResult, RefundNotice,
                            RefundRequest, RefundResult, TradeQueryResult)
from payments.common import (fen_to_yuan, format_beijing, load_private_key, load_public_key,
                             parse_beijing, pkcs1_pem, retry_when_unavailable, spki_pem,
                             yuan_to_fen)

log = logging.getLogger("alliance.payments.alipay")

CHARSET = "utf-8"
TRADE_STATES = {"WAIT_BUYER_PAY": "unpaid", "TRADE_SUCCESS": "paid", "TRADE_FINISHED": "paid",
                "TRADE_CLOSED": "closed"}
PAID_STATES = ("TRADE_SUCCESS", "TRADE_FINISHED")
ERRORS = {"ACQ.TRADE_HAS_SUCCESS": PaymentAlreadyPaid, "ACQ.TRADE_NOT_EXIST": PaymentTradeNotFound,
          "ACQ.TRADE_HAS_CLOSE": PaymentTradeClosed, "ACQ.CONTEXT_INCONSISTENT": PaymentTradeExists,
          "ACQ.SYSTEM_ERROR": PaymentUnavailable, "isv.invalid-signature": PaymentSignError,
          "isv.invalid-app-id": PaymentSignError}
REFUND_METHODS = ("alipay.trade.refund", "alipay.trade.fastpay.refund.query")


def sign_content(params: Mapping[str, str]) -> str:
    """What Alipay signs: every non-empty parameter but ``sign``, sorted (notifications
    also leave out ``sign_type``; the caller drops it)."""
    return get_sign_content({k: v for k, v in params.items() if k != "sign" and v != ""})


def parse_form(body: bytes) -> dict[str, str]:
    """A form body in the charset it names (utf-8 unless it says gbk)."""
    text = body.decode("ascii")
    named = dict(parse_qsl(text, keep_blank_values=True, encoding="latin-1")).get("charset", "")
    charset = "gbk" if named.lower() in ("gbk", "gb2312") else CHARSET
    return dict(parse_qsl(text, keep_blank_values=True, encoding=charset, errors="strict"))


class _BeijingDatetime(dt.datetime):
    """``datetime`` whose ``now()`` is Beijing time, whatever the host's zone."""

    @classmethod
    def now(cls, tz=None):
        return dt.datetime.now(tz) if tz is not None else dt.datetime.now(SHANGHAI).replace(tzinfo=None)


# The SDK stamps every request (gateway calls and app-pay order strings) with
# datetime.datetime.now(), the host's local time, and Alipay reads `timestamp` as Beijing
# time: on a host in UTC every request was 8 hours old (isv.invalid-timestamp). This is the
# only use of datetime in that module.
_sdk_client.datetime = types.SimpleNamespace(datetime=_BeijingDatetime)


class _GatewayClient(DefaultAlipayClient):
    """The SDK's client, its signing and answer verification kept, its transport replaced."""

    def __init__(self, config: AlipayClientConfig, timeout: float):
        super().__init__(config)
        self._url, self._timeout = config.server_url, timeout
        self._http = requests.Session()

    def execute(self, request) -> str:
        THREAD_LOCAL.uuid = str(uuid.uuid1())
        query_string, params = self._DefaultAlipayClient__prepare_request(request)
        response = self._http.post(
            f"{self._url}?{query_string}", data=url_encode(params, CHARSET),
            headers={"Content-Type": f"application/x-www-form-urlencoded;charset={CHARSET}"},
            timeout=self._timeout)
        if response.status_code != 200:
            raise PaymentUnavailable(details={"channel": "alipay",
                                              "http_status": response.status_code})
        return self._DefaultAlipayClient__parse_response(response.content)


class AlipayGateway:
    channel = "alipay"

    def __init__(self, *, app_id: str, app_private_key_file: str, alipay_public_key_file: str,
                 seller_id: str, gateway: str, notify_url: str, timeout: float):
        self._app_id, self._seller_id, self._notify_url = app_id, seller_id, notify_url
        self._alipay_public_key = spki_pem(load_public_key(alipay_public_key_file))
        config = AlipayClientConfig()
        config.app_id = app_id
        config.app_private_key = pkcs1_pem(load_private_key(app_private_key_file))
        config.alipay_public_key = self._alipay_public_key
        config.server_url = gateway
        config.timeout = timeout
        self._client = _GatewayClient(config, timeout)

    # -- trades -----------------------------------------------------------------------
    def prepay(self, request: PrepayRequest) -> PrepayResult:
        biz = {"out_trade_no": request.out_trade_no,
               "total_amount": fen_to_yuan(request.amount_fen),
               "subject": request.description[:256]}
        if request.time_expire:
            biz["time_expire"] = format_beijing(request.time_expire)
        app_pay = AlipayTradeAppPayRequest()
        app_pay.biz_content = {**biz, "product_code": "QUICK_MSECURITY_PAY"}
        app_pay.notify_url = self._notify_url
        params = {"order_string": self._client.sdk_execute(app_pay)}
        if not request.buyer_id:
            return PrepayResult(self.channel, request.out_trade_no, request.amount_fen, params)
        buyer = "buyer_id" if request.buyer_id.startswith("2088") else "buyer_open_id"
        create = AlipayTradeCreateRequest()
        create.biz_content = {**biz, "product_code": "JSAPI_PAY", buyer: request.buyer_id}
        create.notify_url = self._notify_url
        trade_no = self._execute(create)["trade_no"]
        return PrepayResult(self.channel, request.out_trade_no, request.amount_fen,
                            {**params, "trade_no": trade_no}, trade_no)

    def query(self, out_trade_no: str) -> TradeQueryResult:
        request = AlipayTradeQueryRequest()
        request.biz_content = {"out_trade_no": out_trade_no}
        try:
            data = self._execute(request)
        except PaymentTradeNotFound:
            return TradeQueryResult(self.channel, out_trade_no, "not_found",
                                    "ACQ.TRADE_NOT_EXIST")
        status = data.get("trade_status", "")
        return TradeQueryResult(
            self.channel, out_trade_no, TRADE_STATES.get(status, "unpaid"), status,
            transaction_id=data.get("trade_no"),
            amount_fen=yuan_to_fen(data["total_amount"]) if data.get("total_amount") else None,
            paid_at=parse_beijing(data["send_pay_date"]) if data.get("send_pay_date") else None,
            payer=data.get("buyer_user_id") or data.get("buyer_open_id"))

    def close(self, out_trade_no: str) -> None:
        request = AlipayTradeCloseRequest()
        request.biz_content = {"out_trade_no": out_trade_no}
        self._execute(request)

    def refund(self, request: RefundRequest) -> RefundResult:
        call = AlipayTradeRefundRequest()
        call.biz_content = {"out_trade_no": request.out_trade_no,
                            "refund_amount": fen_to_yuan(request.refund_fen),
                            "out_request_no": request.out_refund_no,
                            "refund_reason": request.reason[:256]}
        data = self._execute(call)
        if data.get("fund_change") != "Y":  # a repeat, or not yet settled: ask for the outcome
            return self.query_refund(request.out_trade_no, request.out_refund_no)
        return RefundResult(self.channel, request.out_trade_no, request.out_refund_no,
                            data.get("trade_no", ""), "succeeded", request.refund_fen,
                            "fund_change=Y", _optional_time(data.get("gmt_refund_pay")))

    def query_refund(self, out_trade_no: str, out_refund_no: str) -> RefundResult:
        call = AlipayTradeFastpayRefundQueryRequest()
        call.biz_content = {"out_trade_no": out_trade_no, "out_request_no": out_refund_no,
                            "query_options": ["gmt_refund_pay"]}
        data = self._execute(call)
        status = data.get("refund_status", "")
        return RefundResult(self.channel, out_trade_no, out_refund_no, data.get("trade_no", ""),
                            "succeeded" if status == "REFUND_SUCCESS" else "processing",
                            yuan_to_fen(data["refund_amount"]) if data.get("refund_amount") else 0,
                            status, _optional_time(data.get("gmt_refund_pay")))

    def _execute(self, request) -> dict:
        """The verified ``<method>_response`` of a call; its failure as a domain error."""
        return retry_when_unavailable(lambda: self._execute_once(request))

    def _execute_once(self, request) -> dict:
        method = request.get_params()["method"]
        try:
            data = json.loads(self._client.execute(request))
        except requests.RequestException as exc:
            log.warning("alipay %s unreachable: %s", method, type(exc).__name__)
            raise PaymentUnavailable(details={"channel": self.channel}) from None
        except (RequestException, ResponseException) as exc:
            log.error("alipay %s not verified: %s", method, str(exc)[:200])
            raise PaymentProviderError(details={"channel": self.channel,
                                                "reason": "answer not verified"}) from None
        if data.get("code") == "10000":
            return data
        raise _error_for(data, method)

    # -- notifications ----------------------------------------------------------------
    def parse_notification(self, headers: Mapping[str, str],
                           body: bytes) -> PaymentNotice | RefundNotice:
        try:
            params = parse_form(body)
        except (UnicodeError, ValueError):
            raise NotificationRejected("MALFORMED") from None
        signed = {k: v for k, v in params.items() if k != "sign_type"}
        try:
            verify_with_rsa(self._alipay_public_key, sign_content(signed).encode(CHARSET),
                            params.get("sign", ""))
        except (rsa.VerificationError, binascii.Error, ValueError, TypeError, UnicodeError):
            raise NotificationRejected("BAD_SIGNATURE") from None
        if params.get("app_id") != self._app_id:
            raise NotificationRejected("APPID_MISMATCH")
        if params.get("seller_id") != self._seller_id:
            raise NotificationRejected("SELLER_MISMATCH")
        try:
            return self._notice(params)
        except (KeyError, ValueError):
            raise NotificationRejected("MALFORMED") from None

    def _notice(self, params: dict[str, str]) -> PaymentNotice | RefundNotice:
        if params.get("out_biz_no") and (params.get("refund_fee") or params.get("gmt_refund")):
            return RefundNotice(
                channel=self.channel, notification_id=params["notify_id"],
                out_trade_no=params["out_trade_no"], transaction_id=params["trade_no"],
                out_refund_no=params["out_biz_no"], refund_id="", status="succeeded",
                refunded_total_fen=yuan_to_fen(params["refund_fee"]),
                total_fen=yuan_to_fen(params["total_amount"]),
                succeeded_at=_optional_time(params.get("gmt_refund")), raw=params)
        status = params["trade_status"]
        return PaymentNotice(
            channel=self.channel, notification_id=params["notify_id"],
            out_trade_no=params["out_trade_no"], transaction_id=params["trade_no"],
            amount_fen=yuan_to_fen(params["total_amount"]), paid=status in PAID_STATES,
            trade_state=status, paid_at=_optional_time(params.get("gmt_payment")),
            payer=params.get("buyer_id") or params.get("buyer_open_id"), raw=params)


def _optional_time(text: str | None):
    return parse_beijing(text) if text else None


def _error_for(data: dict, method: str) -> Exception:
    """The domain error for an Alipay business failure (PROTOCOLS.md 5.2)."""
    code, sub_code = str(data.get("code", "")), str(data.get("sub_code", ""))
    details = {"channel": "alipay", "provider_code": sub_code or code,
               "provider_message": str(data.get("sub_msg") or data.get("msg") or "")[:200]}
    kind = ERRORS.get(sub_code)
    if kind is None and code == "20000":
        kind = PaymentUnavailable
    if kind is None:
        kind = RefundRejected if method in REFUND_METHODS and code == "40004" else PaymentProviderError
    return kind(details=details)
