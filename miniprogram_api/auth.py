"""Signing in: WeChat login, token refresh, logout, the user's own profile and phone."""
from __future__ import annotations

from alliance.accounts import services as accounts
from server.base import BaseHandler, authenticated, rate_limited
from server import validation as v

_login_limit = rate_limited("login", lambda h: h.ctx.settings.login_rate_limit_per_min)


class WechatLoginHandler(BaseHandler):
    @_login_limit
    async def post(self):
        code = v.string(self.json_body(), "code", max_length=128)
        ctx = self.ctx

        def login():
            user, created = accounts.login_with_wechat(ctx.wechat_auth, code)
            pair = ctx.tokens.issue("user", user.id, ["consumer"])
            return {**pair.as_dict(), "user": accounts.user_view(user), "created": created}

        self.write_json(await self.run_sync(login))


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


class MeHandler(BaseHandler):
    @authenticated("self:read")
    async def get(self):
        user = await self.run_sync(accounts.get_user, self.principal.id)
        self.write_json(accounts.user_view(user))


class PhoneBindingHandler(BaseHandler):
    @authenticated("self:write")
    @rate_limited("phone-bind", lambda h: 10, key=lambda h: h.principal.key)
    async def post(self):
        code = v.string(self.json_body(), "code", max_length=128)
        user = await self.run_sync(accounts.bind_phone_from_wechat, self.ctx.wechat_auth,
                                   self.principal.id, code)
        self.write_json(accounts.user_view(user))


def routes() -> list:
    return [
        (r"/api/v1/auth/wechat", WechatLoginHandler),
        (r"/api/v1/auth/refresh", RefreshHandler),
        (r"/api/v1/auth/logout", LogoutHandler),
        (r"/api/v1/me", MeHandler),
        (r"/api/v1/me/phone", PhoneBindingHandler),
    ]


_USER = {"$ref": "#/components/schemas/User"}
_PAIR = {"access_token": {"type": "string"}, "refresh_token": {"type": "string"},
         "token_type": {"type": "string"}, "expires_in": {"type": "integer"}}

SCHEMAS = {
    "User": {"type": "object", "required": ["id"], "properties": {
        "id": {"type": "integer"}, "nickname": {"type": "string"},
        "avatar_url": {"type": "string"},
        "phone": {"type": "string", "nullable": True, "description": "masked"},
        "phone_bound": {"type": "boolean"},
        "created_at": {"type": "string", "format": "date-time"}}},
}


def _openapi() -> dict:
    from server.openapi import obj, op

    tags = ["auth"]
    return {
        "/api/v1/auth/wechat": {"post": op(
            "Log in with a wx.login code", tags=tags, auth=False, errors=(403, 429, 502, 503),
            body=obj({"code": {"type": "string", "maxLength": 128}}, ["code"]),
            ok=obj({**_PAIR, "user": _USER, "created": {"type": "boolean"}},
                   ["access_token", "refresh_token", "expires_in", "user"]),
            description="Exchanges the code through WeChat's jscode2session. Sandbox: "
                        "`sandbox-<name>` logs in the stand-in user <name>. Errors: "
                        "WECHAT_CODE_INVALID, WECHAT_CODE_USED, WECHAT_USER_BLOCKED, "
                        "RATE_LIMITED, UPSTREAM_UNAVAILABLE.")},
        "/api/v1/auth/refresh": {"post": op(
            "Rotate a refresh token", tags=tags, auth=False, errors=(401, 429),
            body=obj({"refresh_token": {"type": "string"}}, ["refresh_token"]),
            ok=obj(_PAIR, ["access_token", "refresh_token", "expires_in"]),
            description="Single use: presenting a rotated token again revokes the whole "
                        "login (REFRESH_TOKEN_REUSED).")},
        "/api/v1/auth/logout": {"post": op("Log out (revoke this login)", tags=tags,
                                           status=204)},
        "/api/v1/me": {"get": op("The current user", tags=tags, ok=_USER)},
        "/api/v1/me/phone": {"post": op(
            "Bind the phone number from a getPhoneNumber code", tags=tags, ok=_USER,
            errors=(409, 429, 502, 503),
            body=obj({"code": {"type": "string", "maxLength": 128}}, ["code"]))},
    }


OPENAPI = _openapi()
