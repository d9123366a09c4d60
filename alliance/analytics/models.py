"""Rollup tables: figures recomputed from orders and refunds, never edited by hand."""
from __future__ import annotations

from peewee import AutoField, BigIntegerField, DateField, ForeignKeyField, IntegerField

from alliance.db import BaseModel, UTCDateTimeField, utcnow
from alliance.merchants.models import Merchant


class MerchantDailySales(BaseModel):
    """One merchant's sales on one Asia/Shanghai day, rebuilt whole from the orders paid and
    the refunds that succeeded that day (so rebuilding it again gives the same row).

    ``gross_fen`` is what the orders paid that day cost before discounts (items and
    shipping), ``discount_fen`` their level, coupon and points discounts, ``refunds_fen`` the
    refunds that succeeded that day (of orders of any day), ``net_fen`` = gross − discount −
    refunds, ``units`` the units of the orders paid that day.
    """

    id = AutoField()
    merchant = ForeignKeyField(Merchant, backref="daily_sales", on_delete="CASCADE")
    day = DateField()
    orders_paid = IntegerField(default=0)
    gross_fen = BigIntegerField(default=0)
    discount_fen = BigIntegerField(default=0)
    refunds_fen = BigIntegerField(default=0)
    net_fen = BigIntegerField(default=0)
    units = IntegerField(default=0)
    computed_at = UTCDateTimeField(default=utcnow)

    class Meta:
        table_name = "merchant_daily_sales"
        indexes = ((("merchant", "day"), True), (("day",), False))


class MerchantDailyTraffic(BaseModel):
    """Views of one merchant's public detail page on one Asia/Shanghai day.

    Counted in each server process's memory and added here by that process every few seconds
    (``alliance.analytics.traffic``): the rows only grow, by upsert-adds, so any number of
    processes add up. ``signed_in_views`` are the views by a logged-in consumer.
    """

    id = AutoField()
    merchant = ForeignKeyField(Merchant, backref="daily_traffic", on_delete="CASCADE")
    day = DateField()
    views = BigIntegerField(default=0)
    signed_in_views = BigIntegerField(default=0)
    updated_at = UTCDateTimeField(default=utcnow)

    class Meta:
        table_name = "merchant_daily_traffic"
        indexes = ((("merchant", "day"), True), (("day",), False))
