"""Proposals that expire: a proposal (countered or not) whose end time passed unanswered
cannot be accepted or countered, and the cooperation.end_expired job closes it as expired,
telling both merchants; an accepted one whose end comes is ended, not expired."""
import datetime as dt
import json

from alliance.cooperation.models import Cooperation
from alliance.db import connection, utcnow
from alliance.notifications.models import OutboxMessage
from scheduler.jobs import end_expired_cooperations
from tests.api.test_cooperation import BASE, CooperationApiCase

LATER = "2099-01-01T00:00:00+08:00"


class ProposalExpiryTest(CooperationApiCase):
    def run_job(self) -> dict:
        with connection():
            return end_expired_cooperations(self.app.settings["ctx"])

    def pass_end(self, cooperation_id: int) -> None:
        """As if the cooperation's end time had passed a minute ago."""
        with connection():
            (Cooperation.update(ends_at=utcnow() - dt.timedelta(minutes=1))
             .where(Cooperation.id == cooperation_id).execute())

    def detail(self, cooperation_id: int, token: str) -> dict:
        return self.api("GET", f"{BASE}/{cooperation_id}", token=token).json

    def test_a_proposal_past_its_end_is_refused_then_expired_by_the_job_and_both_told(self):
        cid = self.propose(ends_at=LATER).json["id"]
        self.pass_end(cid)
        self.assert_error(self.act(cid, "accept", self.partner_token), 409,
                          "COOPERATION_EXPIRED")
        refused = self.act(cid, "counter", self.partner_token, {"ends_at": LATER})
        self.assert_error(refused, 409, "COOPERATION_EXPIRED")
        assert "过期" in refused.json["error"]["message"]
        assert refused.json["error"]["details"]["ends_at"].endswith("+08:00")
        assert self.detail(cid, self.issuer_token)["status"] == "proposed"

        assert self.run_job() == {"ended": 0, "expired": 1}
        assert self.run_job() == {"ended": 0, "expired": 0}
        detail = self.detail(cid, self.partner_token)
        assert detail["status"] == "expired" and detail["turn_merchant_id"] is None
        assert detail["closed_at"].endswith("+08:00")
        last = detail["history"][-1]
        assert (last["action"], last["merchant_id"], last["merchant_name"]) == (
            "expire", None, None)
        with connection():
            told = {m.user_id: json.loads(m.payload)["action_text"]
                    for m in OutboxMessage.select().where(
                        OutboxMessage.dedupe_key.startswith(f"cooperation.event:{last['id']}:"))}
        assert told == {self.issuer.owner_id: "邀请已过期", self.partner.owner_id: "邀请已过期"}
        for action, token, body in (("accept", self.partner_token, {}),
                                    ("counter", self.partner_token, {"commission_fen": 1}),
                                    ("reject", self.partner_token, {}),
                                    ("withdraw", self.issuer_token, {})):
            with self.subTest(action=action):
                self.assert_error(self.act(cid, action, token, body), 409,
                                  "COOPERATION_EXPIRED")
        assert self.propose().status == 201  # the pair may propose again
        listed = self.api("GET", f"{BASE}?status=expired", token=self.issuer_token).json
        assert [c["id"] for c in listed["items"]] == [cid]
        operators = self.api("GET", "/api/admin/v1/cooperations?status=expired",
                             token=self.operator_token("operator")).json
        assert [c["id"] for c in operators["items"]] == [cid]

    def test_a_countered_proposal_expires_at_the_end_the_counter_named(self):
        cid = self.propose().json["id"]
        countered = self.act(cid, "counter", self.partner_token,
                             {"ends_at": LATER, "message": "先合作到年底"})
        assert countered.status == 200, countered.body
        assert self.run_job() == {"ended": 0, "expired": 0}
        self.pass_end(cid)
        self.assert_error(self.act(cid, "accept", self.issuer_token), 409,
                          "COOPERATION_EXPIRED")
        assert self.run_job() == {"ended": 0, "expired": 1}
        assert [e["action"] for e in self.detail(cid, self.issuer_token)["history"]] == [
            "propose", "counter", "expire"]

    def age(self, cooperation_id: int, days: float) -> None:
        """As if the cooperation's latest terms had been made ``days`` ago."""
        with connection():
            (Cooperation.update(updated_at=utcnow() - dt.timedelta(days=days))
             .where(Cooperation.id == cooperation_id).execute())

    def test_accepted_cooperations_end_rather_than_expire(self):
        open_ended = self.propose().json["id"]
        accepted = self.propose(kind="resource_exchange", ends_at=LATER).json["id"]
        assert self.act(accepted, "accept", self.partner_token).status == 200
        self.pass_end(accepted)
        assert self.run_job() == {"ended": 1, "expired": 0}
        assert self.detail(accepted, self.issuer_token)["status"] == "ended"
        assert self.detail(open_ended, self.issuer_token)["status"] == "proposed"
        self.age(accepted, 40)  # an accepted one never waits for an answer
        assert self.run_job() == {"ended": 0, "expired": 0}
        self.assert_error(self.api("POST", f"/api/admin/v1/cooperations/{accepted}/end",
                                   {"reason": "违规"}, token=self.operator_token("operator")),
                          409, "COOPERATION_STATUS_CONFLICT")

    def test_an_operator_cannot_end_an_expired_proposal(self):
        cid = self.propose(ends_at=LATER).json["id"]
        self.pass_end(cid)
        self.run_job()
        self.assert_error(self.api("POST", f"/api/admin/v1/cooperations/{cid}/end",
                                   {"reason": "违规"}, token=self.operator_token("operator")),
                          409, "COOPERATION_EXPIRED")

    def test_a_proposal_left_unanswered_for_30_days_lapses_and_a_counter_gives_it_30_more(self):
        quiet = self.propose().json["id"]  # no end time: it still does not wait for ever
        detail = self.detail(quiet, self.partner_token)
        made = dt.datetime.fromisoformat(detail["updated_at"])
        assert dt.datetime.fromisoformat(detail["answer_by"]) == made + dt.timedelta(days=30)
        end = (utcnow() + dt.timedelta(days=10)).replace(microsecond=0, tzinfo=dt.timezone.utc)
        soon = self.propose(kind="resource_exchange", ends_at=end.isoformat()).json["id"]
        answer_by = self.detail(soon, self.partner_token)["answer_by"]  # its end comes first
        assert dt.datetime.fromisoformat(answer_by) == end
        self.age(quiet, 29)
        assert self.run_job() == {"ended": 0, "expired": 0}
        countered = self.act(quiet, "counter", self.partner_token, {"commission_fen": 50})
        assert countered.status == 200, countered.body  # a counter is an answer
        self.age(quiet, 29.9)
        assert self.run_job() == {"ended": 0, "expired": 0}
        self.age(quiet, 30.01)
        refused = self.act(quiet, "accept", self.issuer_token)
        self.assert_error(refused, 409, "COOPERATION_EXPIRED")
        assert refused.json["error"]["details"]["answer_by"].endswith("+08:00")
        assert refused.json["error"]["details"]["ends_at"] is None
        assert self.run_job() == {"ended": 0, "expired": 1}
        detail = self.detail(quiet, self.issuer_token)
        assert detail["status"] == "expired" and "answer_by" not in detail
        assert [e["action"] for e in detail["history"]] == ["propose", "counter", "expire"]
