"""Group buys (团购) through the API: created, edited and audited as the other campaign
kinds, bad input refused in the envelope, the order's group_buy field and its errors, the
group price applied only to orders that ask for it, consumers' views of groups, and one
merchant never seeing another's groups."""
from alliance.db import connection
from tests.campaigns_support import CampaignTestCase, at
from tests.factories import make_item


class GroupBuyCampaignTest(CampaignTestCase):
    def test_bad_input_is_a_400_naming_the_field(self):
        item = {"item_id": self.goods.id, "campaign_price_fen": 1500}
        cases = [
            ({"kind": "group_buy", "items": [item], "group_hours": 24}, "group_size"),
            ({"kind": "group_buy", "items": [item], "group_size": 1, "group_hours": 24},
             "group_size"),
            ({"kind": "group_buy", "items": [item], "group_size": 51, "group_hours": 24},
             "group_size"),
            ({"kind": "group_buy", "items": [item], "group_size": 3, "group_hours": 0},
             "group_hours"),
            ({"kind": "group_buy", "items": [item], "group_size": 3, "group_hours": 73},
             "group_hours"),
            ({"kind": "group_buy", "items": [item], "group_size": "3", "group_hours": 24},
             "group_size"),
            ({"kind": "group_buy", "group_size": 3, "group_hours": 24,
              "items": [{"item_id": self.goods.id, "campaign_price_fen": 3000}]},
             "items[0].campaign_price_fen"),
            ({"kind": "group_buy", "items": [item], "group_size": 3, "group_hours": 24,
              "tiers": [{"threshold_fen": 500, "discount_fen": 100}]}, "tiers"),
            ({"kind": "flash_sale", "items": [item], "group_size": 3}, "group_size"),
            ({"kind": "full_reduction", "group_hours": 3,
              "tiers": [{"threshold_fen": 500, "discount_fen": 100}]}, "group_hours"),
        ]
        for body, field in cases:
            body = {"name": "拼团", "starts_at": at(-1), "ends_at": at(60), **body}
            response = self.api("POST", "/api/v1/merchant/campaigns", body, token=self.staff)
            self.assert_error(response, 400, "VALIDATION_FAILED")
            assert response.json["error"]["details"]["field"] == field, (body, response.json)
        typo = self.api("POST", "/api/v1/merchant/campaigns", {
            "kind": "group_buy", "name": "拼团", "starts_at": at(-1), "ends_at": at(60),
            "items": [item], "group_size": 3, "group_hours": 24, "group_sise": 3},
            token=self.staff)
        self.assert_error(typo, 400, "VALIDATION_FAILED")
        assert typo.json["error"]["details"]["fields"] == ["group_sise"]

    def test_it_is_audited_and_edited_before_it_starts_as_the_other_kinds(self):
        campaign = self.create({"kind": "group_buy", "starts_at": at(30), "ends_at": at(90),
                                "items": [{"item_id": self.goods.id, "campaign_price_fen": 1500}],
                                "group_size": 3, "group_hours": 2})
        assert (campaign["status"], campaign["kind"], campaign["group_size"],
                campaign["group_hours"]) == ("pending", "group_buy", 3, 2)
        path = f"/api/v1/merchant/campaigns/{campaign['id']}"
        changed = self.api("PATCH", path, {"group_size": 5}, token=self.staff)
        assert (changed.status, changed.json["group_size"]) == (200, 5), changed.body
        self.assert_error(self.api("PATCH", path, {"group_size": 60}, token=self.staff), 400,
                          "VALIDATION_FAILED")
        approved = self.approve(campaign["id"])
        assert approved["status"] == "approved"
        assert [c["id"] for c in self.api("GET", "/api/v1/campaigns?kind=group_buy").json[
            "items"]] == [campaign["id"]]
        public = self.api("GET", f"/api/v1/campaigns/{campaign['id']}").json
        assert (public["group_size"], public["items"][0]["campaign_price_fen"]) == (5, 1500)
        running = self.group_buy(size=2)
        self.assert_error(self.api("PATCH", f"/api/v1/merchant/campaigns/{running}",
                                   {"group_size": 4}, token=self.staff), 409,
                          "CAMPAIGN_STATE_CONFLICT")
        ended = self.api("POST", f"/api/v1/merchant/campaigns/{running}/end", {},
                         token=self.staff)
        assert ended.json["status"] == "ended"


class GroupBuyOrderTest(CampaignTestCase):
    def test_the_group_price_applies_only_to_orders_that_ask_for_it(self):
        campaign_id = self.group_buy(price=1800, size=2)
        buyer = self.token("alice")
        plain = self.quote(buyer, [(self.goods, 1)])
        assert (plain["campaign_discount_fen"], plain["campaigns"]) == (0, [])
        grouped = self.quote(buyer, [(self.goods, 1)], group_buy={"campaign_id": campaign_id})
        assert grouped["campaigns"] == [{"campaign_id": campaign_id, "kind": "group_buy",
                                         "item_id": self.goods.id, "campaign_price_fen": 1800,
                                         "discount_fen": 1200}]
        order = self.order(buyer)
        assert order["breakdown"]["campaign_discount_fen"] == 0
        assert self.get_order(buyer, order["order_no"])["group_buy"] is None

    def test_an_order_asking_for_a_group_it_cannot_have_is_refused(self):
        with connection():
            other = make_item(self.merchant, price_fen=2000, stock=5)
        campaign_id = self.group_buy(size=2)
        flash_id = self.flash(other, price=1000)
        pending = self.create({"kind": "group_buy", "group_size": 2, "group_hours": 1,
                               "items": [{"item_id": other.id, "campaign_price_fen": 900}]})
        buyer, bob = self.token("alice"), self.token("bob")
        line = [{"item_id": self.goods.id, "quantity": 1}]

        def place(group_buy, items=line, token=buyer):
            return self.api("POST", "/api/v1/orders", {"items": items, "group_buy": group_buy},
                            token=token)

        for bad in ({}, {"campaign_id": campaign_id, "group_id": 1}, {"campaign": 1},
                    {"group_id": "x"}, [campaign_id]):
            self.assert_error(place(bad), 400, "VALIDATION_FAILED")
        self.assert_error(place({"group_id": 999999}), 404, "GROUP_NOT_FOUND")
        self.assert_error(place({"campaign_id": flash_id}, [{"item_id": other.id,
                                                              "quantity": 1}]), 409,
                          "GROUP_BUY_UNAVAILABLE")
        self.assert_error(place({"campaign_id": pending["id"]}, [{"item_id": other.id,
                                                                   "quantity": 1}]), 409,
                          "GROUP_BUY_UNAVAILABLE")
        self.assert_error(place({"campaign_id": campaign_id},
                                line + [{"item_id": other.id, "quantity": 1}]), 400,
                          "ORDER_ITEMS_INVALID")
        group_id = self.start_group(buyer, campaign_id)["group_buy"]["group_id"]
        self.assert_error(place({"group_id": group_id}, [{"item_id": other.id, "quantity": 1}],
                                bob), 400, "ORDER_ITEMS_INVALID")
        self.assert_error(place({"group_id": group_id}), 409, "GROUP_ALREADY_JOINED")
        assert self.group(group_id).seats_taken == 1


    def test_a_platform_group_buy_out_of_budget_refuses_the_group_price(self):
        response = self.api("POST", "/api/admin/v1/campaigns", {
            "kind": "group_buy", "name": "平台拼团", "starts_at": at(-1), "ends_at": at(60),
            "group_size": 2, "group_hours": 1, "budget_fen": 1000,
            "join_requires_approval": False}, token=self.operator)
        campaign_id = response.json["id"]
        joined = self.api("POST", f"/api/v1/merchant/campaigns/{campaign_id}/join",
                          {"items": [{"item_id": self.goods.id, "campaign_price_fen": 2000}]},
                          token=self.staff)
        assert joined.status == 201, joined.body
        started = self.start_group(self.token("alice"), campaign_id)
        assert started["breakdown"]["campaign_discount_fen"] == 1000
        refused = self.join_group(self.token("bob"), started["group_buy"]["group_id"])
        self.assert_error(refused, 409, "CAMPAIGN_BUDGET_EXHAUSTED")
        assert refused.json["error"]["details"]["campaign_id"] == campaign_id
        assert self.group(started["group_buy"]["group_id"]).seats_taken == 1


class GroupViewsTest(CampaignTestCase):
    def test_consumers_see_open_groups_to_join_and_their_own(self):
        with connection():
            other = make_item(self.merchant, price_fen=3000, stock=10)
        campaign_id = self.group_buy(price=2000, size=2, stock=None,
                                     items=[{"item_id": self.goods.id, "campaign_price_fen": 2000},
                                            {"item_id": other.id, "campaign_price_fen": 2500}])
        alice, bob, carol = self.token("alice"), self.token("bob"), self.token("carol")
        first = self.start_group(alice, campaign_id)["group_buy"]["group_id"]
        second = self.start_group(bob, campaign_id)["group_buy"]["group_id"]
        third = self.start_group(carol, campaign_id, other)["group_buy"]["group_id"]
        joined = self.join_group(carol, first)
        assert joined.status == 201, joined.body  # the first group is full now
        item = self.api("GET", f"/api/v1/items/{self.goods.id}").json
        assert [(g["campaign_id"], g["group_price_fen"], g["group_size"], g["open_groups"])
                for g in item["group_buys"]] == [(campaign_id, 2000, 2, 1)]
        listed = self.api("GET", f"/api/v1/campaigns/{campaign_id}/groups?item_id={self.goods.id}")
        assert listed.status == 200, listed.body
        assert [(g["id"], g["seats_left"], g["group_price_fen"]) for g in listed.json["items"]] == [
            (second, 1, 2000)]
        everything = self.api("GET", f"/api/v1/campaigns/{campaign_id}/groups?limit=1").json
        assert [g["id"] for g in everything["items"]] == [third] and everything["next_cursor"]
        self.assert_error(self.api("GET", f"/api/v1/campaigns/{campaign_id}/groups?item_id=x"),
                          400, "VALIDATION_FAILED")
        self.assert_error(self.api("GET", "/api/v1/campaigns/999999/groups"), 404,
                          "CAMPAIGN_NOT_FOUND")
        mine = self.api("GET", "/api/v1/me/group-buys", token=carol).json["items"]
        assert [(g["id"], g["leader"], g["seat_status"]) for g in mine] == [
            (first, False, "held"), (third, True, "held")]
        assert self.api("GET", "/api/v1/me/group-buys").status == 401
        self.assert_error(self.api("GET", "/api/v1/group-buys/999999"), 404, "GROUP_NOT_FOUND")


class GroupAccessTest(CampaignTestCase):
    def test_a_merchant_sees_only_its_own_groups(self):
        response = self.api("POST", "/api/admin/v1/campaigns", {
            "kind": "group_buy", "name": "平台拼团", "starts_at": at(-1), "ends_at": at(60),
            "group_size": 2, "group_hours": 2, "join_requires_approval": False},
            token=self.operator)
        platform = response.json["id"]
        token_b, merchant_b = self.merchant_owned_by("owner-b")
        with connection():
            goods_b = make_item(merchant_b, price_fen=3000, stock=5)
        for token, item in ((self.staff, self.goods), (token_b, goods_b)):
            joined = self.api("POST", f"/api/v1/merchant/campaigns/{platform}/join",
                              {"items": [{"item_id": item.id, "campaign_price_fen": 2000}]},
                              token=token)
            assert joined.status == 201, joined.body
        own = self.group_buy(size=2)
        buyer = self.token("alice")
        group_a = self.start_group(buyer, platform)["group_buy"]["group_id"]
        group_b = self.start_group(buyer, platform, goods_b)["group_buy"]["group_id"]
        self.start_group(buyer, own)
        seen_a = self.api("GET", f"/api/v1/merchant/campaigns/{platform}/groups",
                          token=self.staff).json["items"]
        seen_b = self.api("GET", f"/api/v1/merchant/campaigns/{platform}/groups",
                          token=token_b).json["items"]
        assert ([g["id"] for g in seen_a], [g["id"] for g in seen_b]) == ([group_a], [group_b])
        self.assert_error(self.api("GET", f"/api/v1/merchant/campaigns/{own}/groups",
                                   token=token_b), 404, "CAMPAIGN_NOT_FOUND")
        effect_b = self.api("GET", f"/api/v1/merchant/campaigns/{platform}/effect",
                            token=token_b).json
        assert effect_b["groups"]["started"] == 1
        admin = self.api("GET", f"/api/admin/v1/campaigns/{platform}/groups?status=open",
                         token=self.operator).json["items"]
        assert sorted(g["id"] for g in admin) == sorted([group_a, group_b])
        self.assert_error(self.api("GET", f"/api/admin/v1/campaigns/{platform}/groups?status=x",
                                   token=self.operator), 400, "VALIDATION_FAILED")
        self.assert_error(self.api("GET", f"/api/admin/v1/campaigns/{platform}/groups",
                                   token=self.operator_token("customer_service")), 403,
                          "FORBIDDEN")
        self.assert_error(self.api("GET", f"/api/admin/v1/campaigns/{platform}/groups",
                                   token=self.staff), 401, "TOKEN_INVALID")
