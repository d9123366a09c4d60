"""Operators promote a campaign to consumers (campaign.promoted): the audience in batches by
user id, each consumer once however many schedulers run the job, without those who refused
the platform's promotions or every push, a daily limit, and delivery as WeChat messages."""
import datetime as dt
import json
from unittest import mock

from alliance.accounts.models import OperatorAuditLog, User
from alliance.campaigns.models import Campaign
from alliance.db import connection, utcnow
from alliance.jobs.models import OK
from alliance.members.models import MerchantMember
from alliance.notifications.delivery import deliver_due
from alliance.notifications.models import OutboxMessage
from alliance.pushes import platform
from scheduler.jobs import JOBS
from tests.campaigns_support import CampaignTestCase
from tests.factories import make_merchant
from tests.scheduling import fire_together, scheduler_instances

PROMOTION = {"title": "双十二秒杀开抢", "content": "全城商户限时五折，先到先得"}


class PlatformPromotionTest(CampaignTestCase):
    def promote(self, campaign_id: int, body: dict | None = None, token: str | None = None):
        return self.api("POST", f"/api/admin/v1/campaigns/{campaign_id}/promotions",
                        body or PROMOTION, token=token or self.operator)

    def told(self) -> list[int]:
        with connection():
            return sorted(m.user_id for m in OutboxMessage.select()
                          .where(OutboxMessage.event == "campaign.promoted"))

    def active_users(self) -> list[int]:
        with connection():
            return sorted(u.id for u in User.select(User.id).where(User.status == "active"))

    def test_every_consumer_but_those_who_refused_is_told_once(self):
        campaign = self.platform_flash()
        names = ("alice", "bob", "carol", "dave")
        tokens = {n: self.token(n) for n in names}
        refused = self.api("PUT", "/api/v1/me/push-preferences",
                           {"platform": True, "opt_out": True}, token=tokens["bob"])
        assert (refused.status, refused.json["opt_out_platform"]) == (200, True)
        assert self.api("PUT", "/api/v1/me/push-preferences", {"opt_out": True},
                        token=tokens["carol"]).json["opt_out_all"] is True  # every push
        ids = {n: self.login(n)["user"]["id"] for n in names}
        expected = [u for u in self.active_users() if u not in (ids["bob"], ids["carol"])]

        response = self.promote(campaign["id"])
        assert response.status == 201, response.body
        assert (response.json["status"], response.json["recipients"]) == ("done", len(expected))
        assert self.told() == expected
        with connection():
            [message] = [json.loads(m.payload) for m in OutboxMessage.select().where(
                OutboxMessage.event == "campaign.promoted", OutboxMessage.user_id == ids["alice"])]
            audit = OperatorAuditLog.get(OperatorAuditLog.action == "campaign.promote")
        assert message["campaign_name"] == campaign["name"]
        assert (message["title"], message["content"]) == (PROMOTION["title"],
                                                          PROMOTION["content"])
        assert str(audit.target_id) == str(campaign["id"])

        channels = self.app.settings["ctx"].outbox_channels

        def sweep():
            with connection():
                return deliver_due(channels)

        assert self.run_blocking(sweep).sent >= 1
        sent = [m for m in self.api("GET", "/_sandbox/wechat/_control/messages").json["items"]
                if m["body"]["template_id"] == "sandbox-subscribe-campaign"]
        assert sent and sent[0]["body"]["page"] == f"pages/campaign/detail?id={campaign['id']}"
        listed = self.api("GET", f"/api/admin/v1/campaigns/{campaign['id']}/promotions",
                          token=self.operator).json
        assert [p["id"] for p in listed["items"]] == [response.json["id"]]

    def test_a_large_audience_goes_out_in_batches_once_from_two_schedulers(self):
        campaign = self.platform_flash()
        for name in ("a", "b", "c", "d", "e"):
            self.login(name)
        everyone = self.active_users()
        with mock.patch.object(platform, "BATCH", 2):
            started = self.promote(campaign["id"]).json
            assert (started["status"], started["recipients"]) == ("sending", 2)
            ctx = self.app.settings["ctx"]
            while True:
                outcomes = self.call(fire_together, scheduler_instances(ctx, JOBS, 2),
                                     "pushes.platform_batches")
                assert outcomes.count(OK) == 1, outcomes
                with connection():
                    push = platform.PlatformPush.get_by_id(started["id"])
                if push.status == "done":
                    break
        assert self.told() == everyone  # each exactly once
        assert push.recipients == len(everyone) and push.finished_at is not None

    def test_a_segment_reaches_members_of_merchants_of_its_industries(self):
        campaign = self.platform_flash()
        alice, bob = (self.login(n)["user"]["id"] for n in ("alice", "bob"))
        with connection():
            salon = make_merchant(industry="beauty_hair")
            MerchantMember.create(merchant=salon.id, user_id=bob)
            MerchantMember.create(merchant=self.merchant.id, user_id=alice,
                                  last_visit_at=utcnow() - dt.timedelta(days=40))
        response = self.promote(campaign["id"], {**PROMOTION,
                                                 "segment": {"industries": ["beauty_hair"]}})
        assert response.json["recipients"] == 1 and self.told() == [bob]
        recent = self.promote(campaign["id"], {**PROMOTION, "segment": {
            "industries": ["catering"], "active_within_days": 30}})
        assert recent.json["recipients"] == 0  # alice visited 40 days ago
        for segment in ({"industries": ["nope"]}, {"industries": [{"a": 1}]},
                        {"active_within_days": 0}, {"city": "上海"}, []):
            with self.subTest(segment=segment):
                self.assert_error(self.promote(campaign["id"], {**PROMOTION, "segment": segment}),
                                  400, "VALIDATION_FAILED")

    def test_only_approved_campaigns_not_over_are_promoted_a_few_times_a_day(self):
        pending = self.create({"kind": "flash_sale", "items": [
            {"item_id": self.goods.id, "campaign_price_fen": 1000}]})
        self.assert_error(self.promote(pending["id"]), 409, "CAMPAIGN_NOT_PROMOTABLE")
        self.assert_error(self.promote(999999), 404, "CAMPAIGN_NOT_FOUND")
        over = self.platform_flash()
        with connection():
            (Campaign.update(ends_at=utcnow() - dt.timedelta(minutes=1))
             .where(Campaign.id == over["id"]).execute())
        self.assert_error(self.promote(over["id"]), 409, "CAMPAIGN_NOT_PROMOTABLE")
        campaign = self.platform_flash()
        limit = self.app.settings["ctx"].settings.platform_push_daily_limit
        for _ in range(limit):
            assert self.promote(campaign["id"]).status == 201
        beyond = self.promote(campaign["id"])
        self.assert_error(beyond, 429, "RATE_LIMITED")
        assert int(beyond.headers["Retry-After"]) >= 1

    def test_who_may_promote(self):
        campaign = self.platform_flash()
        service = self.operator_token("customer_service")
        self.assert_error(self.promote(campaign["id"], token=service), 403, "FORBIDDEN")
        self.assert_error(self.promote(campaign["id"], token=self.token("alice")), 401,
                          "TOKEN_INVALID")  # a consumer's token is not the console's
        both = self.api("PUT", "/api/v1/me/push-preferences",
                        {"platform": True, "merchant_id": self.merchant.id, "opt_out": True},
                        token=self.token("alice"))
        self.assert_error(both, 400, "VALIDATION_FAILED")
        assert self.told() == []
