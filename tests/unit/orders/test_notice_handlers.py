"""The orders' notice handlers at the service level, with a gateway that answers from memory."""
import dataclasses

import pytest

from alliance.accounts.models import WechatIdentity
from alliance.db import transaction
from alliance.notifications.outbox import OutboxNotifier
from alliance.orders import checkout, payments, refunds
from alliance.orders.context import OrderContext
from alliance.orders.models import Order, PaymentAttempt, Refund
from alliance.ports import PaymentNotice, PrepayResult, RefundNotice, RefundResult
from tests.factories import make_item, make_merchant, make_user

APPID = "wx-test"


class MemoryGateway:
    """Opens every trade, takes every refund as processing, and remembers the calls."""

    channel = "wechatpay"

    def __init__(self):
        self.refunds = []

    def prepay(self, request):
        return PrepayResult(self.channel, request.out_trade_no, request.amount_fen,
                            {"package": "prepay_id=wx1"}, "wx1")

    def close(self, out_trade_no):
        return None

    def refund(self, request):
        self.refunds.append(request)
        return RefundResult(self.channel, request.out_trade_no, request.out_refund_no, "R1",
                            "processing", request.refund_fen, "PROCESSING")


@pytest.fixture
def octx(database):
    return OrderContext(gateways={"wechatpay": MemoryGateway()}, notifier=OutboxNotifier(),
                        miniapp_appid=APPID)


@pytest.fixture
def attempt(octx) -> PaymentAttempt:
    buyer = make_user()
    WechatIdentity.create(appid=APPID, openid="o-buyer", user=buyer)
    item = make_item(make_merchant(), price_fen=2000)
    order = checkout.create_order(octx, buyer.id, checkout.Basket(items=[(item.id, 1)]))
    payment = payments.start_payment(octx, buyer.id, order.order_no, "wechatpay")
    return PaymentAttempt.get(PaymentAttempt.out_trade_no == payment["out_trade_no"])


def notice(attempt: PaymentAttempt, **changes) -> PaymentNotice:
    base = PaymentNotice(channel="wechatpay", notification_id="EV-1",
                         out_trade_no=attempt.out_trade_no, transaction_id="4200",
                         amount_fen=attempt.amount_fen, paid=True, trade_state="SUCCESS")
    return dataclasses.replace(base, **changes)


def apply(octx, value) -> str | None:
    handler = payments.apply_payment_notice if isinstance(value, PaymentNotice) \
        else refunds.apply_refund_notice
    with transaction():
        return handler(octx, value)


def test_notice_of_a_trade_closed_unpaid_closes_the_attempt(octx, attempt):
    assert apply(octx, notice(attempt, paid=False, trade_state="TRADE_CLOSED")) is None
    assert PaymentAttempt.get_by_id(attempt.id).status == "closed"
    assert Order.get_by_id(attempt.order_id).status == "pending_payment"


def test_notice_of_an_unknown_trade_or_channel_is_abnormal(octx, attempt):
    assert apply(octx, notice(attempt, out_trade_no="T-unknown")) == "UNKNOWN_TRADE"
    assert apply(octx, notice(attempt, channel="alipay")) == "UNKNOWN_TRADE"
    assert Order.get_by_id(attempt.order_id).status == "pending_payment"


def test_notice_applied_twice_pays_once(octx, attempt):
    assert apply(octx, notice(attempt)) is None
    assert apply(octx, notice(attempt, notification_id="EV-2")) is None
    order = Order.get_by_id(attempt.order_id)
    assert (order.status, order.paid_fen, order.paid_attempt_id) == ("paid", 3000, attempt.id)


def refund_notice(refund: Refund, attempt: PaymentAttempt, **changes) -> RefundNotice:
    base = RefundNotice(channel="wechatpay", notification_id="EV-R1",
                        out_trade_no=attempt.out_trade_no, transaction_id="4200",
                        out_refund_no=refund.out_refund_no, refund_id="R1", status="succeeded",
                        refund_fen=refund.amount_fen)
    return dataclasses.replace(base, **changes)


def started_refund(octx, attempt, amount_fen=1000) -> Refund:
    apply(octx, notice(attempt))
    with transaction():
        refund = refunds.start_refund(octx, Order.get_by_id(attempt.order_id), amount_fen,
                                      kind="merchant")
    return Refund.get_by_id(refund.id)


def test_refund_submitted_after_commit_is_processing(octx, attempt):
    refund = started_refund(octx, attempt)
    assert (refund.status, refund.refund_id) == ("processing", "R1")
    [request] = octx.gateways["wechatpay"].refunds
    assert (request.out_refund_no, request.refund_fen, request.total_fen) == (
        refund.out_refund_no, 1000, 3000)


def test_refund_notice_with_another_amount_flags_the_order(octx, attempt):
    refund = started_refund(octx, attempt)
    assert apply(octx, refund_notice(refund, attempt, refund_fen=999)) == "REFUND_AMOUNT_MISMATCH"
    order = Order.get_by_id(attempt.order_id)
    assert (order.status, order.refunded_fen, order.abnormal_reason) == (
        "refunding", 0, "REFUND_AMOUNT_MISMATCH")


def test_refund_notice_of_an_abnormal_refund_flags_the_order(octx, attempt):
    refund = started_refund(octx, attempt)
    assert apply(octx, refund_notice(refund, attempt, status="abnormal")) is None
    order = Order.get_by_id(attempt.order_id)
    assert (order.status, order.abnormal_reason) == ("refunding", "REFUND_ABNORMAL")


def test_refund_notice_closed_fails_the_refund_and_restores_the_order(octx, attempt):
    refund = started_refund(octx, attempt)
    assert apply(octx, refund_notice(refund, attempt, status="closed")) is None
    assert Refund.get_by_id(refund.id).status == "failed"
    assert Order.get_by_id(attempt.order_id).status == "paid"


def test_refund_notice_of_an_unknown_refund_is_abnormal(octx, attempt):
    refund = started_refund(octx, attempt)
    unknown = refund_notice(refund, attempt, out_refund_no="R-unknown")
    assert apply(octx, unknown) == "UNKNOWN_REFUND"
