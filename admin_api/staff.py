"""The console's staff and roles: operators' accounts, their roles and permissions
(administrators: admin:operators)."""
from __future__ import annotations

from alliance.accounts import staff
from server.base import BaseHandler, authenticated, idempotent

OPERATOR_ID = r"([0-9]{1,18})"


class OperatorsHandler(BaseHandler):
    @authenticated("admin:operators", kind="operator")
    async def get(self):
        self.write_page({"items": await self.run_sync(staff.list_operators)})

    @authenticated("admin:operators", kind="operator")
    @idempotent
    async def post(self):
        self.write_json(await self.run_sync(staff.create_operator, self.principal.id,
                                            self.json_body()), 201)


class OperatorHandler(BaseHandler):
    @authenticated("admin:operators", kind="operator")
    async def patch(self, operator_id: str):
        self.write_json(await self.run_sync(staff.update_operator, self.principal.id,
                                            int(operator_id), self.json_body()))


class OperatorPasswordHandler(BaseHandler):
    @authenticated("admin:operators", kind="operator")
    @idempotent
    async def post(self, operator_id: str):
        self.write_json(await self.run_sync(staff.reset_password, self.principal.id,
                                            int(operator_id), self.json_body(),
                                            self.principal.family_id))


class RolesHandler(BaseHandler):
    @authenticated("admin:operators", kind="operator")
    async def get(self):
        self.write_page({"items": staff.roles_view()})


def routes() -> list:
    return [
        (r"/api/admin/v1/operators", OperatorsHandler),
        (rf"/api/admin/v1/operators/{OPERATOR_ID}", OperatorHandler),
        (rf"/api/admin/v1/operators/{OPERATOR_ID}/password", OperatorPasswordHandler),
        (r"/api/admin/v1/roles", RolesHandler),
    ]


def _schemas() -> dict:
    from server.openapi import STR, obj

    return {"Role": obj({
        "role": {"type": "string", "enum": ["administrator", "operator", "customer_service"]},
        "label": STR,
        "permissions": {"type": "array", "items": obj({
            "permission": STR, "label": {**STR, "description": "in Chinese, for operators"},
            "description": STR})}})}


SCHEMAS = _schemas()


def _openapi() -> dict:
    from server.openapi import INT, PAGING, STR, list_of, obj, op, path_param, ref

    tags = ["admin staff"]
    roles = {"type": "string", "enum": ["administrator", "operator", "customer_service"]}
    password = {**STR, "description": "at least 10 characters, letters and digits"}
    guard = ("Errors: OPERATOR_SELF_CHANGE (409: an administrator disabling or demoting "
             "themselves), LAST_ADMINISTRATOR (409: it would leave no active administrator). "
             "A change of role or a disable ends the account's logins at once.")
    return {
        "/api/admin/v1/operators": {
            "get": op("Console accounts with role, status and last login (admin:operators)",
                      tags=tags, errors=(400, 403), params=PAGING, ok=list_of(ref("Operator"))),
            "post": op("Create a console account (admin:operators; audited)", tags=tags,
                       status=201, errors=(400, 403, 409), idempotent=True,
                       body=obj({"username": STR, "display_name": STR, "role": roles,
                                 "password": password}, ["username", "role", "password"],
                                additionalProperties=False),
                       ok=ref("Operator"),
                       description="Errors: OPERATOR_EXISTS (409), VALIDATION_FAILED "
                                   "(username, role, or a password breaking the rules).")},
        "/api/admin/v1/operators/{id}": {"patch": op(
            "Change an account's role, display name or status (admin:operators; audited)",
            tags=tags, errors=(400, 403, 404, 409), params=[path_param("id", INT)],
            body=obj({"role": roles, "display_name": STR,
                      "status": {"type": "string", "enum": ["active", "disabled"]}},
                     additionalProperties=False),
            ok=ref("Operator"), description=guard)},
        "/api/admin/v1/operators/{id}/password": {"post": op(
            "Reset an account's password; ends its logins (admin:operators; audited)",
            tags=tags, errors=(400, 403, 404), params=[path_param("id", INT)],
            idempotent=True, body=obj({"password": password}, ["password"]),
            ok=obj({"operator": ref("Operator"), "sessions_ended": INT}),
            description="Resetting one's own password keeps the session it is sent from.")},
        "/api/admin/v1/roles": {"get": op(
            "The console roles and their permissions, labelled in Chinese (admin:operators)",
            tags=tags, errors=(403,), params=PAGING, ok=list_of(ref("Role")))},
    }


OPENAPI = _openapi()
