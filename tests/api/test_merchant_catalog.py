"""The catalog: the merchant's edits and the operators' review, as consumers then see it."""
from alliance.accounts.models import OperatorAuditLog
from alliance.db import db
from alliance.notifications.models import OutboxMessage
from tests.api.merchant_support import StaffedMerchantsTestCase


class CatalogTest(StaffedMerchantsTestCase):
    def setUp(self):
        super().setUp()
        self.owner = self.tokens["a-owner"]
        self.operator = self.operator_token("operator")

    def _create(self, **fields):
        body = {"kind": "service", "name": "精洗护理", "price_fen": 5800, "stock": 20, **fields}
        return self.api("POST", "/api/v1/merchant/items", body, token=self.owner)

    def _consumer_items(self):
        merchant = self.ids["a"]["merchant"]
        return {i["id"]: i for i in
                self.api("GET", f"/api/v1/merchants/{merchant}/items").json["items"]}

    def _op(self, item_id, action, reason=None):
        body = {} if reason is None else {"reason": reason}
        return self.api("POST", f"/api/admin/v1/items/{item_id}/{action}", body,
                        token=self.operator)

    def test_new_item_goes_on_sale_only_after_approval(self):
        image = self.upload_id(self.owner, "item_image")
        created = self._create(images=[image])
        assert created.status == 201 and created.json["status"] == "draft"
        item_id = created.json["id"]
        assert item_id not in self._consumer_items()
        submitted = self.api("POST", f"/api/v1/merchant/items/{item_id}/submit", {},
                             token=self.owner)
        assert submitted.json["status"] == "pending_review"
        queue = self.api("GET", "/api/admin/v1/items?review=pending", token=self.operator).json
        assert [i["id"] for i in queue["items"]] == [item_id]
        assert self._op(item_id, "approve").json["status"] == "on_shelf"
        on_sale = self._consumer_items()[item_id]
        assert on_sale["price_fen"] == 5800 and on_sale["image_urls"] == [f"/media/{image}"]

    def test_changed_price_waits_for_review_while_the_old_one_sells(self):
        item_id = self.ids["a"]["item"]
        edited = self.api("PATCH", f"/api/v1/merchant/items/{item_id}",
                          {"price_fen": 1500, "description": "即时生效"}, token=self.owner)
        assert edited.status == 200
        assert edited.json["pending_changes"] == {"price_fen": 1500}
        assert edited.json["review_pending"] is True
        assert self._consumer_items()[item_id]["price_fen"] == 1000
        assert self._consumer_items()[item_id]["description"] == "即时生效"
        assert self._op(item_id, "approve").json["price_fen"] == 1500
        assert self._consumer_items()[item_id]["price_fen"] == 1500

    def test_rejected_change_keeps_the_approved_name(self):
        item_id = self.ids["a"]["item"]
        original = self._consumer_items()[item_id]["name"]
        self.api("PATCH", f"/api/v1/merchant/items/{item_id}", {"name": "全网最低价"},
                 token=self.owner)
        rejected = self._op(item_id, "reject", "夸大宣传")
        assert rejected.status == 200
        assert rejected.json["name"] == original and rejected.json["pending_changes"] == {}
        assert rejected.json["review_note"] == "夸大宣传"
        assert rejected.json["status"] == "on_shelf"

    def test_rejected_new_item_can_be_fixed_and_resubmitted(self):
        item_id = self._create(submit=True).json["id"]
        assert self._op(item_id, "reject", "图片不清晰").json["status"] == "rejected"
        self.api("PATCH", f"/api/v1/merchant/items/{item_id}", {"name": "精洗护理（新）"},
                 token=self.owner)
        resubmitted = self.api("POST", f"/api/v1/merchant/items/{item_id}/submit", {},
                               token=self.owner)
        assert resubmitted.json["status"] == "pending_review"
        assert resubmitted.json["name"] == "精洗护理（新）"

    def test_taken_down_item_leaves_the_shelf_and_the_owner_is_told(self):
        item_id = self.ids["a"]["item"]
        taken = self._op(item_id, "take-down", "涉嫌售假")
        assert taken.json["status"] == "taken_down"
        assert item_id not in self._consumer_items()
        self.assert_error(self._op(item_id, "take-down", "again"), 409, "ITEM_ALREADY_TAKEN_DOWN")
        self.assert_error(self.api("POST", f"/api/v1/merchant/items/{item_id}/on-shelf", {},
                                   token=self.owner), 409, "ITEM_STATUS_CONFLICT")
        with db.connection_context():
            entry = OperatorAuditLog.get(OperatorAuditLog.action == "item.take_down")
            assert entry.reason == "涉嫌售假"
            message = OutboxMessage.get(OutboxMessage.event == "catalog.item_taken_down")
        assert message.user_id == self.login("a-owner")["user"]["id"]

    def test_review_decisions_need_something_to_review_and_a_reason(self):
        item_id = self.ids["a"]["item"]
        self.assert_error(self._op(item_id, "approve"), 409, "ITEM_NOT_IN_REVIEW")
        self.assert_error(self._op(item_id, "reject"), 400, "VALIDATION_FAILED")
        self.assert_error(self._op(999999, "approve"), 404, "ITEM_NOT_FOUND")
        self.assert_error(self.api("POST", f"/api/admin/v1/items/{item_id}/approve", {},
                                   token=self.operator_token("customer_service")), 403, "FORBIDDEN")

    def test_shelf_moves_follow_the_status(self):
        item_id = self.ids["a"]["item"]
        off = self.api("POST", f"/api/v1/merchant/items/{item_id}/off-shelf", {}, token=self.owner)
        assert off.json["status"] == "off_shelf" and item_id not in self._consumer_items()
        on = self.api("POST", f"/api/v1/merchant/items/{item_id}/on-shelf", {}, token=self.owner)
        assert on.json["status"] == "on_shelf"
        draft = self._create().json["id"]
        self.assert_error(self.api("POST", f"/api/v1/merchant/items/{draft}/on-shelf", {},
                                   token=self.owner), 409, "ITEM_STATUS_CONFLICT")

    def test_stock_moves_by_delta_and_never_below_zero(self):
        item_id = self.ids["a"]["item"]
        more = self.api("POST", f"/api/v1/merchant/items/{item_id}/stock", {"delta": 7},
                        token=self.owner)
        assert more.json["stock"] == 12
        self.assert_error(self.api("POST", f"/api/v1/merchant/items/{item_id}/stock",
                                   {"delta": -13}, token=self.owner), 400, "VALIDATION_FAILED")

    def test_bad_item_fields_are_rejected(self):
        for fields, field in (({"price_fen": 0}, "price_fen"), ({"kind": "gift"}, "kind"),
                              ({"name": ""}, "name"), ({"images": ["nope"]}, "images"),
                              ({"price_fen": "12.5"}, "price_fen")):
            response = self._create(**fields)
            self.assert_error(response, 400, "VALIDATION_FAILED")
            assert response.json["error"]["details"]["field"] == field
        missing = self.api("POST", "/api/v1/merchant/items", {"kind": "goods"}, token=self.owner)
        self.assert_error(missing, 400, "VALIDATION_FAILED")
