"""Values at the edges of what a request can carry, which a fuzzer of the OpenAPI document
does not make up: a paging cursor holding a key that no column holds, dates at the ends of
the calendar. Each gets a 400 in the envelope, or an ordinary answer; never a 500."""
import base64

from alliance.paging import encode_cursor
from tests.orders_support import OrderTestCase


def raw_cursor(text: str) -> str:
    """A cursor whose JSON is ``text``, as a client could forge it."""
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


FORGED_CURSORS = {
    "an integer beyond 64 bits": encode_cursor(2 ** 63),
    "a negative integer beyond 64 bits": encode_cursor(-2 ** 63 - 1),
    "NaN": raw_cursor("[NaN]"),
    "an infinity": raw_cursor("[-Infinity]"),
    "a number beyond floats": raw_cursor("[1e400]"),
    "text": encode_cursor("a"),
    "null": encode_cursor(None),
    "a list": encode_cursor([1]),
    "two keys beyond 64 bits": encode_cursor(2 ** 63, 1),
}


class EdgeValuesTest(OrderTestCase):
    def setUp(self):
        super().setUp()
        self.consumer = self.token("alice")
        self.staff = self.owner_token()
        self.operator = self.operator_token()

    def test_a_cursor_no_column_holds_is_a_validation_error_on_every_list(self):
        lists = [(path, self.consumer) for path in (
            "/api/v1/orders", "/api/v1/me/invitees", "/api/v1/me/points", "/api/v1/me/coupons",
            "/api/v1/after-sales", "/api/v1/coupon-templates", "/api/v1/merchants",
            f"/api/v1/merchants/{self.merchant.id}/items",
            f"/api/v1/merchants/{self.merchant.id}/reviews")]
        lists += [(path, self.staff) for path in (
            "/api/v1/merchant/orders", "/api/v1/merchant/items", "/api/v1/merchant/members",
            "/api/v1/merchant/redemptions")]
        lists += [(path, self.operator) for path in (
            "/api/admin/v1/oa/auto-replies", "/api/admin/v1/merchants", "/api/admin/v1/orders",
            "/api/admin/v1/jobs/orders.close_unpaid/runs")]
        for path, token in lists:
            for what, cursor in FORGED_CURSORS.items():
                with self.subTest(path=path, cursor=what):
                    response = self.api("GET", f"{path}?cursor={cursor}", token=token)
                    self.assert_error(response, 400, "VALIDATION_FAILED")
                    assert response.json["error"]["details"]["field"] == "cursor"

    def test_a_coupon_time_before_the_calendar_in_utc_is_a_validation_error(self):
        # 0001-01-01 00:00 in Shanghai is 8 hours before the first day UTC has.
        body = {"claim_ends_at": "0001-01-01T00:00:00+08:00"}
        paths = [("/api/v1/merchant/coupon-templates", self.staff),
                 ("/api/admin/v1/coupon-templates", self.operator)]
        for path, token in paths:
            with self.subTest(path=path):
                self.assert_error(self.api("POST", path, body, token=token),
                                  400, "VALIDATION_FAILED")

    def test_days_at_the_ends_of_the_calendar_are_answered(self):
        self.paid_order(self.consumer)  # today's: in none of these ranges
        for path, token in (("/api/v1/merchant/orders", self.staff),
                            ("/api/admin/v1/orders", self.operator)):
            for days in ("to=9999-12-31", "from=0001-01-01&to=0001-01-07", "to=0001-01-02"):
                with self.subTest(path=path, days=days):
                    response = self.api("GET", f"{path}?{days}", token=token)
                    assert response.status == 200, response.body
                    assert response.json["items"] == []
        report = self.api("GET", "/api/v1/merchant/sales-report?from=9999-12-31&to=9999-12-31",
                          token=self.staff)
        assert report.status == 200, report.body
        assert report.json["days"] == [{"date": "9999-12-31", "orders": 0, "paid_fen": 0,
                                        "units": 0, "refunded_fen": 0, "net_fen": 0,
                                        "average_order_fen": 0}]
        stats = self.api("GET", "/api/admin/v1/order-stats?from=0001-01-01&to=0001-01-02",
                         token=self.operator)
        assert stats.status == 200, stats.body
        assert stats.json["totals"] == {"created": 0, "paid": 0, "paid_fen": 0, "refunded_fen": 0}
