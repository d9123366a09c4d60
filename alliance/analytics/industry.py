"""How a merchant compares with the approved merchants of its industry, anonymised.

Answered only when the industry has at least MIN_PEERS approved merchants (the merchant
included), and per figure only when at least MIN_PEERS of them have that figure (an average
order value needs orders, a repeat rate buyers, a conversion rate views). Only the median,
the merchant's percentile and the number of merchants compared are given: never another
merchant's identity or value.

One statement reads the whole industry (approved merchants left-joined to three grouped
subqueries): orders and sales from the daily rollups (as of their last hourly refresh),
buyers and repeat buyers from the period's paid orders, views from the traffic table; a
process keeps what it read for a few minutes (``DISTRIBUTIONS``). A percentile is the
percentile rank 100 x (below + equal / 2) / n, the merchant counted among the equal: 50 is
the middle, near 100 the top.
"""
from __future__ import annotations

import bisect
import datetime as dt

from peewee import JOIN, Case, fn

from alliance.analytics.models import MerchantDailySales, MerchantDailyTraffic
from alliance.infra.localcache import LocalCache
from alliance.merchants.models import Merchant
from alliance.orders.models import Order
from alliance.orders.queries import utc_bounds

MIN_PEERS = 5
APPROVED = "approved"
METRICS = ("orders", "sales_fen", "average_order_fen", "repeat_rate", "conversion_rate")
# An industry's figures are the same for each of its merchants and their orders and sales
# move with the hourly rollups: each process keeps the last few periods' for five minutes,
# so that the merchants of a large industry do not each aggregate all of it again.
DISTRIBUTIONS = LocalCache(ttl_s=300, max_entries=16)


def _industry_rows(industry: str, first: dt.date, last: dt.date) -> list[tuple]:
    """(merchant id, orders, sales, buyers, repeat buyers, views) of every approved merchant
    of the industry, zeros where it has none, in one statement."""
    in_industry = (Merchant.industry == industry) & (Merchant.status == APPROVED)
    daily = MerchantDailySales
    sales = (daily.select(daily.merchant.alias("mid"), fn.SUM(daily.orders_paid).alias("n"),
                          fn.SUM(daily.gross_fen - daily.discount_fen).alias("fen"))
             .join(Merchant).where(in_industry, daily.day.between(first, last))
             .group_by(daily.merchant).alias("s"))
    lo, hi = utc_bounds(first, last)
    per_buyer = (Order.select(Order.merchant.alias("mid"), fn.COUNT(Order.id).alias("n"))
                 .join(Merchant).where(in_industry, Order.paid_at >= lo, Order.paid_at < hi)
                 .group_by(Order.merchant, Order.user).alias("pb"))
    buyers = (per_buyer.select_from(
        per_buyer.c.mid, fn.COUNT(per_buyer.c.mid).alias("buyers"),
        fn.SUM(Case(None, [(per_buyer.c.n >= 2, 1)], 0)).alias("repeaters"))
        .group_by(per_buyer.c.mid).alias("b"))
    traffic = MerchantDailyTraffic
    views = (traffic.select(traffic.merchant.alias("mid"), fn.SUM(traffic.views).alias("v"))
             .join(Merchant).where(in_industry, traffic.day.between(first, last))
             .group_by(traffic.merchant).alias("t"))
    query = (Merchant.select(Merchant.id, sales.c.n, sales.c.fen, buyers.c.buyers,
                             buyers.c.repeaters, views.c.v)
             .join(sales, JOIN.LEFT_OUTER, on=(sales.c.mid == Merchant.id))
             .join(buyers, JOIN.LEFT_OUTER, on=(buyers.c.mid == Merchant.id))
             .join(views, JOIN.LEFT_OUTER, on=(views.c.mid == Merchant.id))
             .where(in_industry))
    return [tuple(int(value or 0) for value in row) for row in query.tuples()]


def median(ordered: list) -> int | float:
    """The middle value of sorted values (of the two middle ones: their mean, fen rounded
    down)."""
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    low, high = ordered[middle - 1], ordered[middle]
    if isinstance(low, int) and isinstance(high, int):
        return (low + high) // 2
    return round((low + high) / 2, 4)


def percentile(value, ordered: list) -> int:
    """The percentile rank of ``value`` among sorted values (which hold it), in whole
    percent."""
    below = bisect.bisect_left(ordered, value)
    equal = bisect.bisect_right(ordered, value) - below
    count = len(ordered)
    return (200 * below + 100 * equal + count) // (2 * count)


def _distribution(industry: str, first: dt.date, last: dt.date) -> dict:
    """Each metric's value per merchant of the industry and its values sorted."""
    series: dict[str, dict[int, int | float]] = {name: {} for name in METRICS}
    for merchant_id, orders, sales, buyers, repeaters, views in _industry_rows(
            industry, first, last):
        series["orders"][merchant_id] = orders
        series["sales_fen"][merchant_id] = sales
        if orders:
            series["average_order_fen"][merchant_id] = sales // orders
        if buyers:
            series["repeat_rate"][merchant_id] = repeaters / buyers
        if views:
            series["conversion_rate"][merchant_id] = buyers / views
    return {"merchants": len(series["orders"]), "series": series,
            "sorted": {name: sorted(values.values()) for name, values in series.items()}}


def cached_distribution(industry: str, first: dt.date, last: dt.date,
                        merchant_id: int) -> dict:
    """``_distribution``, from this process's cache when it holds ``merchant_id`` (a merchant
    approved since it was read is not in it: read again)."""
    key = (industry, first, last)
    found = DISTRIBUTIONS.get(key)
    if found is None or merchant_id not in found["series"]["orders"]:
        ticket = DISTRIBUTIONS.ticket()
        found = _distribution(industry, first, last)
        DISTRIBUTIONS.put(key, found, ticket)
    return found


def _metric(own, ordered: list, round_to: int | None) -> dict:
    shown = (lambda v: round(v, round_to)) if round_to is not None else (lambda v: v)
    value = None if own is None else shown(own)
    if len(ordered) < MIN_PEERS:
        return {"value": value, "industry_median": None, "percentile": None,
                "merchants": None, "unavailable": "TOO_FEW_PEERS"}
    return {"value": value, "industry_median": shown(median(ordered)),
            "percentile": None if own is None else percentile(own, ordered),
            "merchants": len(ordered), "unavailable": None}


def compare(merchant: Merchant, first: dt.date, last: dt.date) -> tuple[dict | None, str | None]:
    """(the comparison, None), or (None, why there is none: MERCHANT_NOT_APPROVED,
    TOO_FEW_PEERS)."""
    if merchant.status != APPROVED:
        return None, "MERCHANT_NOT_APPROVED"
    found = cached_distribution(merchant.industry, first, last, merchant.id)
    if found["merchants"] < MIN_PEERS:
        return None, "TOO_FEW_PEERS"
    rounding = {"repeat_rate": 4, "conversion_rate": 4}
    metrics = {name: _metric(found["series"][name].get(merchant.id), found["sorted"][name],
                             rounding.get(name)) for name in METRICS}
    return {"industry": merchant.industry, "merchants": found["merchants"],
            "metrics": metrics}, None
