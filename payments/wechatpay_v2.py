"""PaymentGateway over WeChat Pay API v2 (XML, MD5 signs), through wechatpy.pay.

For merchants still on v2 (``WECHATPAY_API_KEY`` set). wechatpy checks neither the
signature of answers nor the HMAC-SHA256 signature of notifications, and its
``parse_payment_result`` checks MD5 only: the missing checks are made here.
"""
from __future__ import annotations

import hmac
import logging
from typing import Callable, Mapping

import requests
import xmltodict
from wechatpy.exceptions import (InvalidAppIdException, InvalidMchIdException,
                                 InvalidSignatureException, WeChatPayException)
from wechatpy.pay import WeChatPay
from wechatpy.pay.utils import calculate_signature_hmac

from alliance.payments.errors import (NotificationRejected, PaymentAlreadyPaid,
                                      PaymentProviderError, PaymentSignError,
                                      PaymentTradeClosed, PaymentTradeExists,
                                      PaymentTradeNotFound, PaymentUnavailable, RefundRejected)
from alliance.ports import (PaymentNotice, PrepayRequest, PrepayResult, RefundNotice,
                            RefundRequest, RefundResult, TradeQueryResult)
from payments.common import parse_beijing, parse_compact, to_beijing

log = logging.getLogger("alliance.payments.wechatpay_v2")

TRADE_STATES = {"SUCCESS": "paid", "REFUND": "refunded", "NOTPAY": "unpaid",
                "USERPAYING": "unpaid", "CLOSED": "closed", "REVOKED": "closed",
                "PAYERROR": "closed"}
REFUND_STATUSES = {"SUCCESS": "succeeded", "REFUNDCLOSE": "closed", "PROCESSING": "processing",
                   "CHANGE": "abnormal"}
ERRORS = {"ORDERPAID": PaymentAlreadyPaid, "ORDERCLOSED": PaymentTradeClosed,
          "OUT_TRADE_NO_USED": PaymentTradeExists, "ORDERNOTEXIST": PaymentTradeNotFound,
          "REFUNDNOTEXIST": PaymentTradeNotFound, "SIGNERROR": PaymentSignError,
          "APPID_MCHID_NOT_MATCH": PaymentSignError, "SYSTEMERROR": PaymentUnavailable,
          "BANKERROR": PaymentUnavailable, "FREQUENCY_LIMITED": PaymentUnavailable}


class WechatPayV2Gateway:
    channel = "wechatpay_v2"

    def __init__(self, *, appid: str, mch_id: str, api_key: str, api_base: str,
                 notify_url: str, timeout: float, cert_file: str | None = None,
                 key_file: str | None = None):
        self._appid, self._mch_id, self._api_key = appid, mch_id, api_key
        self._notify_url = notify_url
        # The API certificate authenticates refunds (secapi) over TLS when configured.
        self._pay = WeChatPay(appid=appid, api_key=api_key, mch_id=mch_id, timeout=timeout,
                              mch_cert=cert_file, mch_key=key_file if cert_file else None)
        self._pay.API_BASE_URL = api_base

    # -- trades -----------------------------------------------------------------------
    def prepay(self, request: PrepayRequest) -> PrepayResult:
        if not request.payer_openid:
            raise ValueError("WeChat Pay JSAPI needs the payer's openid")
        data = self._call("prepay", lambda: self._pay.order.create(
            trade_type="JSAPI", body=request.description[:127], total_fee=request.amount_fen,
            notify_url=self._notify_url, client_ip=request.client_ip or "127.0.0.1",
            user_id=request.payer_openid, out_trade_no=request.out_trade_no,
            time_expire=to_beijing(request.time_expire) if request.time_expire else None))
        prepay_id = data["prepay_id"]
        params = self._pay.jsapi.get_jsapi_params(prepay_id)
        params.pop("appId")  # signed, but the mini-program passes its own
        return PrepayResult(self.channel, request.out_trade_no, request.amount_fen, params,
                            prepay_id)

    def query(self, out_trade_no: str) -> TradeQueryResult:
        try:
            data = self._call("query", lambda: self._pay.order.query(out_trade_no=out_trade_no))
        except PaymentTradeNotFound:
            return TradeQueryResult(self.channel, out_trade_no, "not_found", "ORDERNOTEXIST")
        state = data.get("trade_state", "")
        return TradeQueryResult(
            self.channel, out_trade_no, TRADE_STATES.get(state, "unpaid"), state,
            transaction_id=data.get("transaction_id"),
            amount_fen=int(data["total_fee"]) if data.get("total_fee") else None,
            paid_at=parse_compact(data["time_end"]) if data.get("time_end") else None,
            payer=data.get("openid"))

    def close(self, out_trade_no: str) -> None:
        self._call("close", lambda: self._pay.order.close(out_trade_no))

    def refund(self, request: RefundRequest) -> RefundResult:
        data = self._call("refund", lambda: self._pay.refund.apply(
            total_fee=request.total_fen, refund_fee=request.refund_fen,
            out_refund_no=request.out_refund_no, out_trade_no=request.out_trade_no,
            refund_desc=request.reason[:80] or None, notify_url=self._notify_url))
        # Accepted; the outcome comes with the refund notification (or a query).
        return RefundResult(self.channel, request.out_trade_no, request.out_refund_no,
                            data.get("refund_id", ""), "processing",
                            int(data.get("refund_fee") or request.refund_fen), "PROCESSING")

    def query_refund(self, out_trade_no: str, out_refund_no: str) -> RefundResult:
        data = self._call("query_refund", lambda: self._pay.refund.query(
            out_refund_no=out_refund_no, out_trade_no=out_trade_no))
        for n in range(int(data.get("refund_count") or 0)):
            if data.get(f"out_refund_no_{n}") == out_refund_no:
                status = data.get(f"refund_status_{n}", "")
                success_time = data.get(f"refund_success_time_{n}")
                return RefundResult(self.channel, out_trade_no, out_refund_no,
                                    data.get(f"refund_id_{n}", ""),
                                    REFUND_STATUSES.get(status, "processing"),
                                    int(data.get(f"refund_fee_{n}") or 0), status,
                                    parse_beijing(success_time) if success_time else None)
        raise PaymentTradeNotFound(details={"channel": self.channel,
                                            "out_refund_no": out_refund_no})

    def _call(self, what: str, fn: Callable[[], dict]) -> dict:
        """A verified v2 answer; errors as domain errors. A busy answer is retried once."""
        for attempt in range(2):
            try:
                data = fn()
            except requests.RequestException as exc:
                log.warning("wechatpay v2 %s unreachable: %s", what, type(exc).__name__)
                error: Exception = PaymentUnavailable(details={"channel": self.channel})
            except WeChatPayException as exc:
                error = self._error_for(exc, refund=what == "refund")
            else:
                if not isinstance(data, dict) or not self._pay.check_signature(data):
                    raise PaymentProviderError(details={"channel": self.channel,
                                                        "reason": "answer not verified"})
                return data
            if not (isinstance(error, PaymentUnavailable) and attempt == 0):
                raise error
        raise AssertionError("unreachable")

    def _error_for(self, exc: WeChatPayException, refund: bool) -> Exception:
        details = {"channel": self.channel, "return_code": exc.return_code,
                   "provider_code": exc.errcode or exc.return_code,
                   "provider_message": str(exc.errmsg or exc.return_msg or "")[:200]}
        if exc.return_code is None:  # an HTTP error status, not a v2 answer
            return PaymentUnavailable(details=details)
        if exc.return_code != "SUCCESS":
            message = str(exc.return_msg or "")
            sign_error = "签名" in message or "SIGN" in message.upper()
            return (PaymentSignError if sign_error else PaymentProviderError)(details=details)
        kind = ERRORS.get(exc.errcode or "")
        if kind is None:
            kind = RefundRejected if refund else PaymentProviderError
        return kind(details=details)

    # -- notifications ----------------------------------------------------------------
    def parse_notification(self, headers: Mapping[str, str],
                           body: bytes) -> PaymentNotice | RefundNotice:
        try:
            data = xmltodict.parse(body)["xml"]
            if not isinstance(data, dict):
                raise ValueError("empty xml")
        except Exception:  # expat and xmltodict raise several kinds
            raise NotificationRejected("MALFORMED") from None
        if "req_info" in data:
            return self._refund_notice(body)
        self._verify_payment_sign(body, data)
        if data.get("appid") != self._appid:
            raise NotificationRejected("APPID_MISMATCH")
        if data.get("mch_id") != self._mch_id:
            raise NotificationRejected("MCHID_MISMATCH")
        try:
            if data["return_code"] != "SUCCESS":
                raise ValueError("not a payment result")
            paid = data.get("result_code") == "SUCCESS"
            return PaymentNotice(
                channel=self.channel,
                notification_id=f"pay:{data['out_trade_no']}:{data['transaction_id']}",
                out_trade_no=data["out_trade_no"], transaction_id=data["transaction_id"],
                amount_fen=int(data["total_fee"]), paid=paid,
                trade_state="SUCCESS" if paid else str(data.get("err_code") or "FAIL"),
                paid_at=parse_compact(data["time_end"]) if data.get("time_end") else None,
                payer=data.get("openid"), raw=data)
        except (KeyError, TypeError, ValueError):
            raise NotificationRejected("MALFORMED") from None

    def _verify_payment_sign(self, body: bytes, data: dict) -> None:
        if (data.get("sign_type") or "MD5") == "HMAC-SHA256":
            unsigned = {k: v for k, v in data.items() if k != "sign"}
            expected = calculate_signature_hmac(unsigned, self._api_key)
            if not hmac.compare_digest(expected, str(data.get("sign") or "")):
                raise NotificationRejected("BAD_SIGNATURE")
            return
        try:
            self._pay.parse_payment_result(body)
        except InvalidSignatureException:
            raise NotificationRejected("BAD_SIGNATURE") from None

    def _refund_notice(self, body: bytes) -> RefundNotice:
        try:
            info = self._pay.parse_refund_notify_result(body)
        except InvalidAppIdException:
            raise NotificationRejected("APPID_MISMATCH") from None
        except InvalidMchIdException:
            raise NotificationRejected("MCHID_MISMATCH") from None
        except Exception:  # a req_info that is not ours: bad base64, padding or XML
            raise NotificationRejected("DECRYPT_FAILED") from None
        try:
            status = info["refund_status"]
            return RefundNotice(
                channel=self.channel,
                notification_id=f"refund:{info['refund_id']}:{status}",
                out_trade_no=info["out_trade_no"], transaction_id=info.get("transaction_id", ""),
                out_refund_no=info["out_refund_no"], refund_id=info["refund_id"],
                status=REFUND_STATUSES.get(status, "processing"),
                refund_fen=int(info["refund_fee"]), total_fen=int(info["total_fee"]),
                succeeded_at=parse_beijing(info["success_time"]) if info.get("success_time") else None,
                raw=dict(info))
        except (KeyError, TypeError, ValueError):
            raise NotificationRejected("MALFORMED") from None
