"""Daily sales rollups over HTTP: staff read their merchant's, operators any merchant's; both
read what the scheduler's rollup job built."""
import datetime as dt

from alliance.clock import SHANGHAI
from alliance.db import connection, utcnow
from alliance.jobs.models import OK
from alliance.merchants.models import StaffMembership
from scheduler.jobs import JOBS
from tests.factories import make_item, make_merchant, make_shop, make_user
from tests.orders_support import OrderTestCase
from tests.scheduling import fire_together, scheduler_instances

STAFF_PATH = "/api/v1/merchant/daily-sales"
ADMIN_PATH = "/api/admin/v1/daily-sales"


class DailySalesTest(OrderTestCase):
    def setUp(self):
        super().setUp()
        self.buyer = self.token("alice")
        self.staff = self.owner_token()
        with connection():
            self.other = make_merchant(owner=make_user("隔壁店主"), name="隔壁影院")
            make_shop(self.other)
            self.other_goods = make_item(self.other, kind="goods", price_fen=12_000, stock=5)
        self.today = dt.datetime.now(SHANGHAI).date().isoformat()

    def member(self, name: str, merchant, role: str) -> str:
        login = self.login(name)
        with connection():
            StaffMembership.create(merchant=merchant, user=login["user"]["id"], role=role)
        return login["access_token"]

    def roll_up(self, hours_later: int = 0) -> None:
        """The hourly refresh (its slot ``hours_later``), fired by two scheduler instances."""
        later = dt.timedelta(hours=hours_later)
        instances = scheduler_instances(self.app.settings["ctx"], JOBS, 2,
                                        lambda: utcnow() + later)
        outcomes = self.call(fire_together, instances, "analytics.daily_sales_today")
        assert outcomes.count(OK) == 1, outcomes

    def sell(self) -> tuple[list[dict], dict]:
        """Two paid orders at the merchant (one refunded in part), one at the other."""
        ours = [self.paid_order(self.buyer), self.paid_order(self.buyer, quantity=3)]
        response = self.api("POST", f"/api/v1/merchant/orders/{ours[0]['order_no']}/refunds",
                            {"amount_fen": 1_200, "reason": "缺货"}, token=self.staff)
        assert response.status == 201, response.body
        self.wait_for(lambda: [r for r in self.refunds(ours[0]["order_no"])
                               if r.status == "succeeded"])
        theirs = self.paid_order(self.buyer, self.other_goods)
        return ours, theirs

    def test_staff_read_their_merchants_days_from_the_rollups(self):
        ours, _ = self.sell()
        before = self.api("GET", STAFF_PATH, token=self.staff)
        assert before.status == 200 and before.json["items"] == []  # not rolled up yet
        self.roll_up()

        response = self.api("GET", f"{STAFF_PATH}?from={self.today}&to={self.today}",
                            token=self.staff)
        assert response.status == 200, response.body
        [day] = response.json["items"]
        gross = sum(o["total_fen"] for o in ours)
        discount = sum(o["discount_fen"] for o in ours)
        assert (day["merchant_id"], day["date"]) == (self.merchant.id, self.today)
        assert (day["orders_paid"], day["gross_fen"], day["discount_fen"], day["refunds_fen"],
                day["net_fen"], day["units"]) == (2, gross, discount, 1_200,
                                                  gross - discount - 1_200, 4)
        assert day["computed_at"].endswith("+08:00")
        assert response.json["totals"]["net_fen"] == day["net_fen"]

    def test_rolling_up_again_gives_the_same_days(self):
        self.sell()
        self.roll_up()
        first = self.api("GET", STAFF_PATH, token=self.staff).json["items"]
        self.roll_up(hours_later=1)  # the next slot: the same day rebuilt
        again = self.api("GET", STAFF_PATH, token=self.staff).json["items"]
        strip = lambda items: [{k: v for k, v in d.items() if k != "computed_at"} for d in items]  # noqa: E731
        assert len(first) == 1 and strip(again) == strip(first)

    def test_operators_read_any_merchants_days(self):
        _, theirs = self.sell()
        self.roll_up()
        token = self.operator_token("operator")
        response = self.api("GET", f"{ADMIN_PATH}?merchant_id={self.other.id}", token=token)
        assert response.status == 200, response.body
        [day] = response.json["items"]
        assert (day["merchant_id"], day["orders_paid"], day["gross_fen"]) == (
            self.other.id, 1, theirs["total_fen"])

    def test_a_clerk_is_refused(self):
        clerk = self.member("clerk", self.merchant, "merchant_clerk")
        self.assert_error(self.api("GET", STAFF_PATH, token=clerk), 403, "FORBIDDEN")

    def test_staff_of_one_merchant_never_see_another(self):
        self.sell()
        self.roll_up()
        response = self.api("GET", f"{STAFF_PATH}?merchant_id={self.other.id}", token=self.staff)
        self.assert_error(response, 403, "NOT_MERCHANT_STAFF")
        mine = self.api("GET", STAFF_PATH, token=self.staff).json["items"]
        assert {day["merchant_id"] for day in mine} == {self.merchant.id}

    def test_an_operator_without_analytics_is_refused(self):
        token = self.operator_token("customer_service")
        response = self.api("GET", f"{ADMIN_PATH}?merchant_id={self.merchant.id}", token=token)
        self.assert_error(response, 403, "FORBIDDEN")

    def test_admin_query_errors(self):
        token = self.operator_token("operator")
        self.assert_error(self.api("GET", ADMIN_PATH, token=token), 400, "VALIDATION_FAILED")
        self.assert_error(self.api("GET", f"{ADMIN_PATH}?merchant_id=999999", token=token),
                          404, "MERCHANT_NOT_FOUND")
        bad_range = f"{ADMIN_PATH}?merchant_id={self.merchant.id}&from=2026-01-01&to=2026-12-31"
        self.assert_error(self.api("GET", bad_range, token=token), 400, "VALIDATION_FAILED")
        self.assert_error(self.api("GET", f"{STAFF_PATH}?from=yesterday", token=self.staff),
                          400, "VALIDATION_FAILED")
