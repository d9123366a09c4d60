"""Operators over HTTP: one cooperation with its history and results, and ending one that
breaks the rules (admin:merchants; audited; both merchants told)."""
import json

from alliance.accounts.models import OperatorAuditLog
from alliance.coupons.models import CouponDistribution
from alliance.db import db
from alliance.notifications.models import OutboxMessage
from tests.api.test_cooperation import CooperationApiCase
from tests.factories import make_template

ADMIN = "/api/admin/v1/cooperations"


class OperatorDetailTest(CooperationApiCase):
    def test_detail_shows_terms_history_in_shanghai_time_and_results(self):
        cid = self.propose(ends_at="2099-01-01T08:00:00+00:00").json["id"]
        self.act(cid, "counter", self.partner_token, {"sales_share_bp": 800,
                                                      "message": "希望分成高一些"})
        self.act(cid, "accept", self.issuer_token)
        detail = self.api("GET", f"{ADMIN}/{cid}", token=self.operator_token("operator"))
        assert detail.status == 200, detail.body
        body = detail.json
        assert body["status"] == "accepted" and "direction" not in body
        assert body["terms"]["sales_share_bp"] == 800
        assert body["terms"]["ends_at"] == "2099-01-01T16:00:00+08:00"
        assert body["results"]["coupons_claimed"] == 0
        assert [(e["action"], e["merchant_name"], e["version"]) for e in body["history"]] == [
            ("propose", "老街面馆", 1), ("counter", "转角咖啡", 2), ("accept", "老街面馆", 2)]
        assert body["history"][1]["message"] == "希望分成高一些"
        assert body["history"][0]["terms"]["sales_share_bp"] == 300
        assert all(e["at"].endswith("+08:00") for e in body["history"])

    def test_detail_needs_admin_merchants_and_an_existing_id(self):
        cid = self.propose().json["id"]
        self.assert_error(self.api("GET", f"{ADMIN}/{cid}",
                                   token=self.operator_token("customer_service")),
                          403, "FORBIDDEN")
        self.assert_error(self.api("GET", f"{ADMIN}/{cid}", token=self.issuer_token), 401,
                          "TOKEN_INVALID")
        self.assert_error(self.api("GET", f"{ADMIN}/{cid}"), 401, "UNAUTHENTICATED")
        self.assert_error(self.api("GET", f"{ADMIN}/999999",
                                   token=self.operator_token("operator")),
                          404, "COOPERATION_NOT_FOUND")


class OperatorEndTest(CooperationApiCase):
    def end(self, cid, body, token=None, headers=None):
        return self.api("POST", f"{ADMIN}/{cid}/end", body,
                        token=token or self.operator_token("operator"), headers=headers)

    def test_an_operator_ends_an_accepted_cooperation_audited_and_both_sides_told(self):
        with db.connection_context():
            template = make_template(self.issuer, channels=["own", "partner"])
        cid = self.propose(kind="coupon_distribution", template_ids=[template.id],
                           commission_fen=300).json["id"]
        assert self.act(cid, "accept", self.partner_token).status == 200
        token = self.operator_token("operator")
        headers = {"Idempotency-Key": "end-1"}
        ended = self.end(cid, {"reason": "虚假宣传，违反联盟规则"}, token, headers)
        again = self.end(cid, {"reason": "虚假宣传，违反联盟规则"}, token, headers)
        assert ended.status == again.status == 200, ended.body
        assert again.headers.get("Idempotent-Replayed") == "true"
        assert ended.json["status"] == "ended" and ended.json["closed_at"]
        last = ended.json["history"][-1]
        assert (last["action"], last["merchant_id"], last["message"]) == (
            "terminate", None, "虚假宣传，违反联盟规则")
        self.assert_error(self.end(cid, {"reason": "再次结束"}, token), 409,
                          "COOPERATION_STATUS_CONFLICT")
        with db.connection_context():
            assert CouponDistribution.get(CouponDistribution.template == template.id
                                          ).status == "ended"
            [audit] = OperatorAuditLog.select().where(
                OperatorAuditLog.action == "cooperation.end")
            told = {m.user_id: json.loads(m.payload)["action_text"]
                    for m in OutboxMessage.select().where(
                        OutboxMessage.event == "cooperation.updated",
                        OutboxMessage.dedupe_key.startswith(
                            f"cooperation.event:{last['id']}:"))}
        assert (audit.target_type, audit.target_id) == ("cooperation", str(cid))
        assert audit.reason == "虚假宣传，违反联盟规则"
        assert told == {self.issuer.owner_id: "平台终止", self.partner.owner_id: "平台终止"}
        seen = self.api("GET", f"{BASE_MERCHANT}/{cid}", token=self.partner_token).json
        assert seen["status"] == "ended" and seen["history"][-1]["action"] == "terminate"

    def test_an_operator_ends_a_proposal_and_the_pair_may_propose_again(self):
        cid = self.propose().json["id"]
        ended = self.end(cid, {"reason": "重复骚扰邀请"})
        assert ended.status == 200 and ended.json["status"] == "ended", ended.body
        self.assert_error(self.act(cid, "accept", self.partner_token), 409,
                          "COOPERATION_STATUS_CONFLICT")
        assert self.propose().status == 201

    def test_end_refuses_bad_input_unknown_ids_and_roles_without_admin_merchants(self):
        cid = self.propose().json["id"]
        for body, field in (({}, "reason"), ({"reason": "  "}, "reason"),
                            ({"reason": 5}, "reason"), ({"reason": "长" * 501}, "reason"),
                            ({"reason": "违规", "surprise": 1}, None)):
            with self.subTest(body=body):
                response = self.end(cid, body)
                self.assert_error(response, 400, "VALIDATION_FAILED")
                if field:
                    assert response.json["error"]["details"]["field"] == field
        self.assert_error(self.api("POST", f"{ADMIN}/{cid}/end", body=b"[1,",
                                   token=self.operator_token("operator")), 400,
                          "MALFORMED_JSON")
        self.assert_error(self.end(999999, {"reason": "违规"}), 404, "COOPERATION_NOT_FOUND")
        self.assert_error(self.end(cid, {"reason": "违规"},
                                   self.operator_token("customer_service")), 403, "FORBIDDEN")
        self.assert_error(self.end(cid, {"reason": "违规"}, self.issuer_token), 401,
                          "TOKEN_INVALID")
        assert self.api("GET", f"{BASE_MERCHANT}/{cid}", token=self.issuer_token
                        ).json["status"] == "proposed"


BASE_MERCHANT = "/api/v1/merchant/cooperations"
