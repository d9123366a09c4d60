"""Orders that are not (or not normally) paid: cancel, timeout close from two processes,
channel switches, payments of cancelled orders, and the active query fallback."""
import datetime as dt

from alliance.db import connection, utcnow
from alliance.orders import lifecycle, payments
from alliance.orders.models import Order, PaymentAttempt
from alliance.points.models import PointsEntry
from sandbox import trades
from tests.orders_support import OrderTestCase, Unreachable


class LifecycleTest(OrderTestCase):
    def setUp(self):
        super().setUp()
        self.buyer = self.token("alice")

    def expire(self, order_no: str) -> None:
        with connection():
            past = utcnow() - dt.timedelta(minutes=1)
            Order.update(expires_at=past).where(Order.order_no == order_no).execute()

    def test_cancel_releases_stock_points_and_coupon(self):
        self.give_points("alice", 1000)
        coupon_id = self.give_coupon("alice", discount_fen=500)
        created = self.order(self.buyer, quantity=2, points=300, coupon_id=coupon_id)
        assert (created["discount_fen"], created["breakdown"]["coupon_discount_fen"],
                created["breakdown"]["points_used"]) == (800, 500, 300)
        assert (self.stock(self.goods), self.balance("alice"),
                self.coupon_status(coupon_id)) == (8, 700, "locked")
        response = self.api("POST", f"/api/v1/orders/{created['order_no']}/cancel", {}, token=self.buyer)
        assert response.status == 200 and response.json["status"] == "cancelled"
        assert (self.stock(self.goods), self.balance("alice"),
                self.coupon_status(coupon_id)) == (10, 1000, "active")

    def test_cancel_of_a_paid_order_is_refused(self):
        order = self.paid_order(self.buyer)
        response = self.api("POST", f"/api/v1/orders/{order['order_no']}/cancel", {}, token=self.buyer)
        self.assert_error(response, 409, "ORDER_STATE_CONFLICT")

    def test_cancel_closes_the_open_trade_at_the_provider(self):
        created = self.order(self.buyer)
        payment = self.start_payment(self.buyer, created["order_no"])
        self.api("POST", f"/api/v1/orders/{created['order_no']}/cancel", {}, token=self.buyer)
        assert self.sandbox_trade(payment["out_trade_no"]).state == "CLOSED"
        assert [a.status for a in self.attempts(created["order_no"])] == ["closed"]

    def test_pay_on_the_same_channel_reuses_the_trade(self):
        created = self.order(self.buyer)
        first = self.start_payment(self.buyer, created["order_no"])
        second = self.start_payment(self.buyer, created["order_no"])
        assert first["out_trade_no"] == second["out_trade_no"]

    def test_pay_on_another_channel_closes_the_first_trade(self):
        created = self.order(self.buyer)
        first = self.start_payment(self.buyer, created["order_no"])
        second = self.start_payment(self.buyer, created["order_no"], "alipay")
        assert first["out_trade_no"] != second["out_trade_no"]
        assert [a.status for a in self.attempts(created["order_no"])] == ["closed", "open"]
        assert self.sandbox_trade(first["out_trade_no"]).state == "CLOSED"
        self.provider_pays(second)
        assert self.get_order(self.buyer, created["order_no"])["status"] == "paid"

    def test_payment_closes_the_trade_left_open_on_the_other_channel(self):
        created = self.order(self.buyer)
        first = self.start_payment(self.buyer, created["order_no"])
        gateways = self.extras["payment_gateways"]
        gateways["wechatpay"] = Unreachable(gateways["wechatpay"])
        second = self.start_payment(self.buyer, created["order_no"], "alipay")
        gateways["wechatpay"] = gateways["wechatpay"].gateway
        assert [a.status for a in self.attempts(created["order_no"])] == ["open", "open"]
        self.provider_pays(second)
        # Closed after the payment's commit, by a worker (a call to WeChat Pay).
        self.wait_for(lambda: [a.status for a in self.attempts(created["order_no"])]
                      == ["closed", "paid"])
        assert self.sandbox_trade(first["out_trade_no"]).state == "CLOSED"

    def test_pay_after_the_deadline_is_refused(self):
        created = self.order(self.buyer)
        self.expire(created["order_no"])
        response = self.api("POST", f"/api/v1/orders/{created['order_no']}/payments",
                            {"channel": "wechatpay"}, token=self.buyer)
        self.assert_error(response, 409, "ORDER_PAYMENT_EXPIRED")

    def test_pay_with_an_unknown_channel_is_refused(self):
        created = self.order(self.buyer)
        response = self.api("POST", f"/api/v1/orders/{created['order_no']}/payments",
                            {"channel": "bitcoin"}, token=self.buyer)
        self.assert_error(response, 400, "VALIDATION_FAILED")
        response = self.api("POST", f"/api/v1/orders/{created['order_no']}/payments",
                            {"channel": "wechatpay_v2"}, token=self.buyer)
        self.assert_error(response, 400, "PAYMENT_CHANNEL_UNAVAILABLE")

    def test_close_unpaid_orders_from_two_threads_closes_each_once(self):
        self.give_points("alice", 10_000)
        numbers = []
        for n in range(4):
            created = self.order(self.buyer, quantity=2, points=100)
            if n % 2:
                self.start_payment(self.buyer, created["order_no"])
            numbers.append(created["order_no"])
            self.expire(created["order_no"])
        assert self.stock(self.goods) == 2
        def close(_):
            with connection():
                return lifecycle.close_unpaid_orders(self.octx)

        results = self.run_together(2, close)
        assert sum(r["closed"] for r in results) == 4
        assert {self.row(no).status for no in numbers} == {"cancelled"}
        assert self.stock(self.goods) == 10
        assert self.balance("alice") == 10_000
        with connection():
            returned = PointsEntry.select().where(PointsEntry.kind == "refund").count()
            assert returned == 4
            assert {a.status for a in PaymentAttempt.select()} == {"closed"}

    def test_close_unpaid_orders_pays_an_order_paid_at_the_provider_instead(self):
        created = self.order(self.buyer)
        payment = self.start_payment(self.buyer, created["order_no"])
        paid = self.api("POST", "/_sandbox/wechatpay/_control/pay",
                        {"out_trade_no": payment["out_trade_no"], "delay_s": 1})
        assert paid.status == 202  # paid at WeChat Pay; the notification is late
        self.expire(created["order_no"])
        counts = self.call(lifecycle.close_unpaid_orders, self.octx)
        assert (counts["closed"], counts["paid"]) == (0, 1)
        assert self.row(created["order_no"]).status == "paid"
        self.spin(1.5)  # the late notification arrives: a repeat, no second effect
        with connection():
            assert PointsEntry.select().where(PointsEntry.kind == "earn").count() == 1

    def test_payment_of_a_cancelled_order_is_refunded_automatically(self):
        created = self.order(self.buyer)
        payment = self.start_payment(self.buyer, created["order_no"])
        gateways = self.extras["payment_gateways"]
        gateways["wechatpay"] = Unreachable(gateways["wechatpay"])
        self.expire(created["order_no"])
        assert self.call(lifecycle.close_unpaid_orders, self.octx)["closed"] == 1
        gateways["wechatpay"] = gateways["wechatpay"].gateway
        assert self.stock(self.goods) == 10
        self.provider_pays(payment)  # the buyer paid anyway
        [refund] = self.wait_for(lambda: [r for r in self.refunds(created["order_no"])
                                          if r.status == "succeeded"])
        assert (refund.kind, refund.amount_fen) == ("stray_payment", payment["amount_fen"])
        assert self.sandbox_trade(payment["out_trade_no"]).refunded_fen == payment["amount_fen"]
        assert [a.status for a in self.attempts(created["order_no"])] == ["refunded"]
        order = self.get_order(self.buyer, created["order_no"])
        assert (order["status"], order["paid_fen"]) == ("cancelled", 0)
        assert self.stock(self.goods) == 10

    def test_reconcile_applies_a_payment_whose_notification_was_lost(self):
        created = self.order(self.buyer)
        payment = self.start_payment(self.buyer, created["order_no"])
        with connection():
            trades.pay_trade("wechatpay", payment["out_trade_no"])  # paid, never notified
            (PaymentAttempt.update(created_at=utcnow() - dt.timedelta(minutes=10))
             .where(PaymentAttempt.out_trade_no == payment["out_trade_no"]).execute())
        counts = self.call(payments.reconcile_pending_payments, self.octx)
        assert (counts["checked"], counts["paid"]) == (1, 1)
        assert self.row(created["order_no"]).status == "paid"
        assert self.call(payments.reconcile_pending_payments, self.octx)["checked"] == 0

    def test_reconcile_closes_the_trades_of_orders_past_their_deadline(self):
        created = self.order(self.buyer)
        payment = self.start_payment(self.buyer, created["order_no"])
        self.expire(created["order_no"])
        with connection():
            (PaymentAttempt.update(created_at=utcnow() - dt.timedelta(minutes=10))
             .where(PaymentAttempt.out_trade_no == payment["out_trade_no"]).execute())
        assert self.call(payments.reconcile_pending_payments, self.octx)["closed"] == 1
        assert self.sandbox_trade(payment["out_trade_no"]).state == "CLOSED"
