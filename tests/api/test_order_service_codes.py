"""Service orders: a single-use code issued on payment, redeemed at the merchant's counter
through the redemption registry (POST /api/v1/merchant/redemptions)."""
import requests

from alliance.db import connection
from alliance.notifications.models import OutboxMessage
from tests.factories import make_merchant
from tests.orders_support import OrderTestCase


class ServiceCodeTest(OrderTestCase):
    def setUp(self):
        super().setUp()
        self.buyer = self.token("alice")
        self.staff = self.owner_token()
        self.order_data = self.paid_order(self.buyer, self.service)
        self.code = self.order_data["service_code"]["code"]

    def redeem(self, code: str, token: str | None = None):
        return self.api("POST", "/api/v1/merchant/redemptions", {"code": code},
                        token=token or self.staff)

    def test_paid_service_order_gets_a_code(self):
        assert self.order_data["status"] == "service_issued"
        assert self.code.startswith("S") and len(self.code) == 12
        with connection():
            message = OutboxMessage.get(OutboxMessage.event == "order.paid")
        assert self.code in message.payload
        merchant_view = self.api("GET", f"/api/v1/merchant/orders/{self.order_data['order_no']}",
                                 token=self.staff).json
        assert "code" not in merchant_view["service_code"]

    def test_redeem_completes_the_order_once(self):
        response = self.redeem(self.code)
        assert response.status == 201, response.body
        assert self.get_order(self.buyer, self.order_data["order_no"])["status"] == "completed"
        self.assert_error(self.redeem(self.code), 409, "CODE_ALREADY_REDEEMED")

    def test_redeem_typed_in_lower_case_with_hyphens(self):
        typed = f"{self.code[:4]}-{self.code[4:8]}-{self.code[8:]}".lower()
        assert self.redeem(typed).status == 201

    def test_redeem_at_another_merchant_is_not_valid_here(self):
        other_owner = self.login("other-owner")
        with connection():
            from alliance.accounts.models import User

            make_merchant(owner=User.get_by_id(other_owner["user"]["id"]))
        self.assert_error(self.redeem(self.code, other_owner["access_token"]), 422,
                          "CODE_NOT_VALID_HERE")

    def test_two_counters_redeeming_at_once_succeed_once(self):
        second = self.login("clerk-2")
        with connection():
            from alliance.merchants.models import StaffMembership

            StaffMembership.create(merchant=self.merchant, user=second["user"]["id"],
                                   role="merchant_clerk")
        tokens = [self.staff, second["access_token"]]
        statuses = self.run_together(2, lambda i: requests.post(
            self.get_url("/api/v1/merchant/redemptions"), json={"code": self.code}, timeout=20,
            headers={"Authorization": f"Bearer {tokens[i]}"}).status_code)
        assert sorted(statuses) == [201, 409]

    def test_undo_puts_the_code_and_the_order_back(self):
        redemption = self.redeem(self.code).json
        undone = self.api("POST", f"/api/v1/merchant/redemptions/{redemption['id']}/undo", {},
                          token=self.staff)
        assert undone.status == 200, undone.body
        assert self.get_order(self.buyer, self.order_data["order_no"])["status"] == "service_issued"
        assert self.redeem(self.code).status == 201

    def test_refunded_service_order_code_is_void(self):
        order_no = self.order_data["order_no"]
        self.api("POST", f"/api/v1/merchant/orders/{order_no}/refunds",
                 {"amount_fen": self.order_data["paid_fen"], "reason": "停业"}, token=self.staff)
        self.wait_for(lambda: self.row(order_no).status == "refunded")
        self.assert_error(self.redeem(self.code), 422, "CODE_NOT_VALID_HERE")
        assert self.stock(self.service) == 10
