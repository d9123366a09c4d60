"""Daily sales rollups per merchant, rebuilt idempotently from orders and refunds.

A day (Asia/Shanghai) is rebuilt whole: every merchant's figures are recomputed from the
orders paid and the refunds that succeeded that day and upserted on (merchant, day), so
running it twice gives the same rows and two runs at once write the same values. A refund
that succeeds late (its notification or the refresh job came after the day was built) is
found by comparing each recent day's refunds with its rows, and a payment applied late (a
retried notification or the reconciliation job, on its provider's paid time) by comparing
each recent day's count of orders paid with its rows' ``orders_paid``; that day is rebuilt.
"""
from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict

from peewee import fn

from alliance.analytics.models import MerchantDailySales
from alliance.clock import SHANGHAI
from alliance.db import is_mysql, per_shanghai_day, transaction, utcnow
from alliance.infra import kv
from alliance.orders.models import REFUND_STRAY, REFUND_SUCCEEDED, Order, OrderLine, Refund
from alliance.orders.queries import utc_bounds

# How far back a run looks for days not built yet (after downtime), late refunds and
# late payments.
LOOKBACK_DAYS = 31
BUILT_THROUGH_KEY = "analytics.daily_sales.built_through"
FIGURES = ("orders_paid", "gross_fen", "discount_fen", "refunds_fen", "units")


def local_day(moment: dt.datetime) -> dt.date:
    """The Asia/Shanghai date of a naive UTC time."""
    return moment.replace(tzinfo=dt.timezone.utc).astimezone(SHANGHAI).date()


def _figures_of(day: dt.date) -> dict[int, dict[str, int]]:
    lo, hi = utc_bounds(day, day)
    figures: dict[int, dict[str, int]] = defaultdict(lambda: dict.fromkeys(FIGURES, 0))
    paid = (Order.select(Order.merchant, fn.COUNT(Order.id), fn.SUM(Order.total_fen),
                         fn.SUM(Order.discount_fen))
            .where(Order.paid_at >= lo, Order.paid_at < hi).group_by(Order.merchant))
    for merchant_id, count, gross, discount in paid.tuples():
        figures[merchant_id].update(orders_paid=count, gross_fen=int(gross or 0),
                                    discount_fen=int(discount or 0))
    units = (OrderLine.select(Order.merchant, fn.SUM(OrderLine.quantity)).join(Order)
             .where(Order.paid_at >= lo, Order.paid_at < hi).group_by(Order.merchant))
    for merchant_id, quantity in units.tuples():
        figures[merchant_id]["units"] = int(quantity or 0)
    refunded = (Refund.select(Order.merchant, fn.SUM(Refund.amount_fen)).join(Order)
                .where(Refund.status == REFUND_SUCCEEDED, Refund.kind != REFUND_STRAY,
                       Refund.finished_at >= lo, Refund.finished_at < hi)
                .group_by(Order.merchant))
    for merchant_id, amount in refunded.tuples():
        figures[merchant_id]["refunds_fen"] = int(amount or 0)
    return figures


def _upsert(merchant_id: int, day: dt.date, values: dict[str, int], now: dt.datetime) -> None:
    net = values["gross_fen"] - values["discount_fen"] - values["refunds_fen"]
    row = {**values, "net_fen": net, "computed_at": now}
    query = MerchantDailySales.insert(merchant=merchant_id, day=day, **row)
    fields = [getattr(MerchantDailySales, name) for name in row]
    if is_mysql():
        query = query.on_conflict(preserve=fields)
    else:
        query = query.on_conflict(conflict_target=[MerchantDailySales.merchant,
                                                   MerchantDailySales.day], preserve=fields)
    query.execute()


def rebuild_day(day: dt.date, now: dt.datetime | None = None) -> int:
    """Recompute every merchant's row of ``day`` (Asia/Shanghai) from the orders and refunds,
    in one transaction; the rows written. Merchants without sales that day get no row, unless
    they had one (it is brought to what the day holds now)."""
    now = now or utcnow()
    with transaction():
        figures = _figures_of(day)
        existing = [row.merchant_id for row in MerchantDailySales
                    .select(MerchantDailySales.merchant).where(MerchantDailySales.day == day)]
        for merchant_id in existing:  # a row that exists is rewritten, zeros or not
            figures.setdefault(merchant_id, dict.fromkeys(FIGURES, 0))
        for merchant_id, values in figures.items():
            _upsert(merchant_id, day, values, now)
    return len(figures)


def _days_with_late_refunds(first: dt.date, last: dt.date) -> set[dt.date]:
    """The days in first..last whose rows do not hold the refunds that succeeded on them."""
    lo, hi = utc_bounds(first, last)
    actual: Counter = Counter()
    for merchant_id, finished_at, amount in (
            Refund.select(Order.merchant, Refund.finished_at, Refund.amount_fen).join(Order)
            .where(Refund.status == REFUND_SUCCEEDED, Refund.kind != REFUND_STRAY,
                   Refund.finished_at >= lo, Refund.finished_at < hi).tuples()):
        actual[(merchant_id, local_day(finished_at))] += amount
    stored = {(row.merchant_id, row.day): row.refunds_fen for row in MerchantDailySales
              .select(MerchantDailySales.merchant, MerchantDailySales.day,
                      MerchantDailySales.refunds_fen)
              .where(MerchantDailySales.day.between(first, last),
                     MerchantDailySales.refunds_fen != 0)}
    return {day for (merchant_id, day) in set(actual) | set(stored)
            if actual.get((merchant_id, day), 0) != stored.get((merchant_id, day), 0)}


def _days_with_late_payments(first: dt.date, last: dt.date) -> set[dt.date]:
    """The days in first..last whose rows' orders_paid do not add up to the orders paid on
    them (a payment applied after the day was built: ``paid_at`` is set once and never
    cleared, so a day's count only grows). Counted per day in the database, not the orders."""
    stored = dict(MerchantDailySales
                  .select(MerchantDailySales.day, fn.SUM(MerchantDailySales.orders_paid))
                  .where(MerchantDailySales.day.between(first, last))
                  .group_by(MerchantDailySales.day).tuples())
    lo, hi = utc_bounds(first, last)
    paid = {dt.date.fromisoformat(day): count for day, count in per_shanghai_day(
        Order.select().where(Order.paid_at >= lo, Order.paid_at < hi),
        Order.paid_at, fn.COUNT(Order.id))}
    return {day for day in set(paid) | set(stored)
            if paid.get(day, 0) != int(stored.get(day) or 0)}


def refresh_daily_sales(now: dt.datetime | None = None) -> dict[str, int]:
    """For the scheduler: rebuild today and yesterday (Asia/Shanghai), every earlier day of
    the last LOOKBACK_DAYS not built since it ended (the scheduler was down), and every such
    day whose refunds or orders paid changed since it was built. Idempotent; each day in its
    own transaction, so a run that stops half-way leaves whole days for the next run."""
    now = now or utcnow()
    today = local_day(now)
    yesterday = today - dt.timedelta(days=1)
    oldest = today - dt.timedelta(days=LOOKBACK_DAYS)
    built_through = kv.get(BUILT_THROUGH_KEY)
    start = max(oldest, dt.date.fromisoformat(built_through) + dt.timedelta(days=1)
                if built_through else oldest)
    days = {start + dt.timedelta(days=n) for n in range((today - start).days + 1)}
    days |= {yesterday, today}
    before_yesterday = yesterday - dt.timedelta(days=1)
    late_refunds = _days_with_late_refunds(oldest, before_yesterday) - days
    late_payments = _days_with_late_payments(oldest, before_yesterday) - days
    rebuilt = days | late_refunds | late_payments
    rows = sum(rebuild_day(day, now) for day in sorted(rebuilt))
    kv.put(BUILT_THROUGH_KEY, yesterday.isoformat())
    return {"days": len(rebuilt), "late_refund_days": len(late_refunds),
            "late_payment_days": len(late_payments), "rows": rows}
