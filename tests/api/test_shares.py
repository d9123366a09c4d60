"""Share cards: a consumer shares a campaign, a group buy's group, an item or a merchant; a
friend who opens the card is attributed to the sharer and to what was shared, the
mini-program learns which page to open, and the campaign's effect counts who its shares
brought. Code images come from WeChat's sandbox (getwxacodeunlimit with the card's page)."""
import datetime as dt
from urllib.parse import parse_qs, unquote, urlsplit

from alliance.campaigns.models import Campaign
from alliance.db import connection, utcnow
from alliance.errors import AllianceError
from tests.campaigns_support import CampaignTestCase
from tests.qr import decode_png, decode_svg

BASE = "/api/v1/shares"


class ShareCardTest(CampaignTestCase):
    def card(self, kind: str, target_id: int, token: str):
        return self.api("GET", f"{BASE}/{kind}/{target_id}", token=token)

    def report(self, scene: str, token: str) -> dict:
        response = self.api("POST", "/api/v1/me/attribution", {"scene": scene}, token=token)
        assert response.status == 200, response.body
        return response.json

    def effect(self, campaign_id: int) -> dict:
        return self.api("GET", f"/api/v1/merchant/campaigns/{campaign_id}/effect",
                        token=self.staff).json

    def test_a_shared_campaign_brings_a_friend_to_its_page_and_counts_in_its_effect(self):
        campaign_id = self.flash(price=2500)
        alice, bob = self.token("alice"), self.token("bob")
        response = self.card("campaign", campaign_id, alice)
        assert response.status == 200, response.body
        card = response.json
        scene = card["scene"]
        code = scene.split(".")[1]
        assert scene == f"r.{code}.c{campaign_id}" and len(scene) <= 32
        assert (card["kind"], card["id"], card["title"], card["page"]) == (
            "campaign", campaign_id, "限时秒杀", "pages/campaign/detail")
        page, query = card["path"].split("?")
        assert page == card["page"]
        assert {k: v[0] for k, v in parse_qs(query).items()} == {"id": str(campaign_id),
                                                                 "scene": scene}
        assert card["link"] == f"{self.settings.public_base_url}/r/{code}?to=c{campaign_id}"
        assert self.card("campaign", campaign_id, alice).json == card  # the same card again

        reported = self.report(unquote(query.split("scene=")[1]), bob)
        assert reported["attributed"] is True
        assert reported["shared"] == {"kind": "campaign", "id": campaign_id,
                                      "page": "pages/campaign/detail"}
        assert reported["attribution"]["shared"] == {"kind": "campaign", "id": campaign_id}
        invitees = self.api("GET", "/api/v1/me/invitees", token=alice).json["items"]
        assert [i["shared"] for i in invitees] == [{"kind": "campaign", "id": campaign_id}]
        assert self.effect(campaign_id)["shares"] == {"new_consumers": 1, "converted": 0}

        self.paid_order(bob)  # the friend's first paid order, inside the window
        assert self.effect(campaign_id)["shares"] == {"new_consumers": 1, "converted": 1}
        # A friend already attributed is not taken again, but still learns what to open.
        again = self.report(scene, self.token("bob"))
        assert (again["attributed"], again["shared"]["id"]) == (False, campaign_id)

    def test_a_shared_group_says_how_many_are_missing_and_brings_friends_to_it(self):
        campaign_id = self.group_buy(price=1999, size=3)
        alice, bob = self.token("alice"), self.token("bob")
        group_id = self.start_group(alice, campaign_id)["group_buy"]["group_id"]
        card = self.card("group_buy", group_id, alice).json
        assert card["title"] == f"还差 2 人成团！19.99 元拼「{self.goods.name}」"
        assert card["page"] == "pages/group/detail"
        reported = self.report(card["link"], bob)  # the link, opened outside WeChat
        assert reported["shared"] == {"kind": "group_buy", "id": group_id,
                                      "page": "pages/group/detail"}
        assert self.join_group(bob, group_id).status == 201
        assert self.effect(campaign_id)["shares"]["new_consumers"] == 1

    def test_items_and_merchants_are_shared_while_consumers_can_see_them(self):
        alice = self.token("alice")
        item = self.card("item", self.goods.id, alice).json
        assert item["title"].endswith(" ¥30") and item["scene"].endswith(f".i{self.goods.id}")
        merchant = self.card("merchant", self.merchant.id, alice).json
        assert (merchant["title"], merchant["page"]) == (self.merchant.name,
                                                         "pages/merchant/detail")
        self.assert_error(self.card("item", 999999, alice), 404, "ITEM_NOT_FOUND")
        self.assert_error(self.card("merchant", 999999, alice), 404, "MERCHANT_NOT_FOUND")
        self.assert_error(self.card("campaign", 999999, alice), 404, "CAMPAIGN_NOT_FOUND")
        self.assert_error(self.card("group_buy", 999999, alice), 404, "GROUP_NOT_FOUND")
        assert self.card("coupon", 1, alice).status == 404  # nothing else is shared
        self.assert_error(self.api("GET", f"{BASE}/item/{self.goods.id}"), 401,
                          "UNAUTHENTICATED")

    def test_a_campaign_that_is_over_or_a_full_group_is_not_shared(self):
        campaign_id = self.flash()
        with connection():
            (Campaign.update(ends_at=utcnow() - dt.timedelta(minutes=1))
             .where(Campaign.id == campaign_id).execute())
        refused = self.card("campaign", campaign_id, self.token("alice"))
        self.assert_error(refused, 409, "SHARE_TARGET_CLOSED")
        assert "结束" in refused.json["error"]["message"]
        group_campaign = self.group_buy(size=2)
        alice, bob = self.token("alice"), self.token("bob")
        group_id = self.start_group(alice, group_campaign)["group_buy"]["group_id"]
        assert self.join_group(bob, group_id).status == 201  # both seats taken
        self.assert_error(self.card("group_buy", group_id, alice), 409, "SHARE_TARGET_CLOSED")

    def test_the_code_image_opens_the_page_with_the_scene_and_is_made_once(self):
        alice = self.token("alice")
        path = f"{BASE}/item/{self.goods.id}/qrcode"
        png = self.api("GET", path, token=alice)
        assert png.status == 200 and png.headers["Content-Type"] == "image/png"
        scene = png.headers["X-Share-Scene"]
        assert decode_png(png.body) == [scene] and scene.endswith(f".i{self.goods.id}")
        assert self.api("GET", path + "?format=png", token=alice).body == png.body
        calls = self.api("GET", "/_sandbox/wechat/_control/calls").json
        assert calls.get("getwxacodeunlimit") == 1
        svg = self.api("GET", path + "?format=svg", token=alice)
        [link] = decode_svg(svg.body)
        assert urlsplit(link).query == f"to=i{self.goods.id}"
        self.assert_error(self.api("GET", path + "?format=gif", token=alice), 400,
                          "VALIDATION_FAILED")

    def test_wechat_refuses_a_code_for_a_page_with_a_query(self):
        provider = self.app.settings["ctx"].qr_codes
        assert decode_png(self.call(provider.miniprogram_code, "r.ABCDEFGH", "pages/item/detail"))
        for page in ("/pages/item/detail", "pages/item/detail?id=1"):
            with self.subTest(page=page):
                try:
                    self.call(provider.miniprogram_code, "r.ABCDEFGH", page)
                except AllianceError as exc:
                    assert exc.details["wechat_errcode"] == 41030
                else:
                    raise AssertionError("a page WeChat refuses made a code")
