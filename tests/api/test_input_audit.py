"""Hostile input to settlement, campaigns and cooperation: each answers a 4xx in the
envelope (never a 500), and what the documentation names is taken."""
from tests.api.test_cooperation import BASE, CooperationApiCase
from tests.campaigns_support import CampaignTestCase, at
from tests.settlement_support import SettlementCase

# Valid ISO 8601 in UTC, but year 10000 in Asia/Shanghai, where every time is shown.
EDGE_OF_TIME = "9999-12-31T23:00:00+00:00"


class ClosePeriodInputTest(SettlementCase):
    def test_a_period_that_is_a_list_or_an_object_is_period_invalid(self):
        admin = self.operator_token("administrator")
        for period in ([], {}, [self.last.name], {"period": self.last.name}):
            with self.subTest(period=period):
                self.assert_error(self.api("POST", "/api/admin/v1/statements",
                                           {"period": period}, token=admin),
                                  400, "PERIOD_INVALID")


class CooperationEdgeOfTimeTest(CooperationApiCase):
    def test_an_end_beyond_the_calendar_in_shanghai_is_refused_and_lists_still_answer(self):
        response = self.propose(ends_at=EDGE_OF_TIME)
        self.assert_error(response, 400, "VALIDATION_FAILED")
        assert response.json["error"]["details"]["field"] == "ends_at"
        assert self.api("GET", BASE, token=self.issuer_token).status == 200
        cooperation = self.propose().json
        countered = self.act(cooperation["id"], "counter", self.partner_token,
                             {"ends_at": EDGE_OF_TIME})
        self.assert_error(countered, 400, "VALIDATION_FAILED")
        assert countered.json["error"]["details"]["field"] == "ends_at"


class CooperationAnswerVersionTest(CooperationApiCase):
    """withdraw and end take {"message"?, "version"?} as the other answers do (README,
    OpenAPI's CooperationAnswer): the version names the terms read."""

    def test_withdraw_takes_the_version_read(self):
        cooperation = self.propose().json
        stale = self.act(cooperation["id"], "withdraw", self.issuer_token,
                         {"version": cooperation["version"] + 1})
        self.assert_error(stale, 409, "COOPERATION_TERMS_CHANGED")
        withdrawn = self.act(cooperation["id"], "withdraw", self.issuer_token,
                             {"version": cooperation["version"], "message": "改天再谈"})
        assert withdrawn.status == 200, withdrawn.body
        assert withdrawn.json["status"] == "withdrawn"

    def test_end_takes_the_version_read(self):
        cooperation = self.propose().json
        accepted = self.act(cooperation["id"], "accept", self.partner_token,
                            {"version": cooperation["version"]})
        assert accepted.status == 200, accepted.body
        self.assert_error(self.act(cooperation["id"], "end", self.partner_token,
                                   {"version": "x"}), 400, "VALIDATION_FAILED")
        ended = self.act(cooperation["id"], "end", self.partner_token,
                         {"version": accepted.json["version"]})
        assert ended.status == 200, ended.body
        assert ended.json["status"] == "ended"


class CampaignEdgeOfTimeTest(CampaignTestCase):
    def test_times_beyond_the_calendar_in_shanghai_are_refused(self):
        body = {"kind": "full_reduction", "name": "满减",
                "tiers": [{"threshold_fen": 5000, "discount_fen": 500}],
                "starts_at": "9999-12-31T10:00:00+00:00", "ends_at": EDGE_OF_TIME}
        response = self.api("POST", "/api/v1/merchant/campaigns", body, token=self.staff)
        self.assert_error(response, 400, "VALIDATION_FAILED")
        assert response.json["error"]["details"]["field"] == "ends_at"
        assert self.api("GET", "/api/v1/merchant/campaigns", token=self.staff).status == 200


class UnknownFieldsTest(CampaignTestCase):
    """A field the API does not know (a typo'd ``per_user_limt``) is refused, never
    silently dropped, as everywhere else."""

    def test_campaign_creates_joins_and_the_commission_rate_refuse_unknown_fields(self):
        body = {"kind": "full_reduction", "name": "满减", "starts_at": at(60),
                "ends_at": at(600), "tiers": [{"threshold_fen": 5000, "discount_fen": 500}]}
        mine = self.api("POST", "/api/v1/merchant/campaigns", {**body, "budget_fen": 100},
                        token=self.staff)
        self.assert_error(mine, 400, "VALIDATION_FAILED")
        assert mine.json["error"]["details"]["fields"] == ["budget_fen"]
        platform = self.api("POST", "/api/admin/v1/campaigns", {**body, "items": []},
                            token=self.operator)
        self.assert_error(platform, 400, "VALIDATION_FAILED")
        created = self.api("POST", "/api/admin/v1/campaigns", body, token=self.operator)
        assert created.status == 201, created.body
        join = self.api("POST", f"/api/v1/merchant/campaigns/{created.json['id']}/join",
                        {"itmes": []}, token=self.staff)
        self.assert_error(join, 400, "VALIDATION_FAILED")
        assert join.json["error"]["details"]["fields"] == ["itmes"]
        rate = self.api("PUT", f"/api/admin/v1/merchants/{self.merchant.id}/commission-rate",
                        {"commission_bp": 100, "reason": "x"},
                        token=self.operator_token("administrator"))
        self.assert_error(rate, 400, "VALIDATION_FAILED")
