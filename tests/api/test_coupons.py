"""Coupons over HTTP: templates managed by merchants and operators, claims of the core
journeys, the coupon center and the consumer's coupons."""
from alliance.accounts.models import User
from alliance.db import db
from alliance.points import services as points
from tests.factories import add_staff, make_shop
from tests.support import ApiTestCase, recorded_sql

TEMPLATE = {"name": "满100减20", "kind": "fixed", "threshold_fen": 10000, "discount_fen": 2000,
            "valid_days": 30, "total_stock": 50}


class CouponApiCase(ApiTestCase):
    def merchant_of(self, name: str, **kwargs):
        """A merchant with a shop owned by the stand-in ``name``; (merchant, owner token)."""
        token, merchant = self.merchant_owned_by(name, **kwargs)
        with db.connection_context():
            make_shop(merchant)
        return merchant, token

    def create_template(self, token: str, **overrides) -> dict:
        response = self.api("POST", "/api/v1/merchant/coupon-templates",
                            {**TEMPLATE, **overrides}, token=token)
        assert response.status == 201, response.body
        return response.json

    def claim(self, template_id: int, token: str, body=None, headers=None):
        return self.api("POST", f"/api/v1/coupon-templates/{template_id}/claim",
                        body if body is not None else {}, token=token, headers=headers)


class ClaimTest(CouponApiCase):
    def test_claimed_coupon_has_the_contract_fields_and_is_listed_as_mine(self):
        merchant, owner = self.merchant_of("owner-a")
        template = self.create_template(owner)
        alice = self.token("alice")
        detail = self.api("GET", f"/api/v1/merchants/{merchant.id}", token=alice).json
        offer = [t for t in detail["coupon_templates"] if t["id"] == template["id"]][0]
        assert offer["can_claim"] and offer["claim_scene"] == "" and offer["remaining"] == 50
        response = self.claim(template["id"], alice)
        assert response.status == 201
        coupon = response.json
        assert {"id", "code", "valid_until", "source"} <= set(coupon)
        assert coupon["source"]["channel"] == "own" and "+08:00" in coupon["valid_until"]
        assert coupon["template"]["remaining"] == 49
        mine = self.api("GET", "/api/v1/me/coupons?status=active", token=alice).json
        assert [c["code"] for c in mine["items"]] == [coupon["code"]]
        detail = self.api("GET", f"/api/v1/merchants/{merchant.id}", token=alice).json
        assert [t for t in detail["coupon_templates"] if t["id"] == template["id"]][0][
            "can_claim"] is False

    def test_double_tap_with_one_key_claims_once_and_the_limit_holds_without_it(self):
        _, owner = self.merchant_of("owner-a")
        template = self.create_template(owner)
        alice = self.token("alice")
        first = self.claim(template["id"], alice, headers={"Idempotency-Key": "tap-1"})
        again = self.claim(template["id"], alice, headers={"Idempotency-Key": "tap-1"})
        assert first.status == again.status == 201
        assert again.headers.get("Idempotent-Replayed") == "true"
        assert again.json["id"] == first.json["id"]
        self.assert_error(self.claim(template["id"], alice), 409, "COUPON_LIMIT_REACHED")
        mine = self.api("GET", "/api/v1/me/coupons", token=alice).json["items"]
        assert len(mine) == 1

    def test_sold_out_and_unknown_templates(self):
        _, owner = self.merchant_of("owner-a")
        template = self.create_template(owner, total_stock=1)
        assert self.claim(template["id"], self.token("alice")).status == 201
        self.assert_error(self.claim(template["id"], self.token("bob")), 409, "COUPON_SOLD_OUT")
        self.assert_error(self.claim(999999, self.token("bob")), 404, "COUPON_TEMPLATE_NOT_FOUND")

    def test_a_rush_after_the_last_coupon_is_answered_without_the_database(self):
        _, owner = self.merchant_of("owner-a")
        template = self.create_template(owner, total_stock=1)
        assert self.claim(template["id"], self.token("alice")).status == 201
        bob, carol = self.token("bob"), self.token("carol")
        self.assert_error(self.claim(template["id"], bob), 409, "COUPON_SOLD_OUT")  # read
        with recorded_sql() as statements:
            self.assert_error(self.claim(template["id"], carol), 409, "COUPON_SOLD_OUT")
            # The refusals a claim gives before it keep their order: a bad scene is a 400.
            self.assert_error(self.claim(template["id"], carol, {"scene": "p=x"}), 400,
                              "VALIDATION_FAILED")
        assert not [s.sql for s in statements if "coupon_template" in s.sql], statements

    def test_a_sold_out_template_given_more_stock_paused_or_suspended_answers_at_once(self):
        merchant, owner = self.merchant_of("owner-a")
        template = self.create_template(owner, total_stock=1)
        path = f"/api/v1/merchant/coupon-templates/{template['id']}"
        assert self.claim(template["id"], self.token("alice")).status == 201
        self.assert_error(self.claim(template["id"], self.token("bob")), 409, "COUPON_SOLD_OUT")
        assert self.api("PATCH", path, {"total_stock": 2}, token=owner).status == 200
        assert self.claim(template["id"], self.token("bob")).status == 201
        self.assert_error(self.claim(template["id"], self.token("carol")), 409,
                          "COUPON_SOLD_OUT")
        assert self.api("PATCH", path, {"status": "paused"}, token=owner).status == 200
        self.assert_error(self.claim(template["id"], self.token("carol")), 409,
                          "COUPON_NOT_CLAIMABLE")
        assert self.api("PATCH", path, {"status": "active"}, token=owner).status == 200
        self.assert_error(self.claim(template["id"], self.token("carol")), 409,
                          "COUPON_SOLD_OUT")
        suspended = self.api("POST", f"/api/admin/v1/merchants/{merchant.id}/suspend",
                             {"reason": "违规经营"}, token=self.operator_token("operator"))
        assert suspended.status == 200, suspended.body
        self.assert_error(self.claim(template["id"], self.token("carol")), 404,
                          "COUPON_TEMPLATE_NOT_FOUND")

    def test_claim_needs_a_login_and_a_valid_scene(self):
        _, owner = self.merchant_of("owner-a")
        template = self.create_template(owner)
        self.assert_error(self.claim(template["id"], None), 401, "UNAUTHENTICATED")
        for scene in ("p=x", "p=²", "r=١٢"):  # digits int() refuses, or reads otherwise
            with self.subTest(scene=scene):
                self.assert_error(self.claim(template["id"], self.token("alice"),
                                             {"scene": scene}), 400, "VALIDATION_FAILED")

    def test_partner_counter_lists_and_attributes_the_cross_merchant_coupon(self):
        _, owner_b = self.merchant_of("owner-b")
        partner, _ = self.merchant_of("owner-a")
        template = self.create_template(owner_b, channels=["own", "partner"])
        path = f"/api/v1/merchant/coupon-templates/{template['id']}/distributions"
        response = self.api("POST", path, {"merchant_id": partner.id, "commission_fen": 300},
                            token=owner_b)
        assert response.status == 201 and response.json["commission_fen"] == 300
        alice = self.token("alice")
        offers = self.api("GET", f"/api/v1/merchants/{partner.id}").json["coupon_templates"]
        offer = [o for o in offers if o["id"] == template["id"]][0]
        assert offer["claim_scene"] == f"p={partner.id}"
        assert offer["distributor"]["merchant_id"] == partner.id
        coupon = self.claim(template["id"], alice, {"scene": offer["claim_scene"]}).json
        assert coupon["source"] == {"channel": "partner", "distributor_merchant_id": partner.id,
                                    "referrer_user_id": None, "scene": f"p={partner.id}"}

    def test_exchange_without_enough_points_is_refused(self):
        merchant, owner = self.merchant_of("owner-a")
        template = self.create_template(owner, channels=["points"], points_cost=500,
                                        threshold_fen=0, discount_fen=500)
        login = self.login("alice")
        path = f"/api/v1/coupon-templates/{template['id']}/exchange"
        self.assert_error(self.api("POST", path, token=login["access_token"]), 409,
                          "POINTS_INSUFFICIENT")
        with db.connection_context():
            points.earn(login["user"]["id"], 600, merchant_id=None, idempotency_key="gift")
        response = self.api("POST", path, token=login["access_token"])
        assert response.status == 201 and response.json["source"]["channel"] == "points"
        center = self.api("GET", "/api/v1/coupon-templates?channel=points").json["items"]
        assert [t["id"] for t in center] == [template["id"]] and center[0]["points_cost"] == 500


class TemplateManagementTest(CouponApiCase):
    def test_clerks_cannot_create_and_other_merchants_cannot_see_a_template(self):
        merchant, owner = self.merchant_of("owner-a")
        clerk = self.login("clerk-a")
        with db.connection_context():
            add_staff(merchant, "merchant_clerk", User.get_by_id(clerk["user"]["id"]))
        self.assert_error(self.api("POST", "/api/v1/merchant/coupon-templates", TEMPLATE,
                                   token=clerk["access_token"]), 403, "FORBIDDEN")
        template = self.create_template(owner)
        _, other = self.merchant_of("owner-b")
        path = f"/api/v1/merchant/coupon-templates/{template['id']}"
        self.assert_error(self.api("GET", path, token=other), 404, "COUPON_TEMPLATE_NOT_FOUND")
        self.assert_error(self.api("PATCH", path, {"name": "x"}, token=other), 404,
                          "COUPON_TEMPLATE_NOT_FOUND")
        self.assert_error(self.api("GET", "/api/v1/merchant/coupon-templates",
                                   token=self.token("alice")), 403, "NOT_MERCHANT_STAFF")

    def test_owner_changes_stock_and_pauses_a_template(self):
        merchant, owner = self.merchant_of("owner-a")
        template = self.create_template(owner)
        path = f"/api/v1/merchant/coupon-templates/{template['id']}"
        response = self.api("PATCH", path, {"total_stock": 80, "status": "paused"}, token=owner)
        assert response.status == 200
        assert (response.json["total_stock"], response.json["status"]) == (80, "paused")
        self.assert_error(self.claim(template["id"], self.token("alice")), 409,
                          "COUPON_NOT_CLAIMABLE")
        self.assert_error(self.api("PATCH", path, {"kind": "percent"}, token=owner), 400,
                          "VALIDATION_FAILED")
        listed = self.api("GET", "/api/v1/merchant/coupon-templates?status=paused", token=owner)
        assert [t["id"] for t in listed.json["items"]] == [template["id"]]

    def test_invalid_template_is_a_400_naming_the_field(self):
        _, owner = self.merchant_of("owner-a")
        response = self.api("POST", "/api/v1/merchant/coupon-templates",
                            {**TEMPLATE, "kind": "percent"}, token=owner)
        self.assert_error(response, 400, "VALIDATION_FAILED")
        assert response.json["error"]["details"]["field"] == "percent_off"

    def test_operators_run_platform_coupons_for_the_coupon_center(self):
        self.assert_error(self.api("POST", "/api/admin/v1/coupon-templates", TEMPLATE,
                                   token=self.operator_token("customer_service")), 403,
                          "FORBIDDEN")
        operator = self.operator_token("operator")
        response = self.api("POST", "/api/admin/v1/coupon-templates",
                            {**TEMPLATE, "name": "平台满100减20"}, token=operator)
        assert response.status == 201
        template = response.json
        assert template["tier"] == "platform" and template["scope"] == "alliance"
        center = self.api("GET", "/api/v1/coupon-templates").json["items"]
        assert [t["id"] for t in center] == [template["id"]]
        coupon = self.claim(template["id"], self.token("alice")).json
        assert coupon["source"]["channel"] == "platform"
        changed = self.api("PATCH", f"/api/admin/v1/coupon-templates/{template['id']}",
                           {"status": "ended"}, token=operator)
        assert changed.status == 200 and changed.json["issued"] == 1
        assert self.api("GET", "/api/v1/coupon-templates").json["items"] == []
