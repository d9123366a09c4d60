"""Console sign-in: password login with lockout, refresh, the operator's own account."""
from __future__ import annotations

from alliance.accounts import operators
from server import validation as v
from server.base import BaseHandler, authenticated, rate_limited


class OperatorLoginHandler(BaseHandler):
    @rate_limited("admin-login", lambda h: h.ctx.settings.login_rate_limit_per_min)
    async def post(self):
        body = self.json_body()
        username = v.string(body, "username", max_length=64)
        password = v.string(body, "password", max_length=256)
        tokens = self.ctx.tokens

        def login():
            operator = operators.authenticate(username, password)
            pair = tokens.issue("operator", operator.id, [operator.role])
            return {**pair.as_dict(), "operator": operators.operator_view(operator)}

        self.write_json(await self.run_sync(login))


class OperatorRefreshHandler(BaseHandler):
    @rate_limited("admin-refresh", lambda h: h.ctx.settings.login_rate_limit_per_min * 2)
    async def post(self):
        token = v.string(self.json_body(), "refresh_token", max_length=2048)
        self.write_json((await self.run_sync(self.ctx.tokens.rotate, token, "operator")).as_dict())


class OperatorLogoutHandler(BaseHandler):
    @authenticated(kind="operator")
    async def post(self):
        await self.run_sync(self.ctx.tokens.revoke_family, self.principal.family_id, "logout")
        self.set_status(204)
        self.finish()


class OperatorMeHandler(BaseHandler):
    @authenticated(kind="operator")
    async def get(self):
        operator = await self.run_sync(operators.get_operator, self.principal.id)
        self.write_json(operators.operator_view(operator))


def routes() -> list:
    return [
        (r"/api/admin/v1/auth/login", OperatorLoginHandler),
        (r"/api/admin/v1/auth/refresh", OperatorRefreshHandler),
        (r"/api/admin/v1/auth/logout", OperatorLogoutHandler),
        (r"/api/admin/v1/me", OperatorMeHandler),
    ]


SCHEMAS = {
    "Operator": {"type": "object", "properties": {
        "id": {"type": "integer"}, "username": {"type": "string"},
        "display_name": {"type": "string"},
        "role": {"type": "string", "enum": ["administrator", "operator", "customer_service"]},
        "status": {"type": "string"},
        "last_login_at": {"type": "string", "format": "date-time", "nullable": True},
        "created_at": {"type": "string", "format": "date-time"}}},
}


def _openapi() -> dict:
    from server.openapi import obj, op, ref

    tags = ["admin auth"]
    pair = {"access_token": {"type": "string"}, "refresh_token": {"type": "string"},
            "token_type": {"type": "string"}, "expires_in": {"type": "integer"}}
    return {
        "/api/admin/v1/auth/login": {"post": op(
            "Operator login (locks for 15 min after 5 failures)", tags=tags, auth=False,
            errors=(401, 423, 429),
            body=obj({"username": {"type": "string"}, "password": {"type": "string"}},
                     ["username", "password"]),
            ok=obj({**pair, "operator": ref("Operator")}))},
        "/api/admin/v1/auth/refresh": {"post": op(
            "Rotate an operator refresh token", tags=tags, auth=False, errors=(401, 429),
            body=obj({"refresh_token": {"type": "string"}}, ["refresh_token"]), ok=obj(pair))},
        "/api/admin/v1/auth/logout": {"post": op("Operator logout", tags=tags, status=204)},
        "/api/admin/v1/me": {"get": op("The signed-in operator", tags=tags, ok=ref("Operator"))},
    }


OPENAPI = _openapi()
