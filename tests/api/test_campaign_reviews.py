"""Operators' review of merchants' campaigns and joins: the queue of pending joins, and the
merchant's owner learning each decision on its campaign and on its join of a
platform campaign (``campaign.audit_result`` through the outbox), once per decision."""
import json

from alliance.db import connection
from alliance.notifications.models import OutboxMessage
from tests.campaigns_support import CampaignTestCase, at


class CampaignReviewNoticeTest(CampaignTestCase):
    def told(self) -> list[tuple[int, dict]]:
        with connection():
            return [(m.user_id, json.loads(m.payload)) for m in OutboxMessage.select()
                    .where(OutboxMessage.event == "campaign.audit_result")
                    .order_by(OutboxMessage.id)]

    def test_the_owner_is_told_a_campaign_was_rejected_with_the_reason_then_approved(self):
        first = self.create({"kind": "full_reduction", "name": "满百减十",
                             "tiers": [{"threshold_fen": 10000, "discount_fen": 1000}]})
        path = f"/api/admin/v1/campaigns/{first['id']}/review"
        response = self.api("POST", path, {"decision": "reject", "reason": "力度太小"},
                            token=self.operator)
        assert response.status == 200, response.body
        self.assert_error(self.api("POST", path, {"decision": "approve"}, token=self.operator),
                          409, "CAMPAIGN_STATE_CONFLICT")
        second = self.create({"kind": "full_reduction", "name": "满两百减三十",
                              "tiers": [{"threshold_fen": 20000, "discount_fen": 3000}],
                              "starts_at": at(-1)})
        self.approve(second["id"])
        told = self.told()
        assert [user for user, _ in told] == [self.owner.id, self.owner.id]
        (_, rejected), (_, approved) = told
        assert (rejected["campaign_name"], rejected["subject_text"], rejected["result"],
                rejected["reason"]) == ("满百减十", "活动申请", "rejected", "力度太小")
        assert (approved["campaign_id"], approved["result"], "reason" in approved) == (
            second["id"], "approved", False)

    def test_the_owner_is_told_a_join_was_approved_or_rejected(self):
        campaign = self.platform_flash(join_requires_approval=True)
        self.join(campaign["id"], self.staff, self.goods, 2000)
        path = f"/api/admin/v1/campaigns/{campaign['id']}/participants/{self.merchant.id}/review"
        self.api("POST", path, {"decision": "reject", "reason": "价格不够优惠"},
                 token=self.operator)
        self.join(campaign["id"], self.staff, self.goods, 1500)
        self.api("POST", path, {"decision": "approve"}, token=self.operator)
        told = self.told()
        assert [(user, data["subject_text"], data["result"], data.get("reason"))
                for user, data in told] == [
            (self.owner.id, "活动报名", "rejected", "价格不够优惠"),
            (self.owner.id, "活动报名", "approved", None)]
        assert told[0][1]["campaign_name"] == "双十二秒杀"


class JoinQueueTest(CampaignTestCase):
    def test_operators_read_the_pending_joins_of_every_platform_campaign(self):
        first = self.platform_flash(name="双十二秒杀", join_requires_approval=True)
        second = self.platform_flash(name="年货节秒杀", join_requires_approval=True)
        self.join(first["id"], self.staff, self.goods, 2000)
        self.join(second["id"], self.staff, self.goods, 1800)
        own = self.create({"kind": "full_reduction",
                           "tiers": [{"threshold_fen": 10000, "discount_fen": 1000}]})
        queue = self.api("GET", "/api/admin/v1/campaign-joins?status=pending",
                         token=self.operator)
        assert queue.status == 200, queue.body
        assert [(j["campaign_id"], j["campaign_name"], j["campaign_kind"], j["merchant_id"],
                 j["merchant_name"], j["status"]) for j in queue.json["items"]] == [
            (second["id"], "年货节秒杀", "flash_sale", self.merchant.id, "老街面馆", "pending"),
            (first["id"], "双十二秒杀", "flash_sale", self.merchant.id, "老街面馆", "pending")]
        assert own["id"] not in {j["campaign_id"] for j in queue.json["items"]}
        path = f"/api/admin/v1/campaigns/{first['id']}/participants/{self.merchant.id}/review"
        self.api("POST", path, {"decision": "approve"}, token=self.operator)
        pending = self.api("GET", "/api/admin/v1/campaign-joins?status=pending&limit=1",
                           token=self.operator).json
        assert [j["campaign_id"] for j in pending["items"]] == [second["id"]]
        every = self.api("GET", "/api/admin/v1/campaign-joins", token=self.operator).json
        assert [j["status"] for j in every["items"]] == ["pending", "approved"]
        self.assert_error(self.api("GET", "/api/admin/v1/campaign-joins?status=x",
                                   token=self.operator), 400, "VALIDATION_FAILED")
        self.assert_error(self.api("GET", "/api/admin/v1/campaign-joins",
                                   token=self.operator_token("customer_service")), 403,
                          "FORBIDDEN")
        self.assert_error(self.api("GET", "/api/admin/v1/campaign-joins", token=self.staff),
                          401, "TOKEN_INVALID")
