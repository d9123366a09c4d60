"""Merchant staff: the merchant's daily sales, read from the rollups the scheduler builds,
and its insights (figures, traffic, industry comparison, suggestions)."""
from __future__ import annotations

from alliance.analytics.insights import merchant_insights
from alliance.analytics.queries import daily_sales
from miniprogram_api.staff import MERCHANT_CHOICE, StaffHandler
from server.base import authenticated


class DailySalesHandler(StaffHandler):
    @authenticated()
    async def get(self):
        membership = await self.membership("merchant:finance")
        self.write_page(await self.run_sync(daily_sales, membership.merchant_id,
                                            self.query("from"), self.query("to")))


class InsightsHandler(StaffHandler):
    @authenticated()
    async def get(self):
        membership = await self.membership("merchant:finance")
        self.write_json(await self.run_sync(merchant_insights, membership.merchant_id,
                                            self.query("from"), self.query("to")))


def routes() -> list:
    return [(r"/api/v1/merchant/daily-sales", DailySalesHandler),
            (r"/api/v1/merchant/insights", InsightsHandler)]


def _schemas() -> dict:
    from server.openapi import FEN, INT, STR, TIME, obj, ref

    figures = {"orders_paid": INT, "gross_fen": FEN, "discount_fen": FEN, "refunds_fen": FEN,
               "net_fen": FEN, "units": INT}
    day = obj({"merchant_id": INT, "date": {**STR, "format": "date"}, **figures,
               "computed_at": TIME}, ["merchant_id", "date", *figures, "computed_at"])
    rate = {"type": "number", "nullable": True, "description": "a ratio 0..1 to four decimals; "
            "null when its denominator is zero"}
    count = {**INT, "nullable": True}
    metric = obj({
        "value": {"description": "the merchant's own (fen or ratio); null when it has none",
                  "nullable": True},
        "industry_median": {"nullable": True, "description": "null: too few merchants"},
        "percentile": {**count, "description": "percentile rank 0-100 among the merchants "
                       "compared: 100 x (below + equal / 2) / merchants"},
        "merchants": {**count, "description": "how many merchants have this figure"},
        "unavailable": {**STR, "nullable": True, "enum": ["TOO_FEW_PEERS", None]}},
        ["value", "industry_median", "percentile", "merchants", "unavailable"])
    coupons = obj({
        "claimed": {**INT, "description": "coupons of the merchant's templates claimed in "
                    "the period"},
        "used": {**INT, "description": "coupons of the merchant's templates used on an order "
                 "or redeemed at a counter in the period (whenever claimed)"},
        "claimed_then_used": {**INT, "description": "of those claimed in the period, used now"},
        "redemption_rate": {**rate, "description": "claimed_then_used / claimed"},
        "partner_coupons_handed_out": {**INT, "description": "partners' coupons claimed "
                                       "through this merchant's distribution in the period"},
        "partner_coupons_used_elsewhere": {**INT, "description": "of those, used now (at "
                                           "their issuer)"},
        "partner_redemption_rate": rate})
    own = obj({
        "orders": {**INT, "description": "orders paid in the period (refunded ones included)"},
        "sales_fen": {**FEN, "description": "what those orders paid"},
        "refunds_fen": {**FEN, "description": "refunds that succeeded in the period"},
        "net_fen": FEN, "average_order_fen": {**FEN, "description": "sales / orders, rounded "
                                              "down; 0 without orders"},
        "buyers": {**INT, "description": "distinct consumers with a paid order"},
        "new_buyers": INT,
        "returning_buyers": {**INT, "description": "buyers with an order paid at the merchant "
                             "before the period"},
        "repeat_buyers": {**INT, "description": "buyers with two or more paid orders in the "
                          "period"},
        "repeat_rate": {**rate, "description": "repeat_buyers / buyers"},
        "coupons": coupons,
        "members_gained": {**INT, "description": "memberships that began in the period"}})
    traffic = obj({
        "views": {**INT, "description": "views of the public detail page "
                  "(GET /api/v1/merchants/{id}) in the period"},
        "signed_in_views": {**INT, "description": "of those, by a logged-in consumer"},
        "conversion_rate": {**rate, "description": "buyers / views: distinct buyers of the "
                            "period over its detail page views (two counts, not a tracked "
                            "funnel); null without views"}})
    return {
        "InsightsMetric": metric,
        "Insights": obj({
            "merchant_id": INT, "from": {**STR, "format": "date"}, "to": {**STR, "format": "date"},
            "days": INT, "figures": own, "traffic": traffic,
            "best_sellers": {"type": "array", "items": obj({
                "item_id": INT, "name": STR, "units": INT, "sales_fen": FEN,
                "stock": {**count, "description": "now; null when no longer in the catalog"}})},
            "comparison": {**obj({
                "industry": STR, "merchants": {**INT, "description": "approved merchants of "
                                               "the industry"},
                "metrics": obj({name: ref("InsightsMetric") for name in (
                    "orders", "sales_fen", "average_order_fen", "repeat_rate",
                    "conversion_rate")})}), "nullable": True},
            "comparison_unavailable": {**STR, "nullable": True,
                                       "enum": ["TOO_FEW_PEERS", "MERCHANT_NOT_APPROVED", None]},
            "suggestions": {"type": "array", "items": obj({
                "code": {**STR, "enum": ["NO_SALES", "AOV_BELOW_INDUSTRY", "LOW_REPEAT_RATE",
                                         "LOW_CONVERSION", "RESTOCK_BEST_SELLER",
                                         "START_COOPERATION"]},
                "message": {**STR, "description": "Simplified Chinese"},
                "params": {"type": "object", "description": "the numbers the message quotes "
                           "(money in fen)"}}, ["code", "message", "params"])}},
            ["merchant_id", "from", "to", "days", "figures", "traffic", "best_sellers",
             "comparison", "comparison_unavailable", "suggestions"]),
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

INSIGHTS = (
    "Figures for the period (Asia/Shanghai days): orders counted on the day they were paid, "
    "refunds on the day they succeeded; buyers are distinct consumers, returning ones paid "
    "at the merchant before the period. Traffic: views of the public detail page, counted "
    "in each server process's memory and added to the database about every 10 s (a process "
    "that dies loses at most that interval's views); conversion_rate = buyers / views. "
    "comparison: the approved merchants of the merchant's industry, anonymised (medians, "
    "percentile ranks and counts only), when there are at least 5 of them (and per figure "
    "at least 5 that have it), else null with comparison_unavailable; orders and sales "
    "there come from the hourly daily-sales rollups. suggestions: rule-based, each with a "
    "stable code.")


def _openapi() -> dict:
    from server.openapi import PAGING, STR, op, query_param, ref

    return {"/api/v1/merchant/daily-sales": {"get": op(
        "The merchant's daily sales rollups (merchant:finance)", tags=["merchant analytics"],
        description=DESCRIPTION, ok=ref("DailySales"), errors=(400, 403),
        params=[*MERCHANT_CHOICE, query_param("from", STR, DAYS), query_param("to", STR, DAYS),
                *PAGING])},
        "/api/v1/merchant/insights": {"get": op(
            "The merchant's insights: figures, traffic, industry comparison, suggestions "
            "(merchant:finance)", tags=["merchant analytics"], description=INSIGHTS,
            ok=ref("Insights"), errors=(400, 403),
            params=[*MERCHANT_CHOICE, query_param("from", STR, DAYS),
                    query_param("to", STR, DAYS)])}}


OPENAPI = _openapi()
