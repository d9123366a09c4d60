"""Operators: any merchant's daily sales rollups."""
from __future__ import annotations

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


def routes() -> list:
    return [(r"/api/admin/v1/daily-sales", DailySalesHandler)]


def _openapi() -> dict:
    from server.openapi import INT, STR, op, query_param, ref

    return {"/api/admin/v1/daily-sales": {"get": op(
        "A merchant's daily sales rollups (admin:analytics)", tags=["admin analytics"],
        description=DESCRIPTION, ok=ref("DailySales"), errors=(400, 403, 404),
        params=[{**query_param("merchant_id", INT, "the merchant"), "required": True},
                query_param("from", STR, DAYS), query_param("to", STR, DAYS)])}}


OPENAPI = _openapi()
