"""Campaigns in orders: flash sales that never oversell, per-user limits under a double tap,
campaign stock given back once by an unpaid order, prices that add up to the fen with level
discount, coupon and points on top, the full reduction's tier, and campaigns that do not
run changing nothing."""
import datetime as dt

from alliance.campaigns.models import CampaignQuota
from alliance.db import connection, utcnow
from alliance.members.services import record_visit, set_level_rules
from alliance.orders import lifecycle
from alliance.orders.models import Order
from tests.campaigns_support import CampaignTestCase, at
from tests.concurrency import run_at_once
from tests.factories import make_item


class FlashSaleTest(CampaignTestCase):
    def test_a_rush_of_more_buyers_than_stock_sells_exactly_the_campaign_stock(self):
        with connection():
            item = make_item(self.merchant, price_fen=3000, stock=50)
        campaign_id = self.flash(item, price=990, stock=5)
        tokens = [self.token(f"buyer-{i}") for i in range(12)]
        body = {"items": [{"item_id": item.id, "quantity": 1}]}
        outcomes = self.run_blocking(lambda: run_at_once(
            12, lambda i: self.post_from_thread("/api/v1/orders", body, tokens[i])))
        statuses = sorted(status for status, _ in outcomes)
        assert statuses == [201] * 5 + [409] * 7, outcomes
        assert {answer["error"]["code"] for status, answer in outcomes if status == 409} == {
            "CAMPAIGN_SOLD_OUT"}
        assert {answer["payable_fen"] for status, answer in outcomes if status == 201} == {
            990 + 1000}  # campaign price and shipping
        row = self.campaign_item(campaign_id)
        assert (row.stock_left, row.sold) == (0, 5)
        assert len(self.uses(campaign_id)) == 5
        assert self.stock(item) == 45
        with connection():
            assert Order.select().where(Order.campaign_discount_fen == 2010).count() == 5
        sold_out = self.api("POST", "/api/v1/orders", body, token=tokens[0])
        self.assert_error(sold_out, 409, "CAMPAIGN_SOLD_OUT")
        assert sold_out.json["error"]["details"]["item_id"] == item.id

    def test_the_per_user_limit_holds_under_a_double_tap(self):
        campaign_id = self.flash(price=1500, stock=10, per_user_limit=1)
        buyer = self.token("alice")
        body = {"items": [{"item_id": self.goods.id, "quantity": 1}]}
        outcomes = self.run_blocking(lambda: run_at_once(
            2, lambda i: self.post_from_thread("/api/v1/orders", body, buyer)))
        assert sorted(status for status, _ in outcomes) == [201, 409], outcomes
        assert [a["error"]["code"] for s, a in outcomes if s == 409] == ["CAMPAIGN_LIMIT_REACHED"]
        self.assert_error(self.api("POST", "/api/v1/orders", body, token=buyer), 409,
                          "CAMPAIGN_LIMIT_REACHED")
        self.assert_error(self.api("POST", "/api/v1/orders",
                                   {"items": [{"item_id": self.goods.id, "quantity": 2}]},
                                   token=self.token("bob")), 409, "CAMPAIGN_LIMIT_REACHED")
        assert self.campaign_item(campaign_id).stock_left == 9
        assert self.stock(self.goods) == 9

    def test_an_unpaid_order_gives_its_campaign_stock_and_quota_back_once(self):
        campaign_id = self.flash(price=1500, stock=2, per_user_limit=1)
        buyer = self.token("alice")
        cancelled = self.order(buyer)
        assert self.campaign_item(campaign_id).stock_left == 1
        response = self.api("POST", f"/api/v1/orders/{cancelled['order_no']}/cancel", {},
                            token=buyer)
        assert response.status == 200, response.body
        again = self.api("POST", f"/api/v1/orders/{cancelled['order_no']}/cancel", {}, token=buyer)
        self.assert_error(again, 409, "ORDER_STATE_CONFLICT")
        assert self.campaign_item(campaign_id).stock_left == 2
        with connection():
            assert [q.units for q in CampaignQuota.select()] == [0]
        # The quota came back too: alice may buy again, and an order left unpaid is closed
        # by the job, twice over, giving back its unit once.
        expired = self.order(buyer)
        assert self.campaign_item(campaign_id).stock_left == 1
        later = utcnow() + dt.timedelta(hours=2)
        with connection():
            assert lifecycle.close_unpaid_orders(self.octx, now=later)["closed"] == 1
            assert lifecycle.close_unpaid_orders(self.octx, now=later)["closed"] == 0
        assert self.row(expired["order_no"]).status == "cancelled"
        row = self.campaign_item(campaign_id)
        assert (row.stock_left, row.sold) == (2, 0)
        assert [u.released_at is not None for u in self.uses(campaign_id)] == [True, True]
        self.order(buyer)
        assert self.campaign_item(campaign_id).stock_left == 1


class CampaignPricingTest(CampaignTestCase):
    def test_campaigns_level_coupon_and_points_add_up_to_the_fen(self):
        with connection():
            other = make_item(self.merchant, price_fen=1000, stock=10)
            set_level_rules(self.merchant.id, [{"name": "银卡", "min_spent_fen": 100,
                                                "discount_percent": 5,
                                                "points_multiplier_pct": 200}])
            record_visit(self.user_id("alice"), self.merchant.id, spent_fen=100)
        self.flash(self.goods, price=1999)
        self.reduction([(5000, 500), (6000, 800)])
        buyer = self.token("alice")
        self.give_points("alice", 10000)
        coupon_id = self.give_coupon("alice", discount_fen=300, threshold_fen=6500)
        order = self.api("POST", "/api/v1/orders", {
            "items": [{"item_id": self.goods.id, "quantity": 3},
                      {"item_id": other.id, "quantity": 1}],
            "coupon_id": coupon_id, "points": 200}, token=buyer).json
        # items 3 x 3000 + 1000 = 10000; flash sale 3 x (3000 - 1999) = 3003; full reduction
        # on 6997 at campaign prices: the 6000 tier, 800; level 5 % of 6197 = 309; coupon
        # 300 (its 6500 threshold met by 6997); points 200; shipping 1000 (5588 < 9900).
        breakdown = order["breakdown"]
        assert (breakdown["items_fen"], breakdown["campaign_discount_fen"],
                breakdown["level_discount_fen"], breakdown["coupon_discount_fen"],
                breakdown["points_discount_fen"], breakdown["shipping_fen"]) == (
            10000, 3803, 309, 300, 200, 1000)
        assert (order["total_fen"], order["discount_fen"], order["payable_fen"]) == (
            11000, 4612, 6388)
        assert breakdown["earn_points"] == 5388 // 100 * 2
        detail = self.get_order(buyer, order["order_no"])
        assert [(i["amount_fen"], i["discount_fen"], i["payable_fen"]) for i in detail["items"]] == [
            (9000, 3003 + 686 + 693, 9000 - 4382), (1000, 114 + 116, 770)]
        assert detail["breakdown"]["campaign_discount_fen"] == 3803
        row = self.row(order["order_no"])
        assert row.discount_fen == (row.campaign_discount_fen + row.level_discount_fen
                                    + row.coupon_discount_fen + row.points_discount_fen)
        assert row.payable_fen == row.total_fen - row.discount_fen

    def test_the_full_reduction_takes_the_best_tier_that_applies(self):
        self.reduction([(5000, 500), (9000, 1200), (12000, 2000)])
        buyer = self.token("alice")
        cases = {1: 0, 2: 500, 3: 1200, 4: 2000}
        for quantity, saved in cases.items():
            quote = self.quote(buyer, [(self.goods, quantity)])
            assert quote["campaign_discount_fen"] == saved, (quantity, quote)
            assert quote["payable_fen"] == quote["total_fen"] - saved
        assert [c["kind"] for c in self.quote(buyer, [(self.goods, 2)])["campaigns"]] == [
            "full_reduction"]

    def test_a_campaign_not_approved_or_outside_its_window_changes_nothing(self):
        buyer = self.token("alice")
        plain = self.quote(buyer, [(self.goods, 2)])
        self.create({"kind": "flash_sale", "items": [{"item_id": self.goods.id,
                                                      "campaign_price_fen": 100}]})  # pending
        rejected = self.create({"kind": "full_reduction",
                                "tiers": [{"threshold_fen": 100, "discount_fen": 50}]})
        response = self.api("POST", f"/api/admin/v1/campaigns/{rejected['id']}/review",
                            {"decision": "reject", "reason": "力度不符合平台规则"},
                            token=self.operator)
        assert response.status == 200 and response.json["status"] == "rejected"
        self.flash(price=200, starts_at=at(30), ends_at=at(90))  # upcoming
        ended = self.reduction([(100, 60)])
        response = self.api("POST", f"/api/v1/merchant/campaigns/{ended}/end", {},
                            token=self.staff)
        assert response.status == 200 and response.json["status"] == "ended"
        assert self.quote(buyer, [(self.goods, 2)]) == plain
        order = self.order(buyer, quantity=2)
        assert order["payable_fen"] == plain["payable_fen"]
        with connection():
            assert self.row(order["order_no"]).campaign_discount_fen == 0
