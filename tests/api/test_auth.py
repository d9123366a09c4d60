"""Signing in through HTTP, with WeChat's sandbox answering over loopback."""
import datetime as dt

import jwt

from alliance.db import is_mysql
from tests.support import ApiTestCase, pipelined_round_trips, recorded_round_trips


class WechatLoginTest(ApiTestCase):
    def test_login_creates_user_then_finds_the_same_user(self):
        first = self.login("alice")
        assert first["created"] is True and first["expires_in"] == 7200
        assert first["access_token"] and first["refresh_token"]
        second = self.login("alice")
        assert second["created"] is False
        assert second["user"]["id"] == first["user"]["id"]
        assert self.login("bob")["user"]["id"] != first["user"]["id"]

    def test_a_login_writes_its_tokens_to_mysql_in_one_round_trip(self):
        # On MySQL every round trip costs more than most statements' own work: the login's
        # family and refresh token go to the server together, then the COMMIT.
        if not is_mysql():
            self.skipTest("SQLite has no round trips")
        self.login("alice")
        with recorded_round_trips() as sent:
            again = self.login("alice")
        assert again["refresh_token"]
        trips = pipelined_round_trips(sent)
        assert [[" ".join(part.split(" ", 3)[:3]) for part in trip.split(";")]
                for trip in trips] == [
            ["BEGIN", "INSERT INTO `refresh_family`", "INSERT INTO `refresh_token`"],
            ["COMMIT"]], trips

    def test_login_with_unknown_code_is_rejected(self):
        response = self.api("POST", "/api/v1/auth/wechat", {"code": "not-a-real-code"})
        self.assert_error(response, 400, "WECHAT_CODE_INVALID")
        assert response.json["error"]["details"]["wechat_errcode"] == 40029

    def test_login_with_used_code_is_rejected(self):
        code = self.api("POST", "/_sandbox/wechat/_control/login-codes", {"name": "carol"}).json["code"]
        assert self.api("POST", "/api/v1/auth/wechat", {"code": code}).status == 200
        self.assert_error(self.api("POST", "/api/v1/auth/wechat", {"code": code}),
                          400, "WECHAT_CODE_USED")

    def test_login_without_code_is_a_validation_error(self):
        response = self.api("POST", "/api/v1/auth/wechat", {})
        self.assert_error(response, 400, "VALIDATION_FAILED")
        assert response.json["error"]["details"]["field"] == "code"

    def test_login_retries_once_when_wechat_is_busy(self):
        self.api("POST", "/_sandbox/wechat/_control/faults",
                 {"api": "jscode2session", "errcode": -1, "count": 1})
        assert self.api("POST", "/api/v1/auth/wechat", {"code": "sandbox-dave"}).status == 200

    def test_login_when_wechat_stays_busy_is_unavailable(self):
        self.api("POST", "/_sandbox/wechat/_control/faults",
                 {"api": "jscode2session", "errcode": -1, "count": 2})
        self.assert_error(self.api("POST", "/api/v1/auth/wechat", {"code": "sandbox-dave"}),
                          503, "UPSTREAM_UNAVAILABLE")

    def test_login_over_wechat_quota_is_rate_limited(self):
        self.api("POST", "/_sandbox/wechat/_control/faults",
                 {"api": "jscode2session", "errcode": 45011})
        response = self.api("POST", "/api/v1/auth/wechat", {"code": "sandbox-erin"})
        self.assert_error(response, 429, "RATE_LIMITED")
        assert int(response.headers["Retry-After"]) > 0

    def test_login_of_high_risk_user_is_refused(self):
        self.api("POST", "/_sandbox/wechat/_control/faults",
                 {"api": "jscode2session", "errcode": 40226})
        self.assert_error(self.api("POST", "/api/v1/auth/wechat", {"code": "sandbox-frank"}),
                          403, "WECHAT_USER_BLOCKED")

    def test_login_recovers_when_wechat_expires_the_access_token(self):
        self.login("gina")  # fetches and stores an access token
        self.api("POST", "/_sandbox/wechat/_control/expire-tokens", {})
        token = self.token("gina")
        response = self.api("POST", "/api/v1/me/phone", {"code": "sandbox-phone-13900139000"},
                            token=token)
        assert response.status == 200, response.body


class LoginRateLimitTest(ApiTestCase):
    env = {"ALLIANCE_LOGIN_RATE_LIMIT_PER_MIN": "3"}

    def test_login_beyond_the_limit_is_rate_limited(self):
        for _ in range(3):
            assert self.api("POST", "/api/v1/auth/wechat", {"code": "sandbox-x"}).status == 200
        response = self.api("POST", "/api/v1/auth/wechat", {"code": "sandbox-x"})
        self.assert_error(response, 429, "RATE_LIMITED")
        assert 1 <= int(response.headers["Retry-After"]) <= 61


class TokenTest(ApiTestCase):
    def _claims(self, **changes):
        now = dt.datetime.now(dt.timezone.utc)
        claims = {"iss": "alliance", "aud": "alliance:user", "sub": "1", "typ": "access",
                  "iat": now, "exp": now + dt.timedelta(hours=1), "jti": "x" * 32,
                  "roles": ["consumer"], "fam": "f" * 32}
        claims.update(changes)
        return {k: v for k, v in claims.items() if v is not None}

    def test_me_with_valid_token_answers_the_user(self):
        login = self.login("alice")
        me = self.api("GET", "/api/v1/me", token=login["access_token"])
        assert me.status == 200 and me.json["id"] == login["user"]["id"]

    def test_me_without_token_is_unauthenticated(self):
        self.assert_error(self.api("GET", "/api/v1/me"), 401, "UNAUTHENTICATED")

    def test_expired_token_is_rejected(self):
        past = dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=3)
        token = jwt.encode(self._claims(iat=past, exp=past + dt.timedelta(hours=2)),
                           self.settings.secret_key, algorithm="HS256")
        self.assert_error(self.api("GET", "/api/v1/me", token=token), 401, "TOKEN_EXPIRED")

    def test_tampered_token_is_rejected(self):
        token = self.token("alice")
        header, payload, signature = token.split(".")
        forged = jwt.encode(self._claims(sub="999"), "another-secret-another-secret-000",
                            algorithm="HS256").split(".")[1]
        self.assert_error(self.api("GET", "/api/v1/me", token=f"{header}.{forged}.{signature}"),
                          401, "TOKEN_INVALID")

    def test_alg_none_token_is_rejected(self):
        token = jwt.encode(self._claims(), None, algorithm="none")
        self.assert_error(self.api("GET", "/api/v1/me", token=token), 401, "TOKEN_INVALID")

    def test_token_without_exp_is_rejected(self):
        token = jwt.encode(self._claims(exp=None), self.settings.secret_key, algorithm="HS256")
        self.assert_error(self.api("GET", "/api/v1/me", token=token), 401, "TOKEN_INVALID")

    def test_refresh_token_is_not_an_access_token(self):
        login = self.login("alice")
        self.assert_error(self.api("GET", "/api/v1/me", token=login["refresh_token"]),
                          401, "TOKEN_INVALID")

    def test_refresh_rotates_the_pair(self):
        login = self.login("alice")
        rotated = self.api("POST", "/api/v1/auth/refresh", {"refresh_token": login["refresh_token"]})
        assert rotated.status == 200
        assert rotated.json["refresh_token"] != login["refresh_token"]
        assert self.api("GET", "/api/v1/me", token=rotated.json["access_token"]).status == 200
        again = self.api("POST", "/api/v1/auth/refresh",
                         {"refresh_token": rotated.json["refresh_token"]})
        assert again.status == 200

    def test_refresh_reuse_revokes_the_family(self):
        login = self.login("alice")
        rotated = self.api("POST", "/api/v1/auth/refresh",
                           {"refresh_token": login["refresh_token"]}).json
        reuse = self.api("POST", "/api/v1/auth/refresh", {"refresh_token": login["refresh_token"]})
        self.assert_error(reuse, 401, "REFRESH_TOKEN_REUSED")
        # Every token of that login is now dead, the legitimate successor included.
        self.assert_error(self.api("POST", "/api/v1/auth/refresh",
                                   {"refresh_token": rotated["refresh_token"]}),
                          401, "SESSION_REVOKED")
        self.assert_error(self.api("GET", "/api/v1/me", token=rotated["access_token"]),
                          401, "SESSION_REVOKED")
        # Another login of the same person is untouched.
        assert self.api("GET", "/api/v1/me", token=self.token("alice")).status == 200

    def test_logout_revokes_the_login(self):
        token = self.token("alice")
        assert self.api("POST", "/api/v1/auth/logout", token=token).status == 204
        self.assert_error(self.api("GET", "/api/v1/me", token=token), 401, "SESSION_REVOKED")


class PhoneBindingTest(ApiTestCase):
    def test_bind_phone_stores_it_and_answers_it_masked(self):
        token = self.token("alice")
        response = self.api("POST", "/api/v1/me/phone", {"code": "sandbox-phone-13800138000"},
                            token=token)
        assert response.status == 200, response.body
        assert response.json["phone"] == "138****8000" and response.json["phone_bound"]

    def test_bind_phone_held_by_a_disabled_account_conflicts(self):
        from alliance.accounts.models import User
        from alliance.db import connection

        self.api("POST", "/api/v1/me/phone", {"code": "sandbox-phone-13800138000"},
                 token=self.token("alice"))
        with connection():
            User.update(status="disabled").where(User.phone == "13800138000").execute()
        response = self.api("POST", "/api/v1/me/phone", {"code": "sandbox-phone-13800138000"},
                            token=self.token("bob"))
        self.assert_error(response, 409, "PHONE_ALREADY_BOUND")
        assert "13800138000" not in response.body.decode()

    def test_bind_phone_with_minted_code_works_once(self):
        code = self.api("POST", "/_sandbox/wechat/_control/phone-codes",
                        {"phone": "13700137000"}).json["code"]
        token = self.token("alice")
        assert self.api("POST", "/api/v1/me/phone", {"code": code}, token=token).status == 200
        self.assert_error(self.api("POST", "/api/v1/me/phone", {"code": code}, token=token),
                          400, "WECHAT_CODE_USED")

    def test_bind_phone_with_invalid_code_is_rejected(self):
        self.assert_error(self.api("POST", "/api/v1/me/phone", {"code": "bogus"},
                                   token=self.token("alice")), 400, "WECHAT_CODE_INVALID")
