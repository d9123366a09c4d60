"""The consumer's account over HTTP: binding merges accounts, unbinding, deletion."""
from alliance.accounts.models import AccountMerge, User, WechatIdentity
from alliance.db import connection
from tests.support import ApiTestCase, age_login_code

PHONE = "13800138000"


class MergeOnBindingTest(ApiTestCase):
    def sms_account(self) -> dict:
        """An account made by an SMS sign-in, holding PHONE."""
        code = self.sms_code(PHONE)
        return self.api("POST", "/api/v1/auth/sms/login", {"phone": PHONE, "code": code}).json

    def test_wechat_user_binding_a_held_phone_is_merged_into_its_holder(self):
        holder = self.sms_account()
        wechat = self.login("bob")
        response = self.api("POST", "/api/v1/me/phone", {"code": f"sandbox-phone-{PHONE}"},
                            token=wechat["access_token"])
        assert response.status == 200, response.body
        body = response.json
        assert body["merged"] is True and body["id"] == holder["user"]["id"]
        # The answer's tokens are the surviving account's; the old login is over.
        me = self.api("GET", "/api/v1/me", token=body["tokens"]["access_token"])
        assert me.json["id"] == holder["user"]["id"]
        self.assert_error(self.api("GET", "/api/v1/me", token=wechat["access_token"]),
                          401, "SESSION_REVOKED")
        self.assert_error(self.api("POST", "/api/v1/auth/refresh",
                                   {"refresh_token": wechat["refresh_token"]}),
                          401, "SESSION_REVOKED")
        # WeChat now signs in the one account; the SMS login still works on it.
        assert self.login("bob")["user"]["id"] == holder["user"]["id"]
        assert self.api("GET", "/api/v1/me", token=holder["access_token"]).status == 200
        with connection():
            record = AccountMerge.get()
            assert (record.source_user_id, record.target_user_id, record.reason) == (
                wechat["user"]["id"], holder["user"]["id"], "sms")

    def test_merge_of_two_wechat_accounts_keeps_every_identity(self):
        alice = self.login("alice")
        self.api("POST", "/api/v1/me/phone", {"code": f"sandbox-phone-{PHONE}"},
                 token=alice["access_token"])
        bob = self.login("bob")
        merged = self.api("POST", "/api/v1/me/phone", {"code": f"sandbox-phone-{PHONE}"},
                          token=bob["access_token"]).json
        assert merged["merged"] and merged["id"] == alice["user"]["id"]
        assert self.login("alice")["user"]["id"] == self.login("bob")["user"]["id"]
        with connection():
            assert {i.user_id for i in WechatIdentity.select()} == {alice["user"]["id"]}

    def test_binding_a_phone_by_sms_code_merges_too(self):
        holder = self.sms_account()
        carol = self.login("carol")
        age_login_code(PHONE, 61)
        code = self.sms_code(PHONE)
        response = self.api("POST", "/api/v1/me/phone", {"phone": PHONE, "code": code},
                            token=carol["access_token"])
        assert response.status == 200 and response.json["merged"]
        assert response.json["id"] == holder["user"]["id"]

    def test_binding_a_free_phone_by_sms_code_just_binds(self):
        dave = self.login("dave")
        code = self.sms_code(PHONE)
        response = self.api("POST", "/api/v1/me/phone", {"phone": PHONE, "code": code},
                            token=dave["access_token"])
        assert response.status == 200 and response.json["merged"] is False
        assert "tokens" not in response.json and response.json["phone"] == "138****8000"

    def test_binding_with_a_wrong_sms_code_is_refused(self):
        code = self.sms_code(PHONE)
        response = self.api("POST", "/api/v1/me/phone",
                            {"phone": PHONE, "code": f"{(int(code) + 1) % 10 ** 6:06d}"},
                            token=self.token("erin"))
        self.assert_error(response, 400, "VERIFICATION_CODE_INVALID")

    def test_binding_an_email_held_by_another_account_merges(self):
        code = self.mail_code("x@example.com")
        holder = self.api("POST", "/api/v1/auth/email/login",
                          {"email": "x@example.com", "code": code}).json
        age_login_code("x@example.com", 61)
        code = self.mail_code("x@example.com")
        response = self.api("POST", "/api/v1/me/email", {"email": "X@example.com", "code": code},
                            token=self.token("frank"))
        assert response.status == 200, response.body
        assert response.json["merged"] and response.json["id"] == holder["user"]["id"]
        assert response.json["email"] == "x***@example.com"


class UnbindAndDeleteTest(ApiTestCase):
    def test_unbind_phone_of_a_wechat_account(self):
        token = self.token("alice")
        self.api("POST", "/api/v1/me/phone", {"code": f"sandbox-phone-{PHONE}"}, token=token)
        response = self.api("DELETE", "/api/v1/me/phone", token=token)
        assert response.status == 200 and response.json["phone_bound"] is False

    def test_unbinding_the_only_way_to_sign_in_is_refused(self):
        code = self.sms_code(PHONE)
        token = self.api("POST", "/api/v1/auth/sms/login",
                         {"phone": PHONE, "code": code}).json["access_token"]
        self.assert_error(self.api("DELETE", "/api/v1/me/phone", token=token),
                          409, "LAST_SIGN_IN_METHOD")

    def test_delete_account_erases_it_and_ends_its_logins(self):
        login = self.login("alice")
        token = login["access_token"]
        self.api("POST", "/api/v1/me/phone", {"code": f"sandbox-phone-{PHONE}"}, token=token)
        assert self.api("DELETE", "/api/v1/me", token=token).status == 204
        self.assert_error(self.api("GET", "/api/v1/me", token=token), 401, "SESSION_REVOKED")
        with connection():
            row = User.get_by_id(login["user"]["id"])
            assert (row.status, row.phone, row.nickname) == ("deleted", None, "")
        again = self.login("alice")
        assert again["created"] is True and again["user"]["id"] != login["user"]["id"]
        # The number is free again: an SMS sign-in makes a new account with it.
        code = self.sms_code(PHONE)
        sms = self.api("POST", "/api/v1/auth/sms/login", {"phone": PHONE, "code": code}).json
        assert sms["created"] is True

    def test_delete_without_a_token_is_unauthenticated(self):
        self.assert_error(self.api("DELETE", "/api/v1/me"), 401, "UNAUTHENTICATED")
