"""Signing in with a code by SMS (through the Aliyun stand-in) and by email (through the
sandbox's SMTP server), with every limit."""
import datetime as dt
import uuid

from alliance.accounts.models import User
from alliance.db import connection
from integrations.mail_smtp import SmtpMailer
from integrations.sms_aliyun import AliyunSms, sign
from tests.support import ApiTestCase, age_login_code

PHONE = "13800138000"


class SmsLoginTest(ApiTestCase):
    def test_sms_code_signs_in_a_new_account_then_the_same_one(self):
        send = self.api("POST", "/api/v1/auth/sms/send", {"phone": "+86 138-0013-8000"})
        assert send.status == 200 and send.json == {"expires_in": 300, "resend_after": 60}
        message = self.api("GET", f"/_sandbox/sms/messages?phone={PHONE}").json["items"][0]
        code = message["template_param"]["code"]
        assert message["content"] == f"【异业联盟】您的验证码为：{code}，5分钟内有效，请勿泄露于他人！"
        first = self.api("POST", "/api/v1/auth/sms/login", {"phone": PHONE, "code": code})
        assert first.status == 200, first.body
        assert set(first.json) >= {"access_token", "refresh_token", "expires_in", "user"}
        assert first.json["created"] is True and first.json["user"]["phone"] == "138****8000"
        me = self.api("GET", "/api/v1/me", token=first.json["access_token"])
        assert me.json["id"] == first.json["user"]["id"] and me.json["phone_bound"]
        age_login_code(PHONE, 61)
        second = self.api("POST", "/api/v1/auth/sms/login",
                          {"phone": PHONE, "code": self.sms_code(PHONE)})
        assert second.json["created"] is False
        assert second.json["user"]["id"] == first.json["user"]["id"]

    def test_invalid_phone_is_refused_before_sending(self):
        response = self.api("POST", "/api/v1/auth/sms/send", {"phone": "12345"})
        self.assert_error(response, 400, "PHONE_INVALID")
        assert response.json["error"]["details"]["field"] == "phone"
        assert self.api("GET", "/_sandbox/sms/messages").json["items"] == []

    def test_wrong_code_is_refused_with_the_tries_left(self):
        code = self.sms_code(PHONE)
        response = self.api("POST", "/api/v1/auth/sms/login",
                            {"phone": PHONE, "code": f"{(int(code) + 1) % 10 ** 6:06d}"})
        self.assert_error(response, 400, "VERIFICATION_CODE_INVALID")
        assert response.json["error"]["details"]["tries_left"] == 4

    def test_malformed_code_is_a_validation_error(self):
        self.sms_code(PHONE)
        self.assert_error(self.api("POST", "/api/v1/auth/sms/login",
                                   {"phone": PHONE, "code": "12ab"}), 400, "VALIDATION_FAILED")

    def test_expired_code_is_refused(self):
        code = self.sms_code(PHONE)
        age_login_code(PHONE, 301)
        self.assert_error(self.api("POST", "/api/v1/auth/sms/login",
                                   {"phone": PHONE, "code": code}),
                          400, "VERIFICATION_CODE_EXPIRED")

    def test_five_wrong_tries_burn_the_code(self):
        code = self.sms_code(PHONE)
        bad = f"{(int(code) + 1) % 10 ** 6:06d}"
        for _ in range(4):
            self.assert_error(self.api("POST", "/api/v1/auth/sms/login",
                                       {"phone": PHONE, "code": bad}),
                              400, "VERIFICATION_CODE_INVALID")
        self.assert_error(self.api("POST", "/api/v1/auth/sms/login",
                                   {"phone": PHONE, "code": bad}), 400, "VERIFICATION_CODE_BURNT")
        self.assert_error(self.api("POST", "/api/v1/auth/sms/login",
                                   {"phone": PHONE, "code": code}), 400, "VERIFICATION_CODE_BURNT")

    def test_used_code_cannot_sign_in_twice(self):
        code = self.sms_code(PHONE)
        assert self.api("POST", "/api/v1/auth/sms/login", {"phone": PHONE, "code": code}).status == 200
        self.assert_error(self.api("POST", "/api/v1/auth/sms/login",
                                   {"phone": PHONE, "code": code}),
                          400, "VERIFICATION_CODE_INVALID")

    def test_resend_within_sixty_seconds_is_rate_limited(self):
        self.sms_code(PHONE)
        response = self.api("POST", "/api/v1/auth/sms/send", {"phone": PHONE})
        self.assert_error(response, 429, "RATE_LIMITED")
        assert response.json["error"]["details"]["scope"] == "resend"
        assert 1 <= int(response.headers["Retry-After"]) <= 60
        assert len(self.api("GET", f"/_sandbox/sms/messages?phone={PHONE}").json["items"]) == 1

    def test_resent_code_replaces_the_old_one(self):
        first = self.sms_code(PHONE)
        age_login_code(PHONE, 61)
        second = self.sms_code(PHONE)
        if first != second:
            self.assert_error(self.api("POST", "/api/v1/auth/sms/login",
                                       {"phone": PHONE, "code": first}),
                              400, "VERIFICATION_CODE_INVALID")
        assert self.api("POST", "/api/v1/auth/sms/login",
                        {"phone": PHONE, "code": second}).status == 200

    def test_disabled_account_cannot_sign_in_by_code(self):
        code = self.sms_code(PHONE)
        with connection():
            User.create(phone=PHONE, status="disabled")
        self.assert_error(self.api("POST", "/api/v1/auth/sms/login",
                                   {"phone": PHONE, "code": code}), 403, "ACCOUNT_DISABLED")


class SmsDailyLimitsTest(ApiTestCase):
    env = {"ALLIANCE_CODE_DAILY_LIMIT_PER_ADDRESS": "2", "ALLIANCE_CODE_DAILY_LIMIT_PER_IP": "3"}

    def test_daily_limit_per_phone(self):
        self.sms_code(PHONE)
        age_login_code(PHONE, 61)
        self.sms_code(PHONE)
        age_login_code(PHONE, 61)
        response = self.api("POST", "/api/v1/auth/sms/send", {"phone": PHONE})
        self.assert_error(response, 429, "RATE_LIMITED")
        assert response.json["error"]["details"]["scope"] == "address"
        assert response.json["error"]["details"]["limit"] == 2

    def test_daily_limit_per_ip(self):
        for n in range(3):
            self.sms_code(f"1380000000{n}")
        response = self.api("POST", "/api/v1/auth/sms/send", {"phone": "13800000009"})
        self.assert_error(response, 429, "RATE_LIMITED")
        assert response.json["error"]["details"]["scope"] == "ip"
        assert int(response.headers["Retry-After"]) <= 86400


class SmsProviderErrorsTest(ApiTestCase):
    def fault(self, code: str) -> None:
        assert self.api("POST", "/_sandbox/sms/_control/faults", {"code": code}).status == 201

    def test_provider_flow_control_is_rate_limited(self):
        self.fault("isv.BUSINESS_LIMIT_CONTROL")
        response = self.api("POST", "/api/v1/auth/sms/send", {"phone": PHONE})
        self.assert_error(response, 429, "RATE_LIMITED")
        assert response.json["error"]["details"]["provider_code"] == "isv.BUSINESS_LIMIT_CONTROL"

    def test_number_the_provider_refuses_is_invalid(self):
        self.fault("isv.MOBILE_NUMBER_ILLEGAL")
        self.assert_error(self.api("POST", "/api/v1/auth/sms/send", {"phone": PHONE}),
                          400, "PHONE_INVALID")

    def test_provider_system_error_is_unavailable_and_a_resend_is_allowed_at_once(self):
        self.fault("isp.SYSTEM_ERROR")
        self.assert_error(self.api("POST", "/api/v1/auth/sms/send", {"phone": PHONE}),
                          503, "UPSTREAM_UNAVAILABLE")
        code = self.sms_code(PHONE)
        assert self.api("POST", "/api/v1/auth/sms/login",
                        {"phone": PHONE, "code": code}).status == 200

    def test_provider_refusal_is_a_send_failure(self):
        self.fault("isv.AMOUNT_NOT_ENOUGH")
        response = self.api("POST", "/api/v1/auth/sms/send", {"phone": PHONE})
        self.assert_error(response, 502, "SMS_SEND_FAILED")
        assert response.json["error"]["details"]["provider_code"] == "isv.AMOUNT_NOT_ENOUGH"


class WrongSmsCredentialsTest(ApiTestCase):
    def get_app(self):
        app = super().get_app()
        s = self.settings  # the stand-in keeps the real secret; our client signs with another
        app.settings["ctx"].sms = AliyunSms(s.aliyun_sms_access_key_id, "not-the-sandbox-secret",
                                            s.aliyun_sms_sign_name, s.aliyun_sms_template_code,
                                            s.aliyun_sms_endpoint, 5)
        return app

    def test_request_signed_with_another_secret_is_refused_by_the_provider(self):
        response = self.api("POST", "/api/v1/auth/sms/send", {"phone": PHONE})
        self.assert_error(response, 502, "SMS_SEND_FAILED")
        assert response.json["error"]["details"]["provider_code"] == "SignatureDoesNotMatch"
        assert "not-the-sandbox-secret" not in response.body.decode()


class AliyunStandInTest(ApiTestCase):
    def params(self, **changes) -> dict:
        params = {
            "AccessKeyId": self.settings.aliyun_sms_access_key_id, "Action": "SendSms",
            "Format": "JSON", "RegionId": "cn-hangzhou", "SignatureMethod": "HMAC-SHA1",
            "SignatureNonce": uuid.uuid4().hex, "SignatureVersion": "1.0",
            "Timestamp": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "Version": "2017-05-25", "PhoneNumbers": PHONE, "SignName": "异业联盟",
            "TemplateCode": self.settings.aliyun_sms_template_code,
            "TemplateParam": '{"code":"123456"}', **changes}
        params["Signature"] = sign("GET", params, self.settings.aliyun_sms_access_key_secret)
        return params

    def send(self, params: dict):
        from urllib.parse import urlencode

        return self.api("GET", "/_sandbox/sms/?" + urlencode(params))

    def test_signed_get_request_is_accepted(self):
        response = self.send(self.params())
        assert response.status == 200 and response.json["Code"] == "OK"
        assert response.json["BizId"] and response.json["RequestId"]

    def test_tampered_request_does_not_match_its_signature(self):
        params = self.params()
        params["PhoneNumbers"] = "13900139000"
        response = self.send(params)
        assert response.status == 400 and response.json["Code"] == "SignatureDoesNotMatch"

    def test_nonce_is_accepted_once(self):
        params = self.params()
        assert self.send(params).json["Code"] == "OK"
        assert self.send(params).json["Code"] == "SignatureNonceUsed"

    def test_stale_timestamp_is_refused(self):
        response = self.send(self.params(Timestamp="2017-07-12T02:42:19Z"))
        assert response.status == 400 and response.json["Code"] == "InvalidTimeStamp.Expired"

    def test_unknown_access_key_is_not_found(self):
        response = self.send(self.params(AccessKeyId="LTAInobody"))
        assert response.status == 404 and response.json["Code"] == "InvalidAccessKeyId.NotFound"

    def test_message_checks_use_aliyuns_codes(self):
        assert self.send(self.params(PhoneNumbers="12345")).json["Code"] == "isv.MOBILE_NUMBER_ILLEGAL"
        assert self.send(self.params(SignName="别人")).json["Code"] == "isv.SMS_SIGNATURE_ILLEGAL"
        assert self.send(self.params(TemplateCode="SMS_9")).json["Code"] == "isv.SMS_TEMPLATE_ILLEGAL"
        assert self.send(self.params(TemplateParam="{}")).json["Code"] == \
            "isv.TEMPLATE_MISSING_PARAMETERS"
        assert self.send(self.params(TemplateParam="{")).json["Code"] == "isv.INVALID_JSON_PARAM"


class EmailLoginTest(ApiTestCase):
    def test_email_code_signs_in_through_the_sandbox_mailbox(self):
        send = self.api("POST", "/api/v1/auth/email/send", {"email": "Alice@Example.com"})
        assert send.status == 200, send.body
        mail = self.api("GET", "/_sandbox/mail/messages?to=alice@example.com").json["items"][0]
        assert mail["subject"] == "异业联盟验证码"
        assert mail["from"] == self.settings.smtp_from
        code = mail["text"].split("验证码是 ")[1][:6]
        login = self.api("POST", "/api/v1/auth/email/login",
                         {"email": "alice@example.com", "code": code})
        assert login.status == 200, login.body
        assert login.json["created"] and login.json["user"]["email"] == "a***@example.com"

    def test_invalid_email_is_refused(self):
        self.assert_error(self.api("POST", "/api/v1/auth/email/send", {"email": "alice@"}),
                          400, "EMAIL_INVALID")

    def test_email_codes_have_the_same_limits(self):
        code = self.mail_code("bob@example.com")
        self.assert_error(self.api("POST", "/api/v1/auth/email/send", {"email": "bob@example.com"}),
                          429, "RATE_LIMITED")
        age_login_code("bob@example.com", 301)
        self.assert_error(self.api("POST", "/api/v1/auth/email/login",
                                   {"email": "bob@example.com", "code": code}),
                          400, "VERIFICATION_CODE_EXPIRED")


class MailServerDownTest(ApiTestCase):
    env = {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": "1", "SMTP_SECURITY": "none"}

    def test_unreachable_mail_server_is_unavailable(self):
        self.assert_error(self.api("POST", "/api/v1/auth/email/send",
                                   {"email": "carol@example.com"}), 503, "UPSTREAM_UNAVAILABLE")


class WrongMailCredentialsTest(ApiTestCase):
    def get_app(self):
        app = super().get_app()
        ctx = app.settings["ctx"]  # the sandbox's server keeps the real password
        ctx.mailer = SmtpMailer("127.0.0.1", ctx.settings.smtp_port, "none", "alliance", "wrong",
                                ctx.settings.smtp_from, 5)
        return app

    def test_mail_server_refusing_the_login_is_a_send_failure(self):
        response = self.api("POST", "/api/v1/auth/email/send", {"email": "dan@example.com"})
        self.assert_error(response, 502, "MAIL_SEND_FAILED")
        assert response.json["error"]["details"]["smtp_code"] == 535
