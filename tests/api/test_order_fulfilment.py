"""Goods fulfilment (confirm, ship, receipt, automatic completion), reviews, complaints and
the sales figures of merchants and operators."""
import datetime as dt
import io
import json
from urllib.parse import urlsplit

import requests
from PIL import Image

from alliance.accounts.models import OperatorAuditLog
from alliance.db import connection, is_mysql, utcnow
from alliance.media.services import store_image
from alliance.members.models import MerchantMember
from alliance.members.services import record_visit, set_level_rules
from alliance.merchants.models import Merchant
from alliance.notifications.models import OutboxMessage
from alliance.orders import fulfilment
from alliance.orders.models import Order
from alliance.points.rules import points_earned_for
from server.storage import make_storage
from tests.factories import make_item
from tests.orders_support import OrderTestCase
from tests.support import recorded_round_trips, recorded_sql


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 10, 10)).save(buffer, format="PNG")
    return buffer.getvalue()


class FulfilmentTest(OrderTestCase):
    def setUp(self):
        super().setUp()
        self.buyer = self.token("alice")
        self.staff = self.owner_token()
        self.order_no = self.paid_order(self.buyer, quantity=2)["order_no"]

    def ship(self):
        return self.api("POST", f"/api/v1/merchant/orders/{self.order_no}/shipment",
                        {"carrier": "顺丰", "tracking_no": "SF1234567890"}, token=self.staff)

    def complete(self) -> dict:
        self.ship()
        response = self.api("POST", f"/api/v1/orders/{self.order_no}/receipt", {}, token=self.buyer)
        assert response.status == 200, response.body
        return response.json

    def upload(self, name: str, purpose: str) -> str:
        with connection():
            return store_image(make_storage(self.settings), self.user_id(name), purpose, png(),
                               self.settings.max_upload_bytes).id

    def test_confirm_ship_and_receive(self):
        confirmed = self.api("POST", f"/api/v1/merchant/orders/{self.order_no}/confirm", {},
                             token=self.staff)
        assert confirmed.json["status"] == "paid" and confirmed.json["confirmed_at"]
        self.assert_error(self.api("POST", f"/api/v1/merchant/orders/{self.order_no}/confirm", {},
                                   token=self.staff), 409, "ORDER_STATE_CONFLICT")
        shipped = self.ship().json
        assert (shipped["status"], shipped["carrier"], shipped["tracking_no"]) == (
            "shipped", "顺丰", "SF1234567890")
        self.assert_error(self.ship(), 409, "ORDER_STATE_CONFLICT")
        with connection():
            assert OutboxMessage.select().where(OutboxMessage.event == "order.shipped").count() == 1
        done = self.api("POST", f"/api/v1/orders/{self.order_no}/receipt", {}, token=self.buyer)
        assert done.json["status"] == "completed"

    def test_shipped_orders_complete_by_themselves_after_ten_days(self):
        self.ship()
        with connection():
            assert fulfilment.complete_delivered_orders() == 0
            later = utcnow() + fulfilment.AUTO_RECEIPT_AFTER + dt.timedelta(minutes=1)
            assert fulfilment.complete_delivered_orders(later) == 1
            assert Order.get(Order.order_no == self.order_no).status == "completed"

    def test_review_after_completion_once_per_item(self):
        line_id = self.get_order(self.buyer, self.order_no)["items"][0]["line_id"]
        body = {"line_id": line_id, "rating": 4, "content": "好吃",
                "photos": [self.upload("alice", "review_photo")]}
        early = self.api("POST", f"/api/v1/orders/{self.order_no}/reviews", body, token=self.buyer)
        self.assert_error(early, 409, "ORDER_STATE_CONFLICT")
        self.complete()
        review = self.api("POST", f"/api/v1/orders/{self.order_no}/reviews", body, token=self.buyer)
        assert review.status == 201 and review.json["photo_urls"][0].startswith("/media/")
        again = self.api("POST", f"/api/v1/orders/{self.order_no}/reviews", body, token=self.buyer)
        self.assert_error(again, 409, "ALREADY_REVIEWED")
        with connection():
            merchant = Merchant.get_by_id(self.merchant.id)
            assert (merchant.rating_sum, merchant.rating_count) == (4, 1)
        public = self.api("GET", f"/api/v1/merchants/{self.merchant.id}/reviews").json
        assert [r["rating"] for r in public["items"]] == [4]
        reply = self.api("POST", f"/api/v1/merchant/reviews/{review.json['id']}/reply",
                         {"reply": "谢谢惠顾"}, token=self.staff)
        assert reply.json["reply"] == "谢谢惠顾"

    def test_review_with_someone_elses_photo_is_refused(self):
        self.complete()
        line_id = self.get_order(self.buyer, self.order_no)["items"][0]["line_id"]
        body = {"line_id": line_id, "rating": 5, "photos": [self.upload("bob", "review_photo")]}
        response = self.api("POST", f"/api/v1/orders/{self.order_no}/reviews", body, token=self.buyer)
        self.assert_error(response, 400, "VALIDATION_FAILED")

    def test_complaint_is_resolved_by_customer_service(self):
        filed = self.api("POST", "/api/v1/complaints",
                         {"category": "quality", "content": "面是凉的", "order_no": self.order_no,
                          "photos": [self.upload("alice", "evidence")]}, token=self.buyer)
        assert filed.status == 201 and filed.json["merchant_id"] == self.merchant.id
        service = self.operator_token("customer_service")
        open_list = self.api("GET", "/api/admin/v1/complaints?status=open", token=service).json
        assert [c["id"] for c in open_list["items"]] == [filed.json["id"]]
        resolved = self.api("POST", f"/api/admin/v1/complaints/{filed.json['id']}/resolution",
                            {"outcome": "resolved", "resolution": "已协调商家补偿"}, token=service)
        assert resolved.json["status"] == "resolved"
        again = self.api("POST", f"/api/admin/v1/complaints/{filed.json['id']}/resolution",
                         {"outcome": "dismissed", "resolution": "x"}, token=service)
        self.assert_error(again, 409, "ORDER_STATE_CONFLICT")
        mine = self.api("GET", "/api/v1/complaints", token=self.buyer).json
        assert mine["items"][0]["status"] == "resolved"
        with connection():
            assert OperatorAuditLog.get().action == "complaint.resolve"
        [told] = self.told("complaint.resolved")
        assert told == {"complaint_id": filed.json["id"], "result": "resolved",
                        "subject": f"关于「{self.merchant.name}」的投诉",
                        "resolution": "已协调商家补偿"}

    def told(self, event: str) -> list[dict]:
        with connection():
            return [json.loads(m.payload) for m in OutboxMessage.select()
                    .where(OutboxMessage.event == event).order_by(OutboxMessage.id)]

    def test_a_suggestion_to_the_platform_needs_no_merchant_and_is_answered(self):
        filed = self.api("POST", "/api/v1/complaints",
                         {"category": "suggestion", "content": "希望增加夜宵类商户"},
                         token=self.buyer)
        assert filed.status == 201, filed.body
        assert (filed.json["merchant_id"], filed.json["category"]) == (None, "suggestion")
        about = self.api("POST", "/api/v1/complaints",
                         {"category": "suggestion", "content": "营业时间可以更长",
                          "merchant_id": self.merchant.id}, token=self.buyer)
        assert about.json["merchant_id"] == self.merchant.id
        no_subject = self.api("POST", "/api/v1/complaints",
                              {"category": "quality", "content": "没有对象"}, token=self.buyer)
        self.assert_error(no_subject, 400, "VALIDATION_FAILED")
        service = self.operator_token("customer_service")
        listed = self.api("GET", "/api/admin/v1/complaints?category=suggestion", token=service)
        assert [c["id"] for c in listed.json["items"]] == [about.json["id"], filed.json["id"]]
        self.assert_error(self.api("GET", "/api/admin/v1/complaints?category=nope",
                                   token=service), 400, "VALIDATION_FAILED")
        for complaint, outcome in ((filed.json, "resolved"), (about.json, "dismissed")):
            answered = self.api("POST", f"/api/admin/v1/complaints/{complaint['id']}/resolution",
                                {"outcome": outcome, "resolution": "感谢反馈"}, token=service)
            assert answered.status == 200, answered.body
        assert [(m["subject"], m["result"]) for m in self.told("complaint.resolved")] == [
            ("平台意见建议", "resolved"), (f"关于「{self.merchant.name}」的建议", "dismissed")]
        mine = self.api("GET", "/api/v1/complaints", token=self.buyer).json["items"]
        assert [c["status"] for c in mine] == ["dismissed", "resolved"]

    def test_merchant_sales_report_counts_the_days_sales(self):
        self.paid_order(self.buyer, self.service)
        report = self.api("GET", "/api/v1/merchant/sales-report", token=self.staff).json
        assert report["totals"]["orders"] == 2
        assert report["totals"]["paid_fen"] == 7000 + 5000
        assert report["totals"]["units"] == 3
        assert report["days"][-1]["orders"] == 2 and len(report["days"]) == 7
        assert report["top_items"][0]["item_id"] == self.goods.id
        self.assert_error(self.api("GET", "/api/v1/merchant/sales-report?from=2026-01-01&to=2026-03-01",
                                   token=self.staff), 400, "VALIDATION_FAILED")

    def test_reports_count_each_order_on_its_shanghai_day(self):
        self.paid_order(self.buyer, self.service)
        edges = (dt.datetime(2026, 12, 1, 15, 59, 59), dt.datetime(2026, 12, 1, 16, 0, 0))
        with connection():  # 23:59:59 on 1 December and midnight on the 2nd, in Shanghai
            for order, at in zip(Order.select().order_by(Order.id), edges):
                Order.update(created_at=at, paid_at=at).where(Order.id == order.id).execute()
        period = "from=2026-12-01&to=2026-12-02"
        report = self.api("GET", f"/api/v1/merchant/sales-report?{period}", token=self.staff).json
        assert [(d["date"], d["orders"], d["paid_fen"]) for d in report["days"]] == [
            ("2026-12-01", 1, 7000), ("2026-12-02", 1, 5000)]
        assert [d["units"] for d in report["days"]] == [2, 1]
        assert [(i["item_id"], i["units"], i["sales_fen"]) for i in report["top_items"]] == [
            (self.goods.id, 2, 6000), (self.service.id, 1, 5000)]  # lines: no shipping
        admin = self.operator_token("operator")
        stats = self.api("GET", f"/api/admin/v1/order-stats?{period}", token=admin).json
        assert [(d["date"], d["created"], d["paid"], d["paid_fen"]) for d in stats["days"]] == [
            ("2026-12-01", 1, 1, 7000), ("2026-12-02", 1, 1, 5000)]

    def test_operator_statistics_and_abnormal_resolution(self):
        with connection():
            Order.update(abnormal=True, abnormal_reason="AMOUNT_MISMATCH").execute()
        admin = self.operator_token("operator")
        stats = self.api("GET", "/api/admin/v1/order-stats", token=admin).json
        assert (stats["totals"]["created"], stats["totals"]["paid"], stats["abnormal_open"]) == (1, 1, 1)
        assert stats["by_status"] == {"paid": 1}
        resolved = self.api("POST", f"/api/admin/v1/orders/{self.order_no}/abnormal-resolution",
                            {"note": "已人工核实"}, token=admin)
        assert resolved.status == 200 and resolved.json["abnormal"] is False
        again = self.api("POST", f"/api/admin/v1/orders/{self.order_no}/abnormal-resolution",
                         {"note": "x"}, token=admin)
        self.assert_error(again, 409, "ORDER_STATE_CONFLICT")


class PaymentsAtOnceTest(OrderTestCase):
    def test_first_payments_of_many_buyers_at_one_merchant_at_once_all_count(self):
        # Each payment inserts rows that refer to the merchant (the new membership), then
        # counts the sale into the merchant's row. Counted last, two such payments
        # deadlocked on MariaDB: each held the shared lock the reference check takes on
        # the merchant, and waited for the other's to write.
        buyers = 8
        with connection():
            item = make_item(self.merchant, kind="goods", price_fen=3000, stock=100)
        sandbox, sends = self.extras["wechatpay_sandbox"], []
        for i in range(buyers):
            token = self.token(f"buyer-{i}")
            payment = self.start_payment(token, self.order(token, item)["order_no"])
            with connection():
                notification = sandbox.pay({"out_trade_no": payment["out_trade_no"]})[1]
            sends.append(notification)
        statuses = self.run_together(buyers, lambda i: requests.post(
            self.get_url(urlsplit(sends[i].url).path), data=sends[i].body,
            headers=sends[i].headers, timeout=20).status_code)
        assert statuses == [204] * buyers
        with connection():
            merchant = Merchant.get_by_id(self.merchant.id)
            paid = [o.paid_fen for o in Order.select().where(Order.merchant == self.merchant.id,
                                                             Order.paid_at.is_null(False))]
        assert len(paid) == buyers
        assert (merchant.sales_count, merchant.sales_fen) == (buyers, sum(paid))


class PaymentTransactionTest(OrderTestCase):
    def first_payment_statements(self):
        """The statements of a first-time buyer's payment notification, the index of its
        transaction's first (the notification's record), the thread that ran it, and the
        order paid."""
        token = self.token("first-time-buyer")
        payment = self.start_payment(token, self.order(token)["order_no"])
        with recorded_sql() as statements:
            self.provider_pays(payment)
        start = next(i for i, s in enumerate(statements)
                     if s.in_transaction and 'INTO "payment_notification"' in s.sql)
        return statements, start, statements[start].thread, payment["order_no"]

    def test_a_first_payment_reads_the_trade_and_its_terms_in_one_statement(self):
        # On MySQL every statement is a round trip: the trade, its order, the buyer's
        # membership and level and the referral attribution are one read, after the
        # notification's own lookup.
        statements, start, thread, _ = self.first_payment_statements()
        before = [s.sql for s in statements[:start] if s.thread == thread]
        assert len(before) == 2, before
        assert 'FROM "payment_notification"' in before[0]
        assert 'FROM "orders"' in before[1] and 'JOIN "merchant_member"' in before[1]

    def test_a_first_payment_sends_its_writes_to_mysql_together(self):
        # On MySQL every round trip costs more than most statements' own work: the payment's
        # BEGIN and writes go in one, then its COMMIT.
        if not is_mysql():
            self.skipTest("SQLite has no round trips")
        token = self.token("first-time-buyer")
        payment = self.start_payment(token, self.order(token)["order_no"])
        with recorded_round_trips() as sent:
            self.provider_pays(payment)
        start = next(i for i, (_, text) in enumerate(sent) if "`payment_notification`" in text)
        thread = sent[start][0]
        trips = [text for t, text in sent[start:] if t == thread]
        trips = trips[:trips.index("COMMIT") + 1]
        # The notification's lookup, the joined read, then BEGIN and the ten writes, COMMIT.
        assert len(trips) == 4, trips
        assert trips[2].startswith("BEGIN;INSERT INTO `payment_notification`")
        assert trips[2].count(";INSERT INTO ") + trips[2].count(";UPDATE ") == 10, trips[2]
        assert trips[3] == "COMMIT"

    def test_a_members_payment_earns_by_their_level_and_raises_it(self):
        buyer = "silver-member"
        token = self.token(buyer)
        with connection():
            set_level_rules(self.merchant.id, [
                {"name": "银卡", "min_spent_fen": 100, "points_multiplier_pct": 200},
                {"name": "金卡", "min_spent_fen": 2000, "points_multiplier_pct": 300}])
            record_visit(self.user_id(buyer), self.merchant.id, spent_fen=100)
        order = self.order(token)
        payment = self.start_payment(token, order["order_no"])
        self.provider_pays(payment)
        row = self.row(order["order_no"])
        assert row.status == "paid"
        # Earned at the level the buyer had when paying (银卡, 200 %), not the one it reaches.
        assert row.earn_points == points_earned_for(row.paid_fen - row.shipping_fen, 200) > 0
        assert self.balance(buyer) == row.earn_points
        with connection():
            member = MerchantMember.get(MerchantMember.merchant == self.merchant.id,
                                        MerchantMember.user_id == self.user_id(buyer))
        assert (member.level, member.visits, member.total_spent_fen) == (
            2, 2, 100 + row.paid_fen - row.shipping_fen)

    def test_a_first_payment_transaction_only_writes(self):
        # On SQLite the payment's transaction holds the one write lock: everything it reads
        # (the trade, the order, the buyer's terms and referral attribution, the balance a
        # points entry leaves) is read before it, or by the write that needs it.
        statements, start, thread, order_no = self.first_payment_statements()
        held = []
        for statement in statements[start:]:
            if statement.thread != thread:
                continue
            if not statement.in_transaction:
                break
            held.append(statement.sql)
        verbs = [sql.split(" ", 1)[0] for sql in held]
        assert set(verbs) <= {"INSERT", "UPDATE"}, held
        tables = [sql.split('"')[1] for sql in held]
        assert tables == ["payment_notification", "payment_attempt", "orders", "merchant",
                          "points_account", "points_entry", "merchant_member",
                          "merchant_member", "outbox_message", "referral_attribution"], tables
        assert self.balance("first-time-buyer") == self.row(order_no).earn_points > 0
