"""Operators configure the official account's automatic replies; every change is audited."""
import json

from alliance.accounts.models import OperatorAuditLog
from alliance.db import db
from tests.support import ApiTestCase

PATH = "/api/admin/v1/oa/auto-replies"


class AutoRepliesTest(ApiTestCase):
    def setUp(self):
        super().setUp()
        self.operator = self.operator_token("operator")

    def create(self, **fields):
        body = {"match": "exact", "keyword": "积分", "reply_text": "积分可在任一商户使用", **fields}
        return self.api("POST", PATH, body, token=self.operator)

    def audit(self) -> list:
        with db.connection_context():
            return [(e.action, e.target_id, json.loads(e.details))
                    for e in OperatorAuditLog.select().order_by(OperatorAuditLog.id)]

    def test_create_list_change_and_delete_are_audited(self):
        created = self.create()
        assert created.status == 201, created.body
        rule = created.json
        assert rule["match"] == "exact" and rule["enabled"] is True
        listing = self.api("GET", PATH, token=self.operator).json
        assert [item["id"] for item in listing["items"]] == [rule["id"]]
        changed = self.api("PATCH", f"{PATH}/{rule['id']}", {"reply_text": "新的回复", "enabled": False},
                           token=self.operator)
        assert changed.status == 200 and changed.json["reply_text"] == "新的回复"
        assert changed.json["enabled"] is False and changed.json["keyword"] == "积分"
        assert self.api("DELETE", f"{PATH}/{rule['id']}", token=self.operator).status == 204
        self.assert_error(self.api("GET", f"{PATH}/{rule['id']}", token=self.operator),
                          404, "AUTO_REPLY_NOT_FOUND")
        actions = [(action, target) for action, target, _ in self.audit()]
        assert actions == [("oa.auto_reply.create", str(rule["id"])),
                           ("oa.auto_reply.update", str(rule["id"])),
                           ("oa.auto_reply.delete", str(rule["id"]))]

    def test_rules_are_listed_in_pages_oldest_first(self):
        ids = [self.create(keyword=f"词{n}").json["id"] for n in range(3)]
        page = self.api("GET", f"{PATH}?limit=2", token=self.operator).json
        assert [item["id"] for item in page["items"]] == ids[:2] and page["next_cursor"]
        rest = self.api("GET", f"{PATH}?limit=2&cursor={page['next_cursor']}",
                        token=self.operator).json
        assert [item["id"] for item in rest["items"]] == ids[2:] and rest["next_cursor"] is None

    def test_same_keyword_twice_conflicts(self):
        assert self.create(keyword="VIP").status == 201
        self.assert_error(self.create(keyword="vip"), 409, "AUTO_REPLY_EXISTS")

    def test_subscribe_reply_takes_no_keyword(self):
        assert self.create(match="subscribe", keyword="").status == 201
        self.assert_error(self.create(match="subscribe", keyword="x"), 400, "VALIDATION_FAILED")

    def test_keyword_is_required_for_keyword_matches(self):
        response = self.api("POST", PATH, {"match": "contains", "reply_text": "x"}, token=self.operator)
        self.assert_error(response, 400, "VALIDATION_FAILED")
        assert response.json["error"]["details"]["field"] == "keyword"

    def test_unknown_match_is_rejected(self):
        self.assert_error(self.create(match="regex"), 400, "VALIDATION_FAILED")

    def test_reply_that_would_break_the_xml_is_rejected(self):
        self.assert_error(self.create(reply_text="a]]>b"), 400, "VALIDATION_FAILED")

    def test_changing_a_missing_rule_is_not_found(self):
        self.assert_error(self.api("PATCH", f"{PATH}/999", {"reply_text": "x"}, token=self.operator),
                          404, "AUTO_REPLY_NOT_FOUND")

    def test_customer_service_may_not_configure_replies(self):
        token = self.operator_token("customer_service")
        self.assert_error(self.api("GET", PATH, token=token), 403, "FORBIDDEN")

    def test_consumer_token_is_not_an_operator_token(self):
        self.assert_error(self.api("GET", PATH, token=self.token("alice")), 401, "TOKEN_INVALID")

    def test_create_with_idempotency_key_creates_once(self):
        headers = {"Idempotency-Key": "k-1"}
        body = {"match": "exact", "keyword": "hi", "reply_text": "hello"}
        first = self.api("POST", PATH, body, token=self.operator, headers=headers)
        second = self.api("POST", PATH, body, token=self.operator, headers=headers)
        assert first.status == second.status == 201 and first.json["id"] == second.json["id"]
        assert second.headers.get("Idempotent-Replayed") == "true"
