"""Campaigns through the API: who may run and audit them, bad input, what consumers see,
platform campaigns joined by merchants (settlement's subsidy and its reversal on a full
refund) and each campaign's effect."""
import datetime as dt

from alliance.db import connection
from alliance.orders.funding import campaign_subsidy_events
from tests.campaigns_support import CampaignTestCase, at
from tests.factories import add_staff

WIDE = (dt.datetime(2000, 1, 1), dt.datetime(2100, 1, 1))


class CampaignAccessTest(CampaignTestCase):
    def test_another_merchant_cannot_see_or_touch_a_campaign_and_roles_are_enforced(self):
        campaign = self.create({"kind": "full_reduction",
                                "tiers": [{"threshold_fen": 5000, "discount_fen": 500}]})
        other_token, _ = self.merchant_owned_by("owner-b")
        path = f"/api/v1/merchant/campaigns/{campaign['id']}"
        self.assert_error(self.api("GET", path, token=other_token), 404, "CAMPAIGN_NOT_FOUND")
        self.assert_error(self.api("PATCH", path, {"name": "改名"}, token=other_token), 404,
                          "CAMPAIGN_NOT_FOUND")
        self.assert_error(self.api("POST", path + "/end", {}, token=other_token), 404,
                          "CAMPAIGN_NOT_FOUND")
        clerk = self.login("clerk")
        with connection():
            from alliance.accounts.models import User
            add_staff(self.merchant, "merchant_clerk", User.get_by_id(clerk["user"]["id"]))
        clerk_token = clerk["access_token"]
        assert self.api("GET", "/api/v1/merchant/campaigns", token=clerk_token).status == 200
        self.assert_error(self.api("POST", "/api/v1/merchant/campaigns",
                                   {"kind": "full_reduction"}, token=clerk_token), 403, "FORBIDDEN")
        self.assert_error(self.api("POST", path + "/end", {}, token=clerk_token), 403, "FORBIDDEN")
        service = self.operator_token("customer_service")
        self.assert_error(self.api("POST", f"/api/admin/v1/campaigns/{campaign['id']}/review",
                                   {"decision": "approve"}, token=service), 403, "FORBIDDEN")
        self.assert_error(self.api("GET", "/api/admin/v1/campaigns", token=self.staff), 401,
                          "TOKEN_INVALID")
        assert self.api("GET", path, token=self.staff).json["status"] == "pending"

    def test_bad_input_is_a_400_naming_the_field(self):
        cases = [
            ({"kind": "bogus"}, "kind"),
            ({"kind": "flash_sale", "items": [{"item_id": self.goods.id,
                                               "campaign_price_fen": 3000}]},
             "items[0].campaign_price_fen"),
            ({"kind": "flash_sale", "items": []}, "items"),
            ({"kind": "flash_sale", "starts_at": at(60), "ends_at": at(30),
              "items": [{"item_id": self.goods.id, "campaign_price_fen": 100}]}, "ends_at"),
            ({"kind": "flash_sale", "starts_at": "tomorrow"}, "starts_at"),
            ({"kind": "full_reduction", "tiers": [{"threshold_fen": 500, "discount_fen": 500}]},
             "tiers[0].discount_fen"),
            ({"kind": "full_reduction", "tiers": [{"threshold_fen": 500, "discount_fen": 100},
                                                  {"threshold_fen": 900, "discount_fen": 90}]},
             "tiers"),
            ({"kind": "flash_sale", "per_user_limit": 0,
              "items": [{"item_id": self.goods.id, "campaign_price_fen": 100}]}, "per_user_limit"),
        ]
        for body, field in cases:
            body = {"name": "活动", "starts_at": at(-1), "ends_at": at(60), **body}
            response = self.api("POST", "/api/v1/merchant/campaigns", body, token=self.staff)
            self.assert_error(response, 400, "VALIDATION_FAILED")
            assert response.json["error"]["details"]["field"] == field, (body, response.json)
        self.assert_error(self.api("POST", "/api/admin/v1/campaigns/1/review",
                                   {"decision": "reject"}, token=self.operator), 400,
                          "VALIDATION_FAILED")
        self.assert_error(self.api("GET", "/api/v1/campaigns?kind=x"), 400, "VALIDATION_FAILED")

    def test_a_running_campaign_cannot_be_changed_and_a_change_goes_back_to_audit(self):
        upcoming = self.flash(price=1000, starts_at=at(30), ends_at=at(90))
        response = self.api("PATCH", f"/api/v1/merchant/campaigns/{upcoming}",
                            {"items": [{"item_id": self.goods.id, "campaign_price_fen": 900}]},
                            token=self.staff)
        assert response.status == 200, response.body
        assert (response.json["status"], response.json["items"][0]["campaign_price_fen"]) == (
            "pending", 900)
        running = self.flash(price=1000)
        self.assert_error(self.api("PATCH", f"/api/v1/merchant/campaigns/{running}",
                                   {"name": "新名字"}, token=self.staff), 409,
                          "CAMPAIGN_STATE_CONFLICT")


class CampaignViewsTest(CampaignTestCase):
    def test_consumers_see_running_and_upcoming_campaigns_with_prices_and_stock(self):
        flash = self.flash(price=1999, stock=3)
        upcoming = self.reduction([(5000, 500)], starts_at=at(30), ends_at=at(90))
        self.create({"kind": "full_reduction", "tiers": [{"threshold_fen": 100,
                                                          "discount_fen": 10}]})  # pending
        listed = self.api("GET", "/api/v1/campaigns?limit=1").json
        assert [c["id"] for c in listed["items"]] == [upcoming] and listed["next_cursor"]
        rest = self.api("GET", f"/api/v1/campaigns?cursor={listed['next_cursor']}").json
        assert [(c["id"], c["state"]) for c in rest["items"]] == [(flash, "running")]
        buyer = self.token("alice")
        self.order(buyer)
        detail = self.api("GET", f"/api/v1/campaigns/{flash}").json
        assert [(i["item_id"], i["price_fen"], i["campaign_price_fen"], i["remaining_stock"])
                for i in detail["items"]] == [(self.goods.id, 3000, 1999, 2)]
        assert detail["merchants"] == [{"merchant_id": self.merchant.id, "name": "老街面馆"}]
        item = self.api("GET", f"/api/v1/items/{self.goods.id}").json
        assert (item["campaign"]["campaign_id"], item["campaign"]["campaign_price_fen"],
                item["campaign"]["remaining_stock"]) == (flash, 1999, 2)
        assert self.api("GET", f"/api/v1/items/{self.service.id}").json["campaign"] is None
        page = self.api("GET", f"/api/v1/merchants/{self.merchant.id}").json
        assert [(c["id"], c["items"][0]["campaign_price_fen"]) for c in page["campaigns"]] == [
            (flash, 1999)]
        self.assert_error(self.api("GET", "/api/v1/campaigns/999999"), 404, "CAMPAIGN_NOT_FOUND")


class PlatformCampaignTest(CampaignTestCase):
    def refund(self, order_no: str, amount_fen: int) -> None:
        response = self.api("POST", f"/api/v1/merchant/orders/{order_no}/refunds",
                            {"amount_fen": amount_fen, "reason": "缺货"}, token=self.staff)
        assert response.status == 201, response.body
        self.wait_for(lambda: any(r.status == "succeeded" for r in self.refunds(order_no)))

    def test_a_joined_platform_flash_sale_is_owed_by_the_platform_and_reversed_on_full_refund(self):
        campaign = self.platform_flash()
        joined = self.join(campaign["id"], self.staff, self.goods, 2000)
        assert joined["status"] == "pending"
        buyer = self.token("alice")
        assert self.quote(buyer, [(self.goods, 1)])["campaign_discount_fen"] == 0
        joinable = self.api("GET", "/api/v1/merchant/platform-campaigns", token=self.staff).json
        assert joinable["items"][0]["participation"]["status"] == "pending"
        path = f"/api/admin/v1/campaigns/{campaign['id']}/participants/{self.merchant.id}/review"
        response = self.api("POST", path, {"decision": "approve"}, token=self.operator)
        assert response.status == 200 and response.json["status"] == "approved"
        self.assert_error(self.api("POST", path, {"decision": "approve"}, token=self.operator),
                          409, "CAMPAIGN_STATE_CONFLICT")
        order = self.paid_order(buyer)
        assert (order["breakdown"]["campaign_discount_fen"], order["paid_fen"]) == (1000, 3000)
        [event] = campaign_subsidy_events(*WIDE)
        assert (event.merchant_id, event.counterparty_merchant_id, event.amount_fen,
                event.line, event.order_no) == (self.merchant.id, None, 1000, "campaign_subsidy",
                                                order["order_no"])
        effect = self.api("GET", f"/api/admin/v1/campaigns/{campaign['id']}/effect",
                          token=self.operator).json
        assert effect == {"campaign_id": campaign["id"], "participants": 1, "orders": 1,
                          "units": 1, "sales_fen": 2000, "discount_fen": 1000,
                          "budget_fen": 100000, "budget_used_fen": 1000,
                          "budget_left_fen": 99000,
                          "shares": {"new_consumers": 0, "converted": 0}}
        self.refund(order["order_no"], order["paid_fen"])
        events = campaign_subsidy_events(*WIDE)
        assert sorted(e.amount_fen for e in events) == [-1000, 1000]
        assert sum(e.amount_fen for e in events) == 0
        effect = self.api("GET", f"/api/admin/v1/campaigns/{campaign['id']}/effect",
                          token=self.operator).json
        # A refund gives no budget back: the discount was spent.
        assert (effect["orders"], effect["budget_used_fen"]) == (0, 1000)

    def test_a_merchants_own_campaign_is_no_subsidy_and_its_effect_counts_paid_orders(self):
        campaign_id = self.flash(price=2500)
        self.paid_order(self.token("alice"))
        self.paid_order(self.token("alice"))
        self.order(self.token("bob"))  # unpaid
        assert campaign_subsidy_events(*WIDE) == []
        effect = self.api("GET", f"/api/v1/merchant/campaigns/{campaign_id}/effect",
                          token=self.staff).json
        assert (effect["participants"], effect["orders"], effect["units"], effect["sales_fen"],
                effect["discount_fen"]) == (1, 2, 2, 5000, 1000)

    def test_a_rejected_join_does_not_run_and_may_be_sent_again(self):
        campaign = self.platform_flash(join_requires_approval=True)
        self.join(campaign["id"], self.staff, self.goods, 2000)
        path = f"/api/admin/v1/campaigns/{campaign['id']}/participants/{self.merchant.id}/review"
        response = self.api("POST", path, {"decision": "reject", "reason": "价格不够优惠"},
                            token=self.operator)
        assert (response.json["status"], response.json["reason"]) == ("rejected", "价格不够优惠")
        assert self.quote(self.token("alice"), [(self.goods, 1)])["campaign_discount_fen"] == 0
        assert self.join(campaign["id"], self.staff, self.goods, 1500)["status"] == "pending"
        response = self.api("POST", f"/api/admin/v1/campaigns/{campaign['id']}/end", {},
                            token=self.operator)
        assert response.json["status"] == "ended"
        self.assert_error(self.api("POST", f"/api/v1/merchant/campaigns/{campaign['id']}/join",
                                   {"items": [{"item_id": self.goods.id,
                                               "campaign_price_fen": 100}]}, token=self.staff),
                          409, "CAMPAIGN_STATE_CONFLICT")
        listed = self.api("GET", "/api/admin/v1/campaigns?owner=platform",
                          token=self.operator).json
        assert [c["id"] for c in listed["items"]] == [campaign["id"]]
