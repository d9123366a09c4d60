"""Staff invitations (code and QR), roles and removal."""
import datetime as dt

from alliance.db import db
from alliance.merchants.models import StaffInvite
from tests.api.merchant_support import StaffedMerchantsTestCase


class StaffTest(StaffedMerchantsTestCase):
    def setUp(self):
        super().setUp()
        self.owner = self.tokens["a-owner"]

    def _invite(self, role="merchant_manager"):
        response = self.api("POST", "/api/v1/merchant/staff-invites", {"role": role},
                            token=self.owner)
        assert response.status == 201, response.body
        return response.json

    def _accept(self, code, name="newbie"):
        return self.api("POST", "/api/v1/staff-invites/accept", {"code": code},
                        token=self.token(name))

    def test_invited_user_joins_with_the_role(self):
        invite = self._invite()
        assert len(invite["code"]) == 10 and invite["qr_text"].endswith(invite["code"])
        joined = self._accept(invite["qr_text"])
        assert joined.status == 201
        assert joined.json == {"merchant_id": self.ids["a"]["merchant"], "merchant_name": "商户A",
                               "merchant_status": "approved", "role": "merchant_manager"}
        profile = self.api("GET", "/api/v1/merchant/profile", token=self.token("newbie"))
        assert profile.json["role"] == "merchant_manager"
        self.assert_error(self._accept(invite["code"], "someone-else"), 409, "INVITE_USED")

    def test_invitation_qr_code_is_an_image(self):
        invite = self._invite()
        png = self.api("GET", f"/api/v1/merchant/staff-invites/{invite['id']}/qrcode",
                       token=self.owner)
        assert png.status == 200 and png.body.startswith(b"\x89PNG")
        svg = self.api("GET", f"/api/v1/merchant/staff-invites/{invite['id']}/qrcode?format=svg",
                       token=self.owner)
        assert svg.headers["Content-Type"] == "image/svg+xml" and b"<svg" in svg.body

    def test_revoked_expired_and_unknown_invitations_are_refused(self):
        revoked = self._invite()
        assert self.api("DELETE", f"/api/v1/merchant/staff-invites/{revoked['id']}",
                        token=self.owner).status == 204
        self.assert_error(self._accept(revoked["code"]), 404, "INVITE_INVALID")
        expired = self._invite()
        with db.connection_context():
            (StaffInvite.update(expires_at=dt.datetime(2020, 1, 1))
             .where(StaffInvite.id == expired["id"]).execute())
        self.assert_error(self._accept(expired["code"]), 410, "INVITE_EXPIRED")
        self.assert_error(self._accept("NOSUCHCODE"), 404, "INVITE_INVALID")
        listed = self.api("GET", "/api/v1/merchant/staff-invites", token=self.owner).json["items"]
        assert {i["id"] for i in listed}.isdisjoint({revoked["id"], expired["id"]})

    def test_existing_staff_cannot_join_twice(self):
        response = self.api("POST", "/api/v1/staff-invites/accept",
                            {"code": self._invite()["code"]}, token=self.tokens["a-clerk"])
        self.assert_error(response, 409, "ALREADY_STAFF")

    def test_removed_staff_lose_access_and_can_be_invited_again(self):
        clerk = self.ids["a"]["clerk_user"]
        assert self.api("DELETE", f"/api/v1/merchant/staff/{clerk}", token=self.owner).status == 204
        self.assert_error(self.api("GET", "/api/v1/merchant/profile", token=self.tokens["a-clerk"]),
                          403, "NOT_MERCHANT_STAFF")
        rejoined = self.api("POST", "/api/v1/staff-invites/accept",
                            {"code": self._invite("merchant_clerk")["code"]},
                            token=self.tokens["a-clerk"])
        assert rejoined.status == 201 and rejoined.json["role"] == "merchant_clerk"

    def test_owner_changes_roles_but_never_their_own(self):
        clerk = self.ids["a"]["clerk_user"]
        promoted = self.api("PATCH", f"/api/v1/merchant/staff/{clerk}",
                            {"role": "merchant_manager"}, token=self.owner)
        assert promoted.json == {"user_id": clerk, "role": "merchant_manager"}
        owner_id = self.login("a-owner")["user"]["id"]
        self.assert_error(self.api("DELETE", f"/api/v1/merchant/staff/{owner_id}",
                                   token=self.owner), 400, "VALIDATION_FAILED")
        self.assert_error(self.api("PATCH", f"/api/v1/merchant/staff/{clerk}",
                                   {"role": "merchant_owner"}, token=self.owner),
                          400, "VALIDATION_FAILED")

    def test_user_at_two_merchants_chooses_one(self):
        invite = self.api("POST", "/api/v1/merchant/staff-invites", {"role": "merchant_clerk"},
                          token=self.tokens["b-owner"]).json
        token = self.tokens["a-manager"]
        assert self.api("POST", "/api/v1/staff-invites/accept", {"code": invite["code"]},
                        token=token).status == 201
        response = self.api("GET", "/api/v1/merchant/profile", token=token)
        self.assert_error(response, 400, "MERCHANT_ID_REQUIRED")
        assert sorted(response.json["error"]["details"]["merchant_ids"]) == sorted(
            [self.ids["a"]["merchant"], self.ids["b"]["merchant"]])
        at_b = self.api("GET", f"/api/v1/merchant/profile?merchant_id={self.ids['b']['merchant']}",
                        token=token)
        assert at_b.json["role"] == "merchant_clerk"
        self.assert_error(self.api("GET", "/api/v1/merchant/profile?merchant_id=abc", token=token),
                          400, "VALIDATION_FAILED")
