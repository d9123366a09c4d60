"""Signing in: WeChat, a code by SMS or by email; token refresh and logout."""
from __future__ import annotations

from alliance.accounts import codes
from alliance.accounts import services as accounts
from alliance.accounts.contacts import normalize_email, normalize_phone
from alliance.accounts.models import User
from server.base import BaseHandler, authenticated, rate_limited
from server import validation as v
from server.context import AppContext

_login_limit = rate_limited("login", lambda h: h.ctx.settings.login_rate_limit_per_min)
_send_limit = rate_limited("code-send", lambda h: h.ctx.settings.login_rate_limit_per_min)
_ADDRESS = {codes.SMS: ("phone", normalize_phone), codes.EMAIL: ("email", normalize_email)}


def sign_in_answer(ctx: AppContext, user: User, created: bool) -> dict:
    """A new login's token pair with the user (every sign-in answers this shape)."""
    pair = ctx.tokens.issue("user", user.id, ["consumer"])
    return {**pair.as_dict(), "user": accounts.user_view(user), "created": created}


def read_address(body: dict, channel: str) -> str:
    """The normalised phone or email of a request body (PHONE_INVALID, EMAIL_INVALID)."""
    field, normalize = _ADDRESS[channel]
    return normalize(v.string(body, field, max_length=254), field)


def read_code(body: dict) -> str:
    return v.string(body, "code", max_length=6, min_length=6, pattern=r"\d{6}")


class WechatLoginHandler(BaseHandler):
    @_login_limit
    async def post(self):
        code = v.string(self.json_body(), "code", max_length=128)
        ctx = self.ctx

        def login():
            user, created = accounts.login_with_wechat(ctx.wechat_auth, code)
            return sign_in_answer(ctx, user, created)

        self.write_json(await self.run_sync(login))


class CodeSendHandler(BaseHandler):
    """Send a one-time code to a phone (SMS) or an email address."""

    channel = codes.SMS

    @_send_limit
    async def post(self):
        target = read_address(self.json_body(), self.channel)
        ctx = self.ctx
        sent = await self.run_sync(accounts.send_verification_code, self.channel, target,
                                   self.client_ip(), ctx.sms, ctx.mailer, ctx.code_limits)
        self.write_json(sent.as_dict())


class CodeLoginHandler(BaseHandler):
    """Sign in with the code sent to a phone or an email address."""

    channel = codes.SMS

    @_login_limit
    async def post(self):
        body = self.json_body()
        target, code = read_address(body, self.channel), read_code(body)
        ctx, channel = self.ctx, self.channel

        def login():
            user, created = accounts.login_with_code(channel, target, code)
            return sign_in_answer(ctx, user, created)

        self.write_json(await self.run_sync(login))


class EmailSendHandler(CodeSendHandler):
    channel = codes.EMAIL


class EmailLoginHandler(CodeLoginHandler):
    channel = codes.EMAIL


class RefreshHandler(BaseHandler):
    @rate_limited("refresh", lambda h: h.ctx.settings.login_rate_limit_per_min * 2)
    async def post(self):
        token = v.string(self.json_body(), "refresh_token", max_length=2048)
        pair = await self.run_sync(self.ctx.tokens.rotate, token, "user")
        self.write_json(pair.as_dict())


class LogoutHandler(BaseHandler):
    @authenticated()
    async def post(self):
        await self.run_sync(self.ctx.tokens.revoke_family, self.principal.family_id, "logout")
        self.set_status(204)
        self.finish()


def routes() -> list:
    return [
        (r"/api/v1/auth/wechat", WechatLoginHandler),
        (r"/api/v1/auth/sms/send", CodeSendHandler),
        (r"/api/v1/auth/sms/login", CodeLoginHandler),
        (r"/api/v1/auth/email/send", EmailSendHandler),
        (r"/api/v1/auth/email/login", EmailLoginHandler),
        (r"/api/v1/auth/refresh", RefreshHandler),
        (r"/api/v1/auth/logout", LogoutHandler),
    ]


USER = {"$ref": "#/components/schemas/User"}
PAIR = {"access_token": {"type": "string"}, "refresh_token": {"type": "string"},
        "token_type": {"type": "string"}, "expires_in": {"type": "integer"}}
PHONE = {"type": "string", "example": "13800138000",
         "description": "mainland mobile; +86/0086, spaces and dashes are ignored"}
EMAIL = {"type": "string", "format": "email", "maxLength": 191}
CODE = {"type": "string", "pattern": "^[0-9]{6}$"}

SCHEMAS = {
    "User": {"type": "object", "required": ["id"], "properties": {
        "id": {"type": "integer"}, "nickname": {"type": "string"},
        "avatar_url": {"type": "string"},
        "phone": {"type": "string", "nullable": True, "description": "masked"},
        "phone_bound": {"type": "boolean"},
        "email": {"type": "string", "nullable": True, "description": "masked"},
        "email_bound": {"type": "boolean"},
        "created_at": {"type": "string", "format": "date-time"}}},
    "SignIn": {"type": "object", "required": ["access_token", "refresh_token", "expires_in",
                                              "user"],
               "properties": {**PAIR, "user": USER, "created": {"type": "boolean"}}},
    "CodeSent": {"type": "object", "required": ["expires_in", "resend_after"], "properties": {
        "expires_in": {"type": "integer", "description": "seconds the code stays valid"},
        "resend_after": {"type": "integer", "description": "seconds before another send"}}},
}

_CODE_LIMITS = ("A code is 6 digits, valid 5 minutes; 5 wrong tries burn it; another can be "
                "sent 60 s after the last (it replaces it). Each address and each IP may ask "
                "for a limited number of codes a day. Limits answer 429 RATE_LIMITED with "
                "Retry-After and details.scope (resend, address, ip, provider).")
_CODE_ERRORS = ("Errors: VERIFICATION_CODE_INVALID (details.tries_left), "
                "VERIFICATION_CODE_EXPIRED, VERIFICATION_CODE_BURNT, ACCOUNT_DISABLED.")


def _openapi() -> dict:
    from server.openapi import obj, op, ref

    tags = ["auth"]

    def send(summary: str, field: str, schema: dict, extra: str) -> dict:
        return {"post": op(summary, tags=tags, auth=False, errors=(429, 502, 503),
                           body=obj({field: schema}, [field]), ok=ref("CodeSent"),
                           description=f"{_CODE_LIMITS} {extra}")}

    def login(summary: str, field: str, schema: dict) -> dict:
        return {"post": op(summary, tags=tags, auth=False, errors=(403, 429),
                           body=obj({field: schema, "code": CODE}, [field, "code"]),
                           ok=ref("SignIn"),
                           description="The account holding the address signs in; an "
                                       "address no account holds gets a new account "
                                       f"(created: true). {_CODE_ERRORS}")}

    return {
        "/api/v1/auth/wechat": {"post": op(
            "Log in with a wx.login code", tags=tags, auth=False, errors=(403, 429, 502, 503),
            body=obj({"code": {"type": "string", "maxLength": 128}}, ["code"]),
            ok=ref("SignIn"),
            description="Exchanges the code through WeChat's jscode2session. Sandbox: "
                        "`sandbox-<name>` logs in the stand-in user <name>. Errors: "
                        "WECHAT_CODE_INVALID, WECHAT_CODE_USED, WECHAT_USER_BLOCKED, "
                        "RATE_LIMITED, UPSTREAM_UNAVAILABLE.")},
        "/api/v1/auth/sms/send": send(
            "Send a sign-in code by SMS", "phone", PHONE,
            "Errors: PHONE_INVALID, SMS_SEND_FAILED, UPSTREAM_UNAVAILABLE. Sandbox: the "
            "message is readable at GET /_sandbox/sms/messages?phone=."),
        "/api/v1/auth/sms/login": login("Sign in with a code sent by SMS", "phone", PHONE),
        "/api/v1/auth/email/send": send(
            "Send a sign-in code by email", "email", EMAIL,
            "Errors: EMAIL_INVALID, MAIL_SEND_FAILED, UPSTREAM_UNAVAILABLE. Sandbox: the "
            "mail is readable at GET /_sandbox/mail/messages?to=."),
        "/api/v1/auth/email/login": login("Sign in with a code sent by email", "email", EMAIL),
        "/api/v1/auth/refresh": {"post": op(
            "Rotate a refresh token", tags=tags, auth=False, errors=(401, 429),
            body=obj({"refresh_token": {"type": "string"}}, ["refresh_token"]),
            ok=obj(PAIR, ["access_token", "refresh_token", "expires_in"]),
            description="Single use: presenting a rotated token again revokes the whole "
                        "login (REFRESH_TOKEN_REUSED).")},
        "/api/v1/auth/logout": {"post": op("Log out (revoke this login)", tags=tags,
                                           status=204)},
    }


OPENAPI = _openapi()
