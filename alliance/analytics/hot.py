"""Hot goods: what sells now, for consumers (a short ranked list, answered from memory) and
for operators (a period's ranking with its figures and each item's move since the period
before).

Both rank items by the units of the orders paid in a rolling window (``Order.paid_at``,
through its index; each order's lines by their order): the daily rollups count units per
merchant, not per item, so they cannot rank goods. Orders paid and refunded later still
count, as in the rollups' ``units``.

Consumers' list is read at most once a minute per process and per (industry, area, limit)
(``HOT``, as is the week's platform-wide count it ranks from: one aggregate a minute), so
asking costs no query: an item that sells out or leaves the shelf may stay in it for up to
that minute (ordering it then fails as ever). An area is a cell of ``AREA_CELL_DEG`` degrees
with the merchants that have a listed shop within ``AREA_RADIUS_M`` of its centre (measured
through the nearby search's index). A quiet week (fewer hot items than asked) is topped up
with the best sellers of all time (``sales_count``).
"""
from __future__ import annotations

import datetime as dt
import math

from peewee import chunked, fn

from alliance.catalog.models import CatalogItem
from alliance.catalog.search import (Filters, Nearby, best_selling, checked, filtered,
                                     list_views)
from alliance.clock import to_local_iso
from alliance.db import join_as_written, utcnow
from alliance.errors import ValidationFailed
from alliance.infra.localcache import LocalCache
from alliance.merchants.industries import industry_name
from alliance.merchants.models import Merchant
from alliance.orders.models import Order, OrderLine

HOT_DAYS = 7
HOT_CACHE_SECONDS = 60.0
MAX_HOT = 50
AREA_CELL_DEG = 0.1  # about 11 km
AREA_RADIUS_M = 30_000  # a city around the cell
REPORT_DAYS = (7, 30)
# Hot items are looked for among the week's sellers this many at a time.
_CHUNK = 200

HOT = LocalCache(HOT_CACHE_SECONDS, max_entries=1024)
_WEEK = "week"


def _units_paid(since: dt.datetime, until: dt.datetime | None = None,
                industry: str | None = None):
    """(item id, units, fen paid for them, orders) of the orders paid in [since, until)
    (``until`` None: up to now, this second included)."""
    # The period's orders through their paid_at index, then their lines: planners otherwise
    # read every order line of all time (grouped by item through its index) and look each
    # order up.
    query = (Order.select(OrderLine.item_id, fn.SUM(OrderLine.quantity),
                          fn.SUM(OrderLine.payable_fen), fn.COUNT(Order.id.distinct()))
             .join(OrderLine, join_as_written())
             .where(OrderLine.order == Order.id, Order.paid_at >= since))
    if until is not None:
        query = query.where(Order.paid_at < until)
    if industry is not None:
        query = (query.join(Merchant, on=(Order.merchant == Merchant.id))
                 .where(Merchant.industry == industry))
    return [(item_id, int(units), int(fen or 0), orders)
            for item_id, units, fen, orders in query.group_by(OrderLine.item_id).tuples()]


def _ranked(rows: list[tuple]) -> list[tuple]:
    """Most units first, then most fen, then the lower item id."""
    return sorted(rows, key=lambda row: (-row[1], -row[2], row[0]))


def _week() -> list[tuple]:
    """The platform's sellers of the last HOT_DAYS, ranked (kept HOT_CACHE_SECONDS)."""
    ranked = HOT.get(_WEEK)
    if ranked is None:
        ticket = HOT.ticket()
        ranked = _ranked(_units_paid(utcnow() - dt.timedelta(days=HOT_DAYS)))
        HOT.put(_WEEK, ranked, ticket)
    return ranked


def area_of(lat: float | None, lng: float | None) -> tuple[float, float] | None:
    """The centre of the cell of a position (what the hot list is kept per)."""
    if lat is None or lng is None:
        return None
    return tuple(round((math.floor(value / AREA_CELL_DEG) + 0.5) * AREA_CELL_DEG, 6)
                 for value in (lat, lng))


def _key(industry: str | None, area: tuple[float, float] | None, limit: int) -> tuple:
    return ("list", industry, area, limit)


def cached_hot_items(industry: str | None, lat: float | None, lng: float | None,
                     limit: int) -> dict | None:
    """``hot_items`` when this process has it (no database), else None."""
    if (lat is None) != (lng is None):
        return None  # refused by hot_items
    return HOT.get(_key(industry, area_of(lat, lng), limit))


def hot_items(industry: str | None, lat: float | None, lng: float | None,
              limit: int = 20) -> dict:
    """Consumers' hot goods: on the shelf, in stock, of approved merchants (of ``industry``,
    with a listed shop in the area of lat/lng), by units paid in the last HOT_DAYS, topped
    up by all-time sales; each with ``units_7d`` and ``rank``."""
    checked(Filters(industry=industry), lat, lng, None, "sales")
    area = area_of(lat, lng)
    key = _key(industry, area, limit)
    value = HOT.get(key)
    if value is None:
        ticket = HOT.ticket()
        value = _hot(industry, area, limit)
        HOT.put(key, value, ticket)
    return value


def _hot(industry: str | None, area: tuple[float, float] | None, limit: int) -> dict:
    nearby = Nearby(*area, AREA_RADIUS_M, industry) if area else None
    filters = Filters(industry=industry, in_stock=True)
    chosen: list[tuple[CatalogItem, int]] = []
    for chunk in chunked(_week(), _CHUNK):
        found = {item.id: item for item in filtered(filters)
                 .where(CatalogItem.id.in_([row[0] for row in chunk]))}
        chosen += [(found[item_id], units) for item_id, units, _, _ in chunk
                   if item_id in found
                   and (nearby is None or nearby.of(found[item_id].merchant_id) is not None)]
        if len(chosen) >= limit:
            break
    chosen = chosen[:limit]
    if len(chosen) < limit:  # a quiet week: the best sellers of all time after them
        taken = {item.id for item, _ in chosen}
        chosen += [(item, 0) for item in best_selling(filters, limit + len(taken), nearby)
                   if item.id not in taken][:limit - len(chosen)]
    views = list_views([item for item, _ in chosen])
    return {"items": [{**view, "units_7d": units, "rank": rank}
                      for rank, (view, (_, units)) in enumerate(zip(views, chosen), 1)],
            "next_cursor": None, "days": HOT_DAYS}


def hot_report(days: int, industry: str | None, limit: int) -> dict:
    """Operators: the items with most units paid in the last ``days`` (7 or 30), whatever
    their state now, with their units, fen paid, orders, merchant, and rank in the period
    before (``previous_rank``, None when unsold then; ``rank_change`` > 0: moved up)."""
    if days not in REPORT_DAYS:
        raise ValidationFailed("统计周期只能是 7 或 30 天", details={"field": "days",
                                                               "choices": list(REPORT_DAYS)})
    checked(Filters(industry=industry), None, None, None, "sales")
    now = utcnow()
    since, before = now - dt.timedelta(days=days), now - dt.timedelta(days=2 * days)
    current = _ranked(_units_paid(since, None, industry))[:limit]
    previous = {row[0]: rank for rank, row in
                enumerate(_ranked(_units_paid(before, since, industry)), 1)}
    items = {item.id: item for item in CatalogItem.select(
        CatalogItem.id, CatalogItem.name, CatalogItem.kind, CatalogItem.status,
        CatalogItem.merchant, Merchant.name.alias("merchant_name"),
        Merchant.industry.alias("merchant_industry"))
        .join(Merchant).where(CatalogItem.id.in_([row[0] for row in current])).objects()}
    rows = []
    for rank, (item_id, units, fen_paid, orders) in enumerate(current, 1):
        item, was = items.get(item_id), previous.get(item_id)
        rows.append({
            "rank": rank, "previous_rank": was, "rank_change": None if was is None else was - rank,
            "item_id": item_id, "name": item.name if item else None,
            "kind": item.kind if item else None, "status": item.status if item else None,
            "merchant": None if item is None else {
                "id": item.merchant_id, "name": item.merchant_name,
                "industry": item.merchant_industry,
                "industry_name": industry_name(item.merchant_industry)},
            "units": units, "sales_fen": fen_paid, "orders": orders})
    return {"days": days, "industry": industry, "from": to_local_iso(since),
            "to": to_local_iso(now), "items": rows, "next_cursor": None}
