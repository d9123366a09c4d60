"""The operators' console for merchants: the list, one merchant, the audit actions."""
from __future__ import annotations

from alliance.merchants import admin_queries
from alliance.merchants.audit import TRANSITIONS, review_merchant
from alliance.pagination import DEFAULT_LIMIT, MAX_LIMIT
from server import validation as v
from server.base import BaseHandler, authenticated

PERMISSION = "admin:merchants"


class AdminMerchantsHandler(BaseHandler):
    @authenticated(PERMISSION, kind="operator")
    async def get(self):
        limit = v.query_int(self.query("limit"), "limit", default=DEFAULT_LIMIT, minimum=1,
                            maximum=MAX_LIMIT)
        self.write_json(await self.run_sync(
            admin_queries.list_for_operators, status=self.query("status"),
            industry=self.query("industry"), q=self.query("q"), cursor=self.query("cursor"),
            limit=limit))


class AdminMerchantHandler(BaseHandler):
    @authenticated(PERMISSION, kind="operator")
    async def get(self, merchant_id: str):
        self.write_json(await self.run_sync(admin_queries.operator_detail, int(merchant_id),
                                            self.ctx.settings.secret_key))


class AdminMerchantActionHandler(BaseHandler):
    def initialize(self, action: str) -> None:
        self.action = action

    @authenticated(PERMISSION, kind="operator")
    async def post(self, merchant_id: str):
        action = self.action
        reason = v.string(self.json_body(), "reason", required=False, max_length=500,
                          default="")
        merchant = await self.run_sync(review_merchant, self.ctx.notifier, self.principal.id,
                                       int(merchant_id), action, reason)
        self.write_json(admin_queries.operator_row(merchant))


def routes() -> list:
    return [
        (r"/api/admin/v1/merchants", AdminMerchantsHandler),
        (r"/api/admin/v1/merchants/([0-9]{1,10})", AdminMerchantHandler),
        *[(rf"/api/admin/v1/merchants/([0-9]{{1,10}})/{action}", AdminMerchantActionHandler,
           {"action": action}) for action in TRANSITIONS],
    ]


def _schemas() -> dict:
    from server.openapi import INT, STR, TIME, obj

    return {"OperatorMerchant": obj({
        "id": INT, "name": STR, "company_name": STR, "credit_code": STR, "industry": STR,
        "industry_name": STR,
        "status": {"type": "string", "enum": ["pending", "approved", "rejected", "suspended"]},
        "status_reason": STR, "owner_id": INT, "rating": {"type": "number", "nullable": True},
        "popularity": INT, "sales_count": INT, "sales_fen": INT, "submitted_at": TIME,
        "reviewed_at": {**TIME, "nullable": True}})}


SCHEMAS = _schemas()


def _openapi() -> dict:
    from server.openapi import (INT, PAGING, STR, list_of, obj, op, path_param, query_param,
                                ref)

    tags = ["admin merchants"]
    reason = obj({"reason": {"type": "string", "maxLength": 500}})
    operations = {}
    for action, (source, target, needs_reason) in TRANSITIONS.items():
        operations[f"/api/admin/v1/merchants/{{id}}/{action}"] = {"post": op(
            f"{action.capitalize()}: {source} -> {target}"
            + (" (reason required)" if needs_reason else ""),
            tags=tags, body=reason, ok=ref("OperatorMerchant"), errors=(403, 404, 409),
            params=[path_param("id", INT)],
            description="Recorded in the merchant's history and the audit log; the owner is "
                        "notified. MERCHANT_STATUS_CONFLICT when the status has moved on.")}
    return {
        "/api/admin/v1/merchants": {"get": op(
            "Merchants, newest first", tags=tags, ok=list_of(ref("OperatorMerchant")),
            errors=(400, 403),
            params=[query_param("status", {"type": "string", "enum": ["pending", "approved",
                                                                     "rejected", "suspended"]}),
                    query_param("industry", STR),
                    query_param("q", STR, "name, company name or credit code"), *PAGING])},
        "/api/admin/v1/merchants/{id}": {"get": op(
            "One merchant: application (ID masked, images as signed links), shops, staff",
            tags=tags, errors=(403, 404), params=[path_param("id", INT)],
            ok={"allOf": [ref("OperatorMerchant"), obj({
                "application": ref("Application"),
                "shops": {"type": "array", "items": ref("Shop")},
                "staff_count": {"type": "object", "additionalProperties": INT},
                "same_legal_rep_merchant_ids": {"type": "array", "items": INT}})]})},
        **operations,
    }


OPENAPI = _openapi()
