"""Merchant pushes and consumers' push preferences over HTTP."""
from alliance.db import connection
from alliance.notifications.delivery import deliver_due
from alliance.members.models import MerchantMember
from alliance.notifications.models import OutboxMessage
from alliance.pushes.models import MerchantPush
from tests.api.merchant_support import StaffedMerchantsTestCase

PUSH = {"title": "周末会员日", "content": "全场八折，会员再送卤蛋", "segment": {}}


class MerchantPushTest(StaffedMerchantsTestCase):
    def setUp(self):
        super().setUp()
        self.members = {}
        for name, side, level in (("alice", "a", 2), ("bob", "a", 0), ("carol", "b", 1)):
            user = self.login(name)["user"]
            self.members[name] = user["id"]
            with connection():
                MerchantMember.create(merchant=self.ids[side]["merchant"], user_id=user["id"],
                                      level=level)

    def push(self, who: str = "a-owner", body: dict | None = None, **headers):
        return self.api("POST", "/api/v1/merchant/pushes", body or PUSH,
                        token=self.tokens[who], headers=headers)

    def pushed_to(self) -> set[int]:
        with connection():
            return {m.user_id for m in OutboxMessage.select()
                    .where(OutboxMessage.event == "merchant.push")}

    def test_push_by_owner_reaches_its_members_only(self):
        response = self.push()
        assert response.status == 201, response.body
        assert response.json["recipients"] == 2
        assert response.json["title"] == PUSH["title"]
        assert self.pushed_to() == {self.members["alice"], self.members["bob"]}

    def test_push_by_manager_to_a_level_segment(self):
        response = self.push("a-manager", {**PUSH, "segment": {"levels": [2]}})
        assert response.status == 201, response.body
        assert response.json["recipients"] == 1
        assert response.json["segment"]["levels"] == [2]
        assert self.pushed_to() == {self.members["alice"]}

    def test_push_by_clerk_is_forbidden(self):
        self.assert_error(self.push("a-clerk"), 403, "FORBIDDEN")
        assert self.pushed_to() == set()

    def test_push_for_another_merchant_is_refused(self):
        for how in ({"path": f"?merchant_id={self.ids['b']['merchant']}", "headers": {}},
                    {"path": "", "headers": {"X-Merchant-Id": str(self.ids["b"]["merchant"])}}):
            response = self.api("POST", "/api/v1/merchant/pushes" + how["path"], PUSH,
                                token=self.tokens["a-owner"], headers=how["headers"])
            self.assert_error(response, 403, "NOT_MERCHANT_STAFF")
        assert self.pushed_to() == set()

    def test_push_by_consumer_is_not_merchant_staff(self):
        response = self.api("POST", "/api/v1/merchant/pushes", PUSH, token=self.token("alice"))
        self.assert_error(response, 403, "NOT_MERCHANT_STAFF")

    def test_push_without_title_is_a_validation_error(self):
        response = self.push(body={"content": "x"})
        self.assert_error(response, 400, "VALIDATION_FAILED")
        assert response.json["error"]["details"]["field"] == "title"

    def test_push_with_bad_segment_is_a_validation_error(self):
        response = self.push(body={**PUSH, "segment": {"last_visit_within_days": -1}})
        self.assert_error(response, 400, "VALIDATION_FAILED")
        assert response.json["error"]["details"]["field"] == "segment.last_visit_within_days"

    def test_push_with_bad_page_is_a_validation_error(self):
        response = self.push(body={**PUSH, "page": "https://evil.example/"})
        self.assert_error(response, 400, "VALIDATION_FAILED")

    def test_push_beyond_the_daily_limit_is_rate_limited(self):
        for n in range(self.settings.merchant_push_daily_limit):
            assert self.push(body={**PUSH, "title": f"第{n}次"}).status == 201
        response = self.push()
        self.assert_error(response, 429, "RATE_LIMITED")
        assert 1 <= int(response.headers["Retry-After"]) <= 86400
        assert response.json["error"]["details"]["daily_limit"] == 3
        # Merchant B's limit is its own.
        assert self.push("b-owner").status == 201

    def test_push_replayed_with_the_same_idempotency_key_sends_once(self):
        first = self.push(**{"Idempotency-Key": "push-1"})
        again = self.push(**{"Idempotency-Key": "push-1"})
        assert (first.status, again.status) == (201, 201)
        assert again.headers.get("Idempotent-Replayed") == "true"
        with connection():
            assert MerchantPush.select().count() == 1

    def test_push_history_lists_the_merchants_pushes_newest_first(self):
        self.push(body={**PUSH, "title": "一"})
        self.push(body={**PUSH, "title": "二"})
        self.push("b-owner", body={**PUSH, "title": "B"})
        response = self.api("GET", "/api/v1/merchant/pushes?limit=1", token=self.tokens["a-manager"])
        assert response.status == 200, response.body
        assert [p["title"] for p in response.json["items"]] == ["二"]
        assert response.json["today"] == {"day": response.json["today"]["day"], "used": 2,
                                          "daily_limit": 3, "remaining": 1}
        following = self.api("GET", "/api/v1/merchant/pushes?limit=5&cursor="
                             + response.json["next_cursor"], token=self.tokens["a-owner"])
        assert [p["title"] for p in following.json["items"]] == ["一"]

    def test_push_history_by_clerk_is_forbidden(self):
        response = self.api("GET", "/api/v1/merchant/pushes", token=self.tokens["a-clerk"])
        self.assert_error(response, 403, "FORBIDDEN")

    def test_push_is_delivered_by_the_outbox_sweep_as_a_subscribe_message(self):
        self.push(body={**PUSH, "segment": {"levels": [2]}})
        channels = self.app.settings["ctx"].outbox_channels

        def sweep():
            with connection():
                return deliver_due(channels)

        assert self.run_blocking(sweep).sent == 1
        [message] = self.api("GET", "/_sandbox/wechat/_control/messages").json["items"]
        assert message["kind"] == "subscribe"
        assert message["body"]["template_id"] == "sandbox-subscribe-merchant-push"
        assert message["body"]["data"]["thing2"] == {"value": "周末会员日"}


class PushPreferencesTest(StaffedMerchantsTestCase):
    def setUp(self):
        super().setUp()
        self.alice = self.login("alice")
        with connection():
            for side in ("a", "b"):
                MerchantMember.create(merchant=self.ids[side]["merchant"],
                                      user_id=self.alice["user"]["id"])

    def prefer(self, body: dict):
        return self.api("PUT", "/api/v1/me/push-preferences", body,
                        token=self.alice["access_token"])

    def recipients(self, side: str) -> int:
        response = self.api("POST", "/api/v1/merchant/pushes", PUSH,
                            token=self.tokens[f"{side}-owner"])
        assert response.status == 201, response.body
        return response.json["recipients"]

    def test_opt_out_of_one_merchant_is_honoured(self):
        response = self.prefer({"merchant_id": self.ids["a"]["merchant"], "opt_out": True})
        assert response.status == 200, response.body
        assert response.json["opt_out_all"] is False
        assert [i["merchant_id"] for i in response.json["items"]] == [self.ids["a"]["merchant"]]
        assert response.json["items"][0]["merchant_name"] == "商户A"
        assert (self.recipients("a"), self.recipients("b")) == (0, 1)

    def test_opt_out_of_all_merchants_and_back_in(self):
        assert self.prefer({"opt_out": True}).json["opt_out_all"] is True
        assert (self.recipients("a"), self.recipients("b")) == (0, 0)
        assert self.prefer({"opt_out": False}).json["opt_out_all"] is False
        got = self.api("GET", "/api/v1/me/push-preferences", token=self.alice["access_token"])
        assert got.status == 200 and got.json["opt_out_all"] is False and got.json["items"] == []
        assert self.recipients("a") == 1

    def test_opt_out_of_unknown_merchant_is_not_found(self):
        self.assert_error(self.prefer({"merchant_id": 999999, "opt_out": True}), 404,
                          "MERCHANT_NOT_FOUND")

    def test_opt_out_must_be_a_boolean(self):
        response = self.prefer({"opt_out": "yes"})
        self.assert_error(response, 400, "VALIDATION_FAILED")
        assert response.json["error"]["details"]["field"] == "opt_out"

    def test_preferences_need_login(self):
        self.assert_error(self.api("GET", "/api/v1/me/push-preferences"), 401, "UNAUTHENTICATED")
