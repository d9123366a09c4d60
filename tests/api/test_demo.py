"""The demo data's official account answers as promised."""
from sandbox.demo import load
from tests.support import ApiTestCase


class DemoOfficialAccountTest(ApiTestCase):
    def test_demo_auto_replies_answer_followers(self):
        assert load(self.settings) is True
        welcome = self.api("POST", "/_sandbox/wechat/_control/oa-push",
                           {"name": "visitor", "event": "subscribe"}).json
        assert welcome["status"] == 200 and "异业联盟" in welcome["reply"]
        offer = self.api("POST", "/_sandbox/wechat/_control/oa-push",
                         {"name": "visitor", "text": "有优惠吗"}).json
        assert "满 50 减 10" in offer["reply"]
        assert load(self.settings) is False  # not into a database that has data


class DemoCooperationTest(ApiTestCase):
    def test_the_cross_merchant_coupon_comes_from_an_accepted_cooperation(self):
        assert load(self.settings) is True
        cinema = self.login("owner-2")["access_token"]
        [agreed] = self.api("GET", "/api/v1/merchant/cooperations", token=cinema).json["items"]
        assert agreed["status"] == "accepted" and agreed["kind"] == "coupon_distribution"
        assert agreed["terms"]["commission_fen"] == 300
        noodles = self.login("owner-1")["access_token"]
        [handed_out] = self.api("GET", "/api/v1/merchant/coupon-distributions",
                                token=noodles).json["items"]
        assert (handed_out["template_name"], handed_out["commission_fen"],
                handed_out["cooperation_id"], handed_out["status"]) == (
            "观影立减15元", 300, agreed["id"], "active")


class DemoCampaignTest(ApiTestCase):
    def test_the_demo_runs_a_campaign_of_each_kind(self):
        assert load(self.settings) is True
        running = self.api("GET", "/api/v1/campaigns").json["items"]
        assert sorted(c["kind"] for c in running) == ["flash_sale", "full_reduction", "group_buy"]
        assert {c["state"] for c in running} == {"running"}
        flash = next(c for c in running if c["kind"] == "flash_sale")
        [item] = self.api("GET", f"/api/v1/campaigns/{flash['id']}").json["items"]
        assert item["campaign_price_fen"] == 2990
