"""Orders as CSV: operators export every order the filters select, merchants their own;
amounts exact in fen and yuan, newest first across batches, no buyer's personal data."""
import csv
import io
from unittest import mock

from alliance.db import connection
from alliance.merchants.models import StaffMembership
from alliance.orders import exports
from tests.factories import make_item, make_merchant
from tests.orders_support import OrderTestCase

ADMIN, STAFF = "/api/admin/v1/orders.csv", "/api/v1/merchant/orders.csv"


def rows_of(response) -> list[dict]:
    text = response.body.decode("utf-8")
    assert text.startswith("\ufeff")  # spreadsheets read UTF-8 with it
    return list(csv.DictReader(io.StringIO(text[1:])))


class OrderExportTest(OrderTestCase):
    def setUp(self):
        super().setUp()
        self.buyer = self.token("alice")
        paid = [self.paid_order(self.buyer) for _ in range(2)]
        self.paid = [order["order_no"] for order in paid]
        self.paid_fen = paid[0]["paid_fen"]
        self.unpaid = self.order(self.buyer)["order_no"]
        with connection():
            other = make_merchant(name="别家")
            self.other_item = make_item(other, price_fen=1234)
        self.elsewhere = self.order(self.buyer, self.other_item)["order_no"]

    def test_operators_export_every_order_newest_first_exactly(self):
        response = self.api("GET", ADMIN, token=self.operator_token("operator"))
        assert response.status == 200, response.body
        assert response.headers["Content-Type"].startswith("text/csv")
        assert 'filename="orders.csv"' in response.headers["Content-Disposition"]
        rows = rows_of(response)
        assert [r["订单号"] for r in rows] == [self.elsewhere, self.unpaid, *reversed(self.paid)]
        first_paid = next(r for r in rows if r["订单号"] == self.paid[0])
        assert self.paid_fen == 4000  # 30.00 of goods and 10.00 of shipping
        assert (first_paid["状态"], first_paid["支付方式"], first_paid["商品金额(分)"],
                first_paid["运费(分)"], first_paid["实付(分)"], first_paid["已退款(分)"],
                first_paid["实收(元)"]) == ("已支付", "微信支付", "3000", "1000", "4000", "0",
                                           "40.00")
        assert first_paid["支付时间"].endswith("+08:00") and first_paid["支付流水号"]
        unpaid = next(r for r in rows if r["订单号"] == self.unpaid)
        assert (unpaid["状态"], unpaid["支付时间"], unpaid["实收(元)"]) == ("待支付", "", "0.00")
        assert all("alice" not in value for r in rows for value in r.values())
        paid_only = rows_of(self.api("GET", ADMIN + "?status=paid",
                                     token=self.operator_token("operator")))
        assert sorted(r["订单号"] for r in paid_only) == sorted(self.paid)

    def test_batches_follow_each_other_without_gaps_or_repeats(self):
        with mock.patch.object(exports, "CSV_BATCH", 1):
            rows = rows_of(self.api("GET", ADMIN, token=self.operator_token("operator")))
        assert [r["订单号"] for r in rows] == [self.elsewhere, self.unpaid, *reversed(self.paid)]

    def test_merchants_export_their_own_orders_only(self):
        rows = rows_of(self.api("GET", STAFF, token=self.owner_token()))
        assert sorted(r["订单号"] for r in rows) == sorted([*self.paid, self.unpaid])
        assert {r["商户"] for r in rows} == {self.merchant.name}
        clerk = self.login("clerk")
        with connection():
            StaffMembership.create(merchant=self.merchant, user=clerk["user"]["id"],
                                   role="merchant_clerk")
        self.assert_error(self.api("GET", STAFF, token=clerk["access_token"]), 403, "FORBIDDEN")
        self.assert_error(self.api("GET", STAFF, token=self.buyer), 403, "NOT_MERCHANT_STAFF")

    def test_bad_filters_are_answered_in_the_envelope(self):
        operator = self.operator_token("operator")
        self.assert_error(self.api("GET", ADMIN + "?status=nope", token=operator), 400,
                          "VALIDATION_FAILED")
        self.assert_error(self.api("GET", ADMIN + "?from=2026-13-01", token=operator), 400,
                          "VALIDATION_FAILED")
        self.assert_error(self.api("GET", ADMIN + "?merchant_id=x", token=operator), 400,
                          "VALIDATION_FAILED")
        self.assert_error(self.api("GET", ADMIN, token=self.buyer), 401, "TOKEN_INVALID")
