"""The scheduler's order jobs when things stay wrong for a while: points given back after
their lot expired, refunds and trades the providers keep failing to answer."""
import datetime as dt

from alliance.accounts.models import WechatIdentity
from alliance.db import transaction, utcnow
from alliance.notifications.outbox import OutboxNotifier
from alliance.orders import checkout, lifecycle, payments, refunds
from alliance.orders.context import OrderContext
from alliance.orders.models import Order, PaymentAttempt, Refund
from alliance.payments.errors import PaymentUnavailable
from alliance.points import services as points
from alliance.points.models import PointsEntry
from alliance.ports import RefundResult, TradeQueryResult
from tests.factories import make_item, make_merchant, make_user
from tests.unit.orders.test_notice_handlers import APPID, MemoryGateway, notice


class StuckGateway(MemoryGateway):
    """Never finishes the trades and refunds named in ``stuck`` (WeChat Pay's ABNORMAL
    refund, a query that keeps failing); answers the others as done."""

    def __init__(self):
        super().__init__()
        self.stuck: set[str] = set()
        self.asked: list[str] = []
        self.amounts: dict[str, int] = {}

    def prepay(self, request):
        self.amounts[request.out_trade_no] = request.amount_fen
        return super().prepay(request)

    def query_refund(self, out_trade_no, out_refund_no):
        self.asked.append(out_refund_no)
        if out_refund_no in self.stuck:
            return RefundResult(self.channel, out_trade_no, out_refund_no, "R1", "processing",
                                500, "ABNORMAL")
        return RefundResult(self.channel, out_trade_no, out_refund_no, "R1", "succeeded", 500,
                            "SUCCESS", succeeded_at=utcnow())

    def query(self, out_trade_no):
        self.asked.append(out_trade_no)
        if out_trade_no in self.stuck:
            raise PaymentUnavailable()
        return TradeQueryResult(self.channel, out_trade_no, "paid", "SUCCESS",
                                transaction_id="4200", amount_fen=self.amounts[out_trade_no],
                                paid_at=utcnow())


def _context(gateway) -> OrderContext:
    return OrderContext(gateways={"wechatpay": gateway}, notifier=OutboxNotifier(),
                        miniapp_appid=APPID)


def _opened_trade(octx) -> PaymentAttempt:
    buyer = make_user()
    WechatIdentity.create(appid=APPID, openid=f"o-{buyer.id}", user=buyer)
    item = make_item(make_merchant(), price_fen=2000)
    order = checkout.create_order(octx, buyer.id, checkout.Basket(items=[(item.id, 1)]))
    payment = payments.start_payment(octx, buyer.id, order.order_no, "wechatpay")
    return PaymentAttempt.get(PaymentAttempt.out_trade_no == payment["out_trade_no"])


def test_points_an_order_gives_back_after_their_lot_expired_expire_too(database):
    octx = _context(MemoryGateway())
    t0 = utcnow()
    buyer = make_user()
    item = make_item(make_merchant(), price_fen=2000)
    points.earn(buyer.id, 100, merchant_id=None, idempotency_key="gift",
                lifetime=dt.timedelta(minutes=5), now=t0)
    order = checkout.create_order(octx, buyer.id, checkout.Basket(items=[(item.id, 1)], points=30))
    assert points.expire_due(now=t0 + dt.timedelta(minutes=6)) == 1  # the 70 left
    assert lifecycle.close_unpaid_orders(octx, now=t0 + dt.timedelta(minutes=16))["closed"] == 1
    assert Order.get_by_id(order.id).status == "cancelled" and points.balance_of(buyer.id) == 30
    assert points.expire_due(now=t0 + dt.timedelta(minutes=26)) == 1
    assert points.balance_of(buyer.id) == 0
    assert PointsEntry.get(PointsEntry.idempotency_key == "gift").lot_remaining == 0


def test_refunds_the_provider_never_finishes_do_not_hold_up_newer_ones(database):
    gateway = StuckGateway()
    octx = _context(gateway)
    for n in range(2):
        attempt = _opened_trade(octx)
        with transaction():
            payments.apply_payment_notice(octx, notice(attempt, notification_id=f"EV-{n}"))
        with transaction():
            refunds.start_refund(octx, Order.get_by_id(attempt.order_id), 500, kind="merchant")
    stuck, newer = Refund.select().order_by(Refund.id)
    gateway.stuck.add(stuck.out_refund_no)
    later = utcnow() + dt.timedelta(minutes=5)
    for run in range(2):  # limit=1 stands for the job's 100, all of them stuck
        refunds.refresh_refunds(octx, now=later + dt.timedelta(minutes=run), limit=1)
    assert gateway.asked == [stuck.out_refund_no, newer.out_refund_no]
    assert Refund.get_by_id(newer.id).status == "succeeded"
    assert Refund.get_by_id(stuck.id).status == "processing"


def test_trades_whose_query_keeps_failing_do_not_hold_up_the_others(database):
    gateway = StuckGateway()
    octx = _context(gateway)
    failing, lost = _opened_trade(octx), _opened_trade(octx)  # lost: its notification never came
    gateway.stuck.add(failing.out_trade_no)
    later = utcnow() + dt.timedelta(minutes=10)
    for run in range(2):  # limit=1 stands for the job's 100, all of them failing
        payments.reconcile_pending_payments(octx, now=later + dt.timedelta(minutes=run), limit=1)
    assert gateway.asked == [failing.out_trade_no, lost.out_trade_no]
    assert Order.get_by_id(lost.order_id).status == "paid"
    assert PaymentAttempt.get_by_id(failing.id).checked_at is not None


def test_a_refund_the_provider_reports_of_another_amount_is_flagged_not_applied(database):
    gateway = StuckGateway()
    octx = _context(gateway)
    attempt = _opened_trade(octx)
    with transaction():
        payments.apply_payment_notice(octx, notice(attempt))
    with transaction():  # the gateway's query answers 500 fen succeeded
        refund = refunds.start_refund(octx, Order.get_by_id(attempt.order_id), 400,
                                      kind="merchant")
    refunds.refresh_refunds(octx, now=utcnow() + dt.timedelta(minutes=5))
    assert gateway.asked == [refund.out_refund_no]
    order = Order.get_by_id(attempt.order_id)
    assert Refund.get_by_id(refund.id).status == "processing" and order.refunded_fen == 0
    assert (order.abnormal, order.abnormal_reason) == (True, "REFUND_AMOUNT_MISMATCH")
