"""Operators: any merchant's daily sales rollups; the platform's hot goods."""
from __future__ import annotations

from alliance.analytics.hot import REPORT_DAYS, hot_report
from alliance.analytics.queries import daily_sales
from alliance.errors import ValidationFailed
from alliance.merchants.queries import get_merchant
from miniprogram_api.merchant_analytics import DAYS, DESCRIPTION
from server import validation as v
from server.base import BaseHandler, authenticated

ID_MAX = 2**31 - 1


class DailySalesHandler(BaseHandler):
    @authenticated("admin:analytics", kind="operator")
    async def get(self):
        merchant_id = v.query_int(self.query("merchant_id"), "merchant_id", default=None,
                                  minimum=1, maximum=ID_MAX)
        if merchant_id is None:
            raise ValidationFailed("请指定商户", details={"field": "merchant_id"})

        def read() -> dict:
            get_merchant(merchant_id)
            return daily_sales(merchant_id, self.query("from"), self.query("to"))

        self.write_json(await self.run_sync(read))


class HotItemsReportHandler(BaseHandler):
    @authenticated("admin:analytics", kind="operator")
    async def get(self):
        days = v.query_int(self.query("days"), "days", default=7, minimum=1, maximum=366)
        limit = v.query_int(self.query("limit"), "limit", default=20, minimum=1, maximum=100)
        self.write_json(await self.run_sync(hot_report, days, self.query("industry"), limit))


def routes() -> list:
    return [(r"/api/admin/v1/daily-sales", DailySalesHandler),
            (r"/api/admin/v1/hot-items", HotItemsReportHandler)]


def _openapi() -> dict:
    from server.openapi import FEN, INT, STR, obj, op, query_param, ref

    nullable_int = {"type": "integer", "nullable": True}
    hot_item = obj({
        "rank": INT, "previous_rank": {**nullable_int, "description": "in the period before; "
                                       "null when the item sold nothing then"},
        "rank_change": {**nullable_int, "description": "previous_rank - rank: > 0 moved up"},
        "item_id": INT, "name": STR, "kind": STR, "status": STR,
        "merchant": obj({"id": INT, "name": STR, "industry": STR, "industry_name": STR}),
        "units": INT, "sales_fen": FEN, "orders": INT})
    report = obj({"days": INT, "industry": {"type": "string", "nullable": True},
                  "from": {"type": "string", "format": "date-time"},
                  "to": {"type": "string", "format": "date-time"},
                  "items": {"type": "array", "items": hot_item},
                  "next_cursor": {"type": "string", "nullable": True}})
    return {"/api/admin/v1/hot-items": {"get": op(
        "Hot goods: the items with most units paid in the last 7 or 30 days (admin:analytics)",
        tags=["admin analytics"], ok=report, errors=(400, 403),
        description="Units, fen paid (after discounts) and orders of the orders paid in the "
                    "period, whatever the item's state now, and each item's rank in the "
                    "period before.",
        params=[query_param("days", {"type": "integer", "enum": list(REPORT_DAYS)},
                            "default 7"),
                query_param("industry", STR), query_param("limit", INT, "1 to 100, default 20")])},
            "/api/admin/v1/daily-sales": {"get": op(
        "A merchant's daily sales rollups (admin:analytics)", tags=["admin analytics"],
        description=DESCRIPTION, ok=ref("DailySales"), errors=(400, 403, 404),
        params=[{**query_param("merchant_id", INT, "the merchant"), "required": True},
                query_param("from", STR, DAYS), query_param("to", STR, DAYS)])}}


OPENAPI = _openapi()
