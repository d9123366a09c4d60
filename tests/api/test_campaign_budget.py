"""The budget of a platform campaign: a rush takes it to the fen and no further, quotes and
orders leave out a campaign whose budget cannot cover them, an unpaid order gives its part
back once (cancelled twice, or cancelled while the close job runs), and a merchant's own
campaign or a platform one without a budget is not limited."""
import datetime as dt

from alliance.campaigns.models import Campaign, CampaignUse
from alliance.db import connection, utcnow
from alliance.orders import lifecycle
from alliance.orders.models import Order
from tests.campaigns_support import CampaignTestCase, at
from tests.concurrency import run_at_once
from tests.factories import make_item


class CampaignBudgetTest(CampaignTestCase):
    def platform(self, kind: str, budget_fen: int | None, **body) -> int:
        """An approved platform campaign the merchant has joined (no audit of joins)."""
        spec = {"kind": kind, "name": "平台活动", "starts_at": at(-1), "ends_at": at(60),
                "join_requires_approval": False, "budget_fen": budget_fen, **body}
        if budget_fen is None:
            spec.pop("budget_fen")
        response = self.api("POST", "/api/admin/v1/campaigns", spec, token=self.operator)
        assert response.status == 201, response.body
        return response.json["id"]

    def join(self, campaign_id: int, items: list | None = None) -> None:
        response = self.api("POST", f"/api/v1/merchant/campaigns/{campaign_id}/join",
                            {"items": items or []}, token=self.staff)
        assert response.status == 201 and response.json["status"] == "approved", response.body

    def platform_flash(self, item, price: int, budget_fen: int | None) -> int:
        campaign_id = self.platform("flash_sale", budget_fen)
        self.join(campaign_id, [{"item_id": item.id, "campaign_price_fen": price}])
        return campaign_id

    def used(self, campaign_id: int) -> int:
        with connection():
            return Campaign.get_by_id(campaign_id).budget_used_fen

    def held(self, campaign_id: int) -> int:
        """The discounts of its uses taken from the budget and not given back."""
        with connection():
            return sum(u.discount_fen for u in CampaignUse.select().where(
                CampaignUse.campaign == campaign_id, CampaignUse.from_budget,
                CampaignUse.released_at.is_null()))

    def cancel(self, token: str, order_no: str):
        return self.api("POST", f"/api/v1/orders/{order_no}/cancel", {}, token=token)

    def test_a_rush_gives_exactly_the_discounts_the_budget_covers(self):
        with connection():
            item = make_item(self.merchant, price_fen=3000, stock=50)
        campaign_id = self.platform_flash(item, 2000, budget_fen=5 * 1000)
        tokens = [self.token(f"buyer-{i}") for i in range(12)]
        body = {"items": [{"item_id": item.id, "quantity": 1}]}
        outcomes = self.run_blocking(lambda: run_at_once(
            12, lambda i: self.post_from_thread("/api/v1/orders", body, tokens[i])))
        placed = [answer for status, answer in outcomes if status == 201]
        refused = [answer for status, answer in outcomes if status != 201]
        # Orders that priced it before the budget was gone and lost the race are refused
        # (a new quote leaves it out); the others are placed at the item's price.
        assert {(a["error"]["code"], a["error"]["details"]["campaign_id"]) for a in refused} <= {
            ("CAMPAIGN_BUDGET_EXHAUSTED", campaign_id)}, outcomes
        assert sorted(a["breakdown"]["campaign_discount_fen"] for a in placed) == (
            [0] * (len(placed) - 5) + [1000] * 5), outcomes
        assert self.used(campaign_id) == 5000 == self.held(campaign_id)
        with connection():
            assert Order.select().where(Order.campaign_discount_fen == 1000).count() == 5
        quote = self.quote(tokens[0], [(item, 1)])
        assert (quote["campaign_discount_fen"], quote["campaigns"]) == (0, [])
        assert self.order(tokens[0], item)["payable_fen"] == 3000 + 1000
        view = self.api("GET", f"/api/admin/v1/campaigns/{campaign_id}", token=self.operator).json
        assert (view["budget_fen"], view["budget_used_fen"], view["budget_left_fen"]) == (
            5000, 5000, 0)
        effect = self.api("GET", f"/api/admin/v1/campaigns/{campaign_id}/effect",
                          token=self.operator).json
        assert (effect["orders"], effect["budget_used_fen"], effect["budget_left_fen"]) == (
            0, 5000, 0)  # none paid yet: the unpaid orders hold the budget

    def test_an_unpaid_order_gives_its_discount_back_to_the_budget_once(self):
        campaign_id = self.platform_flash(self.goods, 2000, budget_fen=2000)
        alice, bob, carol = self.token("alice"), self.token("bob"), self.token("carol")
        first = self.order(alice)
        second = self.order(bob)
        assert [o["breakdown"]["campaign_discount_fen"] for o in (first, second)] == [1000, 1000]
        assert self.quote(carol, [(self.goods, 1)])["campaign_discount_fen"] == 0
        assert self.cancel(alice, first["order_no"]).status == 200
        self.assert_error(self.cancel(alice, first["order_no"]), 409, "ORDER_STATE_CONFLICT")
        assert self.used(campaign_id) == 1000 == self.held(campaign_id)
        third = self.order(carol)
        assert third["breakdown"]["campaign_discount_fen"] == 1000
        assert self.used(campaign_id) == 2000
        # The close job and the buyer's cancel at once: the order's part comes back once.
        later = utcnow() + dt.timedelta(hours=2)

        def close_or_cancel(i: int):
            if i == 0:
                with connection():
                    return lifecycle.close_unpaid_orders(self.octx, now=later)
            return self.post_from_thread(f"/api/v1/orders/{second['order_no']}/cancel", {}, bob)

        self.run_blocking(lambda: run_at_once(2, close_or_cancel))
        assert self.row(second["order_no"]).status == "cancelled"
        assert self.row(third["order_no"]).status == "cancelled"  # closed by the job too
        assert self.used(campaign_id) == 0 == self.held(campaign_id)
        with connection():
            assert lifecycle.close_unpaid_orders(self.octx, now=later)["closed"] == 0
        assert self.used(campaign_id) == 0

    def test_a_full_reduction_out_of_budget_leaves_the_merchants_own_to_apply(self):
        platform = self.platform("full_reduction", budget_fen=1000,
                                 tiers=[{"threshold_fen": 5000, "discount_fen": 500}])
        self.join(platform)
        own = self.reduction([(5000, 300)])
        unlimited = self.platform_flash(self.service, 4000, budget_fen=None)
        buyers = [self.token(name) for name in ("alice", "bob", "carol")]
        orders = [self.order(token, quantity=2) for token in buyers]
        assert [o["breakdown"]["campaign_discount_fen"] for o in orders] == [500, 500, 300]
        assert self.quote(buyers[0], [(self.goods, 2)])["campaigns"][0]["campaign_id"] == own
        assert self.used(platform) == 1000
        with connection():
            assert [u.from_budget for u in CampaignUse.select().where(
                CampaignUse.campaign == own)] == [False]
        # The merchant's own campaign and a platform one without a budget are not limited.
        for token in buyers:
            assert self.order(token, self.service)["breakdown"]["campaign_discount_fen"] == 1000
        view = self.api("GET", f"/api/admin/v1/campaigns/{unlimited}", token=self.operator).json
        assert (view["budget_fen"], view["budget_used_fen"], view["budget_left_fen"]) == (
            None, 0, None)
        assert self.cancel(buyers[2], orders[2]["order_no"]).status == 200
        assert self.cancel(buyers[0], orders[0]["order_no"]).status == 200
        assert self.used(platform) == 500 == self.held(platform)
        staff_view = self.api("GET", f"/api/v1/merchant/campaigns/{platform}",
                              token=self.staff).json
        assert "budget_used_fen" not in staff_view and "budget_fen" not in staff_view
