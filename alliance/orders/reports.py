"""Sales figures: a merchant's daily sales report and the platform's order statistics.

Days are Asia/Shanghai days. A sale counts on the day it was paid, a refund on the day it
succeeded; ``net_fen`` is paid minus refunded.
"""
from __future__ import annotations

import datetime as dt

from peewee import fn

from alliance.db import per_shanghai_day
from alliance.orders.models import (REFUND_STRAY, REFUND_SUCCEEDED, Order, OrderLine, Refund)
from alliance.orders.queries import day_range, utc_bounds

MAX_REPORT_DAYS = 31
MAX_STATS_DAYS = 92
TOP_ITEMS = 10


def _days(first: dt.date, last: dt.date) -> list[str]:
    return [(first + dt.timedelta(days=n)).isoformat() for n in range((last - first).days + 1)]


def _refunds_by_day(start: dt.datetime, end: dt.datetime, merchant_id: int | None) -> dict:
    query = (Refund.select().join(Order)
             .where(Refund.status == REFUND_SUCCEEDED, Refund.kind != REFUND_STRAY,
                    Refund.finished_at >= start, Refund.finished_at < end))
    if merchant_id is not None:
        query = query.where(Order.merchant == merchant_id)
    return {day: int(amount or 0)
            for day, amount in per_shanghai_day(query, Refund.finished_at, fn.SUM(Refund.amount_fen))}


def merchant_sales_report(merchant_id: int, start: str | None = None,
                          end: str | None = None) -> dict:
    """Per day: orders paid, amount paid, refunded, net, units sold, average order value;
    and the best-selling items of the period."""
    first, last = day_range(start, end, MAX_REPORT_DAYS)
    lo, hi = utc_bounds(first, last)
    paid = Order.select().where(Order.merchant == merchant_id, Order.paid_at >= lo,
                                Order.paid_at < hi)
    days: dict[str, dict] = {d: {"date": d, "orders": 0, "paid_fen": 0, "units": 0}
                             for d in _days(first, last)}
    for day, count, amount in per_shanghai_day(paid, Order.paid_at, fn.COUNT(Order.id),
                                       fn.SUM(Order.paid_fen)):
        days[day].update(orders=count, paid_fen=int(amount or 0))
    lines = (OrderLine.select().join(Order)
             .where(Order.merchant == merchant_id, Order.paid_at >= lo, Order.paid_at < hi))
    for day, units in per_shanghai_day(lines, Order.paid_at, fn.SUM(OrderLine.quantity)):
        days[day]["units"] = int(units or 0)
    refunded = _refunds_by_day(lo, hi, merchant_id)
    rows = []
    for day in days.values():
        day["refunded_fen"] = refunded.get(day["date"], 0)
        day["net_fen"] = day["paid_fen"] - day["refunded_fen"]
        day["average_order_fen"] = day["paid_fen"] // day["orders"] if day["orders"] else 0
        rows.append(day)
    totals = {name: sum(r[name] for r in rows)
              for name in ("orders", "paid_fen", "refunded_fen", "net_fen", "units")}
    return {"from": first.isoformat(), "to": last.isoformat(), "days": rows, "totals": totals,
            "top_items": top_items(merchant_id, lo, hi)}


def top_items(merchant_id: int, start: dt.datetime, end: dt.datetime,
              limit: int = TOP_ITEMS) -> list[dict]:
    """The merchant's best sellers among the orders paid in [start, end) (naive UTC): units
    sold and what they sold for after discounts, most units first."""
    units, sales = fn.SUM(OrderLine.quantity), fn.SUM(OrderLine.payable_fen)
    top = (OrderLine.select(OrderLine.item_id, OrderLine.name, units, sales).join(Order)
           .where(Order.merchant == merchant_id, Order.paid_at >= start, Order.paid_at < end)
           .group_by(OrderLine.item_id, OrderLine.name)
           .order_by(units.desc(), OrderLine.item_id).limit(limit).tuples())
    return [{"item_id": item_id, "name": name, "units": int(units), "sales_fen": int(sales)}
            for item_id, name, units, sales in top]


def refunded_fen(start: dt.datetime, end: dt.datetime, merchant_id: int) -> int:
    """What the merchant's refunds that succeeded in [start, end) (naive UTC) gave back."""
    return sum(_refunds_by_day(start, end, merchant_id).values())


def platform_order_stats(start: str | None = None, end: str | None = None) -> dict:
    """Operators: orders created and paid per day, amounts paid and refunded, the status
    mix of the period's orders, and how many orders are abnormal now."""
    first, last = day_range(start, end, MAX_STATS_DAYS, default_days=30)
    lo, hi = utc_bounds(first, last)
    series = {d: {"date": d, "created": 0, "paid": 0, "paid_fen": 0} for d in _days(first, last)}
    created = Order.select().where(Order.created_at >= lo, Order.created_at < hi)
    for day, count in per_shanghai_day(created, Order.created_at, fn.COUNT(Order.id)):
        series[day]["created"] = count
    paid = Order.select().where(Order.paid_at >= lo, Order.paid_at < hi)
    for day, count, amount in per_shanghai_day(paid, Order.paid_at, fn.COUNT(Order.id),
                                       fn.SUM(Order.paid_fen)):
        series[day].update(paid=count, paid_fen=int(amount or 0))
    refunded = _refunds_by_day(lo, hi, None)
    for day in series.values():
        day["refunded_fen"] = refunded.get(day["date"], 0)
    by_status = dict(Order.select(Order.status, fn.COUNT(Order.id))
                     .where(Order.created_at >= lo, Order.created_at < hi)
                     .group_by(Order.status).tuples())
    rows = list(series.values())
    return {"from": first.isoformat(), "to": last.isoformat(), "days": rows,
            "totals": {name: sum(r[name] for r in rows)
                       for name in ("created", "paid", "paid_fen", "refunded_fen")},
            "by_status": by_status,
            "abnormal_open": Order.select().where(Order.abnormal == True).count()}  # noqa: E712
