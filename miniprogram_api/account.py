"""The consumer's own account: profile, phone and email (bind, unbind), deletion.

Binding a phone or an email that another account holds proves the person owns both: this
account is merged into that one, and the answer carries ``merged: true`` with a new token
pair for the surviving account (the old tokens stop working).
"""
from __future__ import annotations

from typing import Callable

from alliance.accounts import codes
from alliance.accounts import services as accounts
from alliance.accounts.models import User
from miniprogram_api.auth import USER, read_address, read_code
from server.base import BaseHandler, authenticated, rate_limited
from server import validation as v

_bind_limit = rate_limited("address-bind", lambda h: 10, key=lambda h: h.principal.key)


class MeHandler(BaseHandler):
    @authenticated("self:read")
    async def get(self):
        user = await self.run_sync(accounts.get_user, self.principal.id)
        self.write_json(accounts.user_view(user))

    @authenticated("self:write")
    async def delete(self):
        await self.run_sync(accounts.delete_account, self.principal.id)
        self.set_status(204)
        self.finish()


class AddressHandler(BaseHandler):
    """Bind (with the code sent to it) or unbind the account's email address."""

    channel = codes.EMAIL

    def binder(self, body: dict) -> Callable[[], tuple[User, bool]]:
        """The binding this request asks for, to run on the pool."""
        target, code = read_address(body, self.channel), read_code(body)
        user_id, channel = self.principal.id, self.channel
        return lambda: accounts.bind_verified_address(user_id, channel, target, code)

    @authenticated("self:write")
    @_bind_limit
    async def post(self):
        bind, tokens = self.binder(self.json_body()), self.ctx.tokens

        def run() -> dict:
            user, merged = bind()
            answer = {**accounts.user_view(user), "merged": merged}
            if merged:
                answer["tokens"] = tokens.issue("user", user.id, ["consumer"]).as_dict()
            return answer

        self.write_json(await self.run_sync(run))

    @authenticated("self:write")
    async def delete(self):
        user = await self.run_sync(accounts.unbind_address, self.principal.id, self.channel)
        self.write_json(accounts.user_view(user))


class PhoneHandler(AddressHandler):
    """The phone number: from WeChat's getPhoneNumber code, or with an SMS code."""

    channel = codes.SMS

    def binder(self, body: dict) -> Callable[[], tuple[User, bool]]:
        if body.get("phone") is not None:
            return super().binder(body)
        code = v.string(body, "code", max_length=128)
        auth, user_id = self.ctx.wechat_auth, self.principal.id
        return lambda: accounts.bind_phone_from_wechat(auth, user_id, code)


def routes() -> list:
    return [
        (r"/api/v1/me", MeHandler),
        (r"/api/v1/me/phone", PhoneHandler),
        (r"/api/v1/me/email", AddressHandler),
    ]


_BOUND = {"allOf": [USER, {"type": "object", "required": ["merged"], "properties": {
    "merged": {"type": "boolean",
               "description": "true: this account was merged into the one holding the address"},
    "tokens": {"type": "object", "description": "with merged: the surviving account's new "
                                                "token pair (the old tokens are revoked)",
               "properties": {"access_token": {"type": "string"},
                              "refresh_token": {"type": "string"},
                              "token_type": {"type": "string"},
                              "expires_in": {"type": "integer"}}}}}]}
_BIND_ERRORS = ("Errors: VERIFICATION_CODE_INVALID, VERIFICATION_CODE_EXPIRED, "
                "VERIFICATION_CODE_BURNT, {held} (the holder is disabled), "
                "ACCOUNT_MERGE_CONFLICT.")


def _openapi() -> dict:
    from server.openapi import obj, op

    tags = ["account"]
    unbind = ("Refused with 409 LAST_SIGN_IN_METHOD when it is the account's only way to "
              "sign in (no WeChat identity and no other address).")
    return {
        "/api/v1/me": {
            "get": op("The current user", tags=tags, ok=USER),
            "delete": op("Delete the account", tags=tags, status=204, errors=(404, 409),
                         description="Personal data (name, picture, phone, email, WeChat "
                                     "identities) is erased and every login revoked; orders, "
                                     "points and other ledgers stay, anonymised."),
        },
        "/api/v1/me/phone": {
            "post": op("Bind a phone number", tags=tags, ok=_BOUND, errors=(409, 429, 502, 503),
                       body={"oneOf": [
                           obj({"code": {"type": "string", "maxLength": 128,
                                         "description": "a getPhoneNumber code"}}, ["code"]),
                           obj({"phone": {"type": "string"},
                                "code": {"type": "string", "pattern": "^[0-9]{6}$",
                                         "description": "the code sent by "
                                                        "/api/v1/auth/sms/send"}},
                               ["phone", "code"])]},
                       description="With `code` alone, WeChat's getPhoneNumber code; with "
                                   "`phone`, the SMS code sent to it. "
                                   + _BIND_ERRORS.format(held="PHONE_ALREADY_BOUND")
                                   + " WeChat: WECHAT_CODE_INVALID, WECHAT_CODE_USED."),
            "delete": op("Unbind the phone number", tags=tags, ok=USER, errors=(409,),
                         description=unbind),
        },
        "/api/v1/me/email": {
            "post": op("Bind an email address", tags=tags, ok=_BOUND, errors=(409, 429),
                       body=obj({"email": {"type": "string", "format": "email"},
                                 "code": {"type": "string", "pattern": "^[0-9]{6}$"}},
                                ["email", "code"]),
                       description="With the code sent by /api/v1/auth/email/send. "
                                   + _BIND_ERRORS.format(held="EMAIL_ALREADY_BOUND")),
            "delete": op("Unbind the email address", tags=tags, ok=USER, errors=(409,),
                         description=unbind),
        },
    }


OPENAPI = _openapi()
