"""The counter over HTTP: member lookups by member code, redemptions and their undo, points
awards, level rules and the consumer's membership; and the demo's cross-merchant coupon."""
import datetime as dt

from alliance.accounts.models import User
from alliance.commissions.models import CommissionEntry
from alliance.coupons.claims import claim
from alliance.coupons.models import Coupon
from alliance.db import db, is_mysql, utcnow
from alliance.merchants.models import Merchant
from alliance.points import services as points
from alliance.redemptions.models import Redemption
from sandbox.demo import load
from tests.api.test_coupons import CouponApiCase
from tests.factories import add_staff, make_shop, make_template
from tests.support import pipelined_round_trips, recorded_round_trips, recorded_sql


class CounterTest(CouponApiCase):
    def setUp(self):
        super().setUp()
        self.shop_a, self.owner_a = self.merchant_of("owner-a")
        self.shop_b, self.owner_b = self.merchant_of("owner-b")
        self.alice = self.login("alice")
        self.alice_token = self.alice["access_token"]

    def staff(self, role: str, name: str) -> str:
        login = self.login(name)
        with db.connection_context():
            add_staff(self.shop_a, role, User.get_by_id(login["user"]["id"]))
        return login["access_token"]

    def coupon(self, owner_token: str, **template) -> dict:
        created = self.create_template(owner_token, **template)
        response = self.claim(created["id"], self.alice_token)
        assert response.status == 201, response.body
        return response.json

    def member_code(self) -> str:
        return self.api("GET", "/api/v1/me/member-code", token=self.alice_token).json["payload"]

    def redeem(self, code: str, token: str):
        return self.api("POST", "/api/v1/merchant/redemptions", {"code": code}, token=token)

    def test_member_lookup_shows_level_points_and_the_coupons_usable_here(self):
        mine = self.coupon(self.owner_a)
        self.coupon(self.owner_b)
        wide = self.coupon(self.owner_b, scope="alliance")
        with db.connection_context():
            points.earn(self.alice["user"]["id"], 1200, merchant_id=self.shop_b.id,
                        idempotency_key="gift")
        clerk = self.staff("merchant_clerk", "clerk-a")
        response = self.api("POST", "/api/v1/merchant/member-lookups",
                            {"payload": self.member_code()}, token=clerk)
        assert response.status == 200
        body = response.json
        assert body["user"]["id"] == self.alice["user"]["id"]
        assert body["points"]["balance"] == 1200 and body["platform_level"]["name"] == "银卡会员"
        assert body["level"]["level"] == 0 and body["level"]["merchant_id"] == self.shop_a.id
        assert {c["code"] for c in body["coupons"]} == {mine["code"], wide["code"]}

    def test_member_code_replayed_expired_or_forged_is_rejected(self):
        payload = self.member_code()
        path = "/api/v1/merchant/member-lookups"
        assert self.api("POST", path, {"payload": payload}, token=self.owner_a).status == 200
        self.assert_error(self.api("POST", path, {"payload": payload}, token=self.owner_a),
                          409, "MEMBER_CODE_USED")
        signer = self.app.settings["ctx"].member_codes
        stale = signer.issue(self.alice["user"]["id"], now=utcnow() - dt.timedelta(seconds=61))
        self.assert_error(self.api("POST", path, {"payload": stale.payload}, token=self.owner_a),
                          400, "MEMBER_CODE_EXPIRED")
        parts = self.member_code().split(".")
        parts[1] = str(self.alice["user"]["id"] + 1)
        self.assert_error(self.api("POST", path, {"payload": ".".join(parts)},
                                   token=self.owner_a), 400, "MEMBER_CODE_INVALID")
        parts = self.member_code().split(".")
        parts[4] = "é" + parts[4][1:]  # not ASCII: compare_digest refuses to compare it
        self.assert_error(self.api("POST", path, {"payload": ".".join(parts)},
                                   token=self.owner_a), 400, "MEMBER_CODE_INVALID")

    def test_consumers_cannot_use_the_counter(self):
        self.assert_error(self.api("POST", "/api/v1/merchant/member-lookups",
                                   {"payload": self.member_code()}, token=self.alice_token),
                          403, "NOT_MERCHANT_STAFF")

    def test_redemption_is_created_once_then_refused_as_already_redeemed(self):
        coupon = self.coupon(self.owner_a)
        clerk = self.staff("merchant_clerk", "clerk-a")
        response = self.redeem(coupon["code"].lower(), clerk)
        assert response.status == 201
        body = response.json
        assert body["kind"] == "coupon" and body["status"] == "done"
        assert body["user_id"] == self.alice["user"]["id"] and body["shop_id"] is not None
        assert body["details"]["coupon"]["status"] == "redeemed"
        self.assert_error(self.redeem(coupon["code"], clerk), 409, "CODE_ALREADY_REDEEMED")
        listed = self.api("GET", "/api/v1/merchant/redemptions", token=self.owner_a).json
        assert [r["id"] for r in listed["items"]] == [body["id"]]

    def test_a_redemption_reads_its_coupon_with_its_issuer_and_nothing_after(self):
        # On MySQL every statement is a round trip: the coupon is read with its template and
        # its issuer (the answer names it), and a code no partner distributed has no
        # commission to look up.
        coupon = self.coupon(self.owner_a)
        clerk = self.staff("merchant_clerk", "clerk-a")
        with recorded_sql() as statements:
            response = self.redeem(coupon["code"], clerk)
        assert response.status == 201
        assert response.json["details"]["coupon"]["template"]["issuer"] == {
            "merchant_id": self.shop_a.id, "name": self.shop_a.name}
        assert response.json["attribution"]["commission_fen"] == 0
        update = next(s for s in statements if s.sql.startswith('UPDATE "coupon"'))
        mine = [s for s in statements if s.thread == update.thread]
        assert not [s.sql for s in mine if 'FROM "merchant" AS' in s.sql and s.in_transaction]
        assert [s.sql for s in mine[mine.index(update):] if not s.in_transaction] == []

    def test_a_redemption_sends_its_writes_to_mysql_together(self):
        # On MySQL every round trip costs more than most statements' own work: the coupon's
        # guarded UPDATE and the redemption's INSERT go with the read of the membership,
        # the visit and the member's notification before the COMMIT (9 round trips before).
        if not is_mysql():
            self.skipTest("SQLite has no round trips")
        coupon = self.coupon(self.owner_a)
        clerk = self.staff("merchant_clerk", "clerk-a")
        with recorded_round_trips() as sent:
            response = self.redeem(coupon["code"], clerk)
        assert response.status == 201, response.json
        trips = pipelined_round_trips(sent)
        heads = [[" ".join(part.split(" ", 3)[:3]) for part in trip.split(";")] for trip in trips]
        assert len(trips) == 5, heads  # BEGIN with the shop's read, the coupon's, then:
        assert heads[2] == ["UPDATE `coupon` SET", "INSERT INTO `redemption`",
                            "SELECT `t1`.`id` FROM"], heads
        assert heads[3] == ["INSERT INTO `merchant_member`", "INSERT INTO `outbox_message`"], heads

    def test_a_platform_coupon_is_redeemed_with_the_platform_as_its_issuer(self):
        with db.connection_context():
            template = make_template(None, scope="alliance")
            code = claim(template.id, self.alice["user"]["id"]).code
        response = self.redeem(code, self.owner_a)
        assert response.status == 201
        assert response.json["details"]["coupon"]["template"]["issuer"] == {
            "merchant_id": None, "name": "平台"}

    def test_coupon_of_another_merchant_or_expired_is_refused(self):
        theirs = self.coupon(self.owner_b)
        self.assert_error(self.redeem(theirs["code"], self.owner_a), 422, "CODE_NOT_VALID_HERE")
        mine = self.coupon(self.owner_a)
        with db.connection_context():
            Coupon.update(valid_until=utcnow() - dt.timedelta(minutes=1)).where(
                Coupon.id == mine["id"]).execute()
        self.assert_error(self.redeem(mine["code"], self.owner_a), 410, "CODE_EXPIRED")
        self.assert_error(self.redeem("CZZZZZZZZZZ", self.owner_a), 404, "CODE_NOT_FOUND")

    def test_only_managers_undo_and_only_within_the_window(self):
        first = self.redeem(self.coupon(self.owner_a)["code"], self.owner_a).json
        clerk = self.staff("merchant_clerk", "clerk-a")
        manager = self.staff("merchant_manager", "manager-a")
        path = f"/api/v1/merchant/redemptions/{first['id']}/undo"
        self.assert_error(self.api("POST", path, token=clerk), 403, "FORBIDDEN")
        self.assert_error(self.api("POST", path, token=self.owner_b), 404, "REDEMPTION_NOT_FOUND")
        response = self.api("POST", path, token=manager)
        assert response.status == 200 and response.json["status"] == "undone"
        self.assert_error(self.api("POST", path, token=manager), 409, "REDEMPTION_ALREADY_UNDONE")
        late = self.redeem(self.coupon(self.owner_a)["code"], self.owner_a).json
        with db.connection_context():
            Redemption.update(created_at=utcnow() - dt.timedelta(minutes=31)).where(
                Redemption.id == late["id"]).execute()
        self.assert_error(self.api("POST", f"/api/v1/merchant/redemptions/{late['id']}/undo",
                                   token=manager), 409, "REDEMPTION_UNDO_EXPIRED")

    def test_points_award_by_member_code_then_by_receipt_once(self):
        response = self.api("POST", "/api/v1/merchant/points-awards",
                            {"payload": self.member_code(), "amount_fen": 12_345},
                            token=self.owner_a)
        assert response.status == 201
        assert (response.json["points"], response.json["balance"]) == (123, 123)
        body = {"user_id": self.alice["user"]["id"], "amount_fen": 5_000, "receipt_no": "R-9"}
        first = self.api("POST", "/api/v1/merchant/points-awards", body, token=self.owner_a)
        again = self.api("POST", "/api/v1/merchant/points-awards", body, token=self.owner_a)
        assert again.json["replayed"] and again.json["id"] == first.json["id"]
        assert first.json["points"] == 50 and again.json["balance"] is None  # named by id
        self.assert_error(self.api("POST", "/api/v1/merchant/points-awards",
                                   {"amount_fen": 100}, token=self.owner_a),
                          400, "VALIDATION_FAILED")
        owner_id = self.login("owner-a")["user"]["id"]
        self.assert_error(self.api("POST", "/api/v1/merchant/points-awards",
                                   {"user_id": owner_id, "amount_fen": 100}, token=self.owner_a),
                          403, "SELF_AWARD_FORBIDDEN")
        membership = self.api("GET", "/api/v1/me/membership", token=self.alice_token).json
        assert membership["points_balance"] == 173
        assert [(m["merchant_id"], m["visits"], m["total_spent_fen"])
                for m in membership["memberships"]] == [(self.shop_a.id, 2, 17_345)]

    def test_a_refused_shop_does_not_use_up_the_member_code(self):
        with db.connection_context():
            elsewhere = make_shop(self.shop_b)  # a shop of another merchant
        payload = self.member_code()
        self.assert_error(self.api("POST", "/api/v1/merchant/points-awards",
                                   {"payload": payload, "amount_fen": 1_000,
                                    "shop_id": elsewhere.id}, token=self.owner_a),
                          404, "SHOP_NOT_FOUND")
        retried = self.api("POST", "/api/v1/merchant/points-awards",
                           {"payload": payload, "amount_fen": 1_000}, token=self.owner_a)
        assert retried.status == 201 and retried.json["points"] == 10, retried.body

    def test_staff_cannot_enrol_or_look_up_a_stranger_by_user_id(self):
        # Alice never showed her code here nor bought here: by id she is not found, as an
        # unknown id is, and nothing is written (no membership, no award, no points).
        clerk = self.staff("merchant_clerk", "clerk-a")
        alice = self.alice["user"]["id"]
        for user_id in (alice, 10 ** 9):
            with self.subTest(user_id=user_id):
                self.assert_error(self.api("POST", "/api/v1/merchant/points-awards",
                                           {"user_id": user_id, "amount_fen": 1}, token=clerk),
                                  404, "MEMBER_NOT_FOUND")
        assert self.api("GET", "/api/v1/merchant/members", token=clerk).json["items"] == []
        membership = self.api("GET", "/api/v1/me/membership", token=self.alice_token).json
        assert membership["memberships"] == [] and membership["points_balance"] == 0

    def test_level_rules_are_set_by_managers_and_raise_members(self):
        rules = {"levels": [{"name": "银卡", "min_spent_fen": 10_000, "discount_percent": 5,
                             "points_multiplier_pct": 150}]}
        clerk = self.staff("merchant_clerk", "clerk-a")
        self.assert_error(self.api("PUT", "/api/v1/merchant/level-rules", rules, token=clerk),
                          403, "FORBIDDEN")
        self.assert_error(self.api("PUT", "/api/v1/merchant/level-rules",
                                   {"levels": [{"name": "x", "min_spent_fen": 0}]},
                                   token=self.owner_a), 400, "LEVEL_RULES_INVALID")
        response = self.api("PUT", "/api/v1/merchant/level-rules", rules, token=self.owner_a)
        assert response.status == 200 and response.json["levels"][0]["level"] == 1
        self.api("POST", "/api/v1/merchant/points-awards",
                 {"payload": self.member_code(), "amount_fen": 10_000}, token=self.owner_a)
        members = self.api("GET", "/api/v1/merchant/members", token=clerk).json["items"]
        assert [(m["user_id"], m["level_name"], m["discount_percent"]) for m in members] == [
            (self.alice["user"]["id"], "银卡", 5)]


class DemoCrossMerchantCouponTest(CouponApiCase):
    def test_cinema_coupon_claimed_at_the_noodle_shop_pays_it_a_commission(self):
        assert load(self.settings)
        with db.connection_context():
            noodle = Merchant.get(Merchant.name == "老街面馆")
            cinema = Merchant.get(Merchant.name == "星光影城")
            merchants = list(Merchant.select())
        for merchant in merchants:
            offers = self.api("GET", f"/api/v1/merchants/{merchant.id}").json["coupon_templates"]
            assert offers, f"{merchant.name} has no claimable coupon"
        offers = self.api("GET", f"/api/v1/merchants/{noodle.id}").json["coupon_templates"]
        carried = [o for o in offers if o["issuer"]["merchant_id"] == cinema.id][0]
        alice = self.token("alice")
        coupon = self.claim(carried["id"], alice, {"scene": carried["claim_scene"]}).json
        assert coupon["source"]["distributor_merchant_id"] == noodle.id
        self.assert_error(self.redeem_as("sandbox-clerk-1", coupon["code"]), 422,
                          "CODE_NOT_VALID_HERE")
        response = self.redeem_as("sandbox-owner-2", coupon["code"])
        assert response.status == 201
        assert response.json["attribution"] == {"issuer_merchant_id": cinema.id,
                                                "distributor_merchant_id": noodle.id,
                                                "commission_fen": 300}
        with db.connection_context():
            entry = CommissionEntry.get()
        assert (entry.payer_merchant_id, entry.payee_merchant_id) == (cinema.id, noodle.id)

    def redeem_as(self, code_login: str, code: str):
        token = self.api("POST", "/api/v1/auth/wechat", {"code": code_login}).json["access_token"]
        return self.api("POST", "/api/v1/merchant/redemptions", {"code": code}, token=token)
