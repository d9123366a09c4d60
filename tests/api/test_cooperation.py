"""Cooperation over HTTP: merchant staff propose, negotiate and end cooperations; only the two
merchants see one; operators oversee them all."""
from alliance.accounts.models import User
from alliance.coupons.models import CouponDistribution
from alliance.db import db
from alliance.merchants.models import Merchant
from alliance.notifications.models import OutboxMessage
from tests.factories import add_staff, make_template
from tests.support import ApiTestCase

BASE = "/api/v1/merchant/cooperations"


class CooperationApiCase(ApiTestCase):
    def setUp(self):
        super().setUp()
        self.issuer_token, self.issuer = self.named_merchant("owner-a", "老街面馆")
        self.partner_token, self.partner = self.named_merchant("owner-b", "转角咖啡")
        self.stranger_token, self.stranger = self.merchant_owned_by("owner-c")

    def named_merchant(self, owner: str, name: str):
        token, merchant = self.merchant_owned_by(owner)
        with db.connection_context():
            Merchant.update(name=name).where(Merchant.id == merchant.id).execute()
        merchant.name = name
        return token, merchant

    def propose(self, token=None, **overrides):
        body = {"partner_merchant_id": self.partner.id, "kind": "joint_marketing",
                "description": "周末联合促销", "sales_share_bp": 300, **overrides}
        return self.api("POST", BASE, body, token=token or self.issuer_token)

    def act(self, cooperation_id: int, action: str, token: str, body=None, headers=None):
        return self.api("POST", f"{BASE}/{cooperation_id}/{action}", body or {}, token=token,
                        headers=headers)


class ProposeTest(CooperationApiCase):
    def test_propose_answers_the_terms_and_history_and_is_idempotent(self):
        headers = {"Idempotency-Key": "coop-1"}
        body = {"partner_merchant_id": self.partner.id, "kind": "joint_marketing",
                "description": "周末联合促销", "ends_at": "2099-01-01T00:00:00+08:00"}
        first = self.api("POST", BASE, body, token=self.issuer_token, headers=headers)
        again = self.api("POST", BASE, body, token=self.issuer_token, headers=headers)
        assert first.status == again.status == 201, first.body
        assert again.headers.get("Idempotent-Replayed") == "true"
        cooperation = first.json
        assert cooperation["status"] == "proposed" and cooperation["direction"] == "outgoing"
        assert cooperation["turn_merchant_id"] == self.partner.id and not cooperation["my_turn"]
        assert cooperation["partner"] == {"merchant_id": self.partner.id, "name": "转角咖啡"}
        assert cooperation["terms"]["ends_at"] == "2099-01-01T00:00:00+08:00"
        assert [e["action"] for e in cooperation["history"]] == ["propose"]
        assert cooperation["results"]["coupons_claimed"] == 0
        self.assert_error(self.propose(), 409, "COOPERATION_ALREADY_OPEN")

    def test_propose_errors_name_the_field(self):
        cases = [({"partner_merchant_id": "x"}, "partner_merchant_id"),
                 ({"partner_merchant_id": self.issuer.id}, "partner_merchant_id"),
                 ({"kind": "merger"}, "kind"), ({"sales_share_bp": 10001}, "sales_share_bp"),
                 ({"description": "长" * 501}, "description"),
                 ({"kind": "coupon_distribution", "template_ids": []}, "template_ids")]
        for overrides, field in cases:
            with self.subTest(field=field):
                response = self.propose(**overrides)
                self.assert_error(response, 400, "VALIDATION_FAILED")
                assert response.json["error"]["details"]["field"] == field
        self.assert_error(self.propose(surprise=1), 400, "VALIDATION_FAILED")

    def test_a_clerk_without_marketing_is_forbidden_and_logins_are_required(self):
        clerk = self.login("clerk-a")
        with db.connection_context():
            add_staff(self.issuer, "merchant_clerk", User.get_by_id(clerk["user"]["id"]))
        self.assert_error(self.propose(token=clerk["access_token"]), 403, "FORBIDDEN")
        self.assert_error(self.api("GET", BASE, token=clerk["access_token"]), 403, "FORBIDDEN")
        self.assert_error(self.api("GET", BASE), 401, "UNAUTHENTICATED")


class NegotiationTest(CooperationApiCase):
    def test_counter_and_accept_in_turns_then_end(self):
        cooperation = self.propose().json
        cid = cooperation["id"]
        self.assert_error(self.act(cid, "accept", self.issuer_token), 409,
                          "COOPERATION_NOT_YOUR_TURN")
        countered = self.act(cid, "counter", self.partner_token,
                             {"sales_share_bp": 800, "message": "希望分成高一些"})
        assert countered.status == 200, countered.body
        assert countered.json["turn_merchant_id"] == self.issuer.id
        assert countered.json["version"] == 2 and countered.json["direction"] == "incoming"
        self.assert_error(self.act(cid, "accept", self.issuer_token, {"version": 1}), 409,
                          "COOPERATION_TERMS_CHANGED")
        accepted = self.act(cid, "accept", self.issuer_token, {"version": 2})
        assert accepted.status == 200 and accepted.json["status"] == "accepted"
        assert accepted.json["terms"]["sales_share_bp"] == 800
        self.assert_error(self.act(cid, "reject", self.partner_token), 409,
                          "COOPERATION_STATUS_CONFLICT")
        self.assert_error(self.act(cid, "withdraw", self.issuer_token), 409,
                          "COOPERATION_STATUS_CONFLICT")
        ended = self.act(cid, "end", self.partner_token, {"message": "合作到期"})
        assert ended.status == 200 and ended.json["status"] == "ended"
        detail = self.api("GET", f"{BASE}/{cid}", token=self.issuer_token).json
        assert [(e["action"], e["merchant_name"]) for e in detail["history"]] == [
            ("propose", "老街面馆"), ("counter", "转角咖啡"), ("accept", "老街面馆"),
            ("end", "转角咖啡")]
        with db.connection_context():
            told = [m.user_id for m in OutboxMessage.select().where(
                OutboxMessage.event == "cooperation.updated").order_by(OutboxMessage.id)]
        assert told == [self.partner.owner_id, self.issuer.owner_id, self.partner.owner_id,
                        self.issuer.owner_id]

    def test_reject_and_withdraw(self):
        first = self.propose().json["id"]
        self.assert_error(self.act(first, "withdraw", self.partner_token), 409,
                          "COOPERATION_NOT_PROPOSER")
        rejected = self.act(first, "reject", self.partner_token, {"message": "暂不考虑"})
        assert rejected.status == 200 and rejected.json["status"] == "rejected"
        second = self.propose().json["id"]
        withdrawn = self.act(second, "withdraw", self.issuer_token)
        assert withdrawn.status == 200 and withdrawn.json["status"] == "withdrawn"
        self.assert_error(self.act(second, "counter", self.partner_token, {"commission_fen": 1}),
                          409, "COOPERATION_STATUS_CONFLICT")

    def test_counter_errors_name_the_field(self):
        cid = self.propose().json["id"]
        for body, field in (({}, "terms"), ({"commission_fen": -5}, "commission_fen"),
                            ({"version": "2"}, "version"), ({"ends_at": "明天"}, "ends_at")):
            with self.subTest(field=field):
                response = self.act(cid, "counter", self.partner_token, body)
                self.assert_error(response, 400, "VALIDATION_FAILED")
                assert response.json["error"]["details"]["field"] == field

    def test_accept_of_a_coupon_distribution_starts_the_partners_distribution(self):
        with db.connection_context():
            template = make_template(self.issuer, channels=["own", "partner"])
        cid = self.propose(kind="coupon_distribution", template_ids=[template.id],
                           commission_fen=300).json["id"]
        assert self.act(cid, "accept", self.partner_token).status == 200
        with db.connection_context():
            distribution = CouponDistribution.get(CouponDistribution.template == template.id)
        assert distribution.distributor_id == self.partner.id
        assert (distribution.commission_fen, distribution.cooperation_id) == (300, cid)
        assert self.act(cid, "end", self.issuer_token).status == 200
        with db.connection_context():
            assert CouponDistribution.get_by_id(distribution.id).status == "ended"


class VisibilityTest(CooperationApiCase):
    def test_only_the_two_merchants_see_a_cooperation(self):
        cid = self.propose().json["id"]
        self.assert_error(self.api("GET", f"{BASE}/{cid}", token=self.stranger_token), 404,
                          "COOPERATION_NOT_FOUND")
        self.assert_error(self.api("GET", f"{BASE}/999999", token=self.issuer_token), 404,
                          "COOPERATION_NOT_FOUND")
        for action in ("counter", "accept", "reject", "withdraw", "end"):
            self.assert_error(self.act(cid, action, self.stranger_token,
                                       {"commission_fen": 1} if action == "counter" else {}),
                              404, "COOPERATION_NOT_FOUND")
        assert self.api("GET", f"{BASE}/{cid}", token=self.partner_token).status == 200
        assert self.api("GET", BASE, token=self.stranger_token).json["items"] == []

    def test_lists_by_direction_and_status_page_by_cursor(self):
        first = self.propose().json["id"]
        second = self.propose(kind="resource_exchange").json["id"]
        self.act(first, "reject", self.partner_token)
        outgoing = self.api("GET", f"{BASE}?direction=outgoing&limit=1",
                            token=self.issuer_token).json
        assert [c["id"] for c in outgoing["items"]] == [second] and outgoing["next_cursor"]
        rest = self.api("GET", f"{BASE}?direction=outgoing&limit=1&cursor="
                        f"{outgoing['next_cursor']}", token=self.issuer_token).json
        assert [c["id"] for c in rest["items"]] == [first] and rest["next_cursor"] is None
        incoming = self.api("GET", f"{BASE}?direction=incoming&status=proposed",
                            token=self.partner_token).json
        assert [c["id"] for c in incoming["items"]] == [second]
        assert incoming["items"][0]["my_turn"] is True
        assert self.api("GET", f"{BASE}?direction=outgoing", token=self.partner_token
                        ).json["items"] == []
        for query, field in (("direction=sideways", "direction"), ("status=open", "status"),
                             ("limit=0", "limit")):
            response = self.api("GET", f"{BASE}?{query}", token=self.issuer_token)
            self.assert_error(response, 400, "VALIDATION_FAILED")
            assert response.json["error"]["details"]["field"] == field


class OperatorTest(CooperationApiCase):
    def test_operators_list_cooperations_by_merchant_and_status(self):
        cid = self.propose().json["id"]
        self.propose(token=self.stranger_token, partner_merchant_id=self.issuer.id)
        token = self.operator_token("operator")
        path = "/api/admin/v1/cooperations"
        both = self.api("GET", path, token=token).json["items"]
        assert len(both) == 2 and "direction" not in both[0]
        mine = self.api("GET", f"{path}?merchant_id={self.partner.id}&status=proposed",
                        token=token).json["items"]
        assert [c["id"] for c in mine] == [cid]
        self.assert_error(self.api("GET", f"{path}?status=open", token=token), 400,
                          "VALIDATION_FAILED")
        self.assert_error(self.api("GET", path, token=self.operator_token("customer_service")),
                          403, "FORBIDDEN")
        self.assert_error(self.api("GET", path, token=self.issuer_token), 401, "TOKEN_INVALID")
