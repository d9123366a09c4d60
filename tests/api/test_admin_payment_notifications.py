"""Operators see the providers' notifications the platform could not apply as it should:
money paid for a trade it does not know (UNKNOWN_TRADE) or for another amount, signed and
delivered as WeChat Pay delivers them."""
from unittest import mock

from alliance.accounts.permissions import ROLE_PERMISSIONS
from tests.orders_support import OrderTestCase
from tests.support import recorded_sql

LIST = "/api/admin/v1/payment-notifications"
V3_PATH = "/payments/wechatpay/notify"


class AdminPaymentNotificationsTest(OrderTestCase):
    def setUp(self):
        super().setUp()
        self.buyer = self.token("alice")
        self.order_no = self.order(self.buyer)["order_no"]
        self.payment = self.start_payment(self.buyer, self.order_no)
        self.admin = self.operator_token("customer_service")

    def notify_unknown_trade(self, out_trade_no: str, amount_fen: int = 1234) -> None:
        """WeChat Pay tells us, verifiably, that ``out_trade_no`` was paid: no order's trade."""
        amount = {"total": amount_fen, "payer_total": amount_fen, "currency": "CNY"}
        body = self.wechatpay_body(self.payment, f"EV-{out_trade_no}",
                                   out_trade_no=out_trade_no, amount=amount)
        response = self.api("POST", V3_PATH, body=body.encode(),
                            headers=self.extras["wechatpay_sandbox"].signed_headers(body))
        assert response.status == 204, response.body

    def listed(self, query: str = "", token: str | None = None) -> dict:
        response = self.api("GET", LIST + query, token=token or self.admin)
        assert response.status == 200, response.body
        return response.json

    def test_list_shows_a_payment_for_an_unknown_trade_without_order(self):
        self.notify_unknown_trade("T20990101000000", amount_fen=1234)
        [item] = self.listed()["items"]
        received_at = item.pop("received_at")
        assert received_at.endswith("+08:00")
        assert item.pop("id") > 0 and item.pop("processed_at").endswith("+08:00")
        assert item == {"channel": "wechatpay", "notification_id": "EV-T20990101000000",
                        "kind": "payment", "out_trade_no": "T20990101000000",
                        "out_refund_no": None, "transaction_id": "4200000001202611280000000001",
                        "amount_fen": 1234, "status": "abnormal", "reason": "UNKNOWN_TRADE",
                        "order_no": None}

    def test_list_shows_a_payment_of_another_amount_with_its_order(self):
        self.provider_pays(self.payment, amount_fen=1)
        [item] = self.listed()["items"]
        assert (item["reason"], item["amount_fen"], item["order_no"], item["out_trade_no"]) == \
            ("AMOUNT_MISMATCH", 1, self.order_no, self.payment["out_trade_no"])
        # the buyer's money goes back (a stray payment's refund), the notice stays listed
        self.wait_for(lambda: [r for r in self.refunds(self.order_no) if r.status == "succeeded"])
        assert [i["reason"] for i in self.listed()["items"]] == ["AMOUNT_MISMATCH"]

    def test_list_shows_processed_notifications_only_when_asked(self):
        self.provider_pays(self.payment)
        assert self.listed()["items"] == []
        [item] = self.listed("?status=processed")["items"]
        assert (item["status"], item["reason"], item["kind"], item["order_no"]) == \
            ("processed", None, "payment", self.order_no)
        assert item["amount_fen"] == self.payment["amount_fen"]

    def test_list_filters_by_channel_and_reason(self):
        self.notify_unknown_trade("T20990101000001")
        assert len(self.listed("?channel=wechatpay&reason=UNKNOWN_TRADE")["items"]) == 1
        assert self.listed("?channel=alipay")["items"] == []
        assert self.listed("?reason=AMOUNT_MISMATCH")["items"] == []

    def test_list_pages_with_limit_one_walk_every_notification_newest_first(self):
        trades = [f"T2099010100000{n}" for n in range(3)]
        for trade in trades:
            self.notify_unknown_trade(trade)
        self.provider_pays(self.payment, amount_fen=1)
        seen, cursor = [], None
        while True:
            page = self.listed("?limit=1" + (f"&cursor={cursor}" if cursor else ""))
            assert len(page["items"]) == 1
            seen += page["items"]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert [item["out_trade_no"] for item in seen] == \
            [self.payment["out_trade_no"], *reversed(trades)]
        assert [item["id"] for item in seen] == sorted((i["id"] for i in seen), reverse=True)
        assert [item["order_no"] for item in seen] == [self.order_no, None, None, None]

    def test_list_reads_the_orders_of_a_page_with_one_query(self):
        for n in range(3):
            self.notify_unknown_trade(f"T2099010100001{n}")
        self.provider_pays(self.payment, amount_fen=1)
        with recorded_sql() as statements:
            assert len(self.listed("?limit=10")["items"]) == 4
        # (the mismatched payment's automatic refund may read its trade meanwhile, on a
        # worker: only the list's reads of trades with their orders count)
        reads = [s.sql for s in statements if s.sql.startswith("SELECT")
                 and 'FROM "payment_attempt"' in s.sql and 'JOIN "orders"' in s.sql]
        assert len(reads) == 1, reads

    def test_list_with_an_unknown_status_or_channel_is_refused(self):
        for query in ("?status=lost", "?channel=paypal", "?limit=0"):
            with self.subTest(query=query):
                self.assert_error(self.api("GET", LIST + query, token=self.admin), 400,
                                  "VALIDATION_FAILED")

    def test_list_is_forbidden_to_an_operator_role_without_admin_orders(self):
        # Every console role handles abnormal orders today: take the permission from one.
        without = ROLE_PERMISSIONS["customer_service"] - {"admin:orders"}
        with mock.patch.dict(ROLE_PERMISSIONS, {"customer_service": without}):
            response = self.api("GET", LIST, token=self.admin)
        self.assert_error(response, 403, "FORBIDDEN")
        assert response.json["error"]["details"]["permission"] == "admin:orders"

    def test_list_refuses_a_consumer_token(self):
        response = self.api("GET", LIST, token=self.buyer)
        self.assert_error(response, 401, "TOKEN_INVALID")  # a consumer's, not an operator's
        self.assert_error(self.api("GET", LIST), 401, "UNAUTHENTICATED")
