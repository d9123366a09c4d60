"""What can go wrong with orders, as stable codes."""
from __future__ import annotations

from alliance.errors import AllianceError, Conflict, NotFound, ValidationFailed


class OrderNotFound(NotFound):
    code = "ORDER_NOT_FOUND"
    message = "订单不存在"


class OrderItemsInvalid(ValidationFailed):
    code = "ORDER_ITEMS_INVALID"
    message = "订单商品有误"


class OrderMultipleMerchants(AllianceError):
    """An order holds one merchant's items: the mini-program sends one order per merchant."""

    code = "ORDER_MULTIPLE_MERCHANTS"
    http_status = 422
    message = "一个订单只能包含同一商户的商品，请按商户分别下单"


class OrderKindsMixed(AllianceError):
    """Goods are shipped and services redeemed: they go in separate orders."""

    code = "ORDER_KINDS_MIXED"
    http_status = 422
    message = "实物商品和服务请分别下单"


class PointsExceedLimit(AllianceError):
    code = "POINTS_EXCEED_LIMIT"
    http_status = 422
    message = "本单可用积分超出上限"


class OrderStateConflict(Conflict):
    """The order is not in a state that allows this (details name the status)."""

    code = "ORDER_STATE_CONFLICT"
    message = "订单当前状态不能进行此操作"


class OrderNotPayable(Conflict):
    code = "ORDER_NOT_PAYABLE"
    message = "订单当前不能支付"


class OrderPaymentExpired(Conflict):
    code = "ORDER_PAYMENT_EXPIRED"
    message = "订单已超过支付时限"


class PayerIdentityRequired(AllianceError):
    code = "WECHAT_OPENID_REQUIRED"
    http_status = 422
    message = "请先用微信登录小程序后再使用微信支付"


class RefundAmountInvalid(AllianceError):
    code = "REFUND_AMOUNT_INVALID"
    http_status = 422
    message = "退款金额超出可退金额"


class AfterSaleNotFound(NotFound):
    code = "AFTER_SALE_NOT_FOUND"
    message = "售后申请不存在"


class AfterSaleOpen(Conflict):
    code = "AFTER_SALE_IN_PROGRESS"
    message = "该订单已有进行中的售后申请"


class AfterSaleWindowClosed(AllianceError):
    code = "AFTER_SALE_WINDOW_CLOSED"
    http_status = 422
    message = "订单已超过售后期限"


class AlreadyReviewed(Conflict):
    code = "ALREADY_REVIEWED"
    message = "该商品已评价过"


class ComplaintNotFound(NotFound):
    code = "COMPLAINT_NOT_FOUND"
    message = "投诉不存在"
