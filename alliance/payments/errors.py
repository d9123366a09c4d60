"""What can go wrong with a payment provider, as domain errors (see ports.PaymentGateway)."""
from __future__ import annotations

from alliance.errors import AllianceError, UpstreamUnavailable

# Reasons whose cause is the signature itself: answered 401 to the provider.
SIGNATURE_REASONS = frozenset({"BAD_SIGNATURE", "SIGNATURE_PROBE", "UNKNOWN_SERIAL"})


class NotificationRejected(AllianceError):
    """A provider notification that must not be trusted; ``reason`` says why.

    Reasons: BAD_SIGNATURE, SIGNATURE_PROBE (WECHATPAY/SIGNTEST/), UNKNOWN_SERIAL,
    STALE_TIMESTAMP, DECRYPT_FAILED, MALFORMED, MCHID_MISMATCH, APPID_MISMATCH,
    SELLER_MISMATCH, UNSUPPORTED_EVENT.
    """

    code = "NOTIFICATION_REJECTED"
    http_status = 400
    message = "支付通知校验失败"

    def __init__(self, reason: str, **kwargs):
        self.reason = reason
        super().__init__(**kwargs)
        self.details.setdefault("reason", reason)
        if reason in SIGNATURE_REASONS:
            self.http_status = 401


class PaymentProviderError(AllianceError):
    code = "PAYMENT_PROVIDER_ERROR"
    http_status = 502
    message = "支付服务返回错误，请稍后再试"


class PaymentSignError(PaymentProviderError):
    """The provider refused our request signature: keys, serial or ids misconfigured."""

    code = "PAYMENT_SIGN_ERROR"
    message = "支付服务暂不可用，请稍后再试"


class PaymentUnavailable(UpstreamUnavailable):
    code = "PAYMENT_UNAVAILABLE"
    message = "支付服务繁忙，请稍后再试"


class PaymentTradeExists(AllianceError):
    code = "PAYMENT_TRADE_EXISTS"
    http_status = 409
    message = "该支付单号已被使用"


class PaymentTradeNotFound(AllianceError):
    code = "PAYMENT_TRADE_NOT_FOUND"
    http_status = 404
    message = "支付交易不存在"


class PaymentTradeClosed(AllianceError):
    code = "PAYMENT_TRADE_CLOSED"
    http_status = 409
    message = "支付交易已关闭"


class PaymentAlreadyPaid(AllianceError):
    code = "PAYMENT_ALREADY_PAID"
    http_status = 409
    message = "该交易已支付"


class RefundRejected(AllianceError):
    code = "REFUND_REJECTED"
    http_status = 409
    message = "退款申请未被受理"


class PaymentChannelUnavailable(AllianceError):
    code = "PAYMENT_CHANNEL_UNAVAILABLE"
    http_status = 400
    message = "暂不支持该支付方式"
