"""Reads of the rollups: a merchant's daily sales over a range of days."""
from __future__ import annotations

from alliance.analytics.models import MerchantDailySales
from alliance.clock import to_local_iso
from alliance.orders.queries import day_range

MAX_DAYS = 92
TOTALS = ("orders_paid", "gross_fen", "discount_fen", "refunds_fen", "net_fen", "units")


def row_view(row: MerchantDailySales) -> dict:
    """One day of one merchant, money in fen."""
    return {"merchant_id": row.merchant_id, "date": row.day.isoformat(),
            **{name: getattr(row, name) for name in TOTALS},
            "computed_at": to_local_iso(row.computed_at)}


def daily_sales(merchant_id: int, start: str | None, end: str | None) -> dict:
    """The merchant's rolled-up days ``start``..``end`` (YYYY-MM-DD, Asia/Shanghai; at most
    MAX_DAYS, default the last 30), oldest first, and their totals. Days without sales have
    no row; today's row is as of the last hourly refresh."""
    first, last = day_range(start, end, MAX_DAYS, default_days=30)
    rows = [row_view(row) for row in MerchantDailySales.select()
            .where(MerchantDailySales.merchant == merchant_id,
                   MerchantDailySales.day.between(first, last))
            .order_by(MerchantDailySales.day)]
    return {"merchant_id": merchant_id, "from": first.isoformat(), "to": last.isoformat(),
            "items": rows, "next_cursor": None,
            "totals": {name: sum(row[name] for row in rows) for name in TOTALS}}
