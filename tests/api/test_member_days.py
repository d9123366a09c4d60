"""Member days (会员日): the merchant sets its rule, members get its discount and points at
checkout and at the counter, and consumers and operators see it.

There is no clock to freeze: a rule "on" names today's and tomorrow's Shanghai weekdays (a
test run across midnight still finds a member day), a rule "off" every other weekday."""
from __future__ import annotations

import datetime as dt

from alliance.db import connection, utcnow
from alliance.members.member_days import shanghai_day
from alliance.members.models import MerchantMember
from alliance.merchants.models import StaffMembership
from alliance.orders.checkout import Basket, create_order
from alliance.orders.models import Order
from tests.factories import make_item, make_merchant
from tests.orders_support import OrderTestCase

PATH = "/api/v1/merchant/member-day"


def on_days() -> list[int]:
    today = shanghai_day(utcnow())
    return sorted({today.isoweekday(), (today + dt.timedelta(days=1)).isoweekday()})


def off_days() -> list[int]:
    return [day for day in range(1, 8) if day not in on_days()]


class MemberDayTestCase(OrderTestCase):
    def setUp(self):
        super().setUp()
        self.staff = self.owner_token()

    def set_rule(self, token: str | None = None, **body) -> dict:
        body = {"weekdays": on_days(), "points_multiplier_pct": 200, **body}
        response = self.api("PUT", PATH, body, token=token or self.staff)
        assert response.status == 200, response.body
        return response.json

    def make_member(self, name: str, spent_fen: int = 0) -> str:
        """``name`` as a member of the merchant (as a first purchase leaves them); a token."""
        login = self.login(name)
        with connection():
            MerchantMember.create(merchant=self.merchant, user_id=login["user"]["id"],
                                  visits=1, total_spent_fen=spent_fen, last_visit_at=utcnow())
        return login["access_token"]

    def set_levels(self, *levels: dict) -> None:
        response = self.api("PUT", "/api/v1/merchant/level-rules", {"levels": list(levels)},
                            token=self.staff)
        assert response.status == 200, response.body

    def quote(self, token: str, item=None, quantity: int = 1) -> dict:
        response = self.api("POST", "/api/v1/orders/quote",
                            {"items": [{"item_id": (item or self.goods).id,
                                        "quantity": quantity}]}, token=token)
        assert response.status == 200, response.body
        return response.json

    def staff_of(self, merchant, name: str, role: str) -> str:
        login = self.login(name)
        with connection():
            StaffMembership.create(merchant=merchant, user=login["user"]["id"], role=role)
        return login["access_token"]


class MemberDayRuleTest(MemberDayTestCase):
    def test_member_day_rule_is_set_by_its_staff_and_read_back(self):
        empty = self.api("GET", PATH, token=self.staff)
        assert empty.status == 200
        assert (empty.json["configured"], empty.json["enabled"]) == (False, False)
        rule = self.set_rule(month_days=[31, 1], min_level=1, discount_percent=5,
                             starts_on="2026-01-01", ends_on="2099-12-31")
        assert rule["configured"] and rule["enabled"] and rule["today"]
        assert (rule["weekdays"], rule["month_days"]) == (on_days(), [1, 31])
        assert (rule["min_level"], rule["points_multiplier_pct"], rule["discount_percent"]) \
            == (1, 200, 5)
        assert rule["summary"] == "积分2倍，再享9.5折"
        assert rule["next_date"] == shanghai_day(utcnow()).isoformat() or \
            rule["next_date"] == (shanghai_day(utcnow()) + dt.timedelta(days=1)).isoformat()
        assert (rule["starts_on"], rule["ends_on"]) == ("2026-01-01", "2099-12-31")
        assert "+08:00" in rule["updated_at"]
        assert self.api("GET", PATH, token=self.staff).json == rule
        off = self.set_rule(enabled=False)
        assert (off["enabled"], off["today"], off["next_date"]) == (False, False, None)

    def test_bad_member_day_rules_are_refused_naming_the_field(self):
        cases = [({"weekdays": [0]}, "weekdays"), ({"weekdays": [8]}, "weekdays"),
                 ({"weekdays": "1"}, "weekdays"), ({"month_days": [32]}, "month_days"),
                 ({"weekdays": [True]}, "weekdays"),
                 ({"weekdays": [], "month_days": []}, "weekdays"),
                 ({"points_multiplier_pct": 99}, "points_multiplier_pct"),
                 ({"points_multiplier_pct": 501}, "points_multiplier_pct"),
                 ({"points_multiplier_pct": 100, "discount_percent": 0},
                  "points_multiplier_pct"),
                 ({"discount_percent": 31}, "discount_percent"),
                 ({"discount_percent": -1}, "discount_percent"),
                 ({"min_level": 9}, "min_level"), ({"min_level": "1"}, "min_level"),
                 ({"starts_on": "2026-13-01"}, "starts_on"),
                 ({"ends_on": "2026-12-1"}, "ends_on"),
                 ({"starts_on": "2026-12-10", "ends_on": "2026-12-09"}, "ends_on"),
                 ({"enabled": "yes"}, "enabled")]
        for body, field in cases:
            with self.subTest(body=body):
                response = self.api("PUT", PATH, {"weekdays": [3], "points_multiplier_pct": 200,
                                                  **body}, token=self.staff)
                self.assert_error(response, 400, "MEMBER_DAY_INVALID")
                assert response.json["error"]["details"]["field"] == field
                assert response.json["error"]["message"]
        self.assert_error(self.api("PUT", PATH, [1], token=self.staff), 400, "VALIDATION_FAILED")
        assert self.api("GET", PATH, token=self.staff).json["configured"] is False

    def test_only_the_merchants_own_marketing_staff_set_it(self):
        self.set_rule(discount_percent=10)
        clerk = self.staff_of(self.merchant, "clerk-1", "merchant_clerk")
        assert self.api("GET", PATH, token=clerk).json["discount_percent"] == 10
        refused = self.api("PUT", PATH, {"weekdays": [1], "discount_percent": 30}, token=clerk)
        self.assert_error(refused, 403, "FORBIDDEN")
        with connection():
            other = make_merchant(name="隔壁咖啡")
        stranger = self.staff_of(other, "owner-b", "merchant_owner")
        own = self.api("GET", PATH, token=stranger).json
        assert own["configured"] is False  # its own merchant's, never ours
        self.assert_error(self.api("GET", f"{PATH}?merchant_id={self.merchant.id}",
                                   token=stranger), 403, "NOT_MERCHANT_STAFF")
        self.assert_error(self.api("PUT", f"{PATH}?merchant_id={self.merchant.id}",
                                   {"weekdays": [1], "discount_percent": 30}, token=stranger),
                          403, "NOT_MERCHANT_STAFF")
        self.assert_error(self.api("GET", PATH, token=self.token("alice")), 403,
                          "NOT_MERCHANT_STAFF")
        assert self.api("GET", PATH, token=self.staff).json["discount_percent"] == 10

    def test_operators_see_the_rule_in_the_merchant_detail(self):
        self.set_rule(discount_percent=5, min_level=2)
        operator = self.operator_token("operator")
        detail = self.api("GET", f"/api/admin/v1/merchants/{self.merchant.id}", token=operator)
        assert detail.status == 200, detail.body
        day = detail.json["member_day"]
        assert (day["configured"], day["min_level"], day["discount_percent"]) == (True, 2, 5)


class MemberDayCheckoutTest(MemberDayTestCase):
    def test_a_members_order_on_a_member_day_gets_its_discount_and_points(self):
        with connection():
            item = make_item(self.merchant, kind="goods", price_fen=3333, stock=10)
        buyer = self.make_member("alice", spent_fen=100)
        self.set_levels({"name": "银卡", "min_spent_fen": 1, "discount_percent": 15,
                         "points_multiplier_pct": 125})
        self.set_rule(weekdays=off_days())
        plain = self.quote(buyer, item)
        assert (plain["level_discount_fen"], plain["member_day_discount_fen"]) == (499, 0)
        assert plain["member_day"] is None
        assert plain["earn_points"] == 28 * 125 // 100  # 2834 fen: 28 yuan x 125 %
        self.set_rule(discount_percent=7, points_multiplier_pct=150)
        quote = self.quote(buyer, item)
        # 3333 - floor(3333 x 15 %) = 2834; then floor(2834 x 7 %) = 198 (198.38): 2636 left.
        assert (quote["level_discount_fen"], quote["member_day_discount_fen"]) == (499, 198)
        assert quote["member_day"] == {"discount_percent": 7, "discount_fen": 198,
                                       "points_multiplier_pct": 150}
        assert (quote["discount_fen"], quote["shipping_fen"], quote["payable_fen"]) \
            == (697, 1000, 3636)
        # 26 whole yuan x 125 % x 150 % = 48.75: rounded down once, at the end.
        assert quote["earn_points"] == 48
        assert [line["discount_fen"] for line in quote["items"]] == [697]
        order = self.paid_order(buyer, item)
        assert order["status"] == "paid" and order["paid_fen"] == 3636
        assert order["breakdown"]["member_day_discount_fen"] == 198
        assert order["breakdown"]["member_day"] == {"discount_fen": 198,
                                                    "points_multiplier_pct": 150}
        assert order["breakdown"]["earn_points"] == 48
        assert self.balance("alice") == 48

    def test_an_order_placed_on_a_member_day_keeps_its_points_when_paid_after_it(self):
        buyer = self.make_member("alice")
        self.set_rule(points_multiplier_pct=300)
        order = self.order(buyer, quantity=2)  # 60.00 yuan: 60 points, x3 on the member day
        assert order["breakdown"]["earn_points"] == 180
        # Midnight passes before the buyer pays: the member day is over (so is the rule).
        self.set_rule(weekdays=off_days(), points_multiplier_pct=300)
        later = self.order(buyer, quantity=2)
        assert later["breakdown"]["member_day"] is None and later["breakdown"]["earn_points"] == 60
        self.provider_pays(self.start_payment(buyer, order["order_no"]))
        paid = self.get_order(buyer, order["order_no"])
        assert paid["status"] == "paid" and paid["breakdown"]["earn_points"] == 180
        assert self.row(order["order_no"]).member_day_points_pct == 300
        assert self.balance("alice") == 180
        self.provider_pays(self.start_payment(buyer, later["order_no"]))
        assert self.get_order(buyer, later["order_no"])["breakdown"]["earn_points"] == 60
        assert self.balance("alice") == 240

    def test_an_order_placed_yesterday_on_the_member_day_earns_by_it_when_paid_today(self):
        buyer = self.make_member("alice")
        placed_at = utcnow() - dt.timedelta(days=1)
        self.set_rule(weekdays=[shanghai_day(placed_at).isoweekday()])
        with connection():
            order = create_order(self.octx, self.user_id("alice"),
                                 Basket([(self.goods.id, 1)]), now=placed_at)
            # Still open today (it would have closed unpaid after 15 minutes).
            Order.update(expires_at=utcnow() + dt.timedelta(minutes=15)).where(
                Order.id == order.id).execute()
        assert self.quote(buyer)["member_day"] is None  # today is not a member day
        self.provider_pays(self.start_payment(buyer, order.order_no))
        paid = self.get_order(buyer, order.order_no)
        assert paid["status"] == "paid" and paid["breakdown"]["earn_points"] == 60
        assert self.balance("alice") == 60

    def test_non_members_and_lower_levels_do_not_get_it(self):
        self.set_rule(discount_percent=10, points_multiplier_pct=200)
        newcomer = self.token("bob")
        first = self.quote(newcomer)
        assert first["member_day"] is None and first["member_day_discount_fen"] == 0
        paid = self.paid_order(newcomer)  # the first purchase makes bob a member
        assert paid["breakdown"]["member_day"] is None and paid["breakdown"]["earn_points"] == 30
        assert self.balance("bob") == 30
        second = self.quote(newcomer)
        assert second["member_day_discount_fen"] == 300 and second["earn_points"] == 54
        self.set_levels({"name": "金卡", "min_spent_fen": 1_000_000})
        self.set_rule(discount_percent=10, min_level=1)
        low = self.quote(newcomer)
        assert low["member_day"] is None and low["earn_points"] == 30
        membership = self.api("GET", "/api/v1/me/membership", token=newcomer).json
        day = membership["memberships"][0]["member_day"]
        assert (day["min_level"], day["eligible"], day["today"]) == (1, False, True)

    def test_a_counter_award_on_a_member_day_uses_its_multiplier(self):
        member = self.login("alice")["user"]["id"]
        self.make_member("alice", spent_fen=100)
        self.set_levels({"name": "银卡", "min_spent_fen": 1, "points_multiplier_pct": 150})
        self.set_rule(points_multiplier_pct=200)
        award = self.api("POST", "/api/v1/merchant/points-awards",
                         {"user_id": member, "amount_fen": 12_345}, token=self.staff)
        assert award.status == 201, award.body
        # 123 whole yuan x 150 % x 200 % = 369.
        assert (award.json["multiplier_pct"], award.json["member_day_multiplier_pct"],
                award.json["points"]) == (150, 200, 369)
        self.set_rule(weekdays=off_days())
        plain = self.api("POST", "/api/v1/merchant/points-awards",
                         {"user_id": member, "amount_fen": 12_345}, token=self.staff)
        assert (plain.json["member_day_multiplier_pct"], plain.json["points"]) == (100, 184)
        assert self.balance("alice") == 369 + 184


class MemberDayPagesTest(MemberDayTestCase):
    def test_the_merchant_page_shows_the_next_member_day_and_follows_changes(self):
        page = f"/api/v1/merchants/{self.merchant.id}"
        assert self.api("GET", page).json["member_day"] is None
        self.set_rule(discount_percent=5)
        shown = self.api("GET", page).json["member_day"]
        today = shanghai_day(utcnow())
        assert shown["today"] and shown["next_date"] in (
            today.isoformat(), (today + dt.timedelta(days=1)).isoformat())
        assert (shown["points_multiplier_pct"], shown["discount_percent"], shown["summary"]) \
            == (200, 5, "积分2倍，再享9.5折")
        self.set_rule(weekdays=off_days())
        moved = self.api("GET", page).json["member_day"]
        assert not moved["today"] and moved["next_date"] > today.isoformat()
        self.set_rule(enabled=False)
        assert self.api("GET", page).json["member_day"] is None

    def test_my_membership_says_when_the_next_member_day_is(self):
        buyer = self.make_member("alice")
        self.set_rule(points_multiplier_pct=150)
        membership = self.api("GET", "/api/v1/me/membership", token=buyer).json
        day = membership["memberships"][0]["member_day"]
        assert day["eligible"] and day["today"] and day["summary"] == "积分1.5倍"
        self.set_rule(enabled=False)
        membership = self.api("GET", "/api/v1/me/membership", token=buyer).json
        assert membership["memberships"][0]["member_day"] is None
