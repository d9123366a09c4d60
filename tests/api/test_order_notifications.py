"""Payment notifications of orders, signed as the providers sign them: valid, duplicated,
concurrent, forged, stale, wrong amount, wrong app — one effect or none."""
import time

from cryptography.hazmat.primitives.asymmetric import rsa
from wechatpayv3.utils import rsa_sign

from alliance.catalog.models import CatalogItem
from alliance.db import connection
from alliance.merchants.models import Merchant
from alliance.notifications.models import OutboxMessage
from alliance.payments.models import PaymentNotification
from alliance.points.models import PointsEntry
from tests.orders_support import OrderTestCase

V3_PATH = "/payments/wechatpay/notify"
ALIPAY_PATH = "/payments/alipay/notify"
FORM = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}


class NotificationCase(OrderTestCase):
    def setUp(self):
        super().setUp()
        self.buyer = self.token("alice")
        self.created = self.order(self.buyer)
        self.order_no = self.created["order_no"]

    def effects(self) -> dict:
        """What a payment changes, counted in the database."""
        with connection():
            return {
                "earned": PointsEntry.select().where(PointsEntry.ref_id == self.order_no,
                                                     PointsEntry.kind == "earn").count(),
                "outbox": OutboxMessage.select().where(OutboxMessage.event == "order.paid").count(),
                "stock": CatalogItem.get_by_id(self.goods.id).stock,
                "sales": Merchant.get_by_id(self.merchant.id).sales_count,
            }

    def status(self) -> str:
        return self.get_order(self.buyer, self.order_no)["status"]


class WechatPayOrderNotificationTest(NotificationCase):
    def setUp(self):
        super().setUp()
        self.payment = self.start_payment(self.buyer, self.order_no)
        self.stand_in = self.extras["wechatpay_sandbox"]

    def body(self, notify_id: str = "EV-1", **changes) -> str:
        return self.wechatpay_body(self.payment, notify_id, **changes)

    def post(self, body: str, **sign):
        return self.api("POST", V3_PATH, body=body.encode(),
                        headers=self.stand_in.signed_headers(body, **sign))

    def test_notify_valid_payment_pays_the_order_once(self):
        before = self.effects()
        response = self.post(self.body())
        assert response.status == 204 and response.body == b""
        assert self.status() == "paid"
        after = self.effects()
        assert (after["earned"], after["outbox"], after["stock"]) == (1, 1, before["stock"])
        assert after["sales"] == before["sales"] + 1

    def test_notify_duplicates_from_the_provider_have_one_effect(self):
        outcome = self.provider_pays(self.payment, duplicates=3)
        assert [d["accepted"] for d in outcome["deliveries"]] == [True] * 4
        assert self.status() == "paid"
        effects = self.effects()
        assert (effects["earned"], effects["outbox"], effects["sales"]) == (1, 1, 1)
        assert len(self.notifications_of(self.payment["out_trade_no"])) == 1

    def test_notify_concurrent_duplicates_have_one_effect(self):
        body = self.body()
        statuses = self.post_concurrently(V3_PATH, body.encode(),
                                          self.stand_in.signed_headers(body), copies=6)
        assert statuses == [204] * 6
        assert self.status() == "paid"
        effects = self.effects()
        assert (effects["earned"], effects["outbox"], effects["sales"]) == (1, 1, 1)

    def test_notify_concurrent_notifications_of_one_payment_have_one_effect(self):
        bodies = [self.body(notify_id=f"EV-{n}") for n in range(4)]
        statuses = []
        for body in bodies:  # distinct notification ids, all at once
            statuses += self.post_concurrently(V3_PATH, body.encode(),
                                               self.stand_in.signed_headers(body), copies=2)
        assert statuses == [204] * 8
        effects = self.effects()
        assert (effects["earned"], effects["outbox"], effects["sales"]) == (1, 1, 1)
        assert [r.status for r in self.notifications_of(self.payment["out_trade_no"])] == \
            ["processed"] * 4

    def test_notify_wrong_amount_is_abnormal_and_not_paid(self):
        outcome = self.provider_pays(self.payment, amount_fen=1)
        assert outcome["deliveries"][0]["accepted"] is True  # acknowledged, not applied
        assert self.status() == "pending_payment"
        row = self.row(self.order_no)
        assert (row.abnormal, row.abnormal_reason) == (True, "AMOUNT_MISMATCH")
        [notice] = self.notifications_of(self.payment["out_trade_no"])
        assert (notice.status, notice.reason) == ("abnormal", "AMOUNT_MISMATCH")
        assert self.effects()["earned"] == 0
        admin = self.operator_token("operator")
        listed = self.api("GET", "/api/admin/v1/orders?abnormal=true", token=admin).json
        assert [o["order_no"] for o in listed["items"]] == [self.order_no]
        # what the buyer paid goes back whole, and they can pay the order properly
        [refund] = self.wait_for(lambda: [r for r in self.refunds(self.order_no)
                                          if r.status == "succeeded"])
        assert (refund.kind, refund.amount_fen) == ("stray_payment", 1)
        assert self.sandbox_trade(self.payment["out_trade_no"]).refunded_fen == 1
        assert [a.status for a in self.attempts(self.order_no)] == ["refunded"]
        self.provider_pays(self.start_payment(self.buyer, self.order_no))
        order = self.get_order(self.buyer, self.order_no)
        assert (order["status"], order["paid_fen"]) == ("paid", self.payment["amount_fen"])
        assert self.effects()["earned"] == 1 and len(self.refunds(self.order_no)) == 1

    def test_notify_forged_signature_is_rejected_and_changes_nothing(self):
        other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        body, timestamp = self.body(), int(time.time())
        headers = self.stand_in.signed_headers(body, timestamp)
        headers["Wechatpay-Signature"] = rsa_sign(
            other, f"{timestamp}\n{headers['Wechatpay-Nonce']}\n{body}\n")
        response = self.api("POST", V3_PATH, body=body.encode(), headers=headers)
        assert response.status == 401 and response.json == {"code": "FAIL", "message": "失败"}
        assert self.status() == "pending_payment" and self.effects()["earned"] == 0

    def test_notify_stale_is_rejected_and_changes_nothing(self):
        response = self.post(self.body(), timestamp=int(time.time()) - 600)
        assert response.status == 400
        assert self.status() == "pending_payment"

    def test_notify_for_another_app_is_rejected_and_changes_nothing(self):
        response = self.post(self.body(appid="wx0000000000000999"))
        assert response.status == 400
        assert self.status() == "pending_payment"
        with connection():
            assert PaymentNotification.get().reason == "APPID_MISMATCH"

    def test_notify_for_another_merchant_is_rejected_and_changes_nothing(self):
        assert self.post(self.body(mchid="1900000999")).status == 400
        assert self.status() == "pending_payment"

    def test_notify_of_an_unknown_trade_is_acknowledged_as_abnormal(self):
        response = self.post(self.body(out_trade_no="T20990101000000"))
        assert response.status == 204
        [notice] = self.notifications_of("T20990101000000")
        assert (notice.status, notice.reason) == ("abnormal", "UNKNOWN_TRADE")
        assert self.status() == "pending_payment"

    def notifications_of(self, out_trade_no: str) -> list:
        return self.notifications(out_trade_no=out_trade_no)


class AlipayOrderNotificationTest(NotificationCase):
    def setUp(self):
        super().setUp()
        self.payment = self.start_payment(self.buyer, self.order_no, "alipay")
        self.stand_in = self.extras["alipay_sandbox"]

    def fields(self, **changes) -> dict:
        fields = {"notify_time": "2026-11-28 10:00:05", "notify_type": "trade_status_sync",
                  "notify_id": "ac05099524730693a8b330c5ecf72da9786",
                  "app_id": self.settings.alipay_app_id, "charset": "utf-8", "version": "1.0",
                  "trade_no": "2026112822001400001234567890",
                  "out_trade_no": self.payment["out_trade_no"], "buyer_id": "2088102177846875",
                  "seller_id": self.settings.alipay_seller_id, "trade_status": "TRADE_SUCCESS",
                  "total_amount": "40.00", "subject": "测试", "gmt_payment": "2026-11-28 10:00:00"}
        fields.update(changes)
        return fields

    def post(self, **changes):
        return self.api("POST", ALIPAY_PATH, body=self.stand_in.signed_form(self.fields(**changes)),
                        headers=FORM)

    def test_order_paid_with_alipay_is_paid(self):
        outcome = self.provider_pays(self.payment)
        assert outcome["deliveries"][0]["accepted"] is True
        order = self.get_order(self.buyer, self.order_no)
        assert (order["status"], order["paid_channel"], order["paid_fen"]) == ("paid", "alipay", 4000)
        assert self.payment["order_string"] and "app_id=" in self.payment["order_string"]

    def test_notify_repeated_is_answered_success_and_pays_once(self):
        assert self.post().body == b"success"
        assert self.post().body == b"success"
        assert self.status() == "paid" and self.effects()["earned"] == 1

    def test_notify_total_amount_in_yuan_must_match(self):
        assert self.post(total_amount="39.99").body == b"success"
        assert self.status() == "pending_payment"
        assert self.row(self.order_no).abnormal_reason == "AMOUNT_MISMATCH"

    def test_notify_for_another_app_or_seller_is_rejected(self):
        assert self.post(app_id="2021000000000999").body == b"fail"
        assert self.post(seller_id="2088000000000999").body == b"fail"
        assert self.status() == "pending_payment"


class WechatPayV2OrderTest(NotificationCase):
    env = {"WECHATPAY_API_KEY": "192006250b4c09247ec02edce69f6a2d"}

    def test_order_paid_with_wechatpay_v2_is_paid_once(self):
        payment = self.start_payment(self.buyer, self.order_no, "wechatpay_v2")
        assert payment["request_payment"]["signType"] in ("MD5", "HMAC-SHA256")
        outcome = self.provider_pays(payment, duplicates=2)
        assert all(d["accepted"] for d in outcome["deliveries"])
        assert self.status() == "paid" and self.effects()["earned"] == 1
