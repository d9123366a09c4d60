"""Merchant staff: the merchant's daily sales, read from the rollups the scheduler builds."""
from __future__ import annotations

from alliance.analytics.queries import daily_sales
from miniprogram_api.staff import MERCHANT_CHOICE, StaffHandler
from server.base import authenticated


class DailySalesHandler(StaffHandler):
    @authenticated()
    async def get(self):
        membership = await self.membership("merchant:finance")
        self.write_page(await self.run_sync(daily_sales, membership.merchant_id,
                                            self.query("from"), self.query("to")))


def routes() -> list:
    return [(r"/api/v1/merchant/daily-sales", DailySalesHandler)]


def _schemas() -> dict:
    from server.openapi import FEN, INT, STR, TIME, obj, ref

    figures = {"orders_paid": INT, "gross_fen": FEN, "discount_fen": FEN, "refunds_fen": FEN,
               "net_fen": FEN, "units": INT}
    day = obj({"merchant_id": INT, "date": {**STR, "format": "date"}, **figures,
               "computed_at": TIME}, ["merchant_id", "date", *figures, "computed_at"])
    return {
        "DailySalesDay": day,
        "DailySales": obj({
            "merchant_id": INT, "from": {**STR, "format": "date"}, "to": {**STR, "format": "date"},
            "items": {"type": "array", "items": ref("DailySalesDay"),
                      "description": "days with sales, oldest first (days without have no row)"},
            "next_cursor": {**STR, "nullable": True,
                            "description": "null unless `limit` split the days into pages"},
            "totals": obj(figures, list(figures), description="the whole range's, on every page"),
        }, ["merchant_id", "from", "to", "items", "totals"]),
    }


SCHEMAS = _schemas()

DAYS = "YYYY-MM-DD (Asia/Shanghai); at most 92 days, default the last 30"
DESCRIPTION = ("Rolled up per Asia/Shanghai day by the scheduler (`analytics.daily_sales` "
               "after midnight, `analytics.daily_sales_today` hourly): orders paid that day "
               "with their gross (items and shipping) and discounts, refunds that succeeded "
               "that day, net = gross - discount - refunds, units sold. Money in fen.")


def _openapi() -> dict:
    from server.openapi import PAGING, STR, op, query_param, ref

    return {"/api/v1/merchant/daily-sales": {"get": op(
        "The merchant's daily sales rollups (merchant:finance)", tags=["merchant analytics"],
        description=DESCRIPTION, ok=ref("DailySales"), errors=(400, 403),
        params=[*MERCHANT_CHOICE, query_param("from", STR, DAYS), query_param("to", STR, DAYS),
                *PAGING])}}


OPENAPI = _openapi()
