"""Merchant applications and the operators' audit, over HTTP."""
import json

from alliance.accounts.models import OperatorAuditLog
from alliance.db import db
from alliance.merchants.models import Merchant, StaffMembership
from alliance.notifications.models import OutboxMessage
from tests.api.merchant_support import VALID_ID, MerchantApiTestCase, credit_code, id_number


class ApplicationTest(MerchantApiTestCase):
    def test_apply_creates_a_pending_merchant_with_the_id_number_masked(self):
        token = self.token("boss")
        response = self.apply(token)
        assert response.status == 201, response.body
        application = response.json
        assert application["status"] == "pending"
        assert application["legal_rep_id_number"] == "11**************2X"
        assert VALID_ID not in response.body.decode()
        with db.connection_context():
            stored = Merchant.get_by_id(application["merchant_id"])
        assert VALID_ID not in stored.legal_rep_id_cipher
        own = self.api("GET", "/api/v1/merchant/application", token=token)
        assert own.status == 200 and own.json["history"][0]["to_status"] == "pending"
        assert VALID_ID not in own.body.decode()
        assert self.api("GET", own.json["images"]["licence_upload"]).status == 200

    def test_bad_credit_code_is_rejected_with_a_clear_error(self):
        response = self.apply(self.token(), credit_code="91350100M000100Y44")
        self.assert_error(response, 400, "INVALID_CREDIT_CODE")
        assert response.json["error"]["details"] == {"field": "credit_code",
                                                     "issue": "check character"}

    def test_bad_id_number_is_rejected_with_a_clear_error(self):
        response = self.apply(self.token(), legal_rep_id_number="110105194912310021")
        self.assert_error(response, 400, "INVALID_ID_NUMBER")
        assert response.json["error"]["details"]["issue"] == "check digit"

    def test_someone_elses_upload_cannot_be_used(self):
        stranger_upload = self.upload_id(self.token("stranger"), "licence")
        response = self.apply(self.token("boss"), licence_upload=stranger_upload)
        self.assert_error(response, 400, "VALIDATION_FAILED")
        assert response.json["error"]["details"]["field"] == "licence_upload"

    def test_a_public_upload_cannot_serve_as_a_licence(self):
        token = self.token("boss")
        response = self.apply(token, licence_upload=self.upload_id(token, "logo"))
        self.assert_error(response, 400, "VALIDATION_FAILED")

    def test_same_credit_code_twice_is_a_conflict(self):
        assert self.apply(self.token("boss"), 7).status == 201
        self.assert_error(self.apply(self.token("other"), 7), 409, "CREDIT_CODE_TAKEN")

    def test_unknown_industry_and_bad_phone_are_rejected(self):
        token = self.token()
        self.assert_error(self.apply(token, industry="banking"), 400, "VALIDATION_FAILED")
        self.assert_error(self.apply(token, contact_phone="12345"), 400, "VALIDATION_FAILED")

    def test_repeated_application_with_one_idempotency_key_creates_one_merchant(self):
        token = self.token("boss")
        form = self.application(token)
        headers = {"Idempotency-Key": "apply-1"}
        path = "/api/v1/merchant-applications"
        first = self.api("POST", path, form, token=token, headers=headers)
        again = self.api("POST", path, form, token=token, headers=headers)
        assert first.status == again.status == 201
        assert again.headers.get("Idempotent-Replayed") == "true"
        with db.connection_context():
            assert Merchant.select().count() == 1


class AuditTest(MerchantApiTestCase):
    def _act(self, merchant_id, action, token, reason=None):
        body = {} if reason is None else {"reason": reason}
        return self.api("POST", f"/api/admin/v1/merchants/{merchant_id}/{action}", body,
                        token=token)

    def test_reject_resubmit_approve_suspend_reinstate(self):
        owner = self.token("boss")
        operator = self.operator_token("operator")
        merchant_id = self.apply(owner).json["merchant_id"]
        rejected = self._act(merchant_id, "reject", operator, "营业执照不清晰")
        assert rejected.status == 200 and rejected.json["status"] == "rejected"
        own = self.api("GET", "/api/v1/merchant/application", token=owner).json
        assert own["status"] == "rejected" and own["status_reason"] == "营业执照不清晰"

        form = self.application(owner, credit_code=credit_code(1))
        resubmitted = self.api("PUT", "/api/v1/merchant/application", form, token=owner)
        assert resubmitted.status == 200 and resubmitted.json["status"] == "pending"

        assert self._act(merchant_id, "approve", operator).json["status"] == "approved"
        assert merchant_id in [m["id"] for m in self.api("GET", "/api/v1/merchants").json["items"]]
        self.assert_error(self.api("PUT", "/api/v1/merchant/application", form, token=owner),
                          409, "APPLICATION_NOT_EDITABLE")

        assert self._act(merchant_id, "suspend", operator, "售假").json["status"] == "suspended"
        self.assert_error(self.api("GET", f"/api/v1/merchants/{merchant_id}"), 404,
                          "MERCHANT_NOT_FOUND")
        assert self._act(merchant_id, "reinstate", operator).json["status"] == "approved"

        history = self.api("GET", "/api/v1/merchant/application", token=owner).json["history"]
        assert [h["to_status"] for h in history] == ["pending", "rejected", "pending",
                                                     "approved", "suspended", "approved"]
        with db.connection_context():
            actions = [e.action for e in OperatorAuditLog.select().order_by(OperatorAuditLog.id)]
            messages = list(OutboxMessage.select().order_by(OutboxMessage.id))
            owner_ids = {m.user_id for m in OutboxMessage.select()}
        assert actions == ["merchant.reject", "merchant.approve", "merchant.suspend",
                           "merchant.reinstate"]
        assert {m.event for m in messages} == {"merchant.audit_result"}
        assert [json.loads(m.payload)["result"] for m in messages] == [
            "rejected", "approved", "suspended", "reinstated"]
        assert json.loads(messages[0].payload)["reason"] == "营业执照不清晰"
        assert owner_ids == {self.login("boss")["user"]["id"]}

    def test_reject_and_suspend_need_a_reason(self):
        operator = self.operator_token("operator")
        merchant_id = self.apply(self.token("boss")).json["merchant_id"]
        response = self._act(merchant_id, "reject", operator)
        self.assert_error(response, 400, "VALIDATION_FAILED")
        assert response.json["error"]["details"]["field"] == "reason"

    def test_approving_twice_is_a_conflict(self):
        operator = self.operator_token("operator")
        merchant_id = self.apply(self.token("boss")).json["merchant_id"]
        assert self._act(merchant_id, "approve", operator).status == 200
        self.assert_error(self._act(merchant_id, "approve", operator), 409,
                          "MERCHANT_STATUS_CONFLICT")
        self.assert_error(self._act(merchant_id, "reinstate", operator), 409,
                          "MERCHANT_STATUS_CONFLICT")

    def test_only_operators_with_merchant_permission_audit(self):
        merchant_id = self.apply(self.token("boss")).json["merchant_id"]
        service_desk = self.operator_token("customer_service")
        self.assert_error(self._act(merchant_id, "approve", service_desk), 403, "FORBIDDEN")
        self.assert_error(self._act(merchant_id, "approve", self.token("boss")), 401,
                          "TOKEN_INVALID")

    def test_unknown_merchant_is_not_found(self):
        self.assert_error(self._act(999999, "approve", self.operator_token()), 404,
                          "MERCHANT_NOT_FOUND")

    def test_operator_list_filters_and_detail_masks_the_id(self):
        operator = self.operator_token("operator")
        first = self.apply(self.token("boss"), 1).json["merchant_id"]
        second = self.apply(self.token("boss2"), 2, industry="retail").json["merchant_id"]
        self._act(first, "approve", operator)
        listed = self.api("GET", "/api/admin/v1/merchants?status=pending", token=operator).json
        assert [m["id"] for m in listed["items"]] == [second]
        by_industry = self.api("GET", "/api/admin/v1/merchants?industry=catering", token=operator)
        assert [m["id"] for m in by_industry.json["items"]] == [first]
        page = self.api("GET", "/api/admin/v1/merchants?limit=1", token=operator).json
        rest = self.api("GET", f"/api/admin/v1/merchants?limit=1&cursor={page['next_cursor']}",
                        token=operator).json
        assert [page["items"][0]["id"], rest["items"][0]["id"]] == [second, first]
        detail = self.api("GET", f"/api/admin/v1/merchants/{first}", token=operator)
        assert detail.status == 200
        assert detail.json["application"]["legal_rep_id_number"] == "11**************2X"
        assert detail.json["same_legal_rep_merchant_ids"] == [second]
        assert VALID_ID not in detail.body.decode()

    def test_other_id_number_is_not_the_same_person(self):
        operator = self.operator_token("operator")
        first = self.apply(self.token("boss"), 1).json["merchant_id"]
        self.apply(self.token("boss2"), 2, legal_rep_id_number=id_number(3))
        detail = self.api("GET", f"/api/admin/v1/merchants/{first}", token=operator).json
        assert detail["same_legal_rep_merchant_ids"] == []


class ApplicationAccessTest(MerchantApiTestCase):
    def test_only_the_owner_reads_the_application(self):
        operator = self.operator_token("operator")
        merchant_id = self.approved_merchant("boss", operator=operator)
        manager = self.login("manager")["user"]["id"]
        with db.connection_context():
            StaffMembership.create(merchant=merchant_id, user=manager, role="merchant_manager")
        response = self.api("GET", "/api/v1/merchant/application", token=self.token("manager"))
        self.assert_error(response, 403, "FORBIDDEN")
        assert json.loads(response.body)["error"]["details"]["permission"] == "merchant:account"
        nobody = self.api("GET", "/api/v1/merchant/application", token=self.token("nobody"))
        self.assert_error(nobody, 403, "NOT_MERCHANT_STAFF")
