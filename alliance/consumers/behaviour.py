"""Consumer behaviour over a period of Asia/Shanghai days: registrations, buyers, how often
they buy, what industries they buy from, and where.

A purchase is an order paid in the period (by ``paid_at``; refunded ones count: the buyer
did buy). Every figure is grouped in the database, so the work per request does not grow
with the number of orders read one by one.
"""
from __future__ import annotations

from peewee import fn

from alliance.accounts.models import User
from alliance.consumers.listing import paid_orders
from alliance.consumers.regions import PREFIX_LENGTH, UNKNOWN, province_of
from alliance.db import per_shanghai_day
from alliance.merchants.industries import industry_name
from alliance.merchants.models import Merchant, Shop
from alliance.orders.models import Order
from alliance.orders.queries import day_range, utc_bounds
from alliance.orders.reports import MAX_STATS_DAYS, _days

# (bucket, label, least paid orders, most paid orders or None)
FREQUENCY_BUCKETS = (("1", "1 单", 1, 1), ("2-3", "2-3 单", 2, 3), ("4-9", "4-9 单", 4, 9),
                     ("10+", "10 单及以上", 10, None))


def _frequency(paid) -> list[dict]:
    """Buyers of the period by how many paid orders each placed in it."""
    per_buyer = (paid.select(Order.user, fn.COUNT(Order.id).alias("n"))
                 .group_by(Order.user).alias("per_buyer"))
    counts = (Order.select(per_buyer.c.n, fn.COUNT(per_buyer.c.n)).from_(per_buyer)
              .group_by(per_buyer.c.n).tuples())
    buckets = [{"bucket": key, "label": label, "buyers": 0}
               for key, label, _, _ in FREQUENCY_BUCKETS]
    for orders, buyers in counts:
        for bucket, (_, _, least, most) in zip(buckets, FREQUENCY_BUCKETS):
            if orders >= least and (most is None or orders <= most):
                bucket["buyers"] += buyers
    return buckets


def _first_shop_addresses(merchant_ids: list[int]) -> dict[int, str]:
    """Each merchant's first shop's address (an order does not record its shop)."""
    addresses: dict[int, str] = {}
    if merchant_ids:
        for merchant_id, address in (Shop.select(Shop.merchant, Shop.address)
                                     .where(Shop.merchant.in_(merchant_ids))
                                     .order_by(Shop.id).tuples()):
            addresses.setdefault(merchant_id, address)
    return addresses


def _industries_and_regions(paid) -> dict:
    """Paid orders and fen by the merchant's industry, and by province: of the delivery
    address when the order has one, else of the merchant's (first) shop; ``region_basis``
    says how many orders were placed each way.

    One grouped pass over the period (by merchant and the address's first characters) feeds
    both: each pass costs a read of every order of the period."""
    prefix = fn.SUBSTR(fn.TRIM(Order.address), 1, PREFIX_LENGTH)
    groups = list(paid.select(Order.merchant, prefix, fn.COUNT(Order.id), fn.SUM(Order.paid_fen))
                  .group_by(Order.merchant, prefix).tuples())
    merchant_ids = sorted({merchant_id for merchant_id, _, _, _ in groups})
    industry_of = dict(Merchant.select(Merchant.id, Merchant.industry)
                       .where(Merchant.id.in_(merchant_ids)).tuples()) if merchant_ids else {}
    shops = _first_shop_addresses(sorted({m for m, text, _, _ in groups if not text}))
    industries: dict[str, list[int]] = {}
    provinces: dict[str, list[int]] = {}
    basis = {"delivery_address": 0, "shop": 0, "unknown": 0}
    for merchant_id, text, orders, amount in groups:
        amount = int(amount or 0)
        province = province_of(text or shops.get(merchant_id))
        for totals, key in ((industries, industry_of.get(merchant_id, "other")),
                            (provinces, province)):
            row = totals.setdefault(key, [0, 0])
            row[0] += orders
            row[1] += amount
        basis["unknown" if province == UNKNOWN
              else "delivery_address" if text else "shop"] += orders
    by_industry = [{"industry": code, "industry_name": industry_name(code), "orders": orders,
                    "paid_fen": amount} for code, (orders, amount) in industries.items()]
    by_industry.sort(key=lambda row: (-row["paid_fen"], -row["orders"], row["industry"]))
    regions = [{"province": name, "orders": orders, "paid_fen": amount}
               for name, (orders, amount) in provinces.items()]
    regions.sort(key=lambda row: (row["province"] == UNKNOWN, -row["orders"], row["province"]))
    return {"industries": by_industry, "regions": regions, "region_basis": basis}


def consumer_behaviour(start: str | None = None, end: str | None = None) -> dict:
    """Operators' behaviour analysis of the Asia/Shanghai days ``start``..``end`` (at most
    92; the last 30 by default)."""
    first, last = day_range(start, end, MAX_STATS_DAYS, default_days=30)
    lo, hi = utc_bounds(first, last)
    days = {d: {"date": d, "registrations": 0, "buyers": 0, "orders": 0, "paid_fen": 0}
            for d in _days(first, last)}
    registered = User.select().where(User.created_at >= lo, User.created_at < hi,
                                     User.status != "merged")
    for day, count in per_shanghai_day(registered, User.created_at, fn.COUNT(User.id)):
        days[day]["registrations"] = count
    paid = Order.select().where(Order.paid_at >= lo, Order.paid_at < hi, paid_orders())
    for day, orders, buyers, amount in per_shanghai_day(
            paid, Order.paid_at, fn.COUNT(Order.id), fn.COUNT(fn.DISTINCT(Order.user)),
            fn.SUM(Order.paid_fen)):
        days[day].update(orders=orders, buyers=buyers, paid_fen=int(amount or 0))
    frequency = _frequency(paid)
    buyers = sum(bucket["buyers"] for bucket in frequency)
    repeat = buyers - frequency[0]["buyers"]
    rows = list(days.values())
    totals = {name: sum(row[name] for row in rows)
              for name in ("registrations", "orders", "paid_fen")}
    totals.update(buyers=buyers, repeat_buyers=repeat,
                  repeat_rate=round(repeat / buyers, 4) if buyers else 0.0,
                  orders_per_buyer=round(totals["orders"] / buyers, 2) if buyers else 0.0)
    return {"from": first.isoformat(), "to": last.isoformat(), "days": rows, "totals": totals,
            "frequency": frequency, **_industries_and_regions(paid)}
