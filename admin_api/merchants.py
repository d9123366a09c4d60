"""The operators' console for merchants: the list, one merchant, the audit actions."""
from __future__ import annotations

from alliance.members.member_days import member_day
from alliance.merchants import admin_queries
from alliance.merchants.audit import TRANSITIONS, review_merchant
from alliance.merchants.queries import get_shop
from alliance.merchants.shops import operator_update_shop, staff_shop_view
from server import validation as v
from server.base import BaseHandler, authenticated

PERMISSION = "admin:merchants"


class AdminMerchantsHandler(BaseHandler):
    @authenticated(PERMISSION, kind="operator")
    async def get(self):
        limit = v.page_limit(self.query("limit"))
        self.write_json(await self.run_sync(
            admin_queries.list_for_operators, status=self.query("status"),
            industry=self.query("industry"), q=self.query("q"), cursor=self.query("cursor"),
            limit=limit))


class AdminMerchantHandler(BaseHandler):
    @authenticated(PERMISSION, kind="operator")
    async def get(self, merchant_id: str):
        secret = self.ctx.settings.secret_key

        def detail():
            return {**admin_queries.operator_detail(int(merchant_id), secret),
                    "member_day": member_day(int(merchant_id))}

        self.write_json(await self.run_sync(detail))


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


class AdminMerchantStatsHandler(BaseHandler):
    @authenticated(PERMISSION, kind="operator")
    async def get(self):
        top = v.query_int(self.query("ranking_limit"), "ranking_limit", default=10, minimum=1,
                          maximum=100)
        self.write_json(await self.run_sync(admin_queries.merchant_statistics, top))


class AdminShopHandler(BaseHandler):
    @authenticated(PERMISSION, kind="operator")
    async def get(self, shop_id: str):
        shop = await self.run_sync(get_shop, int(shop_id))
        self.write_json(staff_shop_view(shop))

    @authenticated(PERMISSION, kind="operator")
    async def patch(self, shop_id: str):
        changes = self.json_body()
        reason = v.string(changes, "reason", required=False, max_length=500, default="")
        changes.pop("reason", None)
        shop = await self.run_sync(operator_update_shop, self.principal.id, int(shop_id),
                                   changes, reason)
        self.write_json(staff_shop_view(shop))


def routes() -> list:
    return [
        (r"/api/admin/v1/merchants", AdminMerchantsHandler),
        (r"/api/admin/v1/merchants/([0-9]{1,10})", AdminMerchantHandler),
        *[(rf"/api/admin/v1/merchants/([0-9]{{1,10}})/{action}", AdminMerchantActionHandler,
           {"action": action}) for action in TRANSITIONS],
        (r"/api/admin/v1/merchant-stats", AdminMerchantStatsHandler),
        (r"/api/admin/v1/shops/([0-9]{1,10})", AdminShopHandler),
    ]


def _schemas() -> dict:
    from server.openapi import INT, STR, TIME, obj

    return {"OperatorMerchant": obj({
        "id": INT, "name": STR, "company_name": STR, "credit_code": STR, "industry": STR,
        "industry_name": STR,
        "status": {"type": "string", "enum": ["pending", "approved", "rejected", "suspended"]},
        "status_reason": STR, "owner_id": INT, "rating": {"type": "number", "nullable": True},
        "popularity": INT, "sales_count": INT, "sales_fen": INT,
        "commission_bp": {**INT, "nullable": True,
                          "description": "the merchant's own platform commission rate in basis "
                                         "points; null: the platform's"},
        "submitted_at": TIME,
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
                "same_legal_rep_merchant_ids": {"type": "array", "items": INT},
                "member_day": {"allOf": [ref("MemberDayRule")],
                               "description": "the merchant's member day rule (read-only "
                                              "here; the merchant sets it)"}})]})},
        **operations,
        **_stats_and_shop_openapi(),
    }


def _stats_and_shop_openapi() -> dict:
    from server.openapi import INT, STR, obj, op, path_param, query_param, ref

    tags = ["admin merchants"]
    count = obj({"status": STR, "count": INT})
    stats = obj({
        "total": INT, "by_status": {"type": "array", "items": count},
        "by_industry": {"type": "array", "items": obj({
            "industry": STR, "industry_name": STR, "count": INT,
            "by_status": {"type": "object", "additionalProperties": INT}})},
        "sales_ranking": {"type": "array", "items": obj({
            "rank": INT, "merchant_id": INT, "name": STR, "industry": STR,
            "sales_fen": {"type": "integer", "description": "money in fen"},
            "sales_count": INT})}})
    shop = ref("StaffShop")
    edit = {"allOf": [ref("ShopFields"), obj({"reason": {"type": "string", "maxLength": 500}})],
            "description": "operators can only remove images (logo null, photos a subset)"}
    one = [path_param("id", INT)]
    return {
        "/api/admin/v1/merchant-stats": {"get": op(
            "Merchant counts by industry and status; sales ranking", tags=tags, ok=stats,
            errors=(400, 403),
            params=[query_param("ranking_limit", {"type": "integer", "minimum": 1,
                                                  "maximum": 100})])},
        "/api/admin/v1/shops/{id}": {
            "get": op("One shop", tags=tags, ok=shop, params=one, errors=(403, 404)),
            "patch": op("Correct a shop's details (audited)", tags=tags, body=edit, ok=shop,
                        params=one, errors=(403, 404))},
    }


OPENAPI = _openapi()
