"""Settlement over HTTP: staff who may see money read their merchant's statements; operators
with admin:settlement close periods, read any statement, record payouts, check a period's
balance and set a merchant's commission rate."""
import csv
import io
import threading
from unittest import mock

from alliance.accounts.models import OperatorAuditLog
from alliance.db import connection
from alliance.merchants.models import StaffMembership
from tests.factories import make_item, make_merchant, make_shop, make_user
from tests.settlement_support import SettlementCase

STAFF = "/api/v1/merchant/statements"
ADMIN = "/api/admin/v1/statements"
SUMMARY = "/api/admin/v1/settlement/summary"


class SettlementApiTest(SettlementCase):
    def setUp(self):
        super().setUp()
        self.set_rate(self.merchant, 500)
        with connection():
            self.other = make_merchant(owner=make_user("隔壁店主"), name="隔壁影院")
            make_shop(self.other)
            self.other_goods = make_item(self.other, kind="goods", price_fen=12_000, stock=5)
        self.orders = [self.pay_at(self.in_last_month(d)) for d in (4, 11)]
        self.theirs = self.pay_at(self.in_last_month(6), self.other_goods)
        self.admin = self.operator_token("administrator")

    def close_last(self) -> dict:
        response = self.api("POST", ADMIN, {"period": self.last.name}, token=self.admin)
        assert response.status == 200, response.body
        return response.json

    def member(self, name: str, role: str) -> str:
        login = self.login(name)
        with connection():
            StaffMembership.create(merchant=self.merchant, user=login["user"]["id"], role=role)
        return login["access_token"]

    def mine(self) -> dict:
        [statement] = self.api("GET", STAFF, token=self.staff).json["items"]
        return statement

    def test_operators_close_a_period_once(self):
        assert self.close_last() == {"period": self.last.name, "statements": 2, "items": 5,
                                     "skipped": 0}
        assert self.close_last()["statements"] == 0

    def test_a_long_close_is_answered_while_it_goes_on(self):
        from admin_api import settlement

        release, calls = threading.Event(), []
        slow_close = settlement.close_period

        def close_when_released(period):
            calls.append(period)
            release.wait(10)
            return slow_close(period)

        with mock.patch.object(settlement, "CLOSE_WAIT_S", 0.05), \
                mock.patch.object(settlement, "close_period", close_when_released):
            first = self.api("POST", ADMIN, {"period": self.last.name}, token=self.admin)
            again = self.api("POST", ADMIN, {"period": self.last.name}, token=self.admin)
            assert (first.status, first.json) == (202, {"period": self.last.name,
                                                        "status": "running"})
            assert again.status == 202
            release.set()
            self.wait_for(lambda: len(self.api("GET", ADMIN, token=self.admin).json["items"]) == 2)
        assert calls == [self.last.name]  # asked twice meanwhile: one close
        assert self.close_last()["statements"] == 0

    def test_staff_read_their_statements_lines_and_items(self):
        self.close_last()
        response = self.api("GET", STAFF, token=self.staff)
        assert response.status == 200, response.body
        [statement] = response.json["items"]
        paid = [o["paid_fen"] for o in self.orders]
        fees = [(p * 500 + 5000) // 10000 for p in paid]
        assert (statement["merchant_id"], statement["period"], statement["status"]) == (
            self.merchant.id, self.last.name, "issued")
        assert statement["net_fen"] == sum(paid) - sum(fees)
        assert {l["line"]: l["amount_fen"] for l in statement["lines"]} == {
            "sales": sum(paid), "platform_commission": -sum(fees)}
        assert statement["period_start"].endswith("+08:00") and "T00:00:00" in statement["period_start"]

        detail = self.api("GET", f"{STAFF}/{statement['id']}", token=self.staff)
        assert detail.status == 200 and detail.json == statement
        first = self.api("GET", f"{STAFF}/{statement['id']}/items?limit=3", token=self.staff)
        assert first.status == 200 and len(first.json["items"]) == 3 and first.json["next_cursor"]
        rest = self.api("GET", f"{STAFF}/{statement['id']}/items?limit=3&cursor="
                        f"{first.json['next_cursor']}", token=self.staff)
        items = first.json["items"] + rest.json["items"]
        assert rest.json["next_cursor"] is None and len(items) == 4
        assert sum(i["amount_fen"] for i in items) == statement["net_fen"]
        fee = next(i for i in items if i["line"] == "platform_commission")
        assert (fee["basis_fen"], fee["rate_bp"], fee["counterparty_merchant_id"]) == (
            paid[0], 500, None)
        assert fee["order_no"] == self.orders[0]["order_no"]
        assert fee["occurred_at"] == self.orders[0]["paid_at"]

    def test_staff_never_see_another_merchants_statement(self):
        self.close_last()
        theirs = self.api("GET", f"{ADMIN}?merchant_id={self.other.id}", token=self.admin)
        [statement] = theirs.json["items"]
        for path in (f"{STAFF}/{statement['id']}", f"{STAFF}/{statement['id']}/items"):
            self.assert_error(self.api("GET", path, token=self.staff), 404, "STATEMENT_NOT_FOUND")
        self.assert_error(self.api("GET", f"{STAFF}?merchant_id={self.other.id}",
                                   token=self.staff), 403, "NOT_MERCHANT_STAFF")

    def test_a_statement_downloads_as_csv_to_the_fen_in_batches(self):
        from alliance.settlement import queries

        self.close_last()
        statement = self.mine()
        items = self.api("GET", f"{STAFF}/{statement['id']}/items", token=self.staff).json["items"]
        with mock.patch.object(queries, "CSV_BATCH", 3):  # two batches, streamed
            response = self.api("GET", f"{STAFF}/{statement['id']}/items.csv", token=self.staff)
        assert response.status == 200, response.body
        assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
        assert "attachment" in response.headers["Content-Disposition"]
        text = response.body.decode("utf-8")
        assert text.startswith("\ufeff")
        rows = list(csv.reader(io.StringIO(text[1:])))
        assert rows[0][:2] == ["明细编号", "项目"] and len(rows) == 1 + len(items)
        by_id = {int(row[0]): row for row in rows[1:]}
        assert sorted(by_id) == sorted(i["id"] for i in items)
        for item in items:
            row = by_id[item["id"]]
            assert int(row[6]) == item["amount_fen"] and row[10] == item["occurred_at"]
            assert row[7] == ("-" if item["amount_fen"] < 0 else "") + (
                f"{abs(item['amount_fen']) // 100}.{abs(item['amount_fen']) % 100:02d}")
        assert sum(int(row[6]) for row in rows[1:]) == statement["net_fen"]
        assert self.api("GET", f"{ADMIN}/{statement['id']}/items.csv",
                        token=self.admin).body == response.body

        theirs = self.api("GET", f"{ADMIN}?merchant_id={self.other.id}", token=self.admin)
        other_id = theirs.json["items"][0]["id"]
        self.assert_error(self.api("GET", f"{STAFF}/{other_id}/items.csv", token=self.staff),
                          404, "STATEMENT_NOT_FOUND")
        clerk = self.member("clerk", "merchant_clerk")
        self.assert_error(self.api("GET", f"{STAFF}/{statement['id']}/items.csv", token=clerk),
                          403, "FORBIDDEN")

    def test_a_clerk_is_refused_and_a_manager_reads(self):
        self.close_last()
        clerk = self.member("clerk", "merchant_clerk")
        statement = self.mine()
        for path in (STAFF, f"{STAFF}/{statement['id']}", f"{STAFF}/{statement['id']}/items"):
            self.assert_error(self.api("GET", path, token=clerk), 403, "FORBIDDEN")
        manager = self.member("manager", "merchant_manager")
        assert self.api("GET", STAFF, token=manager).json["items"] == [statement]

    def test_operators_list_read_and_pay_out_a_statement(self):
        self.close_last()
        listed = self.api("GET", f"{ADMIN}?period={self.last.name}&status=issued&limit=1",
                          token=self.admin)
        assert listed.status == 200 and len(listed.json["items"]) == 1 and listed.json["next_cursor"]
        statement = self.mine()
        one = self.api("GET", f"{ADMIN}/{statement['id']}", token=self.admin)
        assert one.status == 200 and one.json == statement
        items = self.api("GET", f"{ADMIN}/{statement['id']}/items", token=self.admin)
        assert len(items.json["items"]) == 4

        paid = self.api("POST", f"{ADMIN}/{statement['id']}/payout", {"reference": "BANK-0001"},
                        token=self.admin)
        assert paid.status == 200, paid.body
        assert (paid.json["status"], paid.json["payout_reference"]) == ("paid", "BANK-0001")
        assert paid.json["paid_at"].endswith("+08:00")
        again = self.api("POST", f"{ADMIN}/{statement['id']}/payout", {"reference": "BANK-0001"},
                         token=self.admin)
        assert again.status == 200 and again.json == paid.json
        self.assert_error(self.api("POST", f"{ADMIN}/{statement['id']}/payout",
                                   {"reference": "BANK-0002"}, token=self.admin),
                          409, "STATEMENT_ALREADY_PAID")
        with connection():
            assert OperatorAuditLog.select().where(
                OperatorAuditLog.action == "statement.payout").count() == 1
        assert self.api("GET", f"{ADMIN}?status=paid", token=self.admin).json["items"] == [paid.json]
        assert self.mine()["status"] == "paid"

    def test_the_summary_adds_up_the_period_and_balances(self):
        self.close_last()
        response = self.api("GET", f"{SUMMARY}?period={self.last.name}", token=self.admin)
        assert response.status == 200, response.body
        summary = response.json
        sales = sum(o["paid_fen"] for o in self.orders) + self.theirs["paid_fen"]
        lines = {l["line"]: l["amount_fen"] for l in summary["lines"]}
        assert summary["statements"] == 2 and summary["balanced"] is True
        assert lines["sales"] == sales and summary["unbalanced_statement_ids"] == []
        assert summary["net_fen"] == sum(lines.values())
        assert summary["by_status"] == {"issued": 2, "paid": 0}

    def test_operators_set_a_merchants_commission_rate(self):
        path = f"/api/admin/v1/merchants/{self.other.id}/commission-rate"
        response = self.api("PUT", path, {"commission_bp": 250}, token=self.admin)
        assert response.status == 200 and response.json["commission_bp"] == 250
        self.close_last()
        [theirs] = self.api("GET", f"{ADMIN}?merchant_id={self.other.id}",
                            token=self.admin).json["items"]
        fee = (self.theirs["paid_fen"] * 250 + 5000) // 10000
        assert {l["line"]: l["amount_fen"] for l in theirs["lines"]}["platform_commission"] == -fee
        reset = self.api("PUT", path, {"commission_bp": None}, token=self.admin)
        assert reset.status == 200 and reset.json["commission_bp"] is None
        for body in ({"commission_bp": 10_001}, {"commission_bp": -1}, {"commission_bp": "5"}, {}):
            self.assert_error(self.api("PUT", path, body, token=self.admin), 400,
                              "VALIDATION_FAILED")
        self.assert_error(self.api("PUT", "/api/admin/v1/merchants/999999/commission-rate",
                                   {"commission_bp": 1}, token=self.admin),
                          404, "MERCHANT_NOT_FOUND")

    def test_operators_without_the_permission_are_refused(self):
        self.close_last()
        statement = self.mine()
        for role in ("operator", "customer_service"):
            token = self.operator_token(role)
            for method, path, body in (
                    ("GET", ADMIN, None), ("POST", ADMIN, {"period": self.last.name}),
                    ("GET", f"{ADMIN}/{statement['id']}", None),
                    ("GET", f"{ADMIN}/{statement['id']}/items", None),
                    ("POST", f"{ADMIN}/{statement['id']}/payout", {"reference": "X"}),
                    ("GET", f"{SUMMARY}?period={self.last.name}", None),
                    ("PUT", f"/api/admin/v1/merchants/{self.other.id}/commission-rate",
                     {"commission_bp": 1})):
                self.assert_error(self.api(method, path, body, token=token), 403, "FORBIDDEN")
        self.assert_error(self.api("GET", ADMIN, token=self.staff), 401, "TOKEN_INVALID")

    def test_bad_input_is_refused_with_stable_codes(self):
        for period in ("2026-13", "2026-1", "26-11", "2026/11", "", None, 202611):
            self.assert_error(self.api("POST", ADMIN, {"period": period}, token=self.admin),
                              400, "PERIOD_INVALID")
        self.assert_error(self.api("POST", ADMIN, {"period": self.current.name},
                                   token=self.admin), 409, "PERIOD_NOT_CLOSED")
        self.assert_error(self.api("GET", f"{ADMIN}?period=2026-00", token=self.admin),
                          400, "PERIOD_INVALID")
        self.assert_error(self.api("GET", SUMMARY, token=self.admin), 400, "PERIOD_INVALID")
        self.assert_error(self.api("GET", f"{ADMIN}?status=open", token=self.admin),
                          400, "VALIDATION_FAILED")
        self.assert_error(self.api("GET", f"{ADMIN}?cursor=!!", token=self.admin),
                          400, "VALIDATION_FAILED")
        self.assert_error(self.api("GET", f"{STAFF}?limit=0", token=self.staff),
                          400, "VALIDATION_FAILED")
        for path in (f"{ADMIN}/999999", f"{ADMIN}/999999/items"):
            self.assert_error(self.api("GET", path, token=self.admin), 404, "STATEMENT_NOT_FOUND")
        self.assert_error(self.api("POST", f"{ADMIN}/999999/payout", {"reference": "X"},
                                   token=self.admin), 404, "STATEMENT_NOT_FOUND")
        self.close_last()
        statement = self.mine()
        for body in ({}, {"reference": ""}, {"reference": "x" * 65}):
            self.assert_error(self.api("POST", f"{ADMIN}/{statement['id']}/payout", body,
                                       token=self.admin), 400, "VALIDATION_FAILED")
