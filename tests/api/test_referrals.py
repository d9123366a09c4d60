"""Referral QR codes, attribution and invitees over HTTP, with WeChat's sandbox answering."""
from alliance.db import db
from alliance.referrals.models import QrImage
from tests.factories import make_merchant, make_user
from tests.qr import decode_png, decode_svg
from tests.support import ApiTestCase


class ReferralQrcodeTest(ApiTestCase):
    def calls(self, api: str) -> int:
        return self.api("GET", "/_sandbox/wechat/_control/calls").json.get(api, 0)

    def test_png_is_a_mini_program_code_of_the_referral_scene(self):
        token = self.token("alice")
        response = self.api("GET", "/api/v1/me/referral-qrcode?format=png", token=token)
        assert response.status == 200, response.body
        assert response.headers["Content-Type"] == "image/png"
        scene = response.headers["X-Referral-Scene"]
        assert scene.startswith("r.") and len(scene) <= 32
        assert decode_png(response.body) == [scene]

    def test_png_is_made_once_and_wechat_is_not_asked_again(self):
        token = self.token("alice")
        first = self.api("GET", "/api/v1/me/referral-qrcode", token=token)
        second = self.api("GET", "/api/v1/me/referral-qrcode?format=png", token=token)
        assert first.body == second.body
        assert self.calls("getwxacodeunlimit") == 1
        with db.connection_context():
            assert QrImage.select().where(QrImage.kind == "wxacode").count() == 1

    def test_svg_is_a_qr_code_of_the_referral_link(self):
        response = self.api("GET", "/api/v1/me/referral-qrcode?format=svg", token=self.token("bob"))
        assert response.status == 200 and response.headers["Content-Type"] == "image/svg+xml"
        code = response.headers["X-Referral-Scene"][2:]
        assert decode_svg(response.body) == [f"{self.settings.public_base_url}/r/{code}"]
        assert self.calls("getwxacodeunlimit") == 0

    def test_referral_link_outside_wechat_shows_a_page(self):
        response = self.api("GET", "/api/v1/me/referral-qrcode?format=svg", token=self.token("bob"))
        page = self.api("GET", "/r/" + response.headers["X-Referral-Scene"][2:])
        assert page.status == 200 and "微信" in page.body.decode()

    def test_unknown_format_is_a_validation_error(self):
        response = self.api("GET", "/api/v1/me/referral-qrcode?format=gif", token=self.token())
        self.assert_error(response, 400, "VALIDATION_FAILED")
        assert response.json["error"]["details"]["field"] == "format"

    def test_without_login_is_unauthenticated(self):
        self.assert_error(self.api("GET", "/api/v1/me/referral-qrcode"), 401, "UNAUTHENTICATED")

    def test_expired_access_token_is_refreshed_and_the_code_made(self):
        token = self.token("alice")
        self.api("POST", "/_sandbox/wechat/_control/faults",
                 {"api": "getwxacodeunlimit", "errcode": 42001})
        response = self.api("GET", "/api/v1/me/referral-qrcode", token=token)
        assert response.status == 200 and decode_png(response.body)

    def test_wechat_busy_is_unavailable_and_a_later_call_succeeds(self):
        token = self.token("alice")
        self.api("POST", "/_sandbox/wechat/_control/faults",
                 {"api": "getwxacodeunlimit", "errcode": -1, "count": 2})
        self.assert_error(self.api("GET", "/api/v1/me/referral-qrcode", token=token),
                          503, "UPSTREAM_UNAVAILABLE")
        assert self.api("GET", "/api/v1/me/referral-qrcode", token=token).status == 200

    def test_wechat_quota_is_rate_limited(self):
        self.api("POST", "/_sandbox/wechat/_control/faults",
                 {"api": "getwxacodeunlimit", "errcode": 45009})
        response = self.api("GET", "/api/v1/me/referral-qrcode", token=self.token("alice"))
        self.assert_error(response, 429, "RATE_LIMITED")


class SandboxWxaCodeTest(ApiTestCase):
    def wxacode(self, scene, token=None):
        if token is None:
            token = self.api("GET", "/_sandbox/wechat/cgi-bin/token?grant_type=client_credential"
                             f"&appid={self.settings.wechat_miniapp_appid}"
                             f"&secret={self.settings.wechat_miniapp_secret}").json["access_token"]
        return self.api("POST", f"/_sandbox/wechat/wxa/getwxacodeunlimit?access_token={token}",
                        {"scene": scene})

    def test_scene_too_long_is_40169(self):
        assert self.wxacode("x" * 33).json["errcode"] == 40169

    def test_scene_with_refused_characters_is_40129(self):
        assert self.wxacode("r.邀请").json["errcode"] == 40129
        assert self.wxacode("a%20b").json["errcode"] == 40129

    def test_missing_or_bad_token_is_refused(self):
        assert self.wxacode("r.X", token="").json["errcode"] == 41001
        assert self.wxacode("r.X", token="nope").json["errcode"] == 40001

    def test_valid_scene_is_a_png_of_the_scene(self):
        response = self.wxacode("r.ABCD2345")
        assert response.headers["Content-Type"] == "image/png"
        assert decode_png(response.body) == ["r.ABCD2345"]


class AttributionTest(ApiTestCase):
    def scene_of(self, token: str) -> str:
        return self.api("GET", "/api/v1/me/referral-qrcode?format=svg",
                        token=token).headers["X-Referral-Scene"]

    def test_reported_scene_attributes_and_appears_among_invitees(self):
        referrer = self.login("ref")
        scene = self.scene_of(referrer["access_token"])
        invitee = self.login("newbie")
        response = self.api("POST", "/api/v1/me/attribution", {"scene": scene},
                            token=invitee["access_token"])
        assert response.status == 200, response.body
        assert response.json["attributed"] is True
        assert response.json["attribution"]["referrer_id"] == referrer["user"]["id"]
        again = self.api("POST", "/api/v1/me/attribution", {"scene": scene},
                         token=invitee["access_token"])
        assert again.json["attributed"] is False and again.json["reason"] == "already_attributed"
        listing = self.api("GET", "/api/v1/me/invitees", token=referrer["access_token"]).json
        assert [item["invitee"]["id"] for item in listing["items"]] == [invitee["user"]["id"]]
        assert listing["items"][0]["status"] == "bound" and listing["items"][0]["reward"] is None
        assert listing["summary"] == {"invitees": 1, "rewards": 0, "reward_points": 0}

    def test_invitee_first_paid_order_shows_the_reward_and_credits_points(self):
        from alliance.referrals.services import grant_first_order_reward

        referrer = self.login("ref")
        scene = self.scene_of(referrer["access_token"])
        invitee = self.login("newbie")
        self.api("POST", "/api/v1/me/attribution", {"scene": scene}, token=invitee["access_token"])
        with db.connection_context():
            grant_first_order_reward(invitee["user"]["id"], "ORDER-9", reward_points=100,
                                     notifier=self.app.settings["ctx"].notifier)
        listing = self.api("GET", "/api/v1/me/invitees", token=referrer["access_token"]).json
        item = listing["items"][0]
        assert item["status"] == "converted" and item["converted_at"]
        assert (item["reward"]["kind"], item["reward"]["points"]) == ("points", 100)
        assert listing["summary"] == {"invitees": 1, "rewards": 1, "reward_points": 100}
        points = self.api("GET", "/api/v1/me/points", token=referrer["access_token"]).json
        assert points["balance"] == 100

    def test_url_encoded_scene_is_understood(self):
        scene = self.scene_of(self.token("ref"))
        response = self.api("POST", "/api/v1/me/attribution",
                            {"scene": "qrscene_" + scene.replace(".", "%2E")},
                            token=self.token("newbie"))
        assert response.json["attributed"] is True

    def test_own_code_is_not_a_referral(self):
        token = self.token("alice")
        response = self.api("POST", "/api/v1/me/attribution", {"scene": self.scene_of(token)},
                            token=token)
        assert response.json == {"attributed": False, "reason": "self_referral",
                                 "attribution": None, "shared": None}

    def test_other_scenes_are_accepted_and_change_nothing(self):
        response = self.api("POST", "/api/v1/me/attribution", {"scene": "coupon=123"},
                            token=self.token("alice"))
        assert response.json["attributed"] is False and response.json["reason"] == "not_a_referral"

    def test_unknown_code_is_reported_as_such(self):
        response = self.api("POST", "/api/v1/me/attribution", {"scene": "r.ZZZZZZZZ"},
                            token=self.token("alice"))
        assert response.json["reason"] == "unknown_code"

    def test_missing_scene_is_a_validation_error(self):
        response = self.api("POST", "/api/v1/me/attribution", {}, token=self.token("alice"))
        self.assert_error(response, 400, "VALIDATION_FAILED")

    def test_invitees_are_paged(self):
        referrer = self.login("ref")
        scene = self.scene_of(referrer["access_token"])
        for name in ("a1", "a2", "a3"):
            self.api("POST", "/api/v1/me/attribution", {"scene": scene}, token=self.token(name))
        page = self.api("GET", "/api/v1/me/invitees?limit=2", token=referrer["access_token"]).json
        assert len(page["items"]) == 2 and page["next_cursor"]
        rest = self.api("GET", f"/api/v1/me/invitees?limit=2&cursor={page['next_cursor']}",
                        token=referrer["access_token"]).json
        assert len(rest["items"]) == 1 and rest["next_cursor"] is None
        assert page["summary"]["invitees"] == 3


class CounterPosterTest(ApiTestCase):
    def setUp(self):
        super().setUp()
        with db.connection_context():
            self.merchant = make_merchant(owner=make_user("店主"), name="老街面馆")
        self.path = f"/api/admin/v1/referrals/counter-poster?merchant_id={self.merchant.id}"

    def test_poster_carries_the_oa_code_and_following_it_attributes_the_merchant(self):
        operator = self.operator_token("operator")
        response = self.api("GET", self.path + "&shop_name=%E9%9D%A2%E9%A6%86", token=operator)
        assert response.status == 200, response.body
        assert response.headers["Content-Type"] == "image/png"
        [url] = decode_png(response.body)
        assert url.startswith("http://weixin.qq.com/q/")
        again = self.api("GET", self.path + "&shop_name=%E9%9D%A2%E9%A6%86", token=operator)
        assert again.body == response.body
        calls = self.api("GET", "/_sandbox/wechat/_control/calls").json
        assert calls["qrcode/create"] == 1
        user = self.login("walkin")["user"]
        pushed = self.api("POST", "/_sandbox/wechat/_control/oa-push",
                          {"name": "walkin", "event": "subscribe",
                           "scene": response.headers["X-Referral-Scene"]})
        assert pushed.json["status"] == 200
        from alliance.referrals.models import ReferralAttribution

        with db.connection_context():
            attribution = ReferralAttribution.get(ReferralAttribution.invitee == user["id"])
        assert (attribution.source_kind, attribution.merchant_id) == ("merchant", self.merchant.id)

    def test_poster_needs_a_shop_name(self):
        response = self.api("GET", self.path, token=self.operator_token("operator"))
        self.assert_error(response, 400, "VALIDATION_FAILED")

    def test_a_shop_name_is_one_line_of_text(self):
        # Pillow cannot measure a line break ("\n") or lay out "\r", NEL or U+2029.
        operator = self.operator_token("operator")
        for name in ("a%0Ab", "a%0Db", "a%C2%85b", "a%E2%80%A8b", "a%E2%80%A9b"):
            with self.subTest(name=name):
                response = self.api("GET", f"{self.path}&shop_name={name}", token=operator)
                self.assert_error(response, 400, "VALIDATION_FAILED")
        emoji = self.api("GET", f"{self.path}&shop_name=%F0%9F%8D%9C%E9%9D%A2", token=operator)
        assert emoji.status == 200 and emoji.headers["Content-Type"] == "image/png"

    def test_a_poster_of_a_merchant_that_does_not_exist_is_not_made(self):
        operator = self.operator_token("operator")
        response = self.api("GET", "/api/admin/v1/referrals/counter-poster?merchant_id=999999"
                                   "&shop_name=x", token=operator)
        self.assert_error(response, 404, "MERCHANT_NOT_FOUND")
        assert self.api("GET", "/_sandbox/wechat/_control/calls").json.get("qrcode/create") is None
        with db.connection_context():
            assert QrImage.select().count() == 0

    def test_poster_needs_a_merchant(self):
        response = self.api("GET", "/api/admin/v1/referrals/counter-poster?shop_name=x",
                            token=self.operator_token("operator"))
        self.assert_error(response, 400, "VALIDATION_FAILED")
        assert response.json["error"]["details"]["field"] == "merchant_id"

    def test_customer_service_cannot_make_posters(self):
        response = self.api("GET", "/api/admin/v1/referrals/counter-poster?merchant_id=1&shop_name=x",
                            token=self.operator_token("customer_service"))
        self.assert_error(response, 403, "FORBIDDEN")


class InviteesCursorTest(ApiTestCase):
    def test_bad_cursor_is_a_validation_error(self):
        response = self.api("GET", "/api/v1/me/invitees?cursor=%%%", token=self.token("alice"))
        self.assert_error(response, 400, "VALIDATION_FAILED")
