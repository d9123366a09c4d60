"""The core journey at the HTTP level: log in, order, pay through the provider's stand-in
(a real signed notification reaches our notify URL), and the order is paid."""
import requests

from alliance.db import connection
from alliance.notifications.models import OutboxMessage
from alliance.points.models import PointsEntry
from tests.orders_support import OrderTestCase


class OrderJourneyTest(OrderTestCase):
    def test_a_double_tapped_pay_opens_one_trade_for_both_taps(self):
        token = self.token("alice")
        for round_ in range(3):  # each round a new order: the race is a matter of timing
            created = self.order(token)
            url = self.get_url(f"/api/v1/orders/{created['order_no']}/payments")
            answers = self.run_together(2, lambda i: requests.post(
                url, json={"channel": "wechatpay"}, timeout=20,
                headers={"Authorization": f"Bearer {token}"}))
            assert [a.status_code for a in answers] == [201, 201], [a.text for a in answers]
            assert len({a.json()["out_trade_no"] for a in answers}) == 1
            assert [a.status for a in self.attempts(created["order_no"])] == ["open"]
            self.provider_pays(answers[round_ % 2].json())
            assert self.get_order(token, created["order_no"])["status"] == "paid"

    def test_order_paid_with_wechatpay_is_paid(self):
        token = self.token("alice")
        created = self.order(token, quantity=2)
        assert (created["status"], created["total_fen"], created["discount_fen"],
                created["payable_fen"]) == ("pending_payment", 7000, 0, 7000)
        assert self.stock(self.goods) == 8
        payment = self.start_payment(token, created["order_no"])
        assert payment["amount_fen"] == 7000 and payment["out_trade_no"].startswith(created["order_no"])
        assert set(payment["request_payment"]) == {"timeStamp", "nonceStr", "package", "signType", "paySign"}
        outcome = self.provider_pays(payment)
        assert outcome["deliveries"][0]["accepted"] is True
        order = self.get_order(token, created["order_no"])
        assert (order["status"], order["paid_fen"], order["paid_channel"]) == ("paid", 7000, "wechatpay")
        with connection():
            earned = PointsEntry.select().where(PointsEntry.ref_id == created["order_no"],
                                                PointsEntry.kind == "earn")
            assert [e.amount for e in earned] == [60]
            assert OutboxMessage.select().where(OutboxMessage.event == "order.paid").count() == 1
