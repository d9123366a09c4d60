"""Who sees and does what: buyers their own orders, staff their merchant's (by role),
operators every order (by permission)."""
from alliance.accounts.models import User
from alliance.db import connection
from alliance.merchants.models import StaffMembership
from tests.factories import make_item, make_merchant
from tests.orders_support import OrderTestCase
from tests.support import recorded_sql


class OrderAccessTest(OrderTestCase):
    def setUp(self):
        super().setUp()
        self.alice = self.token("alice")
        self.bob = self.token("bob")
        self.order_no = self.paid_order(self.alice)["order_no"]

    def staff_token(self, name: str, role: str, merchant=None) -> str:
        login = self.login(name)
        with connection():
            StaffMembership.create(merchant=merchant or self.merchant, user=login["user"]["id"],
                                   role=role)
        return login["access_token"]

    def test_another_buyer_cannot_see_or_touch_the_order(self):
        for method, path, body in (
                ("GET", f"/api/v1/orders/{self.order_no}", None),
                ("POST", f"/api/v1/orders/{self.order_no}/payments", {"channel": "wechatpay"}),
                ("POST", f"/api/v1/orders/{self.order_no}/cancel", {}),
                ("POST", f"/api/v1/orders/{self.order_no}/after-sales", {"reason": "x"})):
            self.assert_error(self.api(method, path, body, token=self.bob), 404, "ORDER_NOT_FOUND")
        assert self.api("GET", "/api/v1/orders", token=self.bob).json["items"] == []

    def test_orders_need_a_login(self):
        self.assert_error(self.api("GET", f"/api/v1/orders/{self.order_no}"), 401, "UNAUTHENTICATED")
        self.assert_error(self.api("POST", "/api/v1/orders", {"items": []}), 401, "UNAUTHENTICATED")

    def test_staff_see_only_their_merchants_orders(self):
        own = self.owner_token()
        listed = self.api("GET", "/api/v1/merchant/orders", token=own).json
        assert [o["order_no"] for o in listed["items"]] == [self.order_no]
        with connection():
            owner = User.get_by_id(self.user_id("rival-owner"))
            rival = make_merchant(owner=owner)
            make_item(rival)
        rival_token = self.token("rival-owner")
        assert self.api("GET", "/api/v1/merchant/orders", token=rival_token).json["items"] == []
        self.assert_error(self.api("GET", f"/api/v1/merchant/orders/{self.order_no}",
                                   token=rival_token), 404, "ORDER_NOT_FOUND")
        self.assert_error(self.api("POST", f"/api/v1/merchant/orders/{self.order_no}/refunds",
                                   {"amount_fen": 100, "reason": "x"}, token=rival_token),
                          404, "ORDER_NOT_FOUND")

    def test_a_clerk_reads_orders_but_cannot_ship_or_refund(self):
        clerk = self.staff_token("clerk", "merchant_clerk")
        assert self.api("GET", f"/api/v1/merchant/orders/{self.order_no}", token=clerk).status == 200
        self.assert_error(self.api("POST", f"/api/v1/merchant/orders/{self.order_no}/shipment",
                                   {"carrier": "顺丰", "tracking_no": "SF1"}, token=clerk),
                          403, "FORBIDDEN")
        self.assert_error(self.api("GET", "/api/v1/merchant/sales-report", token=clerk), 403, "FORBIDDEN")

    def test_a_buyer_is_not_staff(self):
        self.assert_error(self.api("GET", "/api/v1/merchant/orders", token=self.bob), 403,
                          "NOT_MERCHANT_STAFF")

    def test_operators_see_every_order_and_users_do_not_reach_the_console(self):
        admin = self.operator_token("operator")
        listed = self.api("GET", "/api/admin/v1/orders", token=admin).json
        assert [o["order_no"] for o in listed["items"]] == [self.order_no]
        detail = self.api("GET", f"/api/admin/v1/orders/{self.order_no}", token=admin).json
        assert [a["status"] for a in detail["attempts"]] == ["paid"]
        self.assert_error(self.api("GET", "/api/admin/v1/orders", token=self.alice), 401,
                          "TOKEN_INVALID")

    def test_an_order_list_pages_the_orders_alone_then_reads_their_merchants(self):
        other = make_merchant(name="另一家")
        with connection():
            other_no = self.paid_order(self.alice, make_item(other, price_fen=900))["order_no"]
        admin = self.operator_token("operator")
        with recorded_sql() as statements:
            listed = self.api("GET", "/api/admin/v1/orders?limit=5", token=admin).json
        assert [(o["order_no"], o["merchant_name"]) for o in listed["items"]] == [
            (other_no, "另一家"), (self.order_no, self.merchant.name)]
        # (only the list's reads count: other work of the paid orders may run meanwhile)
        pages = [s.sql for s in statements if s.sql.startswith("SELECT")
                 and 'FROM "orders"' in s.sql and "ORDER BY" in s.sql]
        merchants = [s.sql for s in statements if s.sql.startswith("SELECT")
                     and 'FROM "merchant"' in s.sql and " IN (" in s.sql]
        # joined, MariaDB drove the page from the merchant table and sorted every order
        assert len(pages) == 1 and "JOIN" not in pages[0] and len(merchants) == 1

    def test_an_operator_without_the_complaints_permission_cannot_arbitrate(self):
        admin = self.operator_token("operator")
        self.assert_error(self.api("POST", "/api/admin/v1/after-sales/1/arbitration",
                                   {"refund": True, "note": "x"}, token=admin), 403, "FORBIDDEN")
