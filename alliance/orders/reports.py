"""Sales figures: a merchant's daily sales report and the platform's order statistics.

Days are Asia/Shanghai days. A sale counts on the day it was paid, a refund on the day it
succeeded; ``net_fen`` is paid minus refunded.
"""
from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict

from peewee import fn

from alliance.clock import SHANGHAI
from alliance.orders.models import (REFUND_STRAY, REFUND_SUCCEEDED, Order, OrderLine, Refund)
from alliance.orders.queries import day_range, utc_bounds

MAX_REPORT_DAYS = 31
MAX_STATS_DAYS = 92
TOP_ITEMS = 10


def _local_day(value: dt.datetime) -> str:
    return value.replace(tzinfo=dt.timezone.utc).astimezone(SHANGHAI).date().isoformat()


def _days(first: dt.date, last: dt.date) -> list[str]:
    return [(first + dt.timedelta(days=n)).isoformat() for n in range((last - first).days + 1)]


def _refunds_by_day(start: dt.datetime, end: dt.datetime, merchant_id: int | None) -> Counter:
    query = (Refund.select(Refund.finished_at, Refund.amount_fen).join(Order)
             .where(Refund.status == REFUND_SUCCEEDED, Refund.kind != REFUND_STRAY,
                    Refund.finished_at >= start, Refund.finished_at < end))
    if merchant_id is not None:
        query = query.where(Order.merchant == merchant_id)
    refunded: Counter = Counter()
    for finished_at, amount in query.tuples():
        refunded[_local_day(finished_at)] += amount
    return refunded


def merchant_sales_report(merchant_id: int, start: str | None = None,
                          end: str | None = None) -> dict:
    """Per day: orders paid, amount paid, refunded, net, units sold, average order value;
    and the best-selling items of the period."""
    first, last = day_range(start, end, MAX_REPORT_DAYS)
    lo, hi = utc_bounds(first, last)
    paid = (Order.select(Order.id, Order.paid_at, Order.paid_fen)
            .where(Order.merchant == merchant_id, Order.paid_at >= lo, Order.paid_at < hi))
    days: dict[str, dict] = {d: {"date": d, "orders": 0, "paid_fen": 0, "units": 0}
                             for d in _days(first, last)}
    order_day: dict[int, str] = {}
    for order_id, paid_at, amount in paid.tuples():
        day = _local_day(paid_at)
        order_day[order_id] = day
        days[day]["orders"] += 1
        days[day]["paid_fen"] += amount
    items: dict[tuple[int, str], list[int]] = defaultdict(lambda: [0, 0])
    if order_day:
        lines = (OrderLine.select(OrderLine.order, OrderLine.item_id, OrderLine.name,
                                  OrderLine.quantity, OrderLine.payable_fen)
                 .where(OrderLine.order.in_(list(order_day))))
        for order_id, item_id, name, quantity, payable in lines.tuples():
            days[order_day[order_id]]["units"] += quantity
            items[(item_id, name)][0] += quantity
            items[(item_id, name)][1] += payable
    refunded = _refunds_by_day(lo, hi, merchant_id)
    rows = []
    for day in days.values():
        day["refunded_fen"] = refunded.get(day["date"], 0)
        day["net_fen"] = day["paid_fen"] - day["refunded_fen"]
        day["average_order_fen"] = day["paid_fen"] // day["orders"] if day["orders"] else 0
        rows.append(day)
    top = sorted(items.items(), key=lambda kv: (-kv[1][0], kv[0][0]))[:TOP_ITEMS]
    totals = {name: sum(r[name] for r in rows)
              for name in ("orders", "paid_fen", "refunded_fen", "net_fen", "units")}
    return {"from": first.isoformat(), "to": last.isoformat(), "days": rows, "totals": totals,
            "top_items": [{"item_id": item_id, "name": name, "units": units, "sales_fen": sales}
                          for (item_id, name), (units, sales) in top]}


def platform_order_stats(start: str | None = None, end: str | None = None) -> dict:
    """Operators: orders created and paid per day, amounts paid and refunded, the status
    mix of the period's orders, and how many orders are abnormal now."""
    first, last = day_range(start, end, MAX_STATS_DAYS, default_days=30)
    lo, hi = utc_bounds(first, last)
    series = {d: {"date": d, "created": 0, "paid": 0, "paid_fen": 0} for d in _days(first, last)}
    for (created_at,) in (Order.select(Order.created_at)
                          .where(Order.created_at >= lo, Order.created_at < hi).tuples()):
        series[_local_day(created_at)]["created"] += 1
    for paid_at, amount in (Order.select(Order.paid_at, Order.paid_fen)
                            .where(Order.paid_at >= lo, Order.paid_at < hi).tuples()):
        series[_local_day(paid_at)]["paid"] += 1
        series[_local_day(paid_at)]["paid_fen"] += amount
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
